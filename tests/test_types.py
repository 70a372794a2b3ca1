import numpy as np
import pytest

from benchmark.types import Example, Pool, content_hash


def make_pool(tasks=("b", "a", "b", "c")) -> Pool:
    return Pool("p", tuple(Example(f"q{i}", f"r{i}", t, "test") for i, t in enumerate(tasks)))


def test_uid_is_a_content_hash_of_prompt_response_and_task():
    ex = Example("q", "r", "t", "src")
    assert ex.uid == content_hash("q", "r", "t")
    assert Example("q", "r", "t", "other source").uid == ex.uid
    assert Example("q", "r2", "t", "src").uid != ex.uid
    assert Example("q", "r", "t2", "src").uid != ex.uid


def test_pool_rejects_duplicate_examples():
    ex = Example("q", "r", "t", "src")
    with pytest.raises(ValueError, match="duplicate"):
        Pool("p", (ex, Example("q", "r", "t", "src")))


def test_task_ids_index_sorted_task_names():
    pool = make_pool()
    assert pool.tasks == ("a", "b", "c")
    np.testing.assert_array_equal(pool.task_ids(), [1, 0, 1, 2])
    assert pool.task_ids().dtype == np.int64
    assert pool.task_counts() == {"a": 1, "b": 2, "c": 1}


def test_fingerprint_depends_on_content_and_order_not_name():
    pool = make_pool()
    assert Pool("other name", pool.examples).fingerprint() == pool.fingerprint()
    assert Pool("p", pool.examples[::-1]).fingerprint() != pool.fingerprint()
    assert pool.subset([0, 1]).fingerprint() != pool.fingerprint()


def test_subset_keeps_the_given_order():
    pool = make_pool()
    assert pool.subset([2, 0]).uids == (pool.uids[2], pool.uids[0])
