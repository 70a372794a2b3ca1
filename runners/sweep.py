"""Executing a sweep: run every planned cell not yet stored, locally or as Ray tasks, each under a lock
so that sweeps sharing a store split the work; one stored record per cell; failures kept, never fatal.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from benchmark.atomic import atomic_write_text
from benchmark.config import SweepConfig, config_record
from benchmark.data import load_pool
from benchmark.errors import SelbenchError
from benchmark.locks import try_lock, wait_lock
from benchmark.store import RunStore, provenance
from benchmark.types import Pool
from runners.harness import Harness, needed_features, run_cell
from runners.plan import Cell, plan, resolved_bf16
from runners.settings import unreused_runs

log = logging.getLogger(__name__)


@dataclass
class SweepOutcome:
    done: list[Cell]
    skipped: list[Cell]
    failed: dict[str, str]  # cell label -> error


TAKEN = "taken by another sweep"  # run_and_store's answer for a cell another process holds
DONE_ELSEWHERE = "finished by another sweep"


def run_and_store(
    cell: Cell,
    pool: Pool,
    heldout: Pool | None,
    harness: Harness,
    store: RunStore,
    shared: dict[str, Any],
    wait: bool = False,
) -> str | None:
    """Run one cell under its lock and store its record with ``shared`` (what every record of the sweep
    carries); None when done, the error text when it fails (the sweep goes on), ``TAKEN`` when another
    process holds the cell (``wait``: wait for it instead), ``DONE_ELSEWHERE`` when it finished first.

    A failure's traceback is kept in ``failures/<key>.txt`` beside the store until the cell succeeds.
    """
    lock = cell_lock(store, cell)
    with wait_lock(lock, f"cell {cell.label}") if wait else try_lock(lock) as held:
        if held is False:
            return TAKEN
        if store.load(cell.key) is not None:
            return DONE_ELSEWHERE
        failure = failure_path(store, cell)
        try:
            record = run_cell(cell, pool, heldout, harness, store.root.parent / "artifacts", shared)
        except Exception as err:  # any error of one cell is recorded; the other cells still run
            atomic_write_text(failure, f"{cell.label}\n{traceback.format_exc()}")
            return f"{type(err).__name__}: {err}"
        store.save(cell.key, record.to_json())
        failure.unlink(missing_ok=True)
        return None


def cell_lock(store: RunStore, cell: Cell) -> Path:
    return store.root.parent / "locks" / f"{cell.key}.lock"


def failure_path(store: RunStore, cell: Cell) -> Path:
    return store.root.parent / "failures" / f"{cell.key}.txt"


def largest_first(cells: list[Cell]) -> list[int]:
    """Indices of ``cells`` by budget, largest first (ties in plan order): the order to hand cells to
    parallel workers so that they finish together."""
    return sorted(range(len(cells)), key=lambda i: cells[i].budget, reverse=True)


def _run_on_ray(
    todo: list[Cell],
    common: tuple[Pool, Pool | None, Harness, RunStore, dict[str, Any]],
    wait: bool,
    address: str | None,
    progress: bool,
) -> list[str | None]:
    """Cells as Ray tasks (one GPU each when the cluster has GPUs), submitted ``largest_first``; records
    land in the same store. A worker that dies (killed, out of memory) fails its cell, not the sweep."""
    import os

    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report sent off the machine
    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    task = ray.remote(num_gpus=gpus, max_retries=0)(run_and_store)
    shared = [ray.put(x) for x in common]  # stored once, not per task
    refs = {task.remote(todo[i], *shared, wait): i for i in largest_first(todo)}
    errors: list[str | None] = [None] * len(todo)
    with tqdm(total=len(todo), desc="sweep (ray)", unit="cell", disable=not progress) as bar:
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            i = refs[ready[0]]
            try:
                errors[i] = ray.get(ready[0])
            except ray.exceptions.RayError as err:  # the worker process died: no Python error to record
                errors[i] = f"{type(err).__name__}: the worker running it died"
                atomic_write_text(failure_path(common[3], todo[i]), f"{todo[i].label}\n{err}")
            bar.update()
    return errors


def execute(
    config: SweepConfig,
    harness: Harness,
    store: RunStore,
    *,
    executor: str = "local",
    address: str | None = None,
    progress: bool = True,
) -> SweepOutcome:
    """Run every cell not yet in ``store`` (``executor``: local, one after another, or ray).

    Each cell runs under a lock beside the store, so sweeps sharing a store split the cells: a cell
    another sweep holds is left to it, and waited for at the end (and run here if it did not finish).
    """
    if executor not in ("local", "ray"):
        raise SelbenchError(f"executor {executor!r}: use local or ray.")
    loaded = load_pool(config.pool)
    model = harness.model_fingerprint()
    cells = plan(config, loaded.pool, loaded.heldout, model)
    outcome = SweepOutcome([], [c for c in cells if store.load(c.key) is not None], {})
    todo = [c for c in cells if c not in outcome.skipped]
    if todo and (warning := unreused_runs(todo, store.runs(), config, model, resolved_bf16(config))):
        log.warning("%s", warning)
    # stored with every record: the settings after overrides, and the code as the sweep started (the
    # checkout may move on during a long sweep)
    common = (
        loaded.pool,
        loaded.heldout,
        harness,
        store,
        {"config": config_record(config), "provenance": provenance()},
    )
    if executor == "ray" and (needed := needed_features(todo)):
        harness.warm_cache(loaded.pool, needed)  # features once here, not once per worker at the same time

    def run(cells: list[Cell], wait: bool) -> list[str | None]:
        if executor == "ray":
            return _run_on_ray(cells, common, wait, address, progress)
        bar = tqdm(cells, desc=f"sweep {config.name}", unit="cell", disable=not progress)
        return [run_and_store(cell, *common, wait=wait) for cell in bar]

    answers = dict(zip([c.key for c in todo], run(todo, wait=False), strict=True))
    taken = [c for c in todo if answers[c.key] == TAKEN]
    if taken:
        log.warning(
            "%d of %d cells are being run by another sweep on %s; waiting for them: %s",
            len(taken),
            len(todo),
            store.root,
            ", ".join(c.label for c in taken),
        )
        answers |= dict(zip([c.key for c in taken], run(taken, wait=True), strict=True))
    for cell in todo:
        if answers[cell.key] is None:
            outcome.done.append(cell)
        elif answers[cell.key] == DONE_ELSEWHERE:
            outcome.skipped.append(cell)
        else:
            outcome.failed[cell.label] = answers[cell.key]
    return outcome
