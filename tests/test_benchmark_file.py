"""The benchmark-file evaluator and BIG-Bench Hard on small fixtures written in the official layout
(``bbh/<task>.json`` with ``{"examples": [{"input", "target"}]}``, ``cot-prompts/<task>.txt``): the real
BBH data is not on these machines."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from benchmark.data.benchmark_files import BenchmarkColumns, load_benchmark
from benchmark.errors import DataError, SelbenchError
from benchmark.evaluation import build_evaluator
from runners.cli import main

COT = """Evaluate the result of a random Boolean expression.

-----
Q: not ( ( not not True ) ) is
A: Let's think step by step.
not not True = True, and not True = False. So the answer is False.
"""


@pytest.fixture
def bbh(tmp_path):
    folder = tmp_path / "bbh"
    folder.mkdir()
    boolean = [
        {"input": "True and False is", "target": "False"},
        {"input": "not False is", "target": "True"},
        {"input": "True or False is", "target": "True"},
    ]
    dates = [
        {"input": "Today is 1/1/2020. Tomorrow?\nOptions:\n(A) 1/2/2020\n(B) 1/3/2020", "target": "(A)"},
        {"input": "Yesterday was 3/1/2021. Today?\nOptions:\n(A) 3/2/2021\n(B) 2/28/2021", "target": "(A)"},
        {"input": "Today is 5/5/2022. Yesterday?\nOptions:\n(A) 5/6/2022\n(B) 5/4/2022", "target": "(B)"},
    ]  # fmt: skip
    words = [{"input": "Sort the words: pear apple", "target": "apple pear"}]
    for name, examples in (
        ("boolean_expressions", boolean),
        ("date_understanding", dates),
        ("word_sorting", words),
    ):
        (folder / f"{name}.json").write_text(json.dumps({"examples": examples}))
    prompts = tmp_path / "cot-prompts"
    prompts.mkdir()
    (prompts / "boolean_expressions.txt").write_text(COT)
    return folder


def test_the_official_layout_reads_as_tasks_with_choices_from_their_targets(bbh):
    pool = load_benchmark(bbh, BenchmarkColumns(), choices_from_targets=10)
    assert pool.tasks == ("boolean_expressions", "date_understanding", "word_sorting")
    by_task = {ex.task: ex for ex in pool.examples}
    assert by_task["boolean_expressions"].choices == ("False", "True")
    assert by_task["date_understanding"].choices == ("(A)", "(B)")
    assert by_task["word_sorting"].choices == ()  # one target: exact match


def test_bbh_uses_chain_of_thought_prompts_where_they_exist(bbh, tmp_path):
    evaluator = build_evaluator("bbh", {"path": str(bbh)}).evaluator()
    assert evaluator.exact_match == "generate"
    prompts = [ex.prompt for ex in evaluator.pool().examples if ex.task == "boolean_expressions"]
    assert all(p.startswith("Q: not ( ( not not True ) ) is") for p in prompts)  # the text after -----
    assert any(p.endswith("Q: True and False is\nA: Let's think step by step.") for p in prompts)
    assert evaluator.matches("True and False = False. So the answer is False.", "False")
    assert not evaluator.matches("So the answer is True.", "False")
    direct = build_evaluator("bbh", {"path": str(bbh), "chain_of_thought": False}).evaluator()
    assert direct.exact_match == "teacher_forced"
    assert {ex.prompt for ex in direct.pool().examples} >= {"not False is"}
    assert (
        build_evaluator("bbh", {"path": str(bbh)}).fingerprint_params()
        == build_evaluator("bbh", {"path": str(bbh)}).fingerprint_params()
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: (d / "extra.json").write_text(json.dumps([{"question": "q", "target": "t"}])),
         r"extra\.json example 0: no column 'input'\. .*Columns: question, target"),
        (lambda d: (d / "broken.jsonl").write_text('{"input": "a", "target": "b"}\n{"input": \n'),
         r"broken\.jsonl:2: not valid JSON"),
        (lambda d: (d / "lines.json").write_text('{"input": "a", "target": "b"}\n{"input": "c"}\n'),
         r"lines\.json:2: not valid JSON \(Extra data.*name the file \.jsonl"),
        (lambda d: (d / "flat.json").write_text(json.dumps({"data": []})),
         r"flat\.json: expected a JSON list of objects or an object with an 'examples' list"),
    ],
)  # fmt: skip
def test_bad_files_are_named_with_the_line_and_the_fix(bbh, edit, message):
    edit(bbh)
    with pytest.raises(DataError, match=message):
        load_benchmark(bbh, BenchmarkColumns())


def test_unknown_tasks_and_parameters_fail_when_built(bbh):
    with pytest.raises(
        DataError, match=r"unknown task 'boolean_expresions'\. Did you mean 'boolean_expressions'"
    ):
        build_evaluator("bbh", {"path": str(bbh), "tasks": ["boolean_expresions"]}).check()
    with pytest.raises(SelbenchError, match="set exact_match: generate"):
        build_evaluator("benchmark_file", {"path": str(bbh), "answer_regex": "answer is (.*)"})


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-e", "bbh.tasks=[nosuch]"], ["--evaluators bbh", "unknown task 'nosuch'"]),
        (["-e", "bbh.path={tmp}/missing"], ["--evaluators bbh", "missing: no such"]),
        (["-e", "bbh.limit_per_task=many"], ["-e bbh.limit_per_task", "expected int"]),
        (["-e", "mmlu.path=x"], ["-e mmlu.path=x", "one of --evaluators (bbh)"]),
    ],
)
def test_finetune_names_a_bad_benchmark_in_one_line_before_training(bbh, tmp_path, capsys, args, words):
    argv = ["finetune", "--run-dir", str(tmp_path / "run"), "--evaluators", "bbh", "-e", f"bbh.path={bbh}"]
    code = main(argv + [a.format(tmp=tmp_path) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    for word in words:
        assert word.format(tmp=tmp_path) in err[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_finetune_evaluates_bbh_offline_per_task(bbh, tmp_path, capsys):
    """The base model (no selection) on the fixture: chain of thought for the task with prompts."""
    argv = ["finetune", "--run-dir", str(tmp_path / "run"), "--evaluators", "bbh", "-e", f"bbh.path={bbh}",
            "-e", "bbh.max_new_tokens=24"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    bbh_result = metrics["evaluations"]["bbh"]
    assert set(bbh_result["per_task"]) == {"boolean_expressions", "date_understanding", "word_sorting"}
    assert bbh_result["n"] == 7
    assert 0 <= bbh_result["metrics"]["acc_macro"] <= 1
    assert "bbh" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["{tmp}/nosuch", "--evaluators", "bbh", "-e", "bbh.path={bbh}"], ["nosuch: no such folder"]),
        (
            ["{tmp}", "--evaluators", "bbh", "-e", "bbh.path={bbh}"],
            ["metrics.json: no such file", "finetune"],
        ),
        (["{tmp}", "--evaluators", "heldout"], ["heldout scores a pool's held-out split"]),
    ],
)
def test_evaluate_names_what_is_missing_in_one_line(bbh, tmp_path, capsys, args, words):
    if "heldout" in args:
        (tmp_path / "metrics.json").write_text(json.dumps({"model": {"model": "x"}, "budget": 0}))
    code = main(["evaluate", *[a.format(tmp=tmp_path, bbh=bbh) for a in args]])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    for word in words:
        assert word in err[0]
    assert not (tmp_path / "evaluations").exists()


@pytest.mark.slow
def test_evaluate_a_saved_adapter_gives_what_finetune_measured(bbh, tmp_path, capsys):
    selection = tmp_path / "sel.json"
    pool = ["-o", "examples_per_task=6", "-o", "tasks=[parity, copy_word]"]
    assert main(["select", *pool, "--strategy", "random", "--budget", "4", "--out", str(selection)]) == 0
    shared = ["--evaluators", "bbh", "-e", f"bbh.path={bbh}", "-e", "bbh.chain_of_thought=false"]
    run = tmp_path / "run"
    argv = ["finetune", *pool, "--selection", str(selection), "--run-dir", str(run), "--max-steps", "2"]
    assert main(argv + shared) == 0
    trained = json.loads((run / "metrics.json").read_text())["evaluations"]["bbh"]
    assert (run / "adapter").is_dir()
    assert main(["evaluate", str(run), *shared]) == 0
    again = json.loads((run / "evaluations" / "bbh.json").read_text())
    assert again["per_task"] == trained["per_task"]
    assert again["metrics"]["gold_logprob"] == pytest.approx(trained["metrics"]["gold_logprob"], abs=1e-4)


def test_lm_eval_bbh_reads_the_official_layout_with_lm_evals_own_tasks(bbh, tmp_path):
    """lm-eval's BBH task (its few-shot chains of thought and answer filter) over the local files: the
    documents come from the fixture, not the hub."""
    from lm_eval.tasks import TaskManager

    from benchmark.data.files import no_download_counts

    evaluator = build_evaluator("bbh_lm_eval", {"path": str(bbh), "tasks": ["boolean_expressions"]})
    names = evaluator.write_task_configs(tmp_path)
    assert names == {"selbench_bbh_cot_fewshot_boolean_expressions": "boolean_expressions"}
    with no_download_counts():
        manager = TaskManager(include_path=str(tmp_path), include_defaults=False)
        task = manager.load(list(names))["tasks"]["selbench_bbh_cot_fewshot_boolean_expressions"]
    assert [d["input"] for d in task.test_docs()] == ["True and False is", "not False is", "True or False is"]
    assert task.config.num_fewshot == 3  # lm-eval's three chain-of-thought shots
    assert task.config.generation_kwargs["max_gen_toks"] == 256
    # all tasks of the folder that lm-eval knows (word_sorting too), keyed by content, not location
    assert set(build_evaluator("bbh_lm_eval", {"path": str(bbh)}).task_files()) == {
        "boolean_expressions", "date_understanding", "word_sorting"
    }  # fmt: skip
    moved = tmp_path / "moved"
    moved.mkdir()
    for file in bbh.glob("*.json"):
        (moved / file.name).write_text(file.read_text())
    assert (
        build_evaluator("bbh_lm_eval", {"path": str(moved)}).fingerprint_params()
        == build_evaluator("bbh_lm_eval", {"path": str(bbh)}).fingerprint_params()
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tasks": ["boolean_expresions"]}, "unknown task 'boolean_expresions'. Did you mean"),
        ({"tasks": ["navigate"]}, "no navigate.json; the official layout holds one <task>.json per task"),
        ({"variant": "cot"}, "variant='cot': use one of cot_fewshot, fewshot"),
        ({"path": "/nonexistent/bbh"}, "/nonexistent/bbh"),
    ],
)
def test_lm_eval_bbh_names_bad_settings_before_any_model_loads(bbh, params, message):
    with pytest.raises(SelbenchError, match=re.escape(message)):
        build_evaluator("bbh_lm_eval", {"path": str(bbh)} | params).check()


@pytest.mark.slow
def test_lm_eval_bbh_scores_the_real_model_offline(bbh):
    from benchmark.models import ModelSpec, load_model, resolve_model

    model, tokenizer = load_model(resolve_model(ModelSpec.default()))
    params = {"path": str(bbh), "tasks": ["boolean_expressions", "date_understanding"], "max_new_tokens": 24}
    result = build_evaluator("bbh_lm_eval", params).evaluate(model, tokenizer)
    assert result.n == 6
    assert set(result.per_task) == {"boolean_expressions", "date_understanding"}
    outcomes = result.details["examples"]
    assert [o["target"] for o in outcomes[:3]] == ["False", "True", "True"]
    assert all(isinstance(o["generated"], str) and isinstance(o["answer"], str) for o in outcomes)
    assert result.metrics["acc"] == pytest.approx(np.mean([o["answer"] == o["target"] for o in outcomes]))
