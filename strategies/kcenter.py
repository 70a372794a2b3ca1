"""k-center greedy (the core-set of Sener & Savarese, ICLR 2018): farthest-first traversal of embeddings.

Each step adds the point farthest from its nearest chosen centre, which greedily minimises the covering
radius (a 2-approximation of the k-center optimum). A step is bounded by reading the embeddings once (one
matrix-vector product, about 154 MB at 100,000 x 384 float32), so two things make it fast:

- **Pruning that pays for itself.** If ``|c - c_j| >= 2 r_j`` (``r_j``: the largest distance from centre
  ``c_j`` to a point it covers), no point of cluster ``j`` gets closer to the new centre ``c``, so only
  the points of the other clusters are read (FAISS, in place). On clustered embeddings most clusters are
  skipped after a few hundred centres. On structureless data (uniform on a high-dimensional sphere) none
  are; there the radii are not maintained at all and pruning is retried with exponential back-off, so a
  step costs what a plain numpy loop costs.
- **Fewer bytes per step** (``storage='float16'``): full passes read a half-precision copy (torch's
  matrix-vector product), half the bytes; distances are then exact to about 1e-3, and the covering
  radius stays within 1 % of the float32 traversal's (benchmarks/test_kcenter_speed.py).

Memory stays O(n d + n + k d): no n x n or n x k matrix is formed.
"""

from __future__ import annotations

from collections.abc import Callable

import faiss
import numpy as np
from faiss import swig_ptr

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy

PRUNE_SLACK = 1.0 + 1e-4  # float32 rounding must never wrongly skip a cluster
FULL_PASS_ABOVE = 3  # candidates above n / 3: a full sequential pass (measured faster than scattered reads)
GIVE_UP_AFTER = 4  # consecutive full passes before the radii stop being maintained
FIRST_RETRY, MAX_RETRY = 16, 256  # steps until pruning is tried again (doubling up to MAX_RETRY)
STORAGES = ("float32", "float16")


def _sq_dist_to(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Squared L2 distances from the rows of ``x`` to the point ``c`` (small matrices only)."""
    diff = x - c
    return np.einsum("ij,ij->i", diff, diff)


def _full_pass(x: np.ndarray, storage: str) -> Callable[[int], np.ndarray]:
    """``sq_dist(i)``: squared distances from every row to row ``i``, from one matrix-vector product."""
    x_sq = np.einsum("ij,ij->i", x, x)
    if storage == "float32":

        def dots(i: int) -> np.ndarray:
            return x @ x[i]

    else:
        import torch

        half = torch.from_numpy(x).to(torch.float16)

        def dots(i: int) -> np.ndarray:
            return torch.mv(half, half[i]).float().numpy()

    def sq_dist(i: int) -> np.ndarray:  # may round below 0 at distance 0: harmless for an argmax
        d = dots(i)
        d *= -2.0
        d += x_sq
        d += x_sq[i]
        return d

    return sq_dist


def kcenter_greedy(
    embeddings: np.ndarray,
    k: int,
    rng: np.random.Generator,
    initial: np.ndarray | None = None,
    *,
    storage: str = "float32",
) -> np.ndarray:
    """``k`` new centre indices by farthest-first traversal, in the order chosen.

    ``initial``: indices already labelled; they count as centres but are not returned. Without them the
    first centre is drawn with ``rng``. Duplicate points are handled: once every point is covered at
    distance 0, the lowest unchosen index comes next.
    """
    if storage not in STORAGES:
        raise SelbenchError(f"k-center storage={storage!r}: use one of {', '.join(STORAGES)}.")
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    n, dim = x.shape
    initial = np.unique(np.asarray(initial if initial is not None else [], dtype=np.int64))
    if k + len(initial) > n:
        raise SelbenchError(f"k-center: k={k} plus {len(initial)} initial centres exceed the {n} points.")
    points = faiss.IndexFlatL2(dim)
    points.add(x)
    full_pass = _full_pass(x, storage)
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
        min_sq[initial] = -1.0  # chosen points are never chosen again
    radii_exact, full_passes, retry_at, back_off = False, 0, 0, FIRST_RETRY
    picked = np.empty(k, dtype=np.int64)
    d_sq = np.empty(n, dtype=np.float32)
    for step in range(k):
        c_idx = int(np.argmax(min_sq)) if n_centres else int(rng.integers(n))
        picked[step], c = c_idx, x[c_idx]
        centres[n_centres] = c
        if n_centres and not radii_exact and step >= retry_at:  # try pruning: make the radii exact
            radius_sq[:n_centres] = 0.0
            np.maximum.at(radius_sq, owner, np.maximum(min_sq, 0.0))
            radii_exact = True
        rows = None
        if radii_exact:
            may_improve = _sq_dist_to(centres[:n_centres], c) < 4.0 * radius_sq[:n_centres] * PRUNE_SLACK
            rows = np.flatnonzero(may_improve[owner])
            if len(rows) > n // FULL_PASS_ABOVE:  # then one sequential pass beats scattered reads
                rows, full_passes = None, full_passes + 1
            else:
                full_passes = 0
        if rows is None:  # a full pass
            dist = full_pass(c_idx)
            owner[dist < min_sq] = n_centres
            np.minimum(min_sq, dist, out=min_sq)
            if radii_exact and full_passes >= GIVE_UP_AFTER:  # pruning does not pay here: stop for a while
                radii_exact, retry_at, back_off = False, step + back_off, min(2 * back_off, MAX_RETRY)
            elif radii_exact:
                radius_sq[: n_centres + 1] = 0.0
                np.maximum.at(radius_sq, owner, np.maximum(min_sq, 0.0))
        else:  # FAISS reads the candidate rows in place: no gathered copy of the embeddings
            if len(rows):
                points.compute_distance_subset(1, swig_ptr(c), len(rows), swig_ptr(d_sq), swig_ptr(rows))
            dist = d_sq[: len(rows)]
            closer = dist < min_sq[rows]
            moved = rows[closer]
            min_sq[moved], owner[moved] = dist[closer], n_centres
            # Every member of the candidate clusters was just visited: their radii become exact again.
            radius_sq[: n_centres + 1][np.append(may_improve, True)] = 0.0
            np.maximum.at(radius_sq, owner[rows], np.maximum(min_sq[rows], 0.0))
        min_sq[c_idx] = -1.0
        n_centres += 1
    return picked


@register_strategy("kcenter")
class KCenterGreedy(Strategy):
    """k-center greedy core-set on the embeddings (the first centre drawn at random); ``storage``
    'float16' halves the bytes read per step (covering radius within 1 %)."""

    requires = frozenset({"embeddings"})

    def __init__(self, *, storage: str = "float32") -> None:
        if storage not in STORAGES:
            raise SelbenchError(f"kcenter storage={storage!r}: use one of {', '.join(STORAGES)}.")
        self.storage = storage

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        embeddings = features.require("embeddings", pool, "kcenter")
        return kcenter_greedy(embeddings, budget, rng, storage=self.storage)
