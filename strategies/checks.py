"""The contract every strategy keeps, as a kit strategy authors run in their own CI (in the spirit of
scikit-learn's ``check_estimator`` and ``parametrize_with_checks``).

    from strategies.checks import parametrize_with_checks

    @parametrize_with_checks([MyStrategy(k=3), MyStrategy(k=10)])
    def test_my_strategy(strategy, check):
        check(strategy)

Each check builds its own small pools and features (every feature a strategy may require), raises
``AssertionError`` naming what broke, and can fail: selbench's own tests run every check against a
strategy broken in exactly the way it guards against. A check a strategy is known to fail is declared,
with the reason, in ``expected_failed_checks``; it then runs as a strict expected failure.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.types import FEATURE_NAMES, Example, Features, Pool
from strategies.base import Strategy

Check = Callable[[Strategy], None]


def make_pool(task_sizes: dict[str, int]) -> Pool:
    """A pool of ``task_sizes[task]`` distinct examples per task."""
    return Pool(
        "fixture",
        tuple(
            Example(f"{task} prompt {i}", f"answer {i}", task, "fixture")
            for task, size in task_sizes.items()
            for i in range(size)
        ),
    )


def make_features(
    pool: Pool, seed: int = 0, *, equal_confidence: bool = False, duplicate_embeddings: bool = False
) -> Features:
    """Every feature a strategy may require, random but seeded; optionally degenerate."""
    rng = np.random.default_rng(seed)
    n = len(pool)
    confidence = np.full(n, 0.5) if equal_confidence else rng.uniform(0.05, 0.95, n)
    base = rng.standard_normal((3 if duplicate_embeddings else n, 8)).astype(np.float32)
    embeddings = base[np.arange(n) % len(base)]
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    task_ids = pool.task_ids()
    return Features(
        confidence=confidence,
        entropy=rng.uniform(0.0, 3.0, n),
        embeddings=embeddings,
        task_confidence={t: float(confidence[task_ids == i].mean()) for i, t in enumerate(pool.tasks)},
        prompt_logprob=np.full(n, -2.0) if equal_confidence else rng.uniform(-6.0, -0.5, n),
        ifd=np.full(n, 0.8) if equal_confidence else rng.uniform(0.3, 1.2, n),
    )


POOL = make_pool({"alpha": 30, "beta": 12, "gamma": 5, "delta": 1, "epsilon": 20})  # skewed task sizes
FEATURES = make_features(POOL)


def _select(strategy: Strategy, budget: int, pool: Pool = POOL, features: Features = FEATURES, seed: int = 0):
    return strategy.select(pool, budget, features, np.random.default_rng(seed))


def _assert_selection(picked: Any, budget: int, n: int, what: str) -> None:
    picked = np.asarray(picked)
    assert picked.dtype == np.int64, f"{what}: indices of dtype {picked.dtype}, expected int64"
    assert picked.shape == (budget,), f"{what}: {picked.shape[0]} indices for a budget of {budget}"
    assert len(np.unique(picked)) == budget, f"{what}: an index is picked twice"
    assert budget == 0 or (picked.min() >= 0 and picked.max() < n), f"{what}: an index outside the pool"


def check_selection_contract(strategy: Strategy) -> None:
    """Unique in-range int64 indices, exactly ``budget`` of them, at budgets small to nearly all."""
    for budget in (1, 7, 34, len(POOL) - 1):
        _assert_selection(_select(strategy, budget), budget, len(POOL), f"budget {budget}")


def check_budget_zero_and_full_pool(strategy: Strategy) -> None:
    """Budget 0 picks nothing; a budget of the pool size picks every example once."""
    _assert_selection(_select(strategy, 0), 0, len(POOL), "budget 0")
    picked = sorted(_select(strategy, len(POOL)).tolist())
    assert picked == list(range(len(POOL))), "a budget of the pool size must pick every example"


def check_impossible_budgets_raise(strategy: Strategy) -> None:
    """A budget above the pool size, negative or fractional is a SelbenchError, not a wrong selection."""
    for budget in (len(POOL) + 1, -1, 2.5):
        try:
            _select(strategy, budget)
        except SelbenchError:
            continue
        raise AssertionError(f"budget {budget!r} was accepted")


def check_same_seed_same_selection(strategy: Strategy) -> None:
    """The seed decides every random choice; a stochastic strategy's selections differ across seeds."""
    first, again = _select(strategy, 20, seed=5), _select(strategy, 20, seed=5)
    assert np.array_equal(first, again), "the same seed gave two selections"
    if strategy.stochastic:
        picks = {tuple(sorted(_select(strategy, 20, seed=s).tolist())) for s in range(4)}
        assert len(picks) > 1, "four seeds gave one selection: declare stochastic = False if intended"


