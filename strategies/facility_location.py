"""Facility location: choose the examples that best represent the whole pool.

The objective is F(S) = sum_i max_{j in S} sim(i, j): every example is "served" by its most similar
selected one. It is monotone submodular, so greedy selection is within 1 - 1/e of the optimum, and lazy
greedy (Minoux) gives the same selection as plain greedy while re-scoring few candidates per step.
Similarities are cosine, clipped at zero, kept only for each example's ``n_neighbors`` nearest neighbours
(FAISS): memory is O(n k), never the dense n x n matrix that makes the usual implementations run out of
memory on large pools (the predecessor of the paper, arXiv 2401.06692, selected with it).
"""

from __future__ import annotations

import heapq

import faiss
import numpy as np
from scipy import sparse

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy

SEARCH_BATCH = 4096  # queries per FAISS search: bounds the temporary distance block to 4096 x n floats


def knn_similarity_graph(embeddings: np.ndarray, n_neighbors: int) -> sparse.csc_matrix:
    """(n, n) sparse matrix whose column j holds sim(i, j) >= 0 for every i that has j among its
    ``n_neighbors`` most cosine-similar examples (itself included): who j would serve if selected."""
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n = len(x)
    k = min(n_neighbors, n)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    sims = np.empty((n, k), dtype=np.float32)
    neighbours = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, SEARCH_BATCH):
        sims[start : start + SEARCH_BATCH], neighbours[start : start + SEARCH_BATCH] = index.search(
            x[start : start + SEARCH_BATCH], k
        )
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    graph = sparse.csc_matrix(
        (np.maximum(sims.ravel(), 0.0), (rows, neighbours.ravel())), shape=(n, n), dtype=np.float32
    )
    graph.eliminate_zeros()
    return graph


def objective(graph: sparse.csc_matrix, selected: np.ndarray) -> float:
    """F(S) on the sparse graph: each example's best similarity to a selected one, summed."""
    if len(selected) == 0:
        return 0.0
    return float(graph[:, selected].max(axis=1).toarray().sum())


def lazy_greedy(graph: sparse.csc_matrix, budget: int, tie_order: np.ndarray) -> np.ndarray:
    """``budget`` columns of ``graph`` by lazy greedy maximisation of facility location, in the order
    chosen; equal gains are broken by ``tie_order`` (a permutation: lower first)."""
    n = graph.shape[0]
    indptr, rows, sims = graph.indptr, graph.indices, graph.data
    served = np.zeros(n, dtype=np.float32)  # each example's best similarity to a selected one
    gains = np.asarray(graph.sum(axis=0), dtype=np.float64).ravel()  # with nothing served yet
    heap = list(zip((-gains).tolist(), tie_order.tolist(), range(n), strict=True))
    heapq.heapify(heap)
    chosen = np.empty(budget, dtype=np.int64)
    for step in range(budget):
        while True:
            _, tie, j = heapq.heappop(heap)
            lo, hi = indptr[j], indptr[j + 1]
            gain = float(np.maximum(sims[lo:hi] - served[rows[lo:hi]], 0.0).sum())
            if not heap or (-gain, tie) <= heap[0][:2]:  # still the best: an upper bound cannot rise
                break
            heapq.heappush(heap, (-gain, tie, j))
        chosen[step] = j
        served[rows[lo:hi]] = np.maximum(served[rows[lo:hi]], sims[lo:hi])  # rows of a column are unique
    return chosen


@register_strategy("facility_location")
class FacilityLocation(Strategy):
    """Facility location on the prompt embeddings: lazy greedy over a sparse k-nearest-neighbour
    similarity graph (FAISS), memory O(n * n_neighbors)."""

    requires = frozenset({"embeddings"})
    stochastic = False  # the seed only breaks ties between equal gains

    def __init__(self, *, n_neighbors: int = 32) -> None:
        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int) or n_neighbors < 1:
            raise SelbenchError(f"facility_location n_neighbors={n_neighbors!r}: must be a positive integer.")
        self.n_neighbors = n_neighbors

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        embeddings = features.require("embeddings", pool, "facility_location")
        graph = knn_similarity_graph(embeddings, self.n_neighbors)
        return lazy_greedy(graph, budget, rng.permutation(len(pool)))
