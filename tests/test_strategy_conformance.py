"""The contract every registered strategy must keep, entry-point plugins included (cf. scikit-learn's
parametrize_with_checks). A new strategy is tested here without writing a new test."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from benchmark.errors import SelbenchError
from strategies import STRATEGIES, build_strategy
from tests.strategy_fixtures import make_features, make_pool

NAMES = STRATEGIES.names()
POOL = make_pool({"alpha": 30, "beta": 12, "gamma": 5, "delta": 1, "epsilon": 20})
FEATURES = make_features(POOL)


def select(strategy, budget, pool=POOL, features=FEATURES, seed=0):
    return strategy.select(pool, budget, features, np.random.default_rng(seed))


def check_selection(idx: np.ndarray, budget: int, n: int) -> None:
    assert idx.dtype == np.int64
    assert idx.shape == (budget,)
    assert len(np.unique(idx)) == budget
    assert budget == 0 or (idx.min() >= 0 and idx.max() < n)


@pytest.fixture(params=NAMES)
def strategy(request):
    return build_strategy(request.param)


def test_at_least_the_seven_builtin_strategies_are_registered():
    builtin = {"random", "kcenter", "diversity", "uncertainty", "task_inverse_confidence", "task_uniform",
               "task_proportional"}  # fmt: skip
    assert builtin <= set(NAMES)


@pytest.mark.parametrize("budget", [1, 7, 34, len(POOL) - 1])
def test_unique_in_range_indices_of_exactly_budget(strategy, budget):
    check_selection(select(strategy, budget), budget, len(POOL))


def test_budget_zero_and_full_pool(strategy):
    check_selection(select(strategy, 0), 0, len(POOL))
    assert sorted(select(strategy, len(POOL))) == list(range(len(POOL)))


@pytest.mark.parametrize("budget", [len(POOL) + 1, -1, 2.5])
def test_impossible_budget_raises_a_clear_error(strategy, budget):
    with pytest.raises(SelbenchError, match=r"budget .*(exceeds the pool size|non-negative integer)"):
        select(strategy, budget)


def test_same_seed_same_selection_and_seeds_matter(strategy):
    np.testing.assert_array_equal(select(strategy, 20, seed=5), select(strategy, 20, seed=5))
    if strategy.stochastic:
        picks = {tuple(sorted(select(strategy, 20, seed=s))) for s in range(4)}
        assert len(picks) > 1


def test_pool_and_features_are_not_mutated(strategy):
    features = copy.deepcopy(FEATURES)
    for field in dataclasses.fields(features):
        value = getattr(features, field.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False  # any in-place write raises
    before = copy.deepcopy(features)
    examples = POOL.examples
    select(strategy, 20, features=features)
    assert POOL.examples is examples
    for field in dataclasses.fields(features):
        a, b = getattr(features, field.name), getattr(before, field.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


def test_missing_required_feature_is_named(strategy):
    for name in strategy.required_features():
        features = dataclasses.replace(FEATURES, **{name: None})
        with pytest.raises(SelbenchError, match=f"needs the feature '{name}'"):
            select(strategy, 5, features=features)


def test_rebuilt_from_params_behaves_identically(strategy):
    rebuilt = type(strategy)(**strategy.get_params())
    assert rebuilt.get_params() == strategy.get_params()
    np.testing.assert_array_equal(select(rebuilt, 15, seed=3), select(strategy, 15, seed=3))


def test_params_are_stored_unchanged(strategy):
    assert set(strategy.get_params()) == set(type(strategy).param_names())
    assert type(strategy)(**strategy.get_params()).required_features() == strategy.required_features()


@pytest.mark.parametrize(
    ("pool", "features"),
    [
        pytest.param(make_pool({"only": 25}), None, id="one-task"),
        pytest.param(make_pool({f"t{i}": 1 for i in range(12)} | {"big": 8}), None, id="one-example-tasks"),
        pytest.param(POOL, make_features(POOL, equal_confidence=True), id="equal-confidences"),
        pytest.param(POOL, make_features(POOL, duplicate_embeddings=True), id="duplicate-embeddings"),
    ],
)
def test_degenerate_pools(strategy, pool, features):
    features = features or make_features(pool)
    for budget in (1, len(pool) // 2, len(pool)):
        check_selection(select(strategy, budget, pool=pool, features=features), budget, len(pool))


def test_unknown_strategy_and_parameter_are_clear_errors():
    with pytest.raises(SelbenchError, match=r"unknown strategy 'kcentre'\. Did you mean 'kcenter'\?"):
        build_strategy("kcentre")
    with pytest.raises(
        SelbenchError, match=r"strategy 'uncertainty' has no parameter 'scor'; parameters: score"
    ):
        build_strategy("uncertainty", {"scor": "entropy"})
