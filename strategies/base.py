"""The Strategy interface, its registry and the checks every selection goes through."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.registry import Component, ComponentRegistry
from benchmark.types import BASE_MODEL_FEATURES, FEATURE_NAMES, READS, RESPONSE_FEATURES, Features, Pool


class Strategy(Component, ABC):
    """Chooses which examples of a pool to annotate. Pure: (pool, features, rng) -> indices.

    Subclasses take explicit keyword parameters in ``__init__``, store them unchanged under the same names
    and do no work there (scikit-learn's rule), so ``type(s)(**s.get_params())`` rebuilds a strategy and
    the parameters can enter a run's hash. They implement ``_select``; ``select`` checks the budget, the
    features and the result, so no strategy repeats those checks.
    """

    requires: ClassVar[frozenset[str]] = frozenset()
    # What the selection reads of the pool, of benchmark.types.READS: prompts are free (the unlabelled
    # pool); "tasks" (the task labels) and "responses" (the gold responses annotation buys: an oracle)
    # must be declared, or reading them raises. Base-model outputs come as declared features.
    reads: ClassVar[frozenset[str]] = frozenset({"prompts"})
    stochastic: ClassVar[bool] = True  # whether different seeds may give different selections
    control: ClassVar[bool] = False  # a positive control: known to be worse than random, by design

    def required_features(self) -> frozenset[str]:
        """The features this instance needs (a parameter may choose among them)."""
        return self.requires

    def information(self) -> frozenset[str]:
        """Everything this instance reads, of ``READS``: its declared ``reads`` plus what its features
        come from (the base model's outputs, gold responses; task confidence is per task label)."""
        features = self.required_features()
        derived = {"base_model"} if features & BASE_MODEL_FEATURES else set()
        derived |= {"responses"} if features & RESPONSE_FEATURES else set()
        return self.reads | derived | ({"tasks"} if "task_confidence" in features else set())

    @property
    def oracle(self) -> bool:
        """Whether the selection reads gold responses: not label-free, so listed apart in reports."""
        return "responses" in self.information()

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
        view = pool.view(self.information(), f"strategy {self.name or type(self).__name__!r}")
        picked = np.asarray(self._select(view, int(budget), features, rng), dtype=np.int64)
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


BASE_MODEL = "base"  # the sweep's budget-0 cell: the untouched model
FULL_POOL = "full"  # the sweep's cell with the whole pool annotated
REFERENCES = (BASE_MODEL, FULL_POOL)  # rows every report reads strategies against; no strategy's name
SUBMITTED = "submitted"  # cells whose selections came from a file (`selbench submit`), not a strategy


def _check_strategy(name: str, cls: type[Strategy]) -> None:
    if name in (*REFERENCES, SUBMITTED):
        raise SelbenchError(
            f"strategy name {name!r} is reserved for the sweep's {name} cells; register it under another."
        )
    if not set(cls.reads) <= set(READS):
        raise SelbenchError(
            f"strategy {name!r} reads {sorted(set(cls.reads) - set(READS))}; declare only {', '.join(READS)}."
        )
    unknown = set(cls.requires) - FEATURE_NAMES
    if unknown:
        raise SelbenchError(
            f"strategy {name!r} requires unknown features {sorted(unknown)}; known: {sorted(FEATURE_NAMES)}."
        )


STRATEGIES: ComponentRegistry[Strategy] = ComponentRegistry(
    "strategy",
    Strategy,
    entry_point_group="selbench.strategies",
    check=_check_strategy,
    builtin_modules=tuple(  # imported on first lookup: two of them load FAISS
        f"strategies.{m}"
        for m in (
            "random_sampling",
            "kcenter",
            "diversity",
            "uncertainty",
            "task_sampling",
            "facility_location",
            "perplexity",
            "ifd",
        )
    ),
)
register_strategy: Callable[[str], Callable[[type[Strategy]], type[Strategy]]] = STRATEGIES.register
build_strategy = STRATEGIES.build
