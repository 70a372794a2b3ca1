"""`selbench submit`: selections made by any tool, checked uid by uid, trained and evaluated with the
study's recipe and stored as `submitted:NAME` beside the baselines."""

from __future__ import annotations

import json

import pytest

from benchmark.config import load_sweep_config
from benchmark.data import load_pool
from benchmark.store import RunStore
from runners.cli import main
from runners.cli.submit import submission_config
from runners.report import results_frame
from runners.sweep import execute
from tests.fake_harness import FakeHarness

STUDY = """
name: tiny
pool: {source: synthetic, options: {examples_per_task: 6}, heldout_per_task: 2}
strategies: [random]
budgets: [0, 15, full]
seeds: [0, 1]
evaluators: [heldout]
"""


@pytest.fixture
def study(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(STUDY + f"output_dir: {tmp_path / 'out'}\n")
    return path


def write(tmp_path, selections) -> str:
    path = tmp_path / "selections.json"
    path.write_text(json.dumps({"selections": selections}))
    return str(path)


def test_a_submission_of_randoms_uids_gives_randoms_row(study):
    """The documented way to make a selection file: here, the built-in random strategy's own uids."""
    config = load_sweep_config(study)
    store = RunStore(config.output_dir + "/runs")
    execute(config, FakeHarness(), store, progress=False)
    random = {(r.cell.budget, r.cell.seed): r for r in store.runs() if r.strategy == "random"}
    selections = {key: list(r.selection.uids) for key, r in random.items()}
    outcome = execute(submission_config(config, "mine", selections), FakeHarness(), store, progress=False)
    assert len(outcome.done) == 2  # the base and full-pool cells are the study's own, already stored
    frame = results_frame(store.runs(), "heldout", "acc")
    mine = frame[frame["strategy"] == "submitted:mine"].set_index(["budget", "seed"])["value"]
    theirs = frame[frame["strategy"] == "random"].set_index(["budget", "seed"])["value"]
    assert mine.sort_index().tolist() == theirs.sort_index().tolist()
    # the leaderboard and the site show it as a submission, beside the baselines, with its command
    from runners.leaderboard import leaderboard
    from runners.site import kind

    board = leaderboard(store.runs(), "tiny")
    entry = next(s for s in board["strategies"] if s["label"] == "submitted:mine")
    assert (entry["name"], kind(board, "submitted:mine")) == ("submitted", "submitted")
    assert entry["command"] == "selbench submit config.yaml --name mine --selections SELECTIONS.json"
    cells = next(m for m in board["metrics"] if m["metric"] == "acc")["cells"]
    assert {c["mean"] for c in cells if c["strategy"] == "submitted:mine"} == {
        c["mean"] for c in cells if c["strategy"] == "random"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown", "uid nosuchuid is not in the study's pool"),
        ("duplicate", "appears twice"),
        ("count", "14 uids; the budget is 15"),
        ("heldout", "is a held-out example"),
        ("missing", "no selection for budget 15, seed 1"),
        ("extra", "budget 16, seed 0: the study plans no such cell"),
        ("malformed", "not a selection file"),
    ],
)
def test_bad_selections_are_one_line_and_write_nothing(study, tmp_path, capsys, case, message):
    loaded = load_pool(load_sweep_config(study).pool)
    uids = list(loaded.pool.uids)
    good = [{"budget": 15, "seed": s, "uids": uids[s : s + 15]} for s in (0, 1)]
    edits = {
        "unknown": lambda g: g[0]["uids"].__setitem__(0, "nosuchuid"),
        "duplicate": lambda g: g[0]["uids"].__setitem__(1, g[0]["uids"][0]),
        "count": lambda g: g[0]["uids"].pop(),
        "heldout": lambda g: g[0]["uids"].__setitem__(0, loaded.heldout.uids[0]),
        "missing": lambda g: g.pop(),
        "extra": lambda g: g.append({"budget": 16, "seed": 0, "uids": uids[:16]}),
        "malformed": lambda g: g[0].pop("uids"),
    }
    edits[case](good)
    code = main(["submit", str(study), "--name", "mine", "--selections", write(tmp_path, good)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert message in err[0]
    assert not (tmp_path / "out").exists()
