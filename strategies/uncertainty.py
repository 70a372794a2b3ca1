"""Uncertainty sampling: annotate what the model is least sure about."""

from __future__ import annotations

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy

SCORES = {"probability": "confidence", "entropy": "entropy"}


def least_confident(uncertainty: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``k`` largest ``uncertainty`` values; ties broken by a seeded random order."""
    tie_break = rng.permutation(len(uncertainty))
    return np.lexsort((tie_break, -uncertainty))[:k]


@register_strategy("uncertainty")
class Uncertainty(Strategy):
    """Least confident first, by mean token probability or mean token entropy.

    ``score='probability'``: lowest mean probability of the model's own answer tokens first;
    ``score='entropy'``: highest mean token entropy first.
    """

    stochastic = False  # only ties depend on the seed

    def __init__(self, *, score: str = "probability") -> None:
        if score not in SCORES:
            raise SelbenchError(f"uncertainty score={score!r}: use one of {', '.join(SCORES)}.")
        self.score = score

    def required_features(self) -> frozenset[str]:
        return frozenset({SCORES[self.score]})

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        values = np.asarray(features.require(SCORES[self.score], pool, "uncertainty"), dtype=np.float64)
        return least_confident(-values if self.score == "probability" else values, budget, rng)
