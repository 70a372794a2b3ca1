"""Task-level sampling, composed of two choices: an allocation splits the budget over tasks, and a
picker (any registered strategy, ``within``) chooses each task's share inside the task.

``task_inverse_confidence`` is the method of Arabelly et al. (arXiv 2507.21482): tasks on which the
pre-trained model is less confident get more of the budget, with weights proportional to
``confidence ** (-1 / temperature)``. ``task_uniform`` (their unweighted task-diversity baseline) and
``task_proportional`` (stratified by task size) share the same allocator. The picker defaults to uniform
random sampling (the paper's); ``within: kcenter`` covers each task's embedding space instead. A new
allocation is a registered ``TaskSampling`` subclass: it gets every picker for free.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import STRATEGIES, Strategy, register_strategy

MIN_CONFIDENCE = 1e-6  # a confidence of 0 would give an infinite weight


def allocate(budget: int, sizes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-task counts summing to exactly ``budget`` (when ``sizes`` allow), none above its task's size.

    Shares proportional to ``weights`` are rounded by largest remainder; a task smaller than its share
    gives all its examples and the surplus is re-allocated over the other tasks by the same weights.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    if budget > sizes.sum():
        raise SelbenchError(f"budget {budget} exceeds the {sizes.sum()} examples of all tasks together.")
    if np.any(weights <= 0) or not np.all(np.isfinite(weights)):
        raise SelbenchError("task weights must be positive and finite.")
    counts = np.zeros(len(sizes), dtype=np.int64)
    open_ = sizes > 0
    remaining = budget
    while remaining > 0:
        shares = np.zeros(len(sizes))
        shares[open_] = remaining * weights[open_] / weights[open_].sum()
        room = sizes - counts
        full = open_ & (shares >= room)
        if full.any():  # these tasks give everything they have; re-allocate the rest
            remaining -= int(room[full].sum())
            counts[full] = sizes[full]
            open_ &= ~full
            continue
        floors = np.floor(shares).astype(np.int64)
        extra = remaining - int(floors.sum())
        order = np.lexsort((np.arange(len(sizes)), -weights, -(shares - floors)))
        order = order[open_[order]][:extra]
        floors[order] += 1
        counts += floors
        remaining = 0
    return counts


class TaskSampling(Strategy):
    """Allocate the budget over tasks by ``task_weights``, then pick within each task with the registered
    strategy ``within`` (parameters ``within_params``), which sees only that task's examples and features.

    Subclasses take their own keyword parameters and pass ``within`` and ``within_params`` on."""

    reads = frozenset({"prompts", "tasks"})

    def __init__(self, *, within: str = "random", within_params: Mapping[str, Any] | None = None) -> None:
        self.within = within
        self.within_params = within_params
        self.picker()  # an unknown picker or parameter fails when the config is read

    def picker(self) -> Strategy:
        """The within-task strategy (built anew: strategies are cheap, and this keeps ``__init__`` idle)."""
        try:
            return STRATEGIES.build(self.within, dict(self.within_params or {}))
        except SelbenchError as err:
            raise SelbenchError(f"strategy {self.name!r} within={self.within!r}: {err}") from None

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.picker().stochastic

    def required_features(self) -> frozenset[str]:
        return self.requires | self.picker().required_features()

    def information(self) -> frozenset[str]:
        return super().information() | self.picker().information()

    @abstractmethod
    def task_weights(self, pool: Pool, features: Features) -> np.ndarray:
        """(T,) positive weights aligned with ``pool.tasks``."""

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        task_ids = pool.task_ids()
        sizes = np.bincount(task_ids, minlength=len(pool.tasks))
        counts = allocate(budget, sizes, self.task_weights(pool, features))
        picker = self.picker()
        picked = []
        for task, count in enumerate(counts):
            if count:
                members = np.flatnonzero(task_ids == task)
                inside = picker.select(pool.subset(members), int(count), features.subset(members), rng)
                picked.append(members[inside])
        return np.concatenate(picked)


def inverse_confidence_weights(confidence: np.ndarray, temperature: float) -> np.ndarray:
    """Weights proportional to ``confidence ** (-1 / temperature)``: 1/c at T = 1, uniform as T grows."""
    c = np.clip(np.asarray(confidence, dtype=np.float64), MIN_CONFIDENCE, 1.0)
    log_w = -np.log(c) / temperature
    return np.exp(log_w - log_w.max())  # scaled to max 1: no overflow for tiny confidences


@register_strategy("task_inverse_confidence")
class TaskInverseConfidence(TaskSampling):
    """Budget per task proportional to (mean task confidence) ** (-1 / temperature)."""

    requires = frozenset({"task_confidence"})

    def __init__(
        self,
        *,
        temperature: float = 1.0,
        within: str = "random",
        within_params: Mapping[str, Any] | None = None,
    ) -> None:
        if not temperature > 0:
            raise SelbenchError(f"task_inverse_confidence temperature={temperature!r}: must be positive.")
        self.temperature = temperature
        super().__init__(within=within, within_params=within_params)

    def task_weights(self, pool: Pool, features: Features) -> np.ndarray:
        by_task = features.require("task_confidence", pool, "task_inverse_confidence")
        return inverse_confidence_weights(np.array([by_task[t] for t in pool.tasks]), self.temperature)


@register_strategy("task_uniform")
class TaskUniform(TaskSampling):
    """The same number of examples from every task (as far as task sizes allow)."""

    def task_weights(self, pool: Pool, features: Features) -> np.ndarray:
        return np.ones(len(pool.tasks))


@register_strategy("task_proportional")
class TaskProportional(TaskSampling):
    """Stratified sampling: each task's share of the budget equals its share of the pool."""

    def task_weights(self, pool: Pool, features: Features) -> np.ndarray:
        return np.bincount(pool.task_ids(), minlength=len(pool.tasks)).astype(np.float64)


@register_strategy("few_tasks")
class FewTasks(Strategy):
    """Positive control, known to be bad: the whole budget on ``n_tasks`` tasks drawn by the seed (when
    the budget outgrows them, the rest at random from the others). A benchmark whose held-out metrics
    cover every task must rank it below random; one that cannot, cannot rank real strategies either."""

    control: ClassVar[bool] = True
    reads = frozenset({"prompts", "tasks"})

    def __init__(self, *, n_tasks: int = 2) -> None:
        if isinstance(n_tasks, bool) or not isinstance(n_tasks, int) or n_tasks < 1:
            raise SelbenchError(f"few_tasks n_tasks={n_tasks!r}: must be a positive integer.")
        self.n_tasks = n_tasks

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        task_ids = pool.task_ids()
        order = rng.permutation(len(pool.tasks))
        chosen = np.isin(task_ids, order[: self.n_tasks])
        inside = rng.permutation(np.flatnonzero(chosen))
        outside = rng.permutation(np.flatnonzero(~chosen))  # only when the chosen tasks hold too few
        return np.concatenate([inside, outside])[:budget]
