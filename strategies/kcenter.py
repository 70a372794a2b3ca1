"""k-center greedy (the core-set of Sener & Savarese, ICLR 2018): farthest-first traversal of embeddings.

Each step adds the point farthest from its nearest chosen centre, which greedily minimises the covering
radius (a 2-approximation of the k-center optimum). The traversal is exact; two things make it fast:
FAISS finds each point's nearest centre of an initial (already labelled) set, and a triangle-inequality
test skips every cluster that the new centre cannot improve: if ``|c - c_j| >= 2 r_j`` (``r_j``: the
largest distance from centre ``c_j`` to a point it covers), no point of cluster ``j`` gets closer to
``c``. On clustered embeddings most clusters are skipped after a few hundred centres; on structureless
data (uniform on a high-dimensional sphere) none are, and the cost is one matrix-vector product per step.
Distances are computed by FAISS directly on the candidate rows. Memory stays O(n d + n + k d) (FAISS
keeps one copy of the embeddings): no n x n or n x k matrix is formed.
"""

from __future__ import annotations

import faiss
import numpy as np
from faiss import swig_ptr

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy

PRUNE_SLACK = 1.0 + 1e-4  # float32 rounding must never wrongly skip a cluster
FULL_PASS_ABOVE = 3  # candidates above n / 3: a full sequential pass (measured faster than scattered reads)


def _sq_dist_to(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Squared L2 distances from the rows of ``x`` to the point ``c`` (small matrices only)."""
    diff = x - c
    return np.einsum("ij,ij->i", diff, diff)


def kcenter_greedy(
    embeddings: np.ndarray,
    k: int,
    rng: np.random.Generator,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """``k`` new centre indices by farthest-first traversal, in the order chosen.

    ``initial``: indices already labelled; they count as centres but are not returned. Without them the
    first centre is drawn with ``rng``. Duplicate points are handled: once every point is covered at
    distance 0, the lowest unchosen index comes next.
    """
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    n, dim = x.shape
    initial = np.unique(np.asarray(initial if initial is not None else [], dtype=np.int64))
    if k + len(initial) > n:
        raise SelbenchError(f"k-center: k={k} plus {len(initial)} initial centres exceed the {n} points.")
    points = faiss.IndexFlatL2(dim)
    points.add(x)
    centres = np.empty((len(initial) + k, dim), dtype=np.float32)
    radius_sq = np.zeros(len(centres), dtype=np.float32)  # per centre: max squared distance it covers
    min_sq, owner = np.full(n, np.inf, dtype=np.float32), np.zeros(n, dtype=np.int64)
    n_centres = len(initial)
    if n_centres:
        centres[:n_centres] = x[initial]
        index = faiss.IndexFlatL2(dim)
        index.add(centres[:n_centres])
        found_sq, nearest = index.search(x, 1)
        min_sq, owner = np.maximum(found_sq[:, 0], 0.0), nearest[:, 0].astype(np.int64)
        np.maximum.at(radius_sq, owner, min_sq)
        min_sq[initial] = -1.0  # chosen points are never chosen again
    picked = np.empty(k, dtype=np.int64)
    all_rows = np.arange(n, dtype=np.int64)
    d_sq = np.empty(n, dtype=np.float32)
    for step in range(k):
        c_idx = int(np.argmax(min_sq)) if n_centres else int(rng.integers(n))
        picked[step], c = c_idx, x[c_idx]
        centres[n_centres] = c
        may_improve = _sq_dist_to(centres[:n_centres], c) < 4.0 * radius_sq[:n_centres] * PRUNE_SLACK
        rows = np.flatnonzero(may_improve[owner]) if n_centres else all_rows
        full = len(rows) > n // FULL_PASS_ABOVE  # then one sequential pass beats scattered reads
        if full:
            rows, may_improve[:] = all_rows, True
        if len(rows):  # FAISS reads the candidate rows in place: no gathered copy of the embeddings
            points.compute_distance_subset(1, swig_ptr(c), len(rows), swig_ptr(d_sq), swig_ptr(rows))
        if full:
            owner[d_sq < min_sq] = n_centres
            np.minimum(min_sq, d_sq, out=min_sq)
        else:
            dist = d_sq[: len(rows)]
            closer = dist < min_sq[rows]
            moved = rows[closer]
            min_sq[moved], owner[moved] = dist[closer], n_centres
        min_sq[c_idx] = -1.0
        # Every member of the candidate clusters was just visited: their radii become exact again.
        radius_sq[: n_centres + 1][np.append(may_improve, True)] = 0.0
        if full:
            np.maximum.at(radius_sq, owner, min_sq)
        else:
            np.maximum.at(radius_sq, owner[rows], min_sq[rows])
        n_centres += 1
    return picked


@register_strategy("kcenter")
class KCenterGreedy(Strategy):
    """k-center greedy core-set on the embeddings (the first centre drawn at random)."""

    requires = frozenset({"embeddings"})

    def __init__(self) -> None:
        pass

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        return kcenter_greedy(features.require("embeddings", pool, "kcenter"), budget, rng)
