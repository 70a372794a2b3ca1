"""Seeded synthetic embeddings for the selection benchmarks: structureless and clustered like text."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

KINDS = ("uniform", "weakly_clustered", "strongly_clustered")
SPREAD = {"weakly_clustered": 1.0, "strongly_clustered": 0.2}  # noise sd per dimension, topics sd 1


def embeddings(kind: str, n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    """(n, dim) float32 unit rows. 'uniform': uniform on the sphere; the clustered kinds: 500 topics,
    each row a topic plus noise (weakly: noise as large as the topic, strongly: a fifth of it)."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        x = rng.standard_normal((n, dim), dtype=np.float32)
    else:
        topics = rng.standard_normal((500, dim), dtype=np.float32)
        x = topics[rng.integers(500, size=n)]
        x += SPREAD[kind] * rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``fn(*args)`` and its wall seconds."""
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start
