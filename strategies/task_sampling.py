"""Task-level sampling, composed of two choices: an allocation splits the budget over tasks, and a
picker (any registered strategy, ``within``) chooses each task's share inside the task.

``task_inverse_confidence`` is the method of Arabelly et al. (arXiv 2507.21482): tasks on which the
pre-trained model is less confident get more of the budget, with weights proportional to
``confidence ** (-1 / temperature)``. ``task_uniform`` (their unweighted task-diversity baseline) and
``task_proportional`` (stratified by task size) share the same allocator. The picker defaults to uniform
random sampling (the paper's); ``within: kcenter`` covers each task's embedding space instead. A new
allocation is a registered ``TaskSampling`` subclass: it gets every picker for free.

``groups: clusters`` replaces the task labels by k-means clusters of the prompt embeddings (FAISS,
``n_clusters``), so every allocation runs on pools without task labels, and the selection reads none.
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


GROUPS = ("labels", "clusters")


def cluster_ids(embeddings: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    """(N,) k-means cluster of each embedding (FAISS, seeded), renumbered 0..C-1 over the non-empty ones."""
    import faiss  # here: the task strategies register without loading FAISS (`selbench --help` stays fast)

    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    k = min(n_clusters, len(x))
    kmeans = faiss.Kmeans(  # the best of 5 random starts: a single start often merges two clear clusters
        x.shape[1], k, niter=20, nredo=5, seed=seed, min_points_per_centroid=1, max_points_per_centroid=len(x)
    )
    kmeans.train(x)
    _, assigned = kmeans.index.search(x, 1)
    return np.unique(assigned[:, 0], return_inverse=True)[1].astype(np.int64)


class TaskSampling(Strategy):
    """Allocate the budget over tasks by ``task_weights``, then pick within each task with the registered
    strategy ``within`` (parameters ``within_params``), which sees only that task's examples and features.
    ``groups='clusters'``: ``n_clusters`` k-means clusters of the prompt embeddings are the tasks.

    Subclasses take their own keyword parameters and pass the others on."""

    reads = frozenset({"prompts", "tasks"})

    def __init__(
        self,
        *,
        within: str = "random",
        within_params: Mapping[str, Any] | None = None,
        groups: str = "labels",
        n_clusters: int = 16,
    ) -> None:
        if groups not in GROUPS:
            raise SelbenchError(f"strategy {self.name!r} groups={groups!r}: use one of {', '.join(GROUPS)}.")
        if isinstance(n_clusters, bool) or not isinstance(n_clusters, int) or n_clusters < 1:
            raise SelbenchError(f"strategy {self.name!r} n_clusters={n_clusters!r}: a positive integer.")
        self.within = within
        self.within_params = within_params
        self.groups = groups
        self.n_clusters = n_clusters
        self.picker()  # an unknown picker or parameter fails when the config is read

    def picker(self) -> Strategy:
        """The within-task strategy (built anew: strategies are cheap, and this keeps ``__init__`` idle)."""
        try:
            return STRATEGIES.build(self.within, dict(self.within_params or {}))
        except SelbenchError as err:
            raise SelbenchError(f"strategy {self.name!r} within={self.within!r}: {err}") from None

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.groups == "clusters" or self.picker().stochastic

    def allocation_features(self) -> frozenset[str]:
        """What the allocation itself reads with task labels (``requires``); with clusters, override."""
        return self.requires

    def required_features(self) -> frozenset[str]:
        own = self.allocation_features() | ({"embeddings"} if self.groups == "clusters" else set())
        return own | self.picker().required_features()

    def information(self) -> frozenset[str]:
        own = super().information() - ({"tasks"} if self.groups == "clusters" else set())
        return own | self.picker().information()

    @abstractmethod
    def task_weights(self, task_ids: np.ndarray, tasks: tuple[str, ...], features: Features) -> np.ndarray:
        """(T,) positive weights of ``tasks`` (task labels, or clusters), ``task_ids`` each example's."""

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        if self.groups == "clusters":
            embeddings = features.require("embeddings", pool, f"strategy {self.name!r} groups='clusters'")
            task_ids = cluster_ids(embeddings, self.n_clusters, int(rng.integers(2**31 - 1)))
            tasks = tuple(f"cluster_{i}" for i in range(task_ids.max() + 1))
        else:
            task_ids, tasks = pool.task_ids(), pool.tasks
        sizes = np.bincount(task_ids, minlength=len(tasks))
        counts = allocate(budget, sizes, self.task_weights(task_ids, tasks, features))
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
        groups: str = "labels",
        n_clusters: int = 16,
    ) -> None:
        if not temperature > 0:
            raise SelbenchError(f"task_inverse_confidence temperature={temperature!r}: must be positive.")
        self.temperature = temperature
        super().__init__(within=within, within_params=within_params, groups=groups, n_clusters=n_clusters)

    def allocation_features(self) -> frozenset[str]:
        # a cluster's confidence is its examples' mean: there is no sample per task label to score
        return frozenset({"confidence"}) if self.groups == "clusters" else self.requires

    def task_weights(self, task_ids: np.ndarray, tasks: tuple[str, ...], features: Features) -> np.ndarray:
        if self.groups == "clusters":
            sizes = np.bincount(task_ids, minlength=len(tasks))
            mean = np.bincount(task_ids, weights=features.confidence, minlength=len(tasks)) / sizes
        else:
            mean = np.array([features.task_confidence[t] for t in tasks])
        return inverse_confidence_weights(mean, self.temperature)


@register_strategy("task_uniform")
class TaskUniform(TaskSampling):
    """The same number of examples from every task (as far as task sizes allow)."""

    def task_weights(self, task_ids: np.ndarray, tasks: tuple[str, ...], features: Features) -> np.ndarray:
        return np.ones(len(tasks))


@register_strategy("task_proportional")
class TaskProportional(TaskSampling):
    """Stratified sampling: each task's share of the budget equals its share of the pool."""

    def task_weights(self, task_ids: np.ndarray, tasks: tuple[str, ...], features: Features) -> np.ndarray:
        return np.bincount(task_ids, minlength=len(tasks)).astype(np.float64)


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
