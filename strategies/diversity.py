"""Embedding diversity: cover the pool's regions of embedding space instead of its dense centre.

Two variants: ``kmeans`` takes the example nearest each of ``budget`` k-means centroids (FAISS);
``threshold`` is the representation filter of DEITA (Liu et al., ICLR 2024): walk the pool in a given
order and skip any example whose cosine similarity to an already taken one exceeds ``threshold``.
"""

from __future__ import annotations

import faiss
import numpy as np

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy

METHODS = ("kmeans", "threshold")
ORDERS = ("random", "pool")


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def kmeans_representatives(embeddings: np.ndarray, k: int, seed: int, n_iter: int = 20) -> np.ndarray:
    """One example per k-means centroid: each centroid takes its nearest example not already taken.

    Centroids whose near neighbours are all taken (empty or duplicate clusters) are filled
    deterministically with the untaken examples closest to any centroid.
    """
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    n, dim = x.shape
    kmeans = faiss.Kmeans(
        dim, k, niter=n_iter, seed=seed, min_points_per_centroid=1, max_points_per_centroid=n
    )
    kmeans.train(x)
    points = faiss.IndexFlatL2(dim)
    points.add(x)
    neighbour_sq, neighbours = points.search(kmeans.centroids, min(n, 8))
    taken = np.zeros(n, dtype=bool)
    chosen = []
    for centroid in np.argsort(neighbour_sq[:, 0], kind="stable"):
        free = [j for j in neighbours[centroid] if j >= 0 and not taken[j]]
        if free:
            taken[free[0]] = True
            chosen.append(free[0])
    if len(chosen) < k:
        to_centroid_sq, _ = kmeans.index.search(x, 1)
        rest = np.flatnonzero(~taken)
        rest = rest[np.argsort(to_centroid_sq[rest, 0], kind="stable")]
        chosen.extend(rest[: k - len(chosen)].tolist())
    return np.asarray(chosen, dtype=np.int64)


def threshold_filter(embeddings: np.ndarray, k: int, order: np.ndarray, threshold: float) -> np.ndarray:
    """The first ``k`` examples in ``order`` whose cosine similarity to every taken one is <= ``threshold``;
    if fewer pass, the skipped ones fill up in the same order."""
    x = _unit_rows(embeddings)
    taken = np.empty((k, x.shape[1]), dtype=np.float32)
    chosen, skipped = [], []
    for i in order:
        if len(chosen) == k:
            break
        if chosen and float(np.max(taken[: len(chosen)] @ x[i])) > threshold:
            skipped.append(i)
            continue
        taken[len(chosen)] = x[i]
        chosen.append(i)
    return np.asarray(chosen + skipped[: k - len(chosen)], dtype=np.int64)


@register_strategy("diversity")
class Diversity(Strategy):
    """Embedding diversity: k-means representatives or DEITA's similarity-threshold filter.

    ``method='kmeans'``: the nearest example to each of ``budget`` centroids. ``'threshold'``: walk the
    pool in ``order`` and skip examples more similar than ``threshold`` to a taken one.
    """

    requires = frozenset({"embeddings"})

    def __init__(self, *, method: str = "kmeans", threshold: float = 0.9, order: str = "random") -> None:
        if method not in METHODS:
            raise SelbenchError(f"diversity method={method!r}: use one of {', '.join(METHODS)}.")
        if not -1.0 <= threshold <= 1.0:
            raise SelbenchError(f"diversity threshold={threshold!r}: a cosine similarity, between -1 and 1.")
        if order not in ORDERS:
            raise SelbenchError(f"diversity order={order!r}: use one of {', '.join(ORDERS)}.")
        self.method = method
        self.threshold = threshold
        self.order = order

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        embeddings = features.require("embeddings", pool, "diversity")
        if self.method == "kmeans":
            return kmeans_representatives(embeddings, budget, seed=int(rng.integers(2**31 - 1)))
        order = rng.permutation(len(pool)) if self.order == "random" else np.arange(len(pool))
        return threshold_filter(embeddings, budget, order, self.threshold)
