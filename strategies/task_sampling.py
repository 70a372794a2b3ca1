"""Task-level sampling: split the budget over tasks, then sample uniformly within each task.

``task_inverse_confidence`` is the method of Arabelly et al. (arXiv 2507.21482): tasks on which the
pre-trained model is less confident get more of the budget, with weights proportional to
``confidence ** (-1 / temperature)``. ``task_uniform`` (their unweighted task-diversity baseline) and
``task_proportional`` (stratified by task size) share the same allocator.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy

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


def sample_by_task(task_ids: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``counts[t]`` indices drawn uniformly without replacement from the examples of each task ``t``."""
    picked = [
        rng.choice(np.flatnonzero(task_ids == t), size=int(c), replace=False)
        for t, c in enumerate(counts)
        if c > 0
    ]
    return np.concatenate(picked)


class TaskSampling(Strategy):
    """Allocate the budget over tasks by ``task_weights``, then sample within tasks."""

    @abstractmethod
    def task_weights(self, pool: Pool, features: Features) -> np.ndarray:
        """(T,) positive weights aligned with ``pool.tasks``."""

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        task_ids = pool.task_ids()
        sizes = np.bincount(task_ids, minlength=len(pool.tasks))
        return sample_by_task(task_ids, allocate(budget, sizes, self.task_weights(pool, features)), rng)


def inverse_confidence_weights(confidence: np.ndarray, temperature: float) -> np.ndarray:
    """Weights proportional to ``confidence ** (-1 / temperature)``: 1/c at T = 1, uniform as T grows."""
    c = np.clip(np.asarray(confidence, dtype=np.float64), MIN_CONFIDENCE, 1.0)
    log_w = -np.log(c) / temperature
    return np.exp(log_w - log_w.max())  # scaled to max 1: no overflow for tiny confidences


@register_strategy("task_inverse_confidence")
class TaskInverseConfidence(TaskSampling):
    """Budget per task proportional to (mean task confidence) ** (-1 / temperature)."""

    requires = frozenset({"task_confidence"})

    def __init__(self, *, temperature: float = 1.0) -> None:
        if not temperature > 0:
            raise SelbenchError(f"task_inverse_confidence temperature={temperature!r}: must be positive.")
        self.temperature = temperature

    def task_weights(self, pool: Pool, features: Features) -> np.ndarray:
        by_task = features.require("task_confidence", pool, "task_inverse_confidence")
        return inverse_confidence_weights(np.array([by_task[t] for t in pool.tasks]), self.temperature)


@register_strategy("task_uniform")
class TaskUniform(TaskSampling):
    """The same number of examples from every task (as far as task sizes allow)."""

    def __init__(self) -> None:
        pass

    def task_weights(self, pool: Pool, features: Features) -> np.ndarray:
        return np.ones(len(pool.tasks))


@register_strategy("task_proportional")
class TaskProportional(TaskSampling):
    """Stratified sampling: each task's share of the budget equals its share of the pool."""

    def __init__(self) -> None:
        pass

    def task_weights(self, pool: Pool, features: Features) -> np.ndarray:
        return np.bincount(pool.task_ids(), minlength=len(pool.tasks)).astype(np.float64)


@register_strategy("few_tasks")
class FewTasks(Strategy):
    """Positive control, known to be bad: the whole budget on ``n_tasks`` tasks drawn by the seed (when
    the budget outgrows them, the rest at random from the others). A benchmark whose held-out metrics
    cover every task must rank it below random; one that cannot, cannot rank real strategies either."""

    control: ClassVar[bool] = True

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
