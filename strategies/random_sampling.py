"""Uniform random selection: the baseline every other strategy must beat."""

from __future__ import annotations

import numpy as np

from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy


@register_strategy("random")
class RandomSampling(Strategy):
    """Uniform sampling without replacement."""

    reads = frozenset()  # not even the prompts

    def __init__(self) -> None:
        pass

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(len(pool), size=budget, replace=False)
