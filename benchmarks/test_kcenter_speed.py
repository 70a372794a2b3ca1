"""k-center greedy against two references on the same embeddings, in the same run.

(a) the greedy as google/active-learning's kcenter_greedy runs it: sklearn pairwise_distances from the new
    centre to every point at each step; (b) a careful numpy farthest-first traversal: one float32
    matrix-vector product and an in-place minimum per step. Picks may differ where distances tie within
    floating-point error, so quality is compared by the covering radius.
"""

from __future__ import annotations

import time
import tracemalloc

import faiss
import numpy as np
import pytest
from sklearn.metrics import pairwise_distances

from benchmarks.conftest import SCALE
from strategies.kcenter import kcenter_greedy

N, DIM, K = int(100_000 * SCALE), 384, int(1_000 * SCALE)


def reference_active_learning(x: np.ndarray, k: int, first: int) -> np.ndarray:
    min_dist = None
    picked = []
    for step in range(k):
        centre = first if step == 0 else int(np.argmax(min_dist))
        picked.append(centre)
        dist = pairwise_distances(x, x[[centre]], metric="euclidean")
        min_dist = dist if min_dist is None else np.minimum(min_dist, dist)
    return np.array(picked)


def reference_numpy(x: np.ndarray, k: int, first: int) -> np.ndarray:
    x_sq = np.einsum("ij,ij->i", x, x)
    min_sq = np.full(len(x), np.inf, dtype=np.float32)
    picked = []
    for step in range(k):
        centre = first if step == 0 else int(np.argmax(min_sq))
        picked.append(centre)
        d = x @ x[centre]
        d *= -2.0
        d += x_sq
        d += x_sq[centre]
        np.minimum(min_sq, d, out=min_sq)
    return np.array(picked)


def covering_radius(x: np.ndarray, centres: np.ndarray) -> float:
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x[centres])
    d_sq, _ = index.search(x, 1)
    return float(np.sqrt(max(d_sq.max(), 0.0)))


def embeddings(kind: str, n: int, seed: int = 0) -> np.ndarray:
    """'uniform': structureless, uniform on the sphere; 'clustered': 500 topics with spread, like text."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        x = rng.standard_normal((n, DIM), dtype=np.float32)
    else:
        topics = rng.standard_normal((500, DIM), dtype=np.float32)
        x = topics[rng.integers(500, size=n)] + 0.35 * rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def peak_python_memory(fn, *args) -> int:
    """Peak bytes allocated through Python and NumPy during ``fn(*args)`` (FAISS's own copy of the
    embeddings is outside this count: add ``embeddings_mb``). Measured in a separate, untimed call
    because tracing slows every allocation."""
    tracemalloc.start()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


@pytest.mark.parametrize("kind", ["uniform", "clustered"])
def test_kcenter_against_references(benchmark, kind):
    x = embeddings(kind, N)
    first = int(np.random.default_rng(7).integers(N))
    picks_b, seconds_b = timed(reference_numpy, x, K, first)
    picks_a, seconds_a = timed(reference_active_learning, x, K, first)

    picks = benchmark.pedantic(kcenter_greedy, args=(x, K, np.random.default_rng(7)), rounds=1, iterations=1)
    seconds = benchmark.stats.stats.mean
    peak = peak_python_memory(kcenter_greedy, x, K // 10, np.random.default_rng(7))

    radius = covering_radius(x, picks)
    radius_a, radius_b = covering_radius(x, picks_a), covering_radius(x, picks_b)
    benchmark.extra_info.update(
        n=N, dim=DIM, k=K, data=kind, seconds=seconds, seconds_active_learning=seconds_a,
        seconds_numpy=seconds_b, speedup_vs_active_learning=seconds_a / seconds,
        speedup_vs_numpy=seconds_b / seconds, covering_radius=radius,
        covering_radius_active_learning=radius_a, covering_radius_numpy=radius_b,
        peak_extra_memory_mb=peak / 2**20, embeddings_mb=x.nbytes / 2**20,
    )  # fmt: skip
    print(benchmark.extra_info)
    assert radius == pytest.approx(radius_a, rel=1e-4)
    assert radius == pytest.approx(radius_b, rel=1e-4)


@pytest.mark.parametrize("kind", ["uniform", "clustered"])
def test_kcenter_one_million_points(benchmark, kind):
    """1,000,000 x 384 with the first ``K_MILLION`` of k = 10,000 steps, extrapolated linearly to 10,000.

    Per-step cost only falls as centres are added (clusters shrink, more are skipped), so the linear
    extrapolation is an upper bound on the time for k = 10,000.
    """
    n, k_measured, k_target = int(1_000_000 * SCALE), int(500 * SCALE), int(10_000 * SCALE)
    x = embeddings(kind, n)
    benchmark.pedantic(kcenter_greedy, args=(x, k_measured, np.random.default_rng(0)), rounds=1, iterations=1)
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        n=n, k_measured=k_measured, seconds=seconds, k_target=k_target,
        extrapolated_seconds_upper_bound=seconds / k_measured * k_target,
    )  # fmt: skip
    print(benchmark.extra_info)
