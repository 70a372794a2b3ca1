import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmark.config import ComponentSpec, SweepConfig
from benchmark.data import PoolSpec
from benchmark.store import RunStore
from runners.sweep import execute
from strategies import build_strategy
from tests.fake_harness import FakeHarness

CONFIG = SweepConfig(
    name="fake",
    pool=PoolSpec(options={"examples_per_task": 6}, heldout_per_task=2),
    strategies=(ComponentSpec("random"), ComponentSpec("task_uniform"), ComponentSpec("kcenter")),
    budgets=(0, 15, "full"),
    evaluators=(ComponentSpec("heldout"),),
    seeds=(0, 1),
)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs")


def test_sweep_runs_every_cell_once_and_resumes(store):
    harness = FakeHarness()
    outcome = execute(CONFIG, harness, store, progress=False)
    assert len(outcome.done) == 1 + 3 * 2 + 2  # base, strategies x seeds, full per seed
    assert not outcome.failed
    assert sorted(harness.trained) == [0] + [15] * 6 + [60] * 2
    records = store.runs()
    assert len(records) == len(outcome.done)
    uniform = [r for r in records if r.strategy == "task_uniform"]
    assert all(r.metric("heldout", "acc") == 1.0 for r in uniform)  # 15 tasks, 15 examples
    assert all(len(r.selection.uids) == r.cell.budget for r in records if r.selection)
    assert all(r.provenance["git"]["commit"] for r in records)
    assert len({r.created for r in records}) == 1  # the code as the sweep started
    assert records[0].config["seeds"] == [0, 1]  # the resolved configuration, with every setting
    assert records[0].config["training"]["learning_rate"] == 2e-4

    again = FakeHarness()
    outcome = execute(CONFIG, again, store, progress=False)
    assert again.trained == []
    assert len(outcome.skipped) == 9


def test_a_corrupt_record_is_recomputed_alone(store):
    execute(CONFIG, FakeHarness(), store, progress=False)
    victim = store.path(store.keys()[3])
    victim.write_text(victim.read_text()[:50])
    harness = FakeHarness()
    outcome = execute(CONFIG, harness, store, progress=False)
    assert len(harness.trained) == 1
    assert len(outcome.done) == 1


def test_a_failing_cell_is_reported_and_the_sweep_goes_on(store):
    outcome = execute(CONFIG, FakeHarness(fail_budget=60), store, progress=False)
    assert sorted(outcome.failed) == ["full budget=60 seed=0", "full budget=60 seed=1"]
    assert all("simulated out-of-memory" in error for error in outcome.failed.values())
    assert len(outcome.done) == 7
    failures = sorted((store.root.parent / "failures").glob("*.txt"))
    assert len(failures) == 2
    assert "Traceback" in failures[0].read_text()
    assert "simulated out-of-memory" in failures[0].read_text()

    retried = execute(CONFIG, FakeHarness(), store, progress=False)  # the cause fixed: only they re-run
    assert len(retried.done) == 2
    assert not retried.failed
    assert not list((store.root.parent / "failures").glob("*.txt"))


KILLABLE = """
import sys
from benchmark.store import RunStore
from runners.sweep import execute
from tests.fake_harness import FakeHarness
from tests.test_sweep_execute import CONFIG
execute(CONFIG, FakeHarness(delay=0.4), RunStore(sys.argv[1]), progress=False)
"""


@pytest.mark.parametrize("after", [1, 4, 7])
def test_sigkill_midway_then_resume_gives_the_uninterrupted_table(tmp_path, after):
    from runners.report import format_table, results_frame, summary_table

    killed = RunStore(tmp_path / "killed")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(killed.root)], cwd=root)
    deadline = time.monotonic() + 120
    while len(killed.keys()) < after and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.2)  # into the next cell: killed while it trains, holding its lock
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = set(killed.keys())
    assert after <= len(finished) < 9, "the sweep should be killed midway"
    harness = FakeHarness()
    outcome = execute(CONFIG, harness, killed, progress=False)
    assert {c.key for c in outcome.skipped} == finished  # no finished cell recomputed
    assert len(harness.trained) == 9 - len(finished)

    clean = RunStore(tmp_path / "clean")
    execute(CONFIG, FakeHarness(), clean, progress=False)

    def table(store):
        return format_table(summary_table(results_frame(store.runs(), "heldout", "acc")), 60)

    assert table(killed) == table(clean)


def comparable(store: RunStore) -> dict:
    """Records without what legitimately differs between runs (timings, provenance, selection time)."""
    out = {}
    for r in store.runs():
        record = {k: v for k, v in r.to_json().items() if k not in ("timings", "provenance")}
        record.get("selection", {}).pop("cost", None)
        out[r.key] = record
    return out


