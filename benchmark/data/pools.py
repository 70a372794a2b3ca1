"""The one entry point from a pool specification to a de-duplicated, filtered, seeded pool."""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark.data.sources import SOURCES
from benchmark.errors import DataError
from benchmark.registry import did_you_mean
from benchmark.types import Example, Pool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolSpec:
    """Which data set to load and how to cut it. Every random cut flows from ``seed``.

    ``heldout_per_task`` examples of every task are set aside, disjoint from the pool, for the held-out
    evaluator; ``min_per_task`` counts pool examples, so a kept task always has at least that many.
    """

    source: str = "synthetic"
    options: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    tasks: tuple[str, ...] | None = None
    heldout_per_task: int = 0
    min_per_task: int = 1
    max_per_task: int | None = None
    max_examples: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for key in ("heldout_per_task", "min_per_task", "max_per_task", "max_examples"):
            value = getattr(self, key)
            lowest = 0 if key == "heldout_per_task" else 1
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < lowest
            ):
                raise DataError(f"pool {key}={value!r}: must be an integer of at least {lowest}.")


@dataclass(frozen=True)
class LoadedPool:
    """A pool, its held-out split and what loading removed (reported, never silent)."""

    pool: Pool
    heldout: Pool | None
    duplicates_dropped: int
    small_tasks_dropped: tuple[str, ...]


def _check_options(source: str, options: Mapping[str, Any]) -> None:
    params = inspect.signature(SOURCES.get(source)).parameters
    for key in options:
        if key not in params:
            raise DataError(
                f"pool source {source!r} has no option {key!r}.{did_you_mean(key, list(params))} "
                f"Its options: {', '.join(params)}."
            )
    for name, p in params.items():
        if p.default is inspect.Parameter.empty and name not in options:
            raise DataError(f"pool source {source!r} needs the option {name!r}.")


def _dedupe(examples: list[Example]) -> tuple[list[Example], int]:
    unique = {}
    for ex in examples:
        unique.setdefault(ex.uid, ex)
    return list(unique.values()), len(examples) - len(unique)


def _by_task(examples: list[Example]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        groups[ex.task].append(i)
    return groups


def _sample(indices: list[int], k: int, rng: np.random.Generator) -> list[int]:
    """``k`` of ``indices`` chosen uniformly, kept in their original order."""
    if k >= len(indices):
        return indices
    return sorted(rng.choice(indices, size=k, replace=False).tolist())


def load_pool(spec: PoolSpec) -> LoadedPool:
    """Load ``spec.source``, drop exact duplicates, then filter tasks, split off held-out examples,
    drop tasks below ``min_per_task``, cap per task and in total. Errors name the field and the fix."""
    _check_options(spec.source, spec.options)
    examples, duplicates = _dedupe(SOURCES.get(spec.source)(**spec.options))
    if duplicates:
        log.info("%s: dropped %d exact duplicate examples", spec.source, duplicates)
    groups = _by_task(examples)
    if spec.tasks is not None:
        for task in spec.tasks:
            if task not in groups:
                raise DataError(
                    f"pool tasks: {task!r} has no examples in source {spec.source!r}."
                    f"{did_you_mean(task, list(groups))} Remove it or fix its name."
                )
        groups = {task: groups[task] for task in spec.tasks}
    needed = spec.min_per_task + spec.heldout_per_task
    small = tuple(sorted(task for task, idx in groups.items() if len(idx) < needed))
    if small and spec.tasks is not None:
        raise DataError(
            f"pool tasks: {small[0]!r} has {len(groups[small[0]])} examples, fewer than "
            f"min_per_task + heldout_per_task = {needed}. Lower those or remove the task."
        )
    if small:
        log.warning("dropped %d tasks with fewer than %d examples: %s", len(small), needed, ", ".join(small))

    rng_heldout, rng_task_cap, rng_total_cap = (np.random.default_rng([spec.seed, i]) for i in range(3))
    pool_idx, heldout_idx = [], []
    for task in sorted(groups):
        if task in small:
            continue
        idx = groups[task]
        held = set(_sample(idx, spec.heldout_per_task, rng_heldout)) if spec.heldout_per_task else set()
        heldout_idx += sorted(held)
        rest = [i for i in idx if i not in held]
        pool_idx += _sample(rest, spec.max_per_task, rng_task_cap) if spec.max_per_task else rest
    pool_idx.sort()
    if spec.max_examples is not None:
        pool_idx = _sample(pool_idx, spec.max_examples, rng_total_cap)
    if not pool_idx:
        raise DataError(
            f"pool from source {spec.source!r} is empty after filtering. Check the source's data and "
            "lower min_per_task or heldout_per_task."
        )
    name = spec.name or spec.source
    heldout = (
        Pool(f"{name}/heldout", tuple(examples[i] for i in sorted(heldout_idx))) if heldout_idx else None
    )
    return LoadedPool(Pool(name, tuple(examples[i] for i in pool_idx)), heldout, duplicates, small)
