"""The Strategy interface, its registry and the checks every selection goes through."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.registry import Registry
from benchmark.types import FEATURE_NAMES, Features, Pool


class Strategy(ABC):
    """Chooses which examples of a pool to annotate. Pure: (pool, features, rng) -> indices.

    Subclasses take explicit keyword parameters in ``__init__``, store them unchanged under the same names
    and do no work there (scikit-learn's rule), so ``type(s)(**s.get_params())`` rebuilds a strategy and
    the parameters can enter a run's hash. They implement ``_select``; ``select`` checks the budget, the
    features and the result, so no strategy repeats those checks.
    """

    name: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset()
    stochastic: ClassVar[bool] = True  # whether different seeds may give different selections

    @classmethod
    def param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self.param_names()}

    def required_features(self) -> frozenset[str]:
        """The features this instance needs (a parameter may choose among them)."""
        return self.requires

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        """``budget`` unique indices into ``pool.examples`` (int64)."""
        if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 0:
            raise SelbenchError(f"strategy {self.name!r}: budget {budget!r} must be a non-negative integer.")
        if budget > len(pool):
            raise SelbenchError(
                f"strategy {self.name!r}: budget {budget} exceeds the pool size {len(pool)}. "
                "Lower the budget or use 'full'."
            )
        for name in sorted(self.required_features()):
            features.require(name, pool, f"strategy {self.name!r}")
        if budget == 0:
            return np.empty(0, dtype=np.int64)
        picked = np.asarray(self._select(pool, int(budget), features, rng), dtype=np.int64)
        if (
            picked.shape != (budget,)
            or len(np.unique(picked)) != budget
            or picked.min() < 0
            or picked.max() >= len(pool)
        ):
            raise RuntimeError(f"strategy {self.name!r} returned an invalid selection: {picked!r}")
        return picked

    @abstractmethod
    def _select(self, pool: Pool, budget: int, features: Features, rng: np.random.Generator) -> np.ndarray:
        """The algorithm, for 0 < budget <= len(pool) with the required features present."""


def _prepare_strategy(name: str, cls: type[Strategy]) -> type[Strategy]:
    """Check a strategy class as it is registered and give it its registered name."""
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise SelbenchError(f"strategy {name!r}: {cls!r} is not a subclass of selbench's Strategy.")
    unknown = set(cls.requires) - FEATURE_NAMES
    if unknown:
        raise SelbenchError(
            f"strategy {name!r} requires unknown features {sorted(unknown)}; known: {sorted(FEATURE_NAMES)}."
        )
    cls.name = name
    return cls


STRATEGIES: Registry[type[Strategy]] = Registry(
    "strategy", entry_point_group="selbench.strategies", prepare=_prepare_strategy
)
register_strategy: Callable[[str], Callable[[type[Strategy]], type[Strategy]]] = STRATEGIES.register


def build_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    """An instance of the strategy registered as ``name``; an unknown parameter is named with the known."""
    cls = STRATEGIES.get(name)
    known = cls.param_names()
    for key in params or {}:
        if key not in known:
            raise SelbenchError(
                f"strategy {name!r} has no parameter {key!r}; its parameters: {', '.join(known) or 'none'}."
            )
    return cls(**(params or {}))
