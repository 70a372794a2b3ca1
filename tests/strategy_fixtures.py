"""Pools and features shared by the strategy tests: every feature a strategy may require."""

from __future__ import annotations

import numpy as np

from benchmark.types import Example, Features, Pool


def make_pool(task_sizes: dict[str, int]) -> Pool:
    return Pool(
        "fixture",
        tuple(
            Example(f"{task} prompt {i}", f"answer {i}", task, "fixture")
            for task, size in task_sizes.items()
            for i in range(size)
        ),
    )


def make_features(
    pool: Pool, seed: int = 0, *, equal_confidence: bool = False, duplicate_embeddings: bool = False
) -> Features:
    rng = np.random.default_rng(seed)
    n = len(pool)
    confidence = np.full(n, 0.5) if equal_confidence else rng.uniform(0.05, 0.95, n)
    base = rng.standard_normal((3 if duplicate_embeddings else n, 8)).astype(np.float32)
    embeddings = base[np.arange(n) % len(base)]
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    task_ids = pool.task_ids()
    return Features(
        confidence=confidence,
        entropy=rng.uniform(0.0, 3.0, n),
        embeddings=embeddings,
        task_confidence={t: float(confidence[task_ids == i].mean()) for i, t in enumerate(pool.tasks)},
    )
