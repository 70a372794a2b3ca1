"""k-center greedy against the fastest plain numpy farthest-first traversal, on the same embeddings, in
the same run: one float32 matrix-vector product and an in-place minimum per step (about 154 MB read per
step at 100,000 x 384, near the memory-bandwidth bound). Picks may differ where distances tie within
floating-point error, so quality is compared by the covering radius: equal for float32 storage, within
1 % for float16.
"""

from __future__ import annotations

import tracemalloc

import faiss
import numpy as np
import pytest

from benchmarks.conftest import SCALE
from benchmarks.embeddings import KINDS, embeddings, timed
from strategies.kcenter import kcenter_greedy

N, DIM, K = int(100_000 * SCALE), 384, int(1_000 * SCALE)


def reference_numpy(x: np.ndarray, k: int, first: int) -> np.ndarray:
    """The plain loop: squared distances from one BLAS matrix-vector product, minimum in place."""
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


def peak_python_memory(fn, *args, **kwargs) -> int:
    """Peak bytes allocated through Python and NumPy during ``fn(*args)`` (FAISS's own copy of the
    embeddings is outside this count: add ``embeddings_mb``). Measured in a separate, untimed call
    because tracing slows every allocation."""
    tracemalloc.start()
    fn(*args, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("storage", ["float32", "float16"])
@pytest.mark.parametrize("kind", KINDS)
def test_kcenter_against_the_plain_numpy_loop(benchmark, kind, storage):
    import torch

    torch.ones(1)  # torch loaded before timing (float16 storage uses its matrix-vector product)
    x = embeddings(kind, N, DIM)
    first = int(np.random.default_rng(7).integers(N))
    picks_numpy, seconds_numpy = timed(reference_numpy, x, K, first)
    picks = benchmark.pedantic(
        kcenter_greedy,
        args=(x, K, np.random.default_rng(7)),
        kwargs={"storage": storage},
        rounds=1,
        iterations=1,
    )
    seconds = benchmark.stats.stats.mean
    peak = peak_python_memory(kcenter_greedy, x, K // 10, np.random.default_rng(7), storage=storage)
    radius, radius_numpy = covering_radius(x, picks), covering_radius(x, picks_numpy)
    benchmark.extra_info.update(
        n=N, dim=DIM, k=K, data=kind, storage=storage, seconds=seconds, seconds_numpy=seconds_numpy,
        speedup_vs_numpy=seconds_numpy / seconds, covering_radius=radius, covering_radius_numpy=radius_numpy,
        peak_extra_memory_mb=peak / 2**20, embeddings_mb=x.nbytes / 2**20,
    )  # fmt: skip
    print(benchmark.extra_info)
    assert picks[0] == first
    assert radius == pytest.approx(radius_numpy, rel=1e-4 if storage == "float32" else 1e-2)


@pytest.mark.parametrize("kind", ["uniform", "strongly_clustered"])
def test_kcenter_one_million_points(benchmark, kind):
    """1,000,000 x 384 with the first ``K_MILLION`` of k = 10,000 steps, extrapolated linearly to 10,000.

    Per-step cost only falls as centres are added (clusters shrink, more are skipped), so the linear
    extrapolation is an upper bound on the time for k = 10,000.
    """
    n, k_measured, k_target = int(1_000_000 * SCALE), int(500 * SCALE), int(10_000 * SCALE)
    x = embeddings(kind, n, DIM)
    benchmark.pedantic(kcenter_greedy, args=(x, k_measured, np.random.default_rng(0)), rounds=1, iterations=1)
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        n=n, k_measured=k_measured, seconds=seconds, k_target=k_target,
        extrapolated_seconds_upper_bound=seconds / k_measured * k_target,
    )  # fmt: skip
    print(benchmark.extra_info)
