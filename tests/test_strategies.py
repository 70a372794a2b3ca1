"""Behaviour of each strategy's algorithm beyond the shared contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.errors import SelbenchError
from strategies import Strategy, build_strategy
from strategies.checks import make_features, make_pool
from strategies.diversity import kmeans_representatives, threshold_filter
from strategies.kcenter import kcenter_greedy
from strategies.task_sampling import MIN_CONFIDENCE, allocate, inverse_confidence_weights
from strategies.uncertainty import least_confident

task_sizes = st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(sizes=task_sizes, data=st.data())
def test_allocation_sums_to_budget_and_respects_task_sizes(sizes, data):
    sizes = np.array(sizes)
    budget = data.draw(st.integers(min_value=0, max_value=int(sizes.sum())))
    confidence = np.array(
        data.draw(st.lists(st.floats(MIN_CONFIDENCE, 1.0), min_size=len(sizes), max_size=len(sizes)))
    )
    temperature = data.draw(st.sampled_from([0.5, 1.0, 2.0, 100.0]))
    # Confidences below MIN_CONFIDENCE count as MIN_CONFIDENCE (a floor that keeps weights finite).
    weights = inverse_confidence_weights(confidence, temperature)
    counts = allocate(budget, sizes, weights)
    assert counts.sum() == budget
    assert np.all(counts <= sizes)
    assert np.all(counts >= 0)
    # a larger weight (lower confidence), same size: never a smaller share. Compared on the weights:
    # confidences a hair apart can give equal float64 weights (hypothesis found 1-ulp pairs at T = 100)
    for a in range(len(sizes)):
        for b in range(len(sizes)):
            if sizes[a] == sizes[b] and weights[a] > weights[b]:
                assert counts[a] >= counts[b]


@settings(max_examples=200, deadline=None)
@given(sizes=task_sizes, data=st.data())
def test_uniform_allocation_fills_every_slot(sizes, data):
    """A public task-uniform sampler stops early and leaves up to (tasks - 1) slots empty; not this one."""
    sizes = np.array(sizes)
    budget = data.draw(st.integers(min_value=0, max_value=int(sizes.sum())))
    counts = allocate(budget, sizes, np.ones(len(sizes)))
    assert counts.sum() == budget
    room = counts < sizes  # tasks with room left never differ by more than one
    if room.any():
        assert counts[room].max() - counts[room].min() <= 1
        assert np.all(counts[~room] <= counts[room].min() + 1)


def test_inverse_confidence_allocation_by_hand():
    # Weights 1/0.2 : 1/0.4 : 1/0.8 = 4 : 2 : 1 over a budget of 14.
    counts = allocate(
        14, np.array([100, 100, 100]), inverse_confidence_weights(np.array([0.2, 0.4, 0.8]), 1.0)
    )
    np.testing.assert_array_equal(counts, [8, 4, 2])
    # The low-confidence task has only 3 examples: its surplus goes to the others by the same 2 : 1.
    counts = allocate(14, np.array([3, 100, 100]), inverse_confidence_weights(np.array([0.2, 0.4, 0.8]), 1.0))
    np.testing.assert_array_equal(counts, [3, 7, 4])  # 11 * 2/3 = 7.33 -> 7, 11 * 1/3 = 3.67 -> 4


def test_temperature_moves_from_inverse_confidence_to_uniform():
    confidence = np.array([0.1, 0.9])
    sharp = inverse_confidence_weights(confidence, 0.5)
    assert sharp[0] / sharp[1] == pytest.approx(81.0)
    flat = inverse_confidence_weights(confidence, 1e6)
    assert flat[0] / flat[1] == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.isfinite(inverse_confidence_weights(np.array([0.0, 1e-300, 1.0]), 0.01)))


def test_allocation_errors():
    with pytest.raises(SelbenchError, match="budget 11 exceeds the 10 examples"):
        allocate(11, np.array([5, 5]), np.ones(2))
    with pytest.raises(SelbenchError, match="positive and finite"):
        allocate(1, np.array([5, 5]), np.array([1.0, 0.0]))
    with pytest.raises(SelbenchError, match="temperature=0"):
        build_strategy("task_inverse_confidence", {"temperature": 0})


def test_task_inverse_confidence_favours_uncertain_tasks():
    pool = make_pool({"easy": 50, "hard": 50})
    features = make_features(pool)
    features = type(features)(task_confidence={"easy": 0.9, "hard": 0.3})
    picked = build_strategy("task_inverse_confidence").select(pool, 40, features, np.random.default_rng(0))
    tasks = [pool.examples[i].task for i in picked]
    assert tasks.count("hard") == 30
    assert tasks.count("easy") == 10


def test_task_proportional_and_uniform():
    pool = make_pool({"a": 60, "b": 30, "c": 10})
    features = make_features(pool)
    rng = np.random.default_rng(0)

    def counts(name):
        picked = build_strategy(name).select(pool, 20, features, rng)
        return [sum(pool.examples[i].task == t for i in picked) for t in "abc"]

    assert counts("task_proportional") == [12, 6, 2]
    assert counts("task_uniform") == [7, 7, 6]


def test_few_tasks_control_spends_the_budget_on_n_tasks_then_spills_over():
    pool = make_pool({"a": 10, "b": 10, "c": 10, "d": 10})
    features = make_features(pool)
    control = build_strategy("few_tasks", {"n_tasks": 2})
    assert control.control
    for seed in range(5):
        picked = control.select(pool, 15, features, np.random.default_rng(seed))
        assert len({pool.examples[i].task for i in picked}) == 2
    picked = control.select(pool, 25, features, np.random.default_rng(0))  # more than 2 tasks hold
    assert len({pool.examples[i].task for i in picked}) >= 3
    tasks_by_seed = {
        frozenset(pool.examples[i].task for i in control.select(pool, 5, features, np.random.default_rng(s)))
        for s in range(10)
    }
    assert len(tasks_by_seed) > 1  # the seed draws the tasks
    with pytest.raises(SelbenchError, match="n_tasks"):
        build_strategy("few_tasks", {"n_tasks": 0})


def brute_force_kcenter(x: np.ndarray, k: int, first: int) -> list[int]:
    dist = np.linalg.norm(x[:, None] - x[None], axis=2)
    chosen = [first]
    while len(chosen) < k:
        covered = dist[:, chosen].min(axis=1)
        covered[chosen] = -1
        chosen.append(int(np.argmax(covered)))
    return chosen


@pytest.mark.parametrize("data", ["low_dim", "clustered", "high_dim"])
def test_kcenter_is_exact_farthest_first_traversal(data):
    """Pruning works in low dimensions and on clusters; in 128 dimensions it stops paying, the radii
    stop being maintained and pruning is retried later: every path gives the exact traversal."""
    rng = np.random.default_rng(0)
    if data == "clustered":  # triangle-inequality pruning skips most clusters here
        centres = rng.standard_normal((10, 6))
        x = centres[rng.integers(10, size=400)] + 0.05 * rng.standard_normal((400, 6))
    else:
        x = rng.standard_normal((400, 6 if data == "low_dim" else 128))
    x = x.astype(np.float32)
    picked = kcenter_greedy(x, 90, np.random.default_rng(3))
    assert picked.tolist() == brute_force_kcenter(x.astype(np.float64), 90, int(picked[0]))


def test_kcenter_in_float16_storage_keeps_the_covering_radius_within_one_percent():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2000, 96)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)

    def radius(picked):
        return np.sqrt(((x[:, None] - x[picked][None]) ** 2).sum(-1).min(1).max())

    exact = kcenter_greedy(x, 50, np.random.default_rng(1))
    half = kcenter_greedy(x, 50, np.random.default_rng(1), storage="float16")
    assert len(set(half.tolist())) == 50
    assert radius(half) == pytest.approx(radius(exact), rel=0.01)
    with pytest.raises(SelbenchError, match="storage='float8'"):
        build_strategy("kcenter", {"storage": "float8"})


def test_kcenter_with_an_initial_labelled_set():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 5)).astype(np.float32)
    initial = np.array([3, 17, 42])
    picked = kcenter_greedy(x, 10, rng, initial=initial)
    assert not set(picked) & set(initial)
    dist = np.linalg.norm(x[:, None] - x[None], axis=2)
    chosen = list(initial)
    for p in picked:  # each pick is the point farthest from all earlier centres
        assert dist[p, chosen].min() == pytest.approx(dist[:, chosen].min(axis=1).max(), rel=1e-5)
        chosen.append(p)


def test_kmeans_representatives_cover_separated_clusters():
    rng = np.random.default_rng(0)
    centres = 10 * np.eye(4, dtype=np.float32)
    x = np.repeat(centres, 25, axis=0) + 0.01 * rng.standard_normal((100, 4)).astype(np.float32)
    picked = kmeans_representatives(x, 4, seed=0)
    assert sorted(picked // 25) == [0, 1, 2, 3]


def test_kmeans_representatives_fill_duplicate_clusters():
    x = np.repeat(np.eye(2, dtype=np.float32), 10, axis=0)  # only two distinct points
    picked = kmeans_representatives(x, 6, seed=0)
    assert len(set(picked)) == 6
    assert picked.tolist() == kmeans_representatives(x, 6, seed=0).tolist()


def test_threshold_filter_skips_near_duplicates_then_fills_up():
    x = np.array([[1, 0], [0.99, 0.1], [0, 1], [0.1, 0.99], [-1, 0]], dtype=np.float32)
    order = np.arange(5)
    assert threshold_filter(x, 3, order, 0.9).tolist() == [0, 2, 4]
    assert threshold_filter(x, 5, order, 0.9).tolist() == [0, 2, 4, 1, 3]


def test_diversity_threshold_order():
    pool = make_pool({"a": 20})
    features = make_features(pool)
    in_order = build_strategy("diversity", {"method": "threshold", "order": "pool", "threshold": 1.0})
    assert in_order.select(pool, 5, features, np.random.default_rng(0)).tolist() == [0, 1, 2, 3, 4]


def test_least_confident_first_and_entropy():
    assert least_confident(np.array([0.1, 0.9, 0.5]), 2, np.random.default_rng(0)).tolist() == [1, 2]
    pool = make_pool({"a": 4})
    features = type(make_features(pool))(
        confidence=np.array([0.9, 0.1, 0.5, 0.3]), entropy=np.array([0, 2, 1, 3.0])
    )
    rng = np.random.default_rng(0)
    assert build_strategy("uncertainty").select(pool, 2, features, rng).tolist() == [1, 3]
    assert build_strategy("uncertainty", {"score": "entropy"}).select(pool, 2, features, rng).tolist() == [
        3,
        1,
    ]


def test_uncertainty_ties_are_broken_by_the_seed():
    ties = np.full(100, 0.5)
    picks = {tuple(least_confident(ties, 5, np.random.default_rng(s))) for s in range(5)}
    assert len(picks) > 1


def test_task_strategies_pick_within_tasks_as_before_the_composition():
    """``within: random`` (the default) draws exactly what the uncomposed task sampling drew, so the
    published task-strategy cells keep their selections (and their keys: the parameters are unchanged)."""
    pool = make_pool({"a": 30, "b": 12, "c": 5, "d": 1, "e": 20})
    features, task_ids = make_features(pool), pool.task_ids()
    for name in ("task_uniform", "task_proportional", "task_inverse_confidence"):
        strategy = build_strategy(name)
        for budget, seed in [(1, 0), (5, 1), (17, 2), (40, 3), (68, 4)]:
            weights = strategy.task_weights(task_ids, pool.tasks, features)
            counts = allocate(budget, np.bincount(task_ids), weights)
            rng = np.random.default_rng(seed)
            before = [
                rng.choice(np.flatnonzero(task_ids == t), size=int(c), replace=False)
                for t, c in enumerate(counts)
                if c
            ]
            picked = strategy.select(pool, budget, features, np.random.default_rng(seed))
            assert np.array_equal(picked, np.concatenate(before))


def test_within_kcenter_runs_kcenter_inside_each_task_on_its_share():
    pool = make_pool({"a": 30, "b": 12, "c": 5})
    features, task_ids = make_features(pool), pool.task_ids()
    composed = build_strategy("task_uniform", {"within": "kcenter"})
    assert composed.required_features() == {"embeddings"}
    assert composed.information() == {"prompts", "tasks"}
    picked = composed.select(pool, 9, features, np.random.default_rng(0))
    assert np.bincount(task_ids[picked], minlength=3).tolist() == [3, 3, 3]
    for t in range(3):  # each task's share is what kcenter picks from that task alone, with the same rng
        members = np.flatnonzero(task_ids == t)
        assert set(picked[np.isin(picked, members)]) <= set(members)
    rng = np.random.default_rng(0)
    alone = kcenter_greedy(features.embeddings[task_ids == 0], 3, rng)
    assert np.array_equal(picked[:3], np.flatnonzero(task_ids == 0)[alone])


def test_an_unknown_picker_or_its_parameter_is_named():
    with pytest.raises(SelbenchError, match=r"within='kcentre': unknown strategy 'kcentre'. Did you mean"):
        build_strategy("task_uniform", {"within": "kcentre"})
    with pytest.raises(SelbenchError, match=r"within='uncertainty'.*no parameter 'scor'"):
        build_strategy("task_uniform", {"within": "uncertainty", "within_params": {"scor": "entropy"}})


class PeekingStrategy(Strategy):
    """Orders the pool by the length of its gold responses: label-free unless it says otherwise."""

    stochastic = False

    def __init__(self) -> None:
        pass

    def _select(self, pool, budget, features, rng):
        return np.argsort([len(ex.response) for ex in pool.examples], kind="stable")[:budget]


class DeclaredOracle(PeekingStrategy):
    reads = frozenset({"prompts", "responses"})


def test_a_label_free_strategy_cannot_read_a_response_or_an_undeclared_task():
    pool = make_pool({"a": 6, "b": 4})
    with pytest.raises(
        SelbenchError, match=r"strategy 'PeekingStrategy' read the field 'response'.*'responses'"
    ):
        PeekingStrategy().select(pool, 3, make_features(pool), np.random.default_rng(0))
    view = pool.view(frozenset({"prompts"}), "a test")
    assert [ex.prompt for ex in view.examples] == [ex.prompt for ex in pool.examples]
    assert view.uids == pool.uids
    with pytest.raises(SelbenchError, match="a test read the field 'task'"):
        _ = view.tasks
    assert not PeekingStrategy().oracle


def test_a_strategy_that_declares_responses_reads_them_and_is_an_oracle():
    pool = make_pool({"a": 6, "b": 4})
    assert DeclaredOracle().oracle
    picked = DeclaredOracle().select(pool, 3, make_features(pool), np.random.default_rng(0))
    assert picked.tolist() == [0, 1, 2]
    assert build_strategy("task_uniform", {"within": "random"}).information() == {"prompts", "tasks"}


def test_the_only_builtin_oracle_is_ifd():
    from strategies import STRATEGIES

    assert [name for name in STRATEGIES.names() if build_strategy(name).oracle] == ["ifd"]
    assert build_strategy("ifd").information() == {"prompts", "base_model", "responses"}
    composed = build_strategy("task_uniform", {"within": "ifd"})  # an oracle picker makes an oracle
    assert composed.oracle


def test_ifd_takes_the_hardest_to_follow_below_the_cap_first():
    pool = make_pool({"a": 6})
    features = dataclasses.replace(make_features(pool), ifd=np.array([0.5, 1.3, 0.9, 0.2, 0.95, 1.0]))
    picked = build_strategy("ifd").select(pool, 5, features, np.random.default_rng(0))
    assert picked.tolist() == [4, 2, 0, 3, 1]  # below 1 by IFD descending, then the rest by IFD


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(5, 120),
    budget_share=st.floats(0.05, 1.0),
    neighbors=st.integers(1, 40),
    seed=st.integers(0, 99),
)
def test_facility_location_lazy_greedy_is_exact_greedy(n, budget_share, neighbors, seed):
    from strategies.facility_location import knn_similarity_graph, lazy_greedy, objective

    x = np.random.default_rng(seed).standard_normal((n, 6)).astype(np.float32)
    graph = knn_similarity_graph(x, neighbors)
    assert graph.nnz <= n * neighbors  # sparse: at most n_neighbors similarities per example
    budget = max(1, int(budget_share * n))
    lazy = lazy_greedy(graph, budget, np.arange(n))
    assert len(set(lazy.tolist())) == budget
    # every choice is a greedy one: the largest gain, every gain recomputed after the earlier choices
    # (within float rounding: near-ties may go either way, so the sequence, not the objective, is checked)
    sims, served = graph.toarray(), np.zeros(n)
    for step, j in enumerate(lazy.tolist()):
        gains = np.maximum(sims - served[:, None], 0).sum(0)
        gains[lazy[:step]] = -1
        assert gains[j] >= gains.max() - 1e-5, (step, j, gains.max())
        served = np.maximum(served, sims[:, j])
    assert objective(graph, lazy) == pytest.approx(np.maximum(sims[:, lazy].max(1), 0).sum(), rel=1e-5)


def test_facility_location_matches_apricot_on_the_same_sparse_graph():
    from apricot import FacilityLocationSelection

    from strategies.facility_location import knn_similarity_graph, lazy_greedy, objective

    x = np.random.default_rng(0).standard_normal((800, 16)).astype(np.float32)
    graph = knn_similarity_graph(x, 20)
    ours = lazy_greedy(graph, 40, np.arange(800))
    theirs = np.asarray(FacilityLocationSelection(40, metric="precomputed").fit(graph.T.tocsr()).ranking)
    assert objective(graph, ours) >= objective(graph, theirs) * (1 - 1e-6)
    assert np.array_equal(ours, theirs)  # the same greedy: the same order


def test_clustered_pseudo_tasks_need_no_labels_and_find_separated_tasks():
    """Tasks whose prompts form separate clusters: k-means clusters stand in for the labels, and the
    selection never reads a label (the pool view would raise)."""
    pool = make_pool({"a": 20, "b": 10, "c": 6})
    rng = np.random.default_rng(0)
    centres = 10 * rng.standard_normal((3, 8))
    embeddings = (centres[pool.task_ids()] + 0.1 * rng.standard_normal((len(pool), 8))).astype(np.float32)
    features = dataclasses.replace(make_features(pool), embeddings=embeddings)
    composed = build_strategy("task_uniform", {"groups": "clusters", "n_clusters": 3})
    assert composed.information() == {"prompts"}
    assert composed.required_features() == {"embeddings"}
    picked = composed.select(pool, 9, features, np.random.default_rng(1))
    assert sorted(np.bincount(pool.task_ids()[picked]).tolist()) == [3, 3, 3]
    inverse = build_strategy("task_inverse_confidence", {"groups": "clusters", "n_clusters": 3})
    assert inverse.required_features() == {"embeddings", "confidence"}
    assert inverse.information() == {"prompts", "base_model"}
    assert len(inverse.select(pool, 12, features, np.random.default_rng(1))) == 12
    with pytest.raises(SelbenchError, match="groups='topics'"):
        build_strategy("task_uniform", {"groups": "topics"})


def test_perplexity_bands():
    pool = make_pool({"a": 9})
    logprob = np.array([-1.0, -5.0, -3.0, -2.0, -4.0, -6.0, -0.5, -3.5, -2.5])
    features = dataclasses.replace(make_features(pool), prompt_logprob=logprob)

    def pick(band, budget=3):
        strategy = build_strategy("perplexity", {"band": band})
        return strategy.select(pool, budget, features, np.random.default_rng(0)).tolist()

    assert pick("low") == [6, 0, 3]  # the most likely prompts: lowest perplexity
    assert pick("high") == [5, 1, 4]
    assert pick("middle") == [2, 7, 8]  # closest to the median -3.0 (ties by the seed)
    assert build_strategy("perplexity").information() == {"prompts", "base_model"}
    with pytest.raises(SelbenchError, match="band='mid'"):
        build_strategy("perplexity", {"band": "mid"})
