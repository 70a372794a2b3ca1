"""Evaluators on the real default model, offline, on small slices of the real data."""

import json

import numpy as np
import pytest

from benchmark.data import PoolSpec, load_pool
from benchmark.evaluation import build_evaluator
from benchmark.models import ModelSpec, load_model, resolve_model
from benchmark.settings import TrainingConfig
from benchmark.training import fine_tune

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lm():
    return load_model(resolve_model(ModelSpec.default()))


@pytest.mark.parametrize("fmt", ["letter", "cloze"])
def test_native_mmlu_agrees_with_lm_eval(lm, data_dir, fmt):
    """MMLU through lm-eval offline on 2 subjects x 5 questions, 5-shot; the native evaluator must pick
    the same answers."""
    params = {
        "path": str(data_dir / "mmlu"),
        "format": fmt,
        "subjects": ["anatomy", "virology"],
        "limit_per_subject": 5,
        "num_fewshot": 5,
    }
    native = build_evaluator("mmlu_native", params | {"progress": False}).evaluate(*lm)
    reference = build_evaluator("mmlu", params).evaluate(*lm)
    assert native.n == reference.n == 10
    assert native.details["predictions"] == reference.details["predictions"]
    assert native.metrics["acc"] == pytest.approx(reference.details["lm_eval_group_acc"])
    assert set(native.per_task) == {"anatomy", "virology"}


def test_heldout_accuracy_rises_on_the_trained_task(tmp_path):
    model, tokenizer = load_model(resolve_model(ModelSpec.default()))
    loaded = load_pool(
        PoolSpec(options={"examples_per_task": 30, "tasks": ["copy_word", "add_small"]}, heldout_per_task=10)
    )
    evaluator = build_evaluator("heldout", {"progress": False})
    before = evaluator.evaluate(model, tokenizer, heldout=loaded.heldout)
    train = [ex for ex in loaded.pool.examples if ex.task == "copy_word"]
    tuned = fine_tune(
        model, tokenizer, train, TrainingConfig(epochs=2, learning_rate=5e-4), tmp_path, progress=False
    )
    after = evaluator.evaluate(tuned.model, tokenizer, heldout=loaded.heldout)
    assert after.per_task["copy_word"] >= before.per_task["copy_word"] + 0.3
    assert np.isfinite(after.metrics["acc_macro_stderr"])
    gained = (
        after.details["per_task_gold_logprob"]["copy_word"]
        - before.details["per_task_gold_logprob"]["copy_word"]
    )
    assert gained > 0.5  # the continuous metric moves with the skill


def test_teacher_forced_exact_match_agrees_with_generation(tmp_path):
    """Teacher-forced exact match counts what greedy decoding reproduces token for token: on short
    answers it agrees with generation wherever generation is exact without normalisation."""
    model, tokenizer = load_model(resolve_model(ModelSpec.default()))
    loaded = load_pool(
        PoolSpec(options={"examples_per_task": 30, "tasks": ["copy_word", "uppercase"]}, heldout_per_task=10)
    )
    train = list(loaded.pool.examples)
    tuned = fine_tune(
        model, tokenizer, train, TrainingConfig(epochs=2, learning_rate=5e-4), tmp_path, progress=False
    ).model
    forced = build_evaluator("heldout", {"progress": False}).evaluate(
        tuned, tokenizer, heldout=loaded.heldout
    )
    generated = build_evaluator(
        "heldout", {"progress": False, "exact_match": "generate", "rouge": True}
    ).evaluate(tuned, tokenizer, heldout=loaded.heldout)
    assert forced.metrics["acc"] > 0.2
    assert forced.metrics["acc"] <= generated.metrics["acc"]  # strict, never more lenient
    assert forced.metrics["gold_logprob"] == generated.metrics["gold_logprob"]
    # every example's generated answer is kept; an exact match (after normalising) is ROUGE-L 1
    outcomes = generated.details["examples"]
    assert [o["uid"] for o in outcomes] == [ex.uid for ex in loaded.heldout.examples]
    assert all(0 <= o["rouge_l"] <= 1 and isinstance(o["answer"], str) for o in outcomes)
    assert all(o["rouge_l"] == 1 for o in outcomes if o["correct"])
    assert generated.metrics["rouge_l"] == pytest.approx(np.mean([o["rouge_l"] for o in outcomes]))
    assert "answer" not in forced.details["examples"][0]
    assert "rouge_l" not in forced.metrics


def test_finetune_command_evaluates_the_base_model_at_budget_zero(tmp_path, capsys):
    from runners.cli import main

    argv = [
        "finetune",
        "-o",
        "examples_per_task=6",
        "-o",
        "tasks=[parity, copy_word]",
        "--heldout-per-task",
        "3",
        "--evaluators",
        "heldout",
        "--run-dir",
        str(tmp_path),
    ]
    assert main(argv) == 0
    assert "budget 0 of 6" in capsys.readouterr().out
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["budget"] == 0
    assert "training" not in record
    assert set(record["evaluations"]["heldout"]["per_task"]) == {"parity", "copy_word"}
    assert record["command"].startswith("selbench finetune")
    assert record["provenance"]["git"]["commit"]
    assert record["evaluation_precision"] == "float32"  # whatever training used (README: why)


def test_choices_scored_from_the_context_cache_equal_full_passes(lm, data_dir):
    """The held-out evaluator scores a task's labels from each prompt's KV cache; the log-likelihoods
    must equal those of full context + label passes (FLAN prompts, labels of unequal token lengths)."""
    from benchmark.inference import Choices, score_choices, score_continuations
    from benchmark.prompting import format_response, tokenize_prompts

    model, tokenizer = lm
    pool = load_pool(
        PoolSpec("flan", {"path": str(data_dir / "flan_t0"), "task_level": "coarse"}, max_examples=6)
    ).pool
    contexts = tokenize_prompts(tokenizer, [ex.prompt for ex in pool.examples], 160).ids
    labels = [format_response(tokenizer, x) for x in ("positive", "negative", "It is not possible to tell")]
    label_ids = tokenizer(labels, add_special_tokens=False)["input_ids"]
    cached = score_choices(
        model, tokenizer, [], [Choices(c, label_ids) for c in contexts], letter=False, batch_size=4
    )
    full = score_continuations(
        model, tokenizer, [c for c in contexts for _ in labels], label_ids * len(contexts), batch_size=5
    ).sum_logprob.reshape(len(contexts), len(labels))
    np.testing.assert_allclose(cached, full, atol=1e-3, rtol=1e-4)
    assert (cached.argmax(1) == full.argmax(1)).all()