def check_inputs_not_mutated(strategy: Strategy) -> None:
    """The pool and the features are left as they were (arrays are made read-only to catch writes)."""
    features = copy.deepcopy(FEATURES)
    for field in dataclasses.fields(features):
        value = getattr(features, field.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    before = copy.deepcopy(features)
    examples = POOL.examples
    _select(strategy, 20, features=features)
    assert POOL.examples is examples, "the pool's examples were replaced"
    for field in dataclasses.fields(features):
        a, b = getattr(features, field.name), getattr(before, field.name)
        same = np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
        assert same, f"the feature {field.name!r} was changed"


def check_missing_required_feature_is_named(strategy: Strategy) -> None:
    """Each required feature, when absent, is a SelbenchError naming it."""
    for name in sorted(strategy.required_features()):
        try:
            _select(strategy, 5, features=dataclasses.replace(FEATURES, **{name: None}))
        except SelbenchError as err:
            message = str(err)
        else:
            raise AssertionError(f"selected without its required feature {name!r}")
        if name not in message:
            raise AssertionError(f"the error for a missing {name!r} does not name it: {message}")


def check_uses_only_declared_features(strategy: Strategy) -> None:
    """The selection depends on the declared features alone: with every other feature absent, or
    replaced by other values, it is the same (the runner computes only what a strategy declares)."""
    undeclared = sorted(FEATURE_NAMES - strategy.required_features())
    expected = _select(strategy, 20, seed=1)
    only = dataclasses.replace(FEATURES, **dict.fromkeys(undeclared))
    assert np.array_equal(_select(strategy, 20, features=only, seed=1), expected), (
        f"the selection changed without the undeclared features {undeclared}"
    )
    other = make_features(POOL, seed=99)
    swapped = dataclasses.replace(FEATURES, **{name: getattr(other, name) for name in undeclared})
    assert np.array_equal(_select(strategy, 20, features=swapped, seed=1), expected), (
        f"the selection read undeclared features (one of {undeclared})"
    )


def check_reads_only_declared_information(strategy: Strategy) -> None:
    """Gold responses and task labels the strategy does not declare in ``reads`` do not change its
    selection (``select`` hands ``_select`` a pool that hides them; this catches a way around it)."""
    info = strategy.information()
    names = POOL.tasks
    changed = Pool(
        "fixture",
        tuple(
            Example(
                ex.prompt,
                ex.response if "responses" in info else f"another answer{'!' * (i % 7)}",
                ex.task if "tasks" in info else names[(i * 7) % len(names)],
                ex.source,
            )
            for i, ex in enumerate(POOL.examples)
        ),
    )
    hidden = sorted({"responses", "tasks"} - info)
    assert np.array_equal(_select(strategy, 20, pool=changed, seed=2), _select(strategy, 20, seed=2)), (
        f"the selection changed with {' and '.join(hidden)} it does not declare in `reads`"
    )


def check_rebuilt_from_params_behaves_identically(strategy: Strategy) -> None:
    """``type(s)(**s.get_params())`` has the same parameters and selects the same examples."""
    rebuilt = type(strategy)(**strategy.get_params())
    assert rebuilt.get_params() == strategy.get_params(), "parameters change when rebuilt"
    same = np.array_equal(_select(rebuilt, 15, seed=3), _select(strategy, 15, seed=3))
    assert same, "a strategy rebuilt from its parameters selects differently"


def check_params_stored_unchanged(strategy: Strategy) -> None:
    """Every ``__init__`` parameter is stored under its own name (it then enters the run's hash)."""
    names = set(type(strategy).param_names())
    assert set(strategy.get_params()) == names, "get_params() does not name every __init__ parameter"
    for name in names:
        assert hasattr(strategy, name), f"parameter {name!r} is not stored as an attribute"


def check_degenerate_pools(strategy: Strategy) -> None:
    """One task, one example per task, equal confidences, duplicate embeddings: still valid selections."""
    cases = [
        (make_pool({"only": 25}), None),
        (make_pool({f"t{i}": 1 for i in range(12)} | {"big": 8}), None),
        (POOL, make_features(POOL, equal_confidence=True)),
        (POOL, make_features(POOL, duplicate_embeddings=True)),
    ]
    for pool, features in cases:
        features = features or make_features(pool)
        for budget in (1, len(pool) // 2, len(pool)):
            picked = _select(strategy, budget, pool=pool, features=features)
            _assert_selection(picked, budget, len(pool), f"degenerate pool, budget {budget}")


CHECKS: tuple[Check, ...] = (
    check_selection_contract,
    check_budget_zero_and_full_pool,
    check_impossible_budgets_raise,
    check_same_seed_same_selection,
    check_inputs_not_mutated,
    check_missing_required_feature_is_named,
    check_uses_only_declared_features,
    check_reads_only_declared_information,
    check_rebuilt_from_params_behaves_identically,
    check_params_stored_unchanged,
    check_degenerate_pools,
)


def strategy_checks(strategy: Strategy) -> Iterator[Check]:
    """The checks a strategy must pass."""
    yield from CHECKS


def check_strategy(strategy: Strategy, expected_failed_checks: dict[str, str] | None = None) -> None:
    """Run every check; an AssertionError names the first that fails (or an expected failure that passed)."""
    expected = expected_failed_checks or {}
    for check in strategy_checks(strategy):
        try:
            check(strategy)
        except Exception as err:
            if check.__name__ in expected:
                continue
            raise AssertionError(f"{strategy!r} fails {check.__name__}: {err}") from err
        if check.__name__ in expected:
            raise AssertionError(f"{strategy!r} passes {check.__name__}, declared an expected failure")


def parametrize_with_checks(
    strategies: Iterable[Strategy],
    expected_failed_checks: Callable[[Strategy], dict[str, str]] | None = None,
) -> Any:
    """A ``pytest.mark.parametrize`` over (strategy, check) for a test ``test(strategy, check)``; ids
    name both. ``expected_failed_checks(strategy)``: check name -> reason, run as strict xfail."""
    import pytest

    params = []
    for strategy in strategies:
        expected = expected_failed_checks(strategy) if expected_failed_checks else {}
        for check in strategy_checks(strategy):
            marks = []
            if check.__name__ in expected:
                marks = [pytest.mark.xfail(reason=expected[check.__name__], strict=True)]
            params.append(pytest.param(strategy, check, id=f"{strategy!r}-{check.__name__}", marks=marks))
    return pytest.mark.parametrize(("strategy", "check"), params)
