"""Budget sweeps: plan the grid of cells, each keyed by the content hash of everything that decides it.

A cell is one (strategy, budget, seed) on one pool, model, training and evaluation setup. Budget 0 is the
base model (one cell) and the full pool does not depend on the strategy (one cell per seed), so neither
is repeated per strategy. Keys let a re-run skip finished cells and let anyone find a result by content.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from benchmark.atomic import atomic_write_text
from benchmark.config import ComponentSpec, ConfigError, SweepConfig, config_record
from benchmark.data import load_pool
from benchmark.errors import SelbenchError
from benchmark.evaluation import EVALUATORS, Evaluator
from benchmark.locks import try_lock, wait_lock
from benchmark.models import ResolvedModel, device_and_dtype, load_model
from benchmark.records import SCHEMA_VERSION, RunRecord
from benchmark.scoring import Scorer
from benchmark.settings import TrainingConfig
from benchmark.store import RunStore, provenance
from benchmark.training import fine_tune, uses_bf16
from benchmark.types import Example, Features, Pool, content_hash
from strategies import STRATEGIES
from strategies.base import BASE_MODEL, FULL_POOL

log = logging.getLogger(__name__)

BASE = ComponentSpec(BASE_MODEL)
FULL = ComponentSpec(FULL_POOL)
SCORER_SETTINGS = (
    "confidence",
    "max_new_tokens",
    "max_prompt_tokens",
    "task_sample_size",
    "seed",
    "embedding",
    "embedder",
)


@dataclass(frozen=True)
class Cell:
    strategy: ComponentSpec
    budget: int
    seed: int
    key: str

    @property
    def label(self) -> str:
        return f"{self.strategy.name} budget={self.budget} seed={self.seed}"


def resolve_budgets(budgets: tuple[int | float | str, ...], pool_size: int) -> list[int]:
    """Budgets as counts of examples, sorted and unique: fractions of the pool rounded (at least 1),
    'full' the pool size; a count above the pool size is an error naming it."""
    counts = set()
    for i, budget in enumerate(budgets):
        if budget == "full":
            counts.add(pool_size)
        elif isinstance(budget, float):
            counts.add(max(1, round(budget * pool_size)))
        elif budget > pool_size:
            raise ConfigError(
                f"budgets[{i}]: {budget} exceeds the pool size {pool_size}. Use 'full', a fraction or less."
            )
        else:
            counts.add(budget)
    return sorted(counts)


def _evaluation_settings(config: SweepConfig) -> list[dict[str, Any]]:
    """What decides each evaluator's results: data by content, not by where it lies, so a study moved
    to another data folder keeps its finished cells."""
    return [
        {"name": e.name, "params": EVALUATORS.build(e.name, e.params).fingerprint_params()}
        for e in config.evaluators
    ]


def _resolved_bf16(config: SweepConfig) -> bool:
    """What ``training.bf16`` means on this machine (``null``: bfloat16 where the hardware has it). It
    decides training and evaluation numerics, so keys hold the resolved value."""
    on_cuda = device_and_dtype(config.scorer.model)[0].startswith("cuda")
    return uses_bf16(config.training, on_cuda)


def cell_key(
    config: SweepConfig,
    pool: Pool,
    heldout: Pool | None,
    model: str,
    strategy: ComponentSpec,
    budget: int,
    seed: int,
    evaluation: list[dict[str, Any]],
    bf16: bool,
) -> str:
    """Hash of everything that determines the cell's result (and nothing that does not);
    ``evaluation`` and ``bf16``: ``_evaluation_settings(config)`` and ``_resolved_bf16(config)``,
    computed once per plan."""
    features: dict[str, Any] = {}
    if strategy not in (BASE, FULL) and STRATEGIES.build(strategy.name, strategy.params).required_features():
        features = {k: v for k, v in asdict(config.scorer).items() if k in SCORER_SETTINGS}
    parts = {
        "pool": pool.fingerprint(),
        "heldout": heldout.fingerprint() if heldout else None,
        "model": model,
        "strategy": asdict(strategy),
        "features": features,
        "budget": budget,
        "seed": seed if budget else None,
        "training": asdict(config.training) | {"bf16": bf16} if budget else None,
        "evaluation": evaluation,
        "evaluation_precision": "weights",  # evaluated in the weights' dtype, without autocast
    }
    return content_hash(parts, length=24)


def plan(config: SweepConfig, pool: Pool, heldout: Pool | None, model: str) -> list[Cell]:
    """The sweep's cells in a stable order: budgets ascending, then strategies, then seeds."""
    cells = []
    evaluation, bf16 = _evaluation_settings(config), _resolved_bf16(config)
    for budget in resolve_budgets(config.budgets, len(pool)):
        if budget == 0:
            grid = [(BASE, config.seeds[0])]
        elif budget == len(pool):
            grid = [(FULL, seed) for seed in config.seeds]
        else:
            grid = [(s, seed) for s in config.strategies for seed in config.seeds]
        for strategy, seed in grid:
            key = cell_key(config, pool, heldout, model, strategy, budget, seed, evaluation, bf16)
            cells.append(Cell(strategy, budget, seed, key))
    return cells


