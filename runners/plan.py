"""Planning a sweep: the grid of cells, each keyed by the content hash of everything that decides it.

A cell is one (strategy, budget, seed) on one pool, model, training and evaluation setup. Budget 0 is the
base model (one cell) and the full pool does not depend on the strategy (one cell per seed), so neither
is repeated per strategy. Keys let a re-run skip finished cells and let anyone find a result by content.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from benchmark.config import ComponentSpec, ConfigError, SweepConfig
from benchmark.evaluation import EVALUATORS
from benchmark.models import device_and_dtype
from benchmark.training import uses_bf16
from benchmark.types import Pool, content_hash
from strategies import STRATEGIES
from strategies.base import BASE_MODEL, FULL_POOL, SUBMITTED

BASE = ComponentSpec(BASE_MODEL)
FULL = ComponentSpec(FULL_POOL)


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


def evaluation_settings(config: SweepConfig) -> list[dict[str, Any]]:
    """What decides each evaluator's results: data by content, not by where it lies, so a study moved
    to another data folder keeps its finished cells."""
    return [
        {"name": e.name, "params": EVALUATORS.build(e.name, e.params).fingerprint_params()}
        for e in config.evaluators
    ]


def resolved_bf16(config: SweepConfig) -> bool:
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
    ``evaluation`` and ``bf16``: ``evaluation_settings(config)`` and ``resolved_bf16(config)``,
    computed once per plan."""
    features: dict[str, Any] = {}
    if (
        strategy not in (BASE, FULL)
        and strategy.name != SUBMITTED
        and STRATEGIES.build(strategy.name, strategy.params).required_features()
    ):
        features = config.scorer.feature_settings()
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
    evaluation, bf16 = evaluation_settings(config), resolved_bf16(config)
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