def test_ray_executor_gives_the_local_results(tmp_path):
    import ray

    local, remote = RunStore(tmp_path / "local"), RunStore(tmp_path / "ray")
    execute(CONFIG, FakeHarness(), local, progress=False)
    harness = FakeHarness()
    try:
        outcome = execute(CONFIG, harness, remote, executor="ray", progress=False)
    finally:
        ray.shutdown()
    # the features every strategy needs are computed once, before any cell is shipped to a worker
    assert harness.warmed == frozenset().union(*(build_strategy(s.name).requires for s in CONFIG.strategies))
    assert len(outcome.done) == 9
    assert not outcome.failed
    assert comparable(remote) == comparable(local)
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"  # selbench's Ray instances report nothing


def test_a_ray_worker_that_dies_fails_its_cell_not_the_sweep(tmp_path):
    """A worker killed mid-cell (out of memory, a signal) leaves no Python error: its cell is recorded as
    failed and retried by the next run, and every other cell is still run and stored."""
    import ray

    store = RunStore(tmp_path / "runs")
    try:
        outcome = execute(CONFIG, FakeHarness(crash_budget=60), store, executor="ray", progress=False)
    finally:
        ray.shutdown()
    assert sorted(outcome.failed) == ["full budget=60 seed=0", "full budget=60 seed=1"]
    assert all("the worker running it died" in error for error in outcome.failed.values())
    assert len(outcome.done) == 7
    assert len(list((tmp_path / "failures").glob("*.txt"))) == 2


def test_ray_gets_the_largest_budgets_first_in_plan_order():
    from runners.plan import Cell
    from runners.sweep import largest_first

    random = ComponentSpec("random")

    cells = [
        Cell(random, b, seed, f"k{i}")
        for i, (b, seed) in enumerate([(0, 0), (5, 0), (20, 0), (5, 1), (20, 1)])
    ]
    assert largest_first(cells) == [2, 4, 1, 3, 0]


def _hold_then(lock_path: Path, seconds: float, then=lambda: None) -> threading.Thread:
    """A thread that holds ``lock_path`` as another sweep would, runs ``then`` and lets go."""
    from benchmark.locks import try_lock

    held = threading.Event()

    def hold():
        with try_lock(lock_path) as mine:
            assert mine
            held.set()
            time.sleep(seconds)
            then()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait()
    return thread


def _first_strategy_cell(store):
    from benchmark.data import load_pool
    from runners.plan import plan

    loaded = load_pool(CONFIG.pool)
    return plan(CONFIG, loaded.pool, loaded.heldout, "fake-model")[1]


def test_a_cell_another_sweep_holds_is_waited_for_then_run_if_it_did_not_finish(store, caplog):
    from runners.sweep import cell_lock

    cell = _first_strategy_cell(store)
    thread = _hold_then(cell_lock(store, cell), 0.5)
    harness = FakeHarness()
    outcome = execute(CONFIG, harness, store, progress=False)
    thread.join()
    assert len(outcome.done) == 9
    assert not outcome.failed
    assert f"waiting for them: {cell.label}" in caplog.text
    assert f"waiting for cell {cell.label}: process" in caplog.text  # who holds it, named
    assert len(harness.trained) == 9


def test_a_cell_another_sweep_finishes_is_not_run_again(store):
    from runners.sweep import cell_lock

    cell = _first_strategy_cell(store)
    thread = _hold_then(cell_lock(store, cell), 0.3, lambda: store.save(cell.key, {"cell": "theirs"}))
    harness = FakeHarness()
    outcome = execute(CONFIG, harness, store, progress=False)
    thread.join()
    assert cell in outcome.skipped
    assert cell not in outcome.done
    assert len(harness.trained) == 8
    assert store.load(cell.key)["cell"] == "theirs"


TWO_SWEEPS = """
import sys
from benchmark.store import RunStore
from runners.sweep import execute
from tests.fake_harness import FakeHarness
from tests.test_sweep_execute import CONFIG
harness = FakeHarness(delay=0.3)
outcome = execute(CONFIG, harness, RunStore(sys.argv[1]), progress=False)
print(len(harness.trained), len(outcome.done), len(outcome.skipped), len(outcome.failed))
"""


def test_two_sweeps_on_one_store_split_the_cells(tmp_path):
    store = RunStore(tmp_path / "runs")
    root = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_SWEEPS, str(store.root)], cwd=root, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    counts = [[int(x) for x in p.communicate(timeout=120)[0].split()] for p in procs]
    assert sum(trained for trained, *_ in counts) == 9  # every cell computed once, by one of them
    assert all(done + skipped == 9 and failed == 0 for _, done, skipped, failed in counts)
    assert len(store.keys()) == 9
