"""An example plugin strategy: annotate the longest prompts first (a cheap proxy for information content)."""

from __future__ import annotations

import numpy as np

from benchmark.types import Features, Pool
from strategies import Strategy


class LongestPrompt(Strategy):
    """Longest prompts first (an example plugin).

    ``min_chars``: prompts shorter than this come only after all longer ones.
    """

    stochastic = False  # the seed only breaks ties between prompts of equal length

    def __init__(self, *, min_chars: int = 0) -> None:
        self.min_chars = min_chars

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        lengths = np.array([len(ex.prompt) for ex in pool.examples])
        eligible = lengths >= self.min_chars
        tie_break = rng.permutation(len(pool))
        order = np.lexsort((tie_break, -lengths, ~eligible))
        return order[:budget]
