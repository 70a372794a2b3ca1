"""The coverage analysis recovers the value of covering a task where it is known, and finds none where
there is none."""

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import SelbenchError
from benchmark.store import RunStore
from runners.coverage import coverage_effect, coverage_frame, coverage_report, dose_table
from runners.leaderboard import pool_tasks
from runners.sweep import execute
from tests.fake_harness import FakeHarness
from tests.test_sweep_execute import CONFIG


def planted(a: float, b: float, seed: int = 0, cells: int = 60, tasks: int = 10) -> pd.DataFrame:
    """Per-task gains c(task, budget) + a·covered + b·n + noise, with random allocations of 12 or 24
    examples (noise shared within a cell, as one cell's training would share it)."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 1, (tasks, 2))
    rows = []
    for cell in range(cells):
        budget = (12, 24)[cell % 2]
        counts = np.bincount(
            rng.choice(tasks, budget, p=rng.dirichlet(np.ones(tasks) * 0.5)), minlength=tasks
        )
        shared = rng.normal(0, 0.05)
        for task, n in enumerate(counts):
            gain = level[task, cell % 2] + a * (n > 0) + b * n + shared + rng.normal(0, 0.05)
            rows.append({"cell": cell, "strategy": "s", "budget": budget, "seed": cell, "task": f"t{task}",
                         "n": int(n), "gain": gain})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("a", "b"), [(0.3, 0.01), (0.0, 0.02), (0.0, 0.0)])
def test_the_fit_recovers_a_planted_coverage_value(a, b):
    fit = coverage_effect(planted(a, b), resamples=300)
    assert fit["a_low"] <= a <= fit["a_high"]
    assert fit["b_low"] <= b <= fit["b_high"]
    assert fit["a_high"] - fit["a_low"] < 0.1  # the design resolves a coverage value of 0.3
    if a:
        assert fit["a_low"] > 0


def test_the_fit_is_seeded():
    frame = planted(0.1, 0.0)
    assert coverage_effect(frame, seed=3, resamples=100) == coverage_effect(frame, seed=3, resamples=100)


def test_without_variation_in_coverage_nothing_is_estimated():
    frame = planted(0.2, 0.0)
    frame["n"] = 1
    assert np.isnan(coverage_effect(frame, resamples=10)["a"])


def test_dose_table_is_relative_to_the_tasks_uncovered_cells():
    table = dose_table(planted(0.3, 0.0)).set_index("examples of the task")
    assert table.loc["0", "mean"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["1", "mean"] == pytest.approx(0.3, abs=0.05)
    assert table.loc["5-8", "mean"] == pytest.approx(0.3, abs=0.05)


def test_on_stored_runs_coverage_is_all_that_matters(fake_sweep_records):
    """The FakeHarness solves exactly the tasks a selection covers: covering a task is worth 1, each
    further example nothing, and the analysis reads that from the records and the pool's task labels."""
    task_of = pool_tasks(fake_sweep_records)
    frame = coverage_frame(fake_sweep_records, "heldout", "acc", task_of)
    assert set(frame["strategy"]) == {"random", "task_uniform", "kcenter"}  # no base or full-pool cells
    assert (frame.groupby("cell")["n"].sum() == 15).all()
    fit = coverage_effect(frame, resamples=50)
    assert fit["a"] == pytest.approx(1.0)
    assert fit["a_low"] == pytest.approx(1.0)
    assert fit["b"] == pytest.approx(0.0, abs=1e-9)
    report = coverage_report(fake_sweep_records, "heldout", task_of)
    assert "### heldout acc" in report
    assert "Value of covering a task (a): +1.0000" in report


def test_report_command_writes_coverage(tmp_path, capsys):
    from runners.cli import main

    execute(CONFIG, FakeHarness(), RunStore(tmp_path / "sweep" / "runs"), progress=False)
    args = ["report", str(tmp_path / "sweep"), "--metric", "acc", "--coverage", "--out", str(tmp_path / "t")]
    assert main(args) == 0
    assert "Value of covering a task (a): +1.0000" in (tmp_path / "t" / "coverage.md").read_text()
    assert "Does task coverage matter here?" in capsys.readouterr().out


def test_report_without_the_pools_data_stops_before_writing(tmp_path, capsys, monkeypatch):
    """--coverage needs the pool's task labels: data that is absent or changed is one line and exit 2,
    before any report file is written."""
    from runners.cli import main
    from runners.cli import report as report_cli

    def absent(records):
        raise SelbenchError("the pool its configuration loads here is not the pool the study read.")

    execute(CONFIG, FakeHarness(), RunStore(tmp_path / "sweep" / "runs"), progress=False)
    monkeypatch.setattr(report_cli, "pool_tasks", absent)
    args = ["report", str(tmp_path / "sweep"), "--coverage", "--out", str(tmp_path / "t")]
    assert main(args) == 2
    assert "not the pool the study read" in capsys.readouterr().err
    assert not (tmp_path / "t").exists() or not any((tmp_path / "t").iterdir())
