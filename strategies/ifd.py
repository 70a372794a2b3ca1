"""IFD selection (Li et al., NAACL 2024, "From Quantity to Quality"): annotate the examples whose gold
response the model finds hardest to follow from its prompt. An oracle: it reads the gold responses,
which are what annotation buys, so its rows are marked and it is no label-free baseline."""

from __future__ import annotations

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy


@register_strategy("ifd")
class InstructionFollowingDifficulty(Strategy):
    """Highest instruction-following difficulty first among examples below ``max_ifd`` (at or above it,
    the prompt does not help: the paper drops them), then the rest; ties broken by the seed. ORACLE."""

    requires = frozenset({"ifd"})
    stochastic = False  # only ties depend on the seed

    def __init__(self, *, max_ifd: float = 1.0) -> None:
        if not max_ifd > 0:
            raise SelbenchError(f"ifd max_ifd={max_ifd!r}: must be positive.")
        self.max_ifd = max_ifd

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        ifd = np.asarray(features.require("ifd", pool, "ifd"), dtype=np.float64)
        return np.lexsort((rng.permutation(len(pool)), -ifd, ifd >= self.max_ifd))[:budget]
