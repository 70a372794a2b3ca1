"""Perplexity selection: choose by how surprising the base model finds each prompt.

High-perplexity prompts are what the model knows least (informative, or noise); low-perplexity ones are
fluent, typical text; the middle band avoids both ends (the band that helped most in Marion et al.
2023, "When less is more", for pre-training data pruning). Label-free: the model reads the prompts only.
"""

from __future__ import annotations

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.types import Features, Pool
from strategies.base import Strategy, register_strategy

BANDS = ("low", "middle", "high")


@register_strategy("perplexity")
class Perplexity(Strategy):
    """Prompts by the base model's perplexity: the ``band`` 'low', 'middle' (closest to the median
    first) or 'high'; ties broken by the seed."""

    requires = frozenset({"prompt_logprob"})
    stochastic = False  # only ties depend on the seed

    def __init__(self, *, band: str = "middle") -> None:
        if band not in BANDS:
            raise SelbenchError(f"perplexity band={band!r}: use one of {', '.join(BANDS)}.")
        self.band = band

    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        logprob = np.asarray(features.require("prompt_logprob", pool, "perplexity"), dtype=np.float64)
        key = {
            "low": -logprob,  # the highest log-likelihood first
            "high": logprob,
            "middle": np.abs(logprob - np.median(logprob)),
        }[self.band]
        return np.lexsort((rng.permutation(len(pool)), key))[:budget]
