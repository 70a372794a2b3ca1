"""The one entry point from a pool specification to a de-duplicated, filtered, seeded pool."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark.data.overlap import content_index
from benchmark.data.sources import SOURCES
from benchmark.errors import ConfigError, DataError
from benchmark.registry import did_you_mean
from benchmark.typecheck import check_keywords, typed_kwargs
from benchmark.types import Example, Pool

log = logging.getLogger(__name__)

SPLITS = ("content", "record")


@dataclass(frozen=True)
class PoolSpec:
    """Which data set to load and how to cut it. Every random cut flows from ``seed``.

    ``heldout_per_task`` examples of every task are set aside, disjoint from the pool, for the held-out
    evaluator; ``min_per_task`` counts pool examples, so a kept task always has at least that many.
    ``split: content`` (default) splits by shared source content (``data.overlap``): each held-out
    example comes from its own content group, and the rest of that group (the same passage under other
    templates) leaves the pool. ``split: record`` is the leaky record-level split of the first studies,
    kept only to reproduce them. Templates whose most common response has a share of at least
    ``constant_label_share`` teach a label prior, not a skill: none of their examples is held out (None:
    every template may be). A content group of more than ``heldout_max_group`` examples (a passage
    many questions share, chains of shared sentences) is never held out: it would take that much of the
    pool with it.
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
    split: str = "content"
    constant_label_share: float | None = 0.9
    heldout_max_group: int = 50

    def __post_init__(self) -> None:
        loader = SOURCES.get(self.source)  # an unknown source: an error with a close match
        try:
            check_keywords(loader, self.options, f"pool source {self.source!r}")
            typed_kwargs(loader, self.options, "options.{}")
        except ConfigError as err:
            raise DataError(str(err)) from None
        if self.split not in SPLITS:
            raise DataError(f"pool split={self.split!r}: use one of {', '.join(SPLITS)}.")
        share = self.constant_label_share
        if share is not None and (
            isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1
        ):
            raise DataError(
                f"pool constant_label_share={share!r}: must be a share in (0, 1], or null to hold out "
                "examples of every template."
            )
        for key in ("heldout_per_task", "min_per_task", "max_per_task", "max_examples", "heldout_max_group"):
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
    constant_templates: tuple[str, ...] = ()  # never held out (``constant_label_share``)
    overlap_dropped: int = 0  # pool examples left out because a held-out example shares their content
    heldout_short: tuple[str, ...] = ()  # tasks with fewer than heldout_per_task eligible content groups


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


def constant_templates(
    examples: list[Example], share: float | None, min_examples: int = 10
) -> tuple[str, ...]:
    """Templates (else tasks) of at least ``min_examples`` examples whose most common response holds at
    least ``share`` of them: a model learns their label prior, not a skill (None: no template)."""
    if share is None:
        return ()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for ex in examples:
        counts[ex.template_or_task][ex.response] += 1
    return tuple(
        sorted(
            t
            for t, c in counts.items()
            if c.total() >= min_examples and c.most_common(1)[0][1] >= share * c.total()
        )
    )


def _content_heldout(
    examples: list[Example],
    tasks: dict[str, list[int]],
    spec: PoolSpec,
    constant: set[str],
    rng: np.random.Generator,
) -> tuple[set[int], set[int], list[str]]:
    """Per task, ``spec.heldout_per_task`` held-out examples from as many distinct content groups of at
    most ``spec.heldout_max_group`` examples (templates in ``constant`` never held out); returns the
    held-out indices, the indices that share a held-out example's content (left out of the pool) and the
    tasks with too few eligible groups."""
    members = sorted(i for idx in tasks.values() for i in idx)
    groups = content_index([examples[i] for i in members]).groups()
    group_of = dict(zip(members, groups.tolist(), strict=True))
    too_big = set(np.flatnonzero(np.bincount(groups) > spec.heldout_max_group).tolist())
    k = spec.heldout_per_task
    used: set[int] = set()
    held: set[int] = set()
    short = []
    for task in sorted(tasks):
        eligible = [i for i in tasks[task] if examples[i].template_or_task not in constant]
        taken = 0
        for j in rng.permutation(len(eligible)):
            if taken == k:
                break
            if group_of[eligible[j]] not in used and group_of[eligible[j]] not in too_big:
                used.add(group_of[eligible[j]])
                held.add(eligible[j])
                taken += 1
        if eligible and taken < k:
            short.append(task)
    return held, {i for i in members if group_of[i] in used} - held, short


def load_pool(spec: PoolSpec) -> LoadedPool:
    """Load ``spec.source``, drop exact duplicates, then filter tasks, split off held-out examples,
    drop tasks below ``min_per_task``, cap per task and in total. Errors name the field and the fix."""
    return cut_pool(spec, *load_source(spec))


def load_source(spec: PoolSpec) -> tuple[list[Example], int]:
    """The source's examples with exact duplicates dropped, and how many were dropped."""
    examples, duplicates = _dedupe(SOURCES.get(spec.source)(**spec.options))
    if duplicates:
        log.info("%s: dropped %d exact duplicate examples", spec.source, duplicates)
    return examples, duplicates


def cut_pool(spec: PoolSpec, examples: list[Example], duplicates: int) -> LoadedPool:
    """``load_pool``'s cuts of already loaded, de-duplicated ``examples``."""
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
    kept = {task: idx for task, idx in groups.items() if task not in small}
    constant: tuple[str, ...] = ()
    excluded: set[int] = set()
    short: list[str] = []
    if spec.heldout_per_task and spec.split == "content":
        constant = constant_templates(
            [examples[i] for idx in kept.values() for i in idx], spec.constant_label_share
        )
        held, excluded, short = _content_heldout(examples, kept, spec, set(constant), rng_heldout)
        if constant:
            log.warning("%d near-constant templates never held out: %s", len(constant), ", ".join(constant))
        if short:
            log.warning(
                "%d tasks have fewer than %d distinct content groups to hold out: %s",
                len(short),
                spec.heldout_per_task,
                ", ".join(short),
            )
    else:
        held = {i for task in sorted(kept) for i in _sample(kept[task], spec.heldout_per_task, rng_heldout)}
    pool_idx, heldout_idx = [], sorted(held)
    for task in sorted(kept):
        rest = [i for i in kept[task] if i not in held and i not in excluded]
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
    return LoadedPool(
        Pool(name, tuple(examples[i] for i in pool_idx)),
        heldout,
        duplicates,
        small,
        constant,
        len(excluded),
        tuple(short),
    )