class Harness(Protocol):
    """What a sweep needs from the models: features of the pool, and train-then-evaluate.

    ``ModelHarness`` is the real one; tests pass fakes, so a whole sweep runs in seconds.
    """

    def model_fingerprint(self) -> str: ...

    def features(self, pool: Pool, names: frozenset[str]) -> Features: ...

    def warm_cache(self, pool: Pool, names: frozenset[str]) -> None: ...

    def train_and_evaluate(
        self, examples: list[Example], heldout: Pool | None, seed: int, run_dir: Path
    ) -> dict[str, Any]: ...


def _quiet(cls: type) -> dict[str, bool]:
    """No per-evaluation progress bars inside a sweep's own progress bar."""
    return {"progress": False} if "progress" in cls.param_names() else {}


class ModelHarness:
    """Scorer, SFT and evaluators of one sweep configuration, on the real model."""

    def __init__(self, config: SweepConfig) -> None:
        self.config = config
        self.scorer = Scorer(config.scorer)
        self.evaluators = [
            EVALUATORS.build(e.name, _quiet(EVALUATORS.get(e.name)) | e.params) for e in config.evaluators
        ]
        for i, evaluator in enumerate(self.evaluators):
            try:
                evaluator.check()
            except SelbenchError as err:
                raise ConfigError(f"evaluators[{i}] ({evaluator.name}): {err}") from None

    def model_fingerprint(self) -> str:
        return self.scorer.resolved.fingerprint

    def features(self, pool: Pool, names: frozenset[str]) -> Features:
        return self.scorer.features(pool, names)

    def warm_cache(self, pool: Pool, names: frozenset[str]) -> None:
        """Compute ``names`` into the feature cache with a scorer of its own, so this harness stays
        without a loaded model when it is shipped to workers."""
        Scorer(self.config.scorer).features(pool, names)

    def train_and_evaluate(
        self, examples: list[Example], heldout: Pool | None, seed: int, run_dir: Path
    ) -> dict[str, Any]:
        training = replace(self.config.training, seed=seed)
        return train_and_evaluate(
            self.scorer.resolved,
            self.config.scorer.cache_dir,
            examples,
            training,
            self.evaluators,
            heldout,
            run_dir,
            progress=False,
        )


