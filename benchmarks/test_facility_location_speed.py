"""Facility location against apricot (apricot-select, its sparse mode) and against exact greedy.

Side by side in one run, on the same seeded embeddings (weakly clustered, like text):
- small n: exact (non-lazy) greedy on the same sparse k-NN graph gives the same selection and objective;
- 100,000 x 384, budget 1,000: selbench's lazy greedy and apricot's lazy greedy on the same precomputed
  sparse graph (objective, optimisation time). apricot's other sparse path (``n_neighbors=``, building
  the graph with scikit-learn) fails on current scipy (its numba kernels expect int32 indices: TypeError
  "No matching definition"), so the precomputed graph is apricot's usable sparse mode. Each method's peak
  memory is the peak resident size of a fresh process running it alone, graph included (no dense n x n
  matrix: that would be 40 GB at this size).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.conftest import SCALE
from benchmarks.embeddings import embeddings, timed
from strategies.facility_location import knn_similarity_graph, lazy_greedy, objective

N, BUDGET, NEIGHBORS = int(100_000 * SCALE), int(1_000 * SCALE), 32
ROOT = Path(__file__).resolve().parents[1]


def exact_greedy(graph, budget: int) -> np.ndarray:
    """Plain greedy: every candidate's gain recomputed at every step (dense; small n only)."""
    sims = graph.toarray()
    served = np.zeros(len(sims), dtype=np.float32)
    chosen: list[int] = []
    for _ in range(budget):
        gains = np.maximum(sims - served[:, None], 0.0).sum(axis=0)
        gains[chosen] = -1.0
        chosen.append(int(np.argmax(gains)))
        served = np.maximum(served, sims[:, chosen[-1]])
    return np.array(chosen)


def apricot_on_graph(graph, budget: int) -> np.ndarray:
    """apricot's lazy greedy on the same graph; its numba kernels are compiled by a call beforehand."""
    from apricot import FacilityLocationSelection

    selector = FacilityLocationSelection(budget, metric="precomputed", optimizer="lazy")
    return np.asarray(selector.fit(graph.T.tocsr()).ranking)  # apricot reads candidate rows


def run_alone(method: str) -> dict:
    """``method`` in a fresh process: its seconds, objective (on selbench's graph) and peak memory."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.test_facility_location_speed", method],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_resident_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss, which keeps the
    forking parent's peak)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def _main(method: str) -> None:
    x = embeddings("weakly_clustered", N)
    graph, graph_seconds = timed(knn_similarity_graph, x, NEIGHBORS)
    if method == "selbench":
        picked, seconds = timed(lazy_greedy, graph, BUDGET, np.arange(N))
    else:
        apricot_on_graph(knn_similarity_graph(x[:200], NEIGHBORS), 5)  # compile numba first
        picked, seconds = timed(apricot_on_graph, graph, BUDGET)
    peak_mb = peak_resident_mb()
    result = {"graph_seconds": graph_seconds, "seconds": seconds, "objective": objective(graph, picked)}
    print(json.dumps(result | {"peak_mb": peak_mb, "embeddings_mb": x.nbytes / 2**20}))


def test_lazy_greedy_equals_exact_greedy_and_apricot_on_small_n():
    x = embeddings("weakly_clustered", 3_000)
    graph = knn_similarity_graph(x, NEIGHBORS)
    ours = lazy_greedy(graph, 100, np.arange(3_000))
    exact = exact_greedy(graph, 100)
    assert objective(graph, ours) >= objective(graph, exact) * (1 - 1e-6)
    assert objective(graph, ours) >= objective(graph, apricot_on_graph(graph, 100)) * (1 - 1e-6)


def test_facility_location_against_apricot(benchmark):
    x = embeddings("weakly_clustered", N)
    graph, graph_seconds = timed(knn_similarity_graph, x, NEIGHBORS)
    apricot_on_graph(knn_similarity_graph(x[:200], NEIGHBORS), 5)  # compile numba first
    picked_apricot, seconds_apricot = timed(apricot_on_graph, graph, BUDGET)
    picked = benchmark.pedantic(lazy_greedy, args=(graph, BUDGET, np.arange(N)), rounds=1, iterations=1)
    seconds = benchmark.stats.stats.mean
    alone = {method: run_alone(method) for method in ("selbench", "apricot")}
    value, value_apricot = objective(graph, picked), objective(graph, picked_apricot)
    benchmark.extra_info.update(
        n=N, dim=x.shape[1], budget=BUDGET, n_neighbors=NEIGHBORS, graph_seconds=graph_seconds,
        seconds=seconds, seconds_apricot=seconds_apricot, speedup_vs_apricot=seconds_apricot / seconds,
        objective=value, objective_apricot=value_apricot, objective_ratio=value / value_apricot,
        alone=alone, memory_ratio_vs_apricot=alone["apricot"]["peak_mb"] / alone["selbench"]["peak_mb"],
    )  # fmt: skip
    print(json.dumps(benchmark.extra_info, indent=1))
    assert value >= value_apricot * (1 - 1e-6)
    dense_mb = N * N * 4 / 2**20
    if dense_mb > 1024:  # at full size: far below one dense n x n float32 matrix
        assert alone["selbench"]["peak_mb"] < 0.1 * dense_mb


if __name__ == "__main__":
    _main(sys.argv[1])
    sys.exit(0)
