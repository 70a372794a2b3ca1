"""One cell's pipeline: features -> selection -> SFT -> evaluation -> a typed run record. ``Harness`` is the
seam between the sweep and the models: ``ModelHarness`` runs the real ones (its ``trainer`` is the SFT
function, so another trainer, TRL's for one, plugs in there), tests run a fake one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from benchmark.config import ConfigError, SweepConfig
from benchmark.errors import SelbenchError
from benchmark.evaluation import EVALUATORS, Evaluator
from benchmark.models import ResolvedModel, load_model
from benchmark.records import SCHEMA_VERSION, RunRecord
from benchmark.scoring import Scorer
from benchmark.settings import TrainingConfig
from benchmark.training import TrainResult, fine_tune
from benchmark.types import Example, Features, Pool, content_hash
from runners.plan import BASE, FULL, Cell
from strategies import STRATEGIES
from strategies.base import SUBMITTED


class Harness(Protocol):
    """What a sweep needs from the models: features of the pool, and train-then-evaluate.

    ``ModelHarness`` is the real one; tests pass fakes, so a whole sweep runs in seconds.
    """

    def model_fingerprint(self) -> str: ...

    def features(self, pool: Pool, names: frozenset[str]) -> Features: ...

    def feature_reads(self, names: frozenset[str]) -> frozenset[str]: ...

    def feature_cost(self, names: frozenset[str]) -> dict[str, float | None]: ...

    def warm_cache(self, pool: Pool, names: frozenset[str]) -> None: ...

    def train_and_evaluate(
        self, examples: list[Example], heldout: Pool | None, seed: int, run_dir: Path
    ) -> dict[str, Any]: ...


def _quiet(cls: type) -> dict[str, bool]:
    """No per-evaluation progress bars inside a sweep's own progress bar."""
    return {"progress": False} if "progress" in cls.param_names() else {}


Trainer = Callable[..., TrainResult]  # fine_tune's signature: (model, tokenizer, examples, config, run_dir)


class ModelHarness:
    """Scorer, SFT and evaluators of one sweep configuration, on the real model. ``trainer`` is the SFT
    step (selbench's ``fine_tune``); another trainer with its signature and result plugs in here."""

    def __init__(self, config: SweepConfig, trainer: Trainer = fine_tune) -> None:
        self.config = config
        self.trainer = trainer
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

    def feature_reads(self, names: frozenset[str]) -> frozenset[str]:
        return self.config.scorer.feature_reads(names)

    def feature_cost(self, names: frozenset[str]) -> dict[str, float | None]:
        """What the features ``names`` cost to compute (after ``features`` loaded them)."""
        return self.scorer.cost(names)

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
            trainer=self.trainer,
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
    trainer: Trainer = fine_tune,
) -> dict[str, Any]:
    """Fresh weights, SFT on ``examples`` (none: the base model) by ``trainer``, then every evaluator:
    one run's record."""
    if not progress:
        from transformers.utils.logging import disable_progress_bar

        disable_progress_bar()  # weight loading, once per cell
    model, tokenizer = load_model(resolved, cache_dir)
    record: dict[str, Any] = {"model": resolved.provenance}
    if examples:
        trained = trainer(model, tokenizer, examples, training, run_dir, progress=progress)
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


def needed_features(cells: list[Cell]) -> frozenset[str]:
    """Every feature the strategies of ``cells`` read."""
    strategies = {(c.strategy.name, str(c.strategy.params)): c.strategy for c in cells}
    return frozenset().union(
        *(
            STRATEGIES.build(s.name, s.params).required_features()
            for s in strategies.values()
            if s not in (BASE, FULL) and s.name != SUBMITTED
        )
    )


def _selection(cell: Cell, pool: Pool, harness: Harness) -> dict[str, Any]:
    """The selected indices, what the selection read of the pool (its features' sources included) and
    what it cost: computing the features (once per pool, however many cells share them) and selecting."""
    if cell.strategy in (BASE, FULL):
        picked = [] if cell.strategy == BASE else list(range(len(pool)))
        return {"picked": picked, "reads": [], "cost": {}}
    if cell.strategy.name == SUBMITTED:  # made by another tool: `selbench submit` checked every uid
        index = {uid: i for i, uid in enumerate(pool.uids)}
        uids = cell.strategy.params["selections"][f"{cell.budget}/{cell.seed}"]
        return {"picked": [index[u] for u in uids], "reads": [], "cost": {}}
    strategy = STRATEGIES.build(cell.strategy.name, cell.strategy.params)
    names = strategy.required_features()
    features = harness.features(pool, names)
    start = time.perf_counter()
    picked = strategy.select(pool, cell.budget, features, np.random.default_rng(cell.seed))
    cost = harness.feature_cost(names)
    return {
        "picked": picked.tolist(),
        "reads": sorted(strategy.information() | harness.feature_reads(names)),
        "cost": {
            "scoring_seconds": cost["seconds"],
            "scoring_tokens": cost["tokens"],
            "select_seconds": time.perf_counter() - start,
        },
    }


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
    selection = _selection(cell, pool, harness)
    picked = selection["picked"]
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
        "selection": {"uids": uids, "hash": content_hash(uids)}
        | {k: selection[k] for k in ("reads", "cost") if selection[k]},
        "timings": {
            "select_seconds": selected - start,
            "train_evaluate_seconds": time.perf_counter() - selected,
        },
        **result,
        **(shared or {}),
    }
    return RunRecord.from_json(record, f"the record of cell {cell.label}")
