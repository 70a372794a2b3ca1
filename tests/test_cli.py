import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runners.cli import main


def test_describe_prints_per_task_counts(capsys):
    assert main(["describe", "-o", "examples_per_task=20", "--heldout-per-task", "5"]) == 0
    out = capsys.readouterr().out
    assert "pool synthetic: 225 examples, 15 tasks" in out
    assert "add_large" in out
    assert "exact duplicates dropped: 0" in out
    assert "split by content: 0 content groups on both sides" in out
    assert "near-constant templates never held out: 0" in out


def test_describe_flan_coarse(data_dir, capsys):
    assert main(["describe", "flan", "-o", f"path={data_dir / 'flan_t0'}", "-o", "task_level=coarse"]) == 0
    assert "52632 examples, 36 tasks" in capsys.readouterr().out


def test_user_error_is_one_line_with_exit_code_2():
    run = subprocess.run(
        [sys.executable, "-m", "runners.cli", "describe", "dolly", "-o", "path=/no/such.jsonl"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert (
        run.stderr.strip()
        == "selbench: error: /no/such.jsonl: no such file (Dolly JSONL file). Fix the path."
    )
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("where", ["a file", "read-only"])
def test_an_unwritable_output_folder_fails_before_any_cell(tmp_path, capsys, where):
    from runners.cli import main

    out = tmp_path / "out"
    if where == "a file":
        out.write_text("")
    else:
        out.mkdir()
        out.chmod(0o500)
        if os.access(out, os.W_OK):  # root writes anyway: a read-only folder cannot be simulated
            out.chmod(0o700)
            out = out / "file"
            out.write_text("")
    assert main(["sweep", "configs/quick.yaml", "--output-dir", str(out)]) == 2
    assert "the output folder cannot be written" in capsys.readouterr().err


def test_debug_shows_the_traceback():
    run = subprocess.run(
        [sys.executable, "-m", "runners.cli", "--debug", "describe", "nosuch"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "Traceback" in run.stderr
    assert "unknown pool source 'nosuch'" in run.stderr


def test_sources_lists_every_source_with_options(capsys):
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    for name in ("dolly", "flan", "generic", "synthetic"):
        assert name in out
    assert "task_level='fine'" in out


def test_strategies_lists_every_strategy_with_parameters_features_reads_and_compositions(capsys, monkeypatch):
    from strategies import STRATEGIES

    monkeypatch.setenv("COLUMNS", "300")  # one line per row
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    for name in STRATEGIES.names():
        assert name in out
    assert "temperature=1.0" in out
    assert "task_confidence" in out
    assert "longest_prompt" in out  # the example plugin, found through its entry point
    assert re.search(r"│ random +│ - +│ - +│ nothing +│", out)
    assert re.search(r"│ task_inverse_confidence within=kcenter +│ base model, prompts, tasks +│", out)
    assert "task_uniform within=longest_prompt" in out  # a plugin is a picker too
    assert "within=few_tasks" not in out  # the control is no picker worth listing


def test_select_writes_uids_and_finetune_rejects_foreign_selections(tmp_path, capsys):
    selection = tmp_path / "sel.json"
    pool_args = ["-o", "examples_per_task=10", "-o", "tasks=[parity, copy_word]"]
    assert (
        main(["select", *pool_args, "--strategy", "task_uniform", "--budget", "6", "--out", str(selection)])
        == 0
    )
    assert "picked 6 of 20 examples from 2 tasks" in capsys.readouterr().out
    record = json.loads(selection.read_text())
    assert len(record["uids"]) == 6
    assert record["strategy"] == "task_uniform"
    argv = [
        "finetune",
        "-o",
        "examples_per_task=10",
        "-o",
        "tasks=[add_small]",
        "--selection",
        str(selection),
        "--run-dir",
        str(tmp_path / "run"),
    ]
    assert main(argv) == 2
    assert "6 of 6 selected uids" in capsys.readouterr().err


def test_sweep_dry_run_prints_the_plan(tmp_path, capsys):
    quick = Path(__file__).resolve().parents[1] / "configs" / "quick.yaml"
    argv = ["sweep", str(quick), "--dry-run", "--output-dir", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "sweep quick: 10 cells, 0 already done, 10 to run" in out
    assert "time to run: unknown until a cell has finished" in out
    assert "todo  task_inverse_confidence budget=24 seed=0" in out
    assert main([*argv, "--set", "budgets=[500]"]) == 2
    assert "budgets[0]: 500 exceeds the pool size 48" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "none.yaml")]) == 2
    assert "cannot be read" in capsys.readouterr().err


TINY_SWEEP = """
name: tiny
pool: {source: synthetic, options: {examples_per_task: 6, tasks: [copy_word, uppercase]}, heldout_per_task: 2}
strategies: [random]
budgets: [0, 2]
scorer: {max_new_tokens: 4, max_prompt_tokens: 64}
training: {max_steps: 1, batch_size: 2, max_length: 64, save_model: false}
evaluators: [{name: heldout, params: {max_new_tokens: 4, max_prompt_tokens: 64}}]
"""


@pytest.mark.slow
def test_sweep_runs_prints_the_table_and_resumes(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_SWEEP)
    argv = ["sweep", str(config), "--output-dir", str(tmp_path / "out")]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "sweep tiny: 2 cells run, 0 already done, 0 failed" in first
    assert "| 0 (base model)" in first
    assert (tmp_path / "out" / "report" / "heldout" / "table.md").is_file()
    assert (tmp_path / "out" / "report" / "heldout" / "accuracy_vs_cost.png").is_file()

    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "sweep tiny: 0 cells run, 2 already done, 0 failed" in again
    assert again[again.index("heldout acc_macro") :] == first[first.index("heldout acc_macro") :]

    assert main([*argv, "--dry-run", "--set", "budgets=[0,2,4]"]) == 0
    plan = capsys.readouterr().out
    assert "3 cells, 2 already done, 1 to run" in plan
    assert "done  random budget=2 seed=0" in plan
    assert "time to run: ~" in plan


def test_finetune_checks_its_evaluators_before_training(tmp_path, capsys):
    argv = ["finetune", "-o", "examples_per_task=6", "--run-dir", str(tmp_path / "r"), "--evaluators"]
    assert main([*argv, "heldout"]) == 2
    assert "give --heldout-per-task N" in capsys.readouterr().err
    assert main([*argv, "mmlu_native", "--mmlu-path", str(tmp_path / "nothing")]) == 2
    assert "--evaluators mmlu_native:" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # nothing trained, nothing written


def test_the_network_audit_blocks_connections_off_the_machine():
    import socket

    from tests import network_audit

    for var in network_audit.OFFLINE_SWITCHES:  # Ray's switch is set by selbench itself once it runs Ray
        if var != "RAY_USAGE_STATS_ENABLED":
            assert var not in os.environ, f"{var} is set: the suite would not prove selbench stays offline"
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="off the machine"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed
    with pytest.raises(socket.gaierror, match="off the machine"):
        socket.getaddrinfo("huggingface.co", 443)
    assert network_audit.is_local("127.0.0.1")
    assert network_audit.is_local("::1")
    assert network_audit.BLOCKED[-2][:26] == "connect ('192.0.2.1', 443)"
    assert network_audit.BLOCKED[-1].startswith("lookup huggingface.co")
    del network_audit.BLOCKED[-2:]  # this test's own attempts; any other fails the session


def test_help_starts_without_torch_or_faiss():
    code = (
        "import sys; from runners.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'faiss', 'transformers', 'lm_eval', 'ray') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip().splitlines()[-1] == "[]"
    assert "selbench" in run.stdout
