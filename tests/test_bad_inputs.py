"""Bad input on every subcommand: one line on stderr naming the file, key or flag, exit code 2, nothing
written, and no model loaded (each case fails in well under a second of checks)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmark.store import RunStore
from runners.cli import main
from runners.sweep import execute
from tests.fake_harness import FakeHarness
from tests.test_sweep_execute import CONFIG

ROOT = Path(__file__).resolve().parents[1]
QUICK = (ROOT / "configs" / "quick.yaml").read_text(encoding="utf-8")

FILES: dict[str, str | bytes] = {
    "rows.jsonl": '{"instruction": "a", "context": "", "response": "b", "category": "qa"}\n{"instruction"\n',
    "latin1.jsonl": b'{"instruction": "caf\xe9", "response": "b", "category": "qa"}\n',
    "nofield.jsonl": '{"prompt": "a", "response": "b", "category": "qa"}\n',
    "table.csv": "question,answer,kind\nq1,a1,t1\nq2,a2,t2\n",
    "selection.json": '{"uids": ["nosuchuid"]}',
    "notjson.json": "{uids: ",
    "afile": "",
    "empty/notes.txt": "a FLAN folder without JSONL files",
    "quick.yaml": QUICK,
    "latin1.yaml": QUICK.encode() + b"\n# caf\xe9\n",
    "syntax.yaml": QUICK + "\nbudgets: [1, 2\n",
    "dupkey.yaml": QUICK + "\nseeds: [1]\n",
    "list.yaml": "- name: quick\n",
}


def _config(replace: str, by: str) -> str:
    assert replace in QUICK
    return QUICK.replace(replace, by)


CONFIGS = {
    "unknown_key.yaml": QUICK + "\nepochs: 3\n",
    "no_budgets.yaml": _config("budgets: [0, 6, 24, full]", "budgets: []"),
    "big_budget.yaml": _config("budgets: [0, 6, 24, full]", "budgets: [0, 1000]"),
    "neg_budget.yaml": _config("budgets: [0, 6, 24, full]", "budgets: [-5]"),
    "neg_seed.yaml": _config("seeds: [0]", "seeds: [-1]"),
    "bad_strategy.yaml": _config("strategies: [random,", "strategies: [randon,"),
    "strategy_param.yaml": _config(
        "task_inverse_confidence]", "{name: task_inverse_confidence, params: {temperature: hot}}]"
    ),
    "unknown_param.yaml": _config("[random,", "[{name: random, params: {nosuch: 1}},"),
    "evaluator_param.yaml": _config("params: {max_new_tokens: 8", "params: {max_new_tokens: many"),
    "no_heldout.yaml": _config("heldout_per_task: 4", "heldout_per_task: 0"),
    "escape_name.yaml": _config("name: quick", "name: ../../../escaped"),
    "bad_warmup.yaml": _config("training: {epochs: 1,", "training: {warmup_ratio: 2, epochs: 1,"),
    "bad_epochs.yaml": _config("training: {epochs: 1,", "training: {epochs: -1,"),
    "bad_source.yaml": _config("source: synthetic", "source: synthetik"),
    "bad_option.yaml": _config("options: {examples_per_task: 12,", "options: {examples_per_task: many,"),
    "unknown_task.yaml": _config("tasks: [copy_word,", "tasks: [copy_wrd,"),
    "unset_variable.yaml": _config("source: synthetic", "source: ${SELBENCH_NO_SUCH_VARIABLE}"),
    "bad_evaluator.yaml": _config("- name: heldout", "- name: heldot"),
}
FILES |= CONFIGS

# (case id, argv with {tmp} for the test folder, words the one error line must contain)
CASES = [
    ("describe-unknown-source", ["describe", "nosuch"], ["nosuch", "Known"]),
    ("describe-missing-file", ["describe", "dolly", "-o", "path={tmp}/none.jsonl"], ["none.jsonl"]),
    ("describe-option-type", ["describe", "-o", "examples_per_task=abc"], ["examples_per_task"]),
    ("describe-unknown-option", ["describe", "-o", "nosuch=1"], ["nosuch"]),
    ("describe-option-syntax", ["describe", "-o", "novalue"], ["-o", "KEY=VALUE"]),
    ("describe-negative-heldout", ["describe", "--heldout-per-task", "-1"], ["--heldout-per-task"]),
    ("describe-unknown-task", ["describe", "--tasks", "nosuchtask"], ["nosuchtask"]),
    ("describe-bad-json-line", ["describe", "dolly", "-o", "path={tmp}/rows.jsonl"], ["rows.jsonl:2"]),
    ("describe-non-utf8", ["describe", "dolly", "-o", "path={tmp}/latin1.jsonl"], ["latin1.jsonl", "UTF-8"]),
    ("describe-missing-field", ["describe", "dolly", "-o", "path={tmp}/nofield.jsonl"], ["instruction"]),
    (
        "describe-missing-column",
        [
            "describe",
            "generic",
            "-o",
            "path={tmp}/table.csv",
            "-o",
            "prompt_column=prompt",
            "-o",
            "task_column=kind",
        ],
        ["table.csv", "prompt"],
    ),
    ("describe-zero-examples", ["describe", "--max-examples", "0"], ["--max-examples"]),
    ("describe-label-share", ["describe", "--constant-label-share", "1.5"], ["--constant-label-share"]),
    ("describe-empty-folder", ["describe", "flan", "-o", "path={tmp}/empty"], ["{tmp}/empty"]),
    ("describe-bad-split", ["describe", "--split", "nosuch"], ["--split"]),
    ("describe-int-flag", ["describe", "--seed", "abc"], ["--seed"]),
    (
        "select-unknown-strategy",
        ["select", "--strategy", "randon", "--budget", "5", "--out", "{tmp}/s.json"],
        ["randon", "random"],
    ),
    (
        "select-param-type",
        [
            "select",
            "--strategy",
            "task_inverse_confidence",
            "-p",
            "temperature=hot",
            "--budget",
            "5",
            "--out",
            "{tmp}/s.json",
        ],
        ["temperature"],
    ),
    (
        "select-unknown-param",
        ["select", "--strategy", "random", "-p", "nosuch=1", "--budget", "5", "--out", "{tmp}/s.json"],
        ["nosuch"],
    ),
    (
        "select-negative-budget",
        ["select", "--strategy", "random", "--budget", "-3", "--out", "{tmp}/s.json"],
        ["--budget"],
    ),
    (
        "select-budget-over-pool",
        ["select", "--strategy", "random", "--budget", "100000", "--out", "{tmp}/s.json"],
        ["--budget", "100000"],
    ),
    (
        "select-unwritable-out",
        ["select", "--strategy", "random", "--budget", "5", "--out", "{tmp}/afile/s.json"],
        ["--out"],
    ),
    ("score-unwritable-out", ["score", "--out", "{tmp}/afile"], ["--out"]),
    ("score-unknown-feature", ["score", "--out", "{tmp}/f", "--features", "nosuch"], ["--features"]),
    ("score-missing-model", ["score", "--out", "{tmp}/f", "--model", "{tmp}/nomodel"], ["nomodel"]),
    ("score-zero-batch", ["score", "--out", "{tmp}/f", "--batch-size", "0"], ["--batch-size"]),
    (
        "submit-no-selections",
        ["submit", "{tmp}/quick.yaml", "--name", "x", "--selections", "{tmp}/none.json"],
        ["none.json"],
    ),
    (
        "submit-bad-name",
        ["submit", "{tmp}/quick.yaml", "--name", "a/b", "--selections", "{tmp}/none.json"],
        ["--name"],
    ),
    ("evaluate-no-run", ["evaluate", "{tmp}/norun", "--mmlu-path", "{data}/mmlu"], ["norun"]),
    (
        "leaderboard-no-results",
        ["leaderboard", "{tmp}/nothing", "--out", "{tmp}/site"],
        ["nothing", "not a folder"],
    ),
    ("leaderboard-no-studies", ["leaderboard", "{tmp}", "--out", "{tmp}/site"], ["no leaderboard.json"]),
    (
        "evaluate-unknown-bbh-variant",
        ["evaluate", "{tmp}", "--evaluators", "bbh_lm_eval", "-e", "bbh_lm_eval.variant=cot"],
        ["variant='cot'", "cot_fewshot"],
    ),
    (
        "evaluate-no-benchmark-path",
        ["evaluate", "{tmp}", "--evaluators", "bbh"],
        ["bbh", "'path'", "-e bbh."],
    ),
    (
        "evaluate-not-a-run",
        ["evaluate", "{tmp}", "--evaluators", "mmlu_native", "--mmlu-path", "{data}/mmlu"],
        ["metrics.json"],
    ),
    (
        "evaluate-bad-eval-param",
        ["evaluate", "{tmp}", "-e", "mmlu_native.num_fewshot=five"],
        ["-e mmlu_native.num_fewshot"],
    ),
    (
        "finetune-missing-selection",
        ["finetune", "--selection", "{tmp}/none.json", "--run-dir", "{tmp}/r"],
        ["none.json"],
    ),
    (
        "finetune-selection-not-json",
        ["finetune", "--selection", "{tmp}/notjson.json", "--run-dir", "{tmp}/r"],
        ["notjson.json"],
    ),
    (
        "finetune-foreign-selection",
        ["finetune", "--selection", "{tmp}/selection.json", "--run-dir", "{tmp}/r"],
        ["selection.json", "nosuchuid"],
    ),
    (
        "finetune-run-dir-is-file",
        ["finetune", "--run-dir", "{tmp}/afile", "--evaluators", "mmlu_native", "--mmlu-path", "{data}/mmlu"],
        ["--run-dir"],
    ),
    (
        "finetune-unknown-evaluator",
        ["finetune", "--run-dir", "{tmp}/r", "--evaluators", "nosuch"],
        ["nosuch"],
    ),
    (
        "finetune-heldout-without-split",
        ["finetune", "--run-dir", "{tmp}/r", "--evaluators", "heldout"],
        ["--heldout-per-task"],
    ),
    (
        "finetune-missing-mmlu",
        ["finetune", "--run-dir", "{tmp}/r", "--evaluators", "mmlu_native", "--mmlu-path", "{tmp}/nommlu"],
        ["--mmlu-path"],
    ),
    (
        "finetune-learning-rate",
        [
            "finetune",
            "--run-dir",
            "{tmp}/r",
            "--heldout-per-task",
            "2",
            "--evaluators",
            "heldout",
            "--learning-rate",
            "-1",
        ],
        ["--learning-rate"],
    ),
    (
        "finetune-epochs",
        [
            "finetune",
            "--run-dir",
            "{tmp}/r",
            "--heldout-per-task",
            "2",
            "--evaluators",
            "heldout",
            "--epochs",
            "0",
        ],
        ["--epochs"],
    ),
    (
        "finetune-unknown-subject",
        [
            "finetune",
            "--run-dir",
            "{tmp}/r",
            "--evaluators",
            "mmlu_native",
            "--mmlu-path",
            "{data}/mmlu",
            "--mmlu-subjects",
            "astronmy",
        ],
        ["astronmy", "astronomy"],
    ),
    ("sweep-missing-config", ["sweep", "{tmp}/none.yaml"], ["none.yaml"]),
    ("sweep-yaml-syntax", ["sweep", "{tmp}/syntax.yaml"], ["syntax.yaml:"]),
    ("sweep-yaml-non-utf8", ["sweep", "{tmp}/latin1.yaml"], ["latin1.yaml", "UTF-8"]),
    ("sweep-duplicate-key", ["sweep", "{tmp}/dupkey.yaml"], ["dupkey.yaml", "seeds"]),
    ("sweep-top-level-list", ["sweep", "{tmp}/list.yaml"], ["list.yaml", "mapping"]),
    ("sweep-unknown-key", ["sweep", "{tmp}/unknown_key.yaml"], ["unknown_key.yaml", "epochs"]),
    ("sweep-no-budgets", ["sweep", "{tmp}/no_budgets.yaml"], ["no_budgets.yaml", "budgets"]),
    ("sweep-budget-over-pool", ["sweep", "{tmp}/big_budget.yaml"], ["big_budget.yaml", "budgets[1]"]),
    ("sweep-negative-budget", ["sweep", "{tmp}/neg_budget.yaml"], ["neg_budget.yaml", "budgets[0]"]),
    ("sweep-negative-seed", ["sweep", "{tmp}/neg_seed.yaml"], ["neg_seed.yaml", "seeds[0]"]),
    (
        "sweep-unknown-strategy",
        ["sweep", "{tmp}/bad_strategy.yaml"],
        ["bad_strategy.yaml", "strategies[0]", "random"],
    ),
    (
        "sweep-strategy-param-type",
        ["sweep", "{tmp}/strategy_param.yaml"],
        ["strategies[3].params.temperature"],
    ),
    ("sweep-unknown-strategy-param", ["sweep", "{tmp}/unknown_param.yaml"], ["strategies[0]", "nosuch"]),
    (
        "sweep-evaluator-param-type",
        ["sweep", "{tmp}/evaluator_param.yaml"],
        ["evaluators[0].params.max_new_tokens"],
    ),
    ("sweep-heldout-without-split", ["sweep", "{tmp}/no_heldout.yaml"], ["heldout_per_task"]),
    ("sweep-name-escapes", ["sweep", "{tmp}/escape_name.yaml"], ["escape_name.yaml", "name"]),
    ("sweep-warmup-ratio", ["sweep", "{tmp}/bad_warmup.yaml"], ["bad_warmup.yaml", "warmup_ratio"]),
    ("sweep-negative-epochs", ["sweep", "{tmp}/bad_epochs.yaml"], ["bad_epochs.yaml", "epochs"]),
    ("sweep-unknown-source", ["sweep", "{tmp}/bad_source.yaml"], ["bad_source.yaml", "synthetik"]),
    (
        "sweep-source-option-type",
        ["sweep", "{tmp}/bad_option.yaml"],
        ["bad_option.yaml", "examples_per_task"],
    ),
    ("sweep-unknown-task", ["sweep", "{tmp}/unknown_task.yaml"], ["unknown_task.yaml", "copy_wrd"]),
    ("sweep-unset-variable", ["sweep", "{tmp}/unset_variable.yaml"], ["SELBENCH_NO_SUCH_VARIABLE"]),
    ("sweep-unknown-evaluator", ["sweep", "{tmp}/bad_evaluator.yaml"], ["evaluators[0]", "heldout"]),
    (
        "sweep-set-yaml",
        ["sweep", "{tmp}/quick.yaml", "--set", "training.epochs=[1"],
        ["--set", "training.epochs"],
    ),
    ("sweep-set-unknown-key", ["sweep", "{tmp}/quick.yaml", "--set", "training.epoch=1"], ["training.epoch"]),
    ("sweep-set-type", ["sweep", "{tmp}/quick.yaml", "--set", "training.epochs=abc"], ["training.epochs"]),
    (
        "sweep-set-syntax",
        ["sweep", "{tmp}/quick.yaml", "--set", "training.epochs"],
        ["--set", "KEY.PATH=VALUE"],
    ),
    (
        "sweep-output-dir-is-file",
        ["sweep", "{tmp}/quick.yaml", "--output-dir", "{tmp}/afile"],
        ["--output-dir"],
    ),
    ("sweep-executor", ["sweep", "{tmp}/quick.yaml", "--executor", "dask"], ["--executor"]),
    ("report-missing-folder", ["report", "{tmp}/nosweep"], ["nosweep"]),
    ("report-unknown-metric", ["report", "{runs}", "--metric", "accc"], ["--metric", "accc", "acc"]),
    ("report-unknown-evaluator", ["report", "{runs}", "--evaluator", "heldot"], ["--evaluator", "heldout"]),
    ("report-unknown-baseline", ["report", "{runs}", "--baseline", "randon"], ["--baseline", "random"]),
    ("report-out-is-file", ["report", "{runs}", "--out", "{tmp}/afile"], ["--out"]),
    ("unknown-subcommand", ["sweeep"], ["sweeep"]),
]


@pytest.fixture(scope="module")
def stored_sweep(tmp_path_factory) -> Path:
    """A finished fake sweep (its folder holds runs/) for the report cases."""
    folder = tmp_path_factory.mktemp("sweep")
    execute(CONFIG, FakeHarness(), RunStore(folder / "runs"), progress=False)
    return folder


def _listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    argv, words, tmp_path, stored_sweep, data_dir, capsys, monkeypatch
):
    for name, content in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    monkeypatch.chdir(tmp_path)  # a default output folder (runs/<name>) would land here
    monkeypatch.delenv("SELBENCH_NO_SUCH_VARIABLE", raising=False)
    before, stored_before = _listing(tmp_path), _listing(stored_sweep)
    values = {"tmp": str(tmp_path), "runs": str(stored_sweep), "data": str(data_dir)}
    code = main([a.format(**values) for a in argv])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("selbench: error: "), err
    for word in words:
        assert word.format(**values) in lines[0], f"{word!r} not named in: {lines[0]}"
    assert _listing(tmp_path) == before, "a bad input left files behind"
    assert _listing(stored_sweep) == stored_before


def test_the_suite_covers_every_subcommand_and_over_forty_inputs():
    from runners.cli import build_parser

    subcommands = build_parser()._subparsers._group_actions[0].choices
    covered = {argv[0] for _, argv, _ in CASES}
    assert set(subcommands) - {"sources", "strategies"} <= covered
    assert len({c[0] for c in CASES}) == len(CASES) >= 40


def test_a_bad_input_prints_no_traceback_in_a_real_process(tmp_path):
    import subprocess
    import sys

    (tmp_path / "latin1.yaml").write_bytes(FILES["latin1.yaml"])
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "runners.cli", "sweep", str(tmp_path / "latin1.yaml")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