def train_and_evaluate(
    resolved: ResolvedModel,
    cache_dir: str | None,
    examples: list[Example],
    training: TrainingConfig,
    evaluators: list[Evaluator],
    heldout: Pool | None,
    run_dir: Path,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """Fresh weights, SFT on ``examples`` (none: the base model), then every evaluator: one run's record."""
    if not progress:
        from transformers.utils.logging import disable_progress_bar

        disable_progress_bar()  # weight loading, once per cell
    model, tokenizer = load_model(resolved, cache_dir)
    record: dict[str, Any] = {"model": resolved.provenance}
    if examples:
        trained = fine_tune(model, tokenizer, examples, training, run_dir, progress=progress)
        model = trained.model
        record["training"] = {
            "config": asdict(training),
            "bf16": trained.bf16,
            "steps": trained.steps,
            "seconds": trained.seconds,
            "tokens": trained.train_tokens,
            "tokens_per_second": trained.tokens_per_second,
            "final_loss": trained.final_loss,
            "loss_curve": trained.loss_curve,
            "prompts_cut": trained.prompts_cut,
            "responses_cut": trained.responses_cut,
        }
    # evaluation runs in the weights' own precision (float32 on a CPU), never under bfloat16 autocast:
    # bfloat16's rounding of the merged weights can swallow a short LoRA update, and on this CPU it was
    # not even faster (results/flan_v2/README.md)
    record["evaluation_precision"] = str(model.dtype).removeprefix("torch.")
    record["evaluations"] = {}
    for evaluator in evaluators:
        result = evaluator.evaluate(model, tokenizer, heldout=heldout)
        record["evaluations"][evaluator.name] = {
            "params": evaluator.get_params(),
            "metrics": result.metrics,
            "per_task": result.per_task,
            "n": result.n,
            "details": result.details,
        }
    return record


@dataclass
class SweepOutcome:
    done: list[Cell]
    skipped: list[Cell]
    failed: dict[str, str]  # cell label -> error


def needed_features(cells: list[Cell]) -> frozenset[str]:
    """Every feature the strategies of ``cells`` read."""
    strategies = {(c.strategy.name, str(c.strategy.params)): c.strategy for c in cells}
    return frozenset().union(
        *(
            STRATEGIES.build(s.name, s.params).required_features()
            for s in strategies.values()
            if s not in (BASE, FULL)
        )
    )


def _selection(cell: Cell, pool: Pool, harness: Harness) -> list[int]:
    if cell.strategy == BASE:
        return []
    if cell.strategy == FULL:
        return list(range(len(pool)))
    strategy = STRATEGIES.build(cell.strategy.name, cell.strategy.params)
    features = harness.features(pool, strategy.required_features())
    return strategy.select(pool, cell.budget, features, np.random.default_rng(cell.seed)).tolist()


def run_cell(
    cell: Cell,
    pool: Pool,
    heldout: Pool | None,
    harness: Harness,
    run_dir: Path,
    shared: dict[str, Any] | None = None,
) -> RunRecord:
    """Select, train and evaluate one cell; the record holds the selected uids so anyone can retrain,
    and ``shared`` (what every record of the sweep carries: its configuration and provenance)."""
    start = time.perf_counter()
    picked = _selection(cell, pool, harness)
    uids = [pool.uids[i] for i in picked]
    selected = time.perf_counter()
    result = harness.train_and_evaluate(
        [pool.examples[i] for i in picked], heldout, cell.seed, run_dir / cell.key
    )
    record = {
        "schema_version": SCHEMA_VERSION,
        "key": cell.key,
        "cell": {"strategy": asdict(cell.strategy), "budget": cell.budget, "seed": cell.seed},
        "pool": {"name": pool.name, "fingerprint": pool.fingerprint(), "size": len(pool)},
        "selection": {"uids": uids, "hash": content_hash(uids)},
        "timings": {
            "select_seconds": selected - start,
            "train_evaluate_seconds": time.perf_counter() - selected,
        },
        **result,
        **(shared or {}),
    }
    return RunRecord.from_json(record, f"the record of cell {cell.label}")


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
    land in the same store."""
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
            errors[refs[ready[0]]] = ray.get(ready[0])
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
    cells = plan(config, loaded.pool, loaded.heldout, harness.model_fingerprint())
    outcome = SweepOutcome([], [c for c in cells if store.load(c.key) is not None], {})
    todo = [c for c in cells if c not in outcome.skipped]
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
