"""The contract every registered strategy keeps, entry-point plugins included, through the public kit
(``strategies.checks``, as strategy authors run it); and proof that every check of the kit can fail."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.errors import SelbenchError
from strategies import STRATEGIES, Strategy, build_strategy
from strategies.checks import CHECKS, check_strategy, parametrize_with_checks
from strategies.task_sampling import TaskSampling

NAMES = STRATEGIES.names()


def test_at_least_the_seven_builtin_strategies_are_registered():
    builtin = {"random", "kcenter", "diversity", "uncertainty", "task_inverse_confidence", "task_uniform",
               "task_proportional"}  # fmt: skip
    assert builtin <= set(NAMES)


@parametrize_with_checks([build_strategy(name) for name in NAMES])
def test_every_registered_strategy(strategy, check):
    check(strategy)


ALLOCATIONS = [n for n in NAMES if issubclass(STRATEGIES.get(n), TaskSampling)]
PICKERS = [n for n in NAMES if not issubclass(STRATEGIES.get(n), TaskSampling)]


@parametrize_with_checks(
    [build_strategy(a, {"within": p}) for a in ALLOCATIONS for p in PICKERS if p != "random"]
)
def test_every_allocation_with_every_picker(strategy, check):
    check(strategy)


def test_unknown_strategy_and_parameter_are_clear_errors():
    with pytest.raises(SelbenchError, match=r"unknown strategy 'kcentre'\. Did you mean 'kcenter'\?"):
        build_strategy("kcentre")
    with pytest.raises(
        SelbenchError, match=r"strategy 'uncertainty' has no parameter 'scor'; parameters: score"
    ):
        build_strategy("uncertainty", {"scor": "entropy"})


class FirstK(Strategy):
    """A valid, deterministic strategy: the first ``budget`` examples (the base of the broken ones)."""

    stochastic = False

    def __init__(self, *, k: int = 1) -> None:
        self.k = k

    def _select(self, pool, budget, features, rng):
        return np.arange(budget)


class Duplicates(FirstK):
    def select(self, pool, budget, features, rng):  # skips selbench's own checks of the result
        return np.zeros(budget, dtype=np.int64)


class MissesTheLast(FirstK):
    def select(self, pool, budget, features, rng):
        return np.arange(min(budget, len(pool) - 1), dtype=np.int64)


class AcceptsAnyBudget(FirstK):
    def select(self, pool, budget, features, rng):
        return np.arange(min(max(int(budget), 0), len(pool)), dtype=np.int64)


class GlobalRandom(FirstK):
    stochastic = True

    def _select(self, pool, budget, features, rng):
        return np.random.permutation(len(pool))[:budget]


class SortsInPlace(FirstK):
    requires = frozenset({"confidence"})

    def _select(self, pool, budget, features, rng):
        features.confidence.sort()
        return np.arange(budget)


class IgnoresMissingFeature(FirstK):
    requires = frozenset({"confidence"})

    def select(self, pool, budget, features, rng):
        return np.arange(budget, dtype=np.int64)


class ReadsUndeclaredEmbeddings(FirstK):
    def _select(self, pool, budget, features, rng):
        return np.argsort(features.embeddings[:, 0])[:budget]


class TransformsItsParameter(FirstK):
    def __init__(self, *, k: int = 1) -> None:
        self.k = k + 1


class HidesItsParameter(FirstK):
    def __init__(self, *, k: int = 1) -> None:
        self._k = k

    def get_params(self):
        return {}


class PeeksAtResponses(FirstK):
    def select(self, pool, budget, features, rng):  # goes around the view that hides the responses
        return np.argsort([len(ex.response) for ex in pool.examples], kind="stable")[:budget].astype(np.int64)


class NeedsTwoTasks(FirstK):
    reads = frozenset({"prompts", "tasks"})

    def _select(self, pool, budget, features, rng):
        if len(pool.tasks) < 2:
            raise ValueError("needs two tasks")
        return np.arange(budget)


BROKEN = {
    "check_selection_contract": Duplicates,
    "check_budget_zero_and_full_pool": MissesTheLast,
    "check_impossible_budgets_raise": AcceptsAnyBudget,
    "check_same_seed_same_selection": GlobalRandom,
    "check_inputs_not_mutated": SortsInPlace,
    "check_missing_required_feature_is_named": IgnoresMissingFeature,
    "check_uses_only_declared_features": ReadsUndeclaredEmbeddings,
    "check_reads_only_declared_information": PeeksAtResponses,
    "check_rebuilt_from_params_behaves_identically": TransformsItsParameter,
    "check_params_stored_unchanged": HidesItsParameter,
    "check_degenerate_pools": NeedsTwoTasks,
}


def test_every_check_has_a_strategy_that_breaks_it():
    assert set(BROKEN) == {check.__name__ for check in CHECKS}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_every_check_can_fail(check):
    check(FirstK())  # a correct strategy passes
    with pytest.raises(Exception):  # noqa: B017, PT011 (any failure counts: the check cannot pass it)
        check(BROKEN[check.__name__]())


def test_check_strategy_names_the_failing_check_and_honours_declared_failures():
    with pytest.raises(AssertionError, match="fails check_uses_only_declared_features"):
        check_strategy(ReadsUndeclaredEmbeddings())
    declared = {"check_uses_only_declared_features": "reads embeddings on purpose"}
    check_strategy(ReadsUndeclaredEmbeddings(), expected_failed_checks=declared)
    with pytest.raises(AssertionError, match="passes check_degenerate_pools, declared an expected failure"):
        check_strategy(FirstK(), expected_failed_checks={"check_degenerate_pools": "wrongly declared"})
