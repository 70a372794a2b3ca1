import numpy as np
import pytest
import yaml

from benchmark.data.mmlu import MMLUQuestion
from benchmark.errors import SelbenchError
from benchmark.evaluation import EVALUATORS, build_evaluator
from benchmark.evaluation.base import accuracy_metrics
from benchmark.evaluation.heldout import normalise, rouge_l_f1
from benchmark.evaluation.mmlu_lm_eval import write_task_configs
from benchmark.evaluation.mmlu_prompts import context, encode_pair
from tests.fake_tokenizer import CharTokenizer

Q = MMLUQuestion("high_school_biology", " What is DNA? ", ("acid", "sugar", "fat", "salt"), 0)
SHOT = MMLUQuestion("high_school_biology", "What is RNA?", ("a", "b", "c", "d"), 2)


def test_registered_evaluators():
    assert {"mmlu", "mmlu_native", "heldout"} <= set(EVALUATORS.names())
    with pytest.raises(SelbenchError, match="has no parameter 'shots'"):
        build_evaluator("mmlu_native", {"shots": 5})
    with pytest.raises(SelbenchError, match="MMLU format 'mc'"):
        build_evaluator("mmlu", {"format": "mc"})


def test_letter_prompt_is_lm_evals_mmlu():
    assert context(Q, [SHOT], "letter") == (
        "The following are multiple choice questions (with answers) about high school biology.\n\n"
        "What is RNA?\nA. a\nB. b\nC. c\nD. d\nAnswer: C\n\n"
        "What is DNA?\nA. acid\nB. sugar\nC. fat\nD. salt\nAnswer:"
    )


def test_cloze_prompt_is_lm_evals_mmlu_continuation():
    assert context(Q, [SHOT], "cloze") == (
        "The following are questions (with answers) about high school biology.\n\n"
        "Question: What is RNA?\nAnswer: c\n\nQuestion: What is DNA?\nAnswer:"
    )


def test_encode_pair_moves_trailing_space_to_the_continuation():
    tok = CharTokenizer()
    ctx, cont = encode_pair(tok, "Answer: ", "x")
    assert tok.decode(ctx) == "Answer:"
    assert tok.decode(cont) == " x"


def test_generated_lm_eval_task_configs(tmp_path):
    group, tasks = write_task_configs(tmp_path, [Q], {"high_school_biology": [SHOT]}, "cloze")
    assert tasks == ["selbench_mmlu_cloze_high_school_biology"]
    config = yaml.safe_load((tmp_path / f"{tasks[0]}.yaml").read_text())
    assert config["doc_to_text"] == "Question: {{question.strip()}}\nAnswer:"
    assert config["fewshot_config"] == {"sampler": "first_n"}
    assert config["description"].startswith("The following are questions (with answers) about high school")
    assert yaml.safe_load((tmp_path / f"{group}.yaml").read_text())["task"] == tasks


def test_normalise():
    assert normalise('  "Furu."  ') == "furu"
    assert normalise("Even") == "even"


def test_accuracy_metrics():
    metrics = accuracy_metrics({"a": np.array([1, 1, 0, 0]), "b": np.array([1, 1])})
    assert metrics["acc"] == pytest.approx(4 / 6)
    assert metrics["acc_macro"] == pytest.approx(0.75)
    assert metrics["acc_stderr"] == pytest.approx(np.sqrt(4 / 6 * 2 / 6 / 6))


def test_mean_metrics_macro_and_micro():
    from benchmark.evaluation.base import mean_metrics

    metrics = mean_metrics("gold_logprob", {"a": np.array([-1.0, -3.0]), "b": np.array([-2.0])})
    assert metrics["gold_logprob"] == pytest.approx(-2.0)
    assert metrics["gold_logprob_macro"] == pytest.approx((-2.0 + -2.0) / 2)
    assert metrics["gold_logprob_macro_stderr"] == pytest.approx(np.sqrt(2.0 / 2) / 2)


def test_mmlu_result_has_the_probability_of_the_correct_answer():
    evaluator = build_evaluator("mmlu_native", {"path": "unused"})
    other = MMLUQuestion("anatomy", "Which bone?", ("a", "b", "c", "d"), 3)
    logprobs = np.log([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]])
    result = evaluator.result([Q, other], logprobs)
    assert result.details["predictions"] == [0, 0]
    assert result.metrics["acc"] == pytest.approx(0.5)
    assert result.metrics["prob_correct"] == pytest.approx((0.7 + 0.25) / 2)
    assert result.metrics["prob_correct_macro"] == pytest.approx((0.7 + 0.25) / 2)


def test_rouge_l_f1_is_rouge_scores_stemmed_longest_common_subsequence():
    scores = rouge_l_f1(["The cats sat.", "nothing alike", ""], ["the cat sat on the mat", "a b", "x"])
    # LCS "the cat sat" (stemmed): precision 3/3, recall 3/6, F1 2/3
    assert scores == pytest.approx([2 / 3, 0.0, 0.0])


def test_rouge_leaves_cell_keys_of_earlier_studies_unchanged():
    """Off by default and then absent from the fingerprint: cells evaluated before ROUGE-L existed
    keep their keys (and are not recomputed)."""
    assert "rouge" not in build_evaluator("heldout", {}).fingerprint_params()
    assert build_evaluator("heldout", {"rouge": True}).fingerprint_params()["rouge"] is True
