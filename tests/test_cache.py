import json

import numpy as np
import pytest

from benchmark.cache import MANIFEST, FeatureCache


@pytest.fixture
def cache(tmp_path):
    return FeatureCache(tmp_path)


def test_round_trip_and_miss(cache):
    key = cache.key(kind="confidence", pool="abc")
    assert cache.load(key) is None
    cache.save(key, {"a": np.arange(5.0), "b": np.eye(2, dtype=np.float32)}, {"note": "x"})
    arrays, meta = cache.load(key)
    np.testing.assert_array_equal(arrays["a"], np.arange(5.0))
    assert arrays["b"].dtype == np.float32
    assert meta == {"note": "x"}
    assert cache.key(kind="confidence", pool="abd") != key
    assert not [p for p in cache.root.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_truncated_array_file_is_detected_and_removed(cache):
    key = cache.key(kind="k")
    cache.save(key, {"a": np.arange(1000.0)}, {})
    file = cache.path(key) / "a.npy"
    file.write_bytes(file.read_bytes()[:-100])
    assert cache.load(key) is None
    assert not cache.path(key).exists()


def test_altered_array_with_valid_format_is_detected(cache):
    key = cache.key(kind="k")
    cache.save(key, {"a": np.zeros(10)}, {})
    np.save(cache.path(key) / "a.npy", np.ones(10))
    assert cache.load(key) is None


@pytest.mark.parametrize("damage", ["truncate", "edit"])
def test_corrupt_manifest_is_detected(cache, damage):
    key = cache.key(kind="k")
    cache.save(key, {"a": np.zeros(3)}, {"tasks": ["x"]})
    manifest = cache.path(key) / MANIFEST
    if damage == "truncate":
        manifest.write_text(manifest.read_text()[:20])
    else:
        body = json.loads(manifest.read_text())
        body["meta"]["tasks"] = ["y"]
        manifest.write_text(json.dumps(body))
    assert cache.load(key) is None


def test_no_pickle_in_cached_files(cache):
    key = cache.key(kind="k")
    with pytest.raises(ValueError, match="pickle"):
        cache.save(key, {"a": np.array([object()])}, {})
    assert cache.load(key) is None


def test_entries_follow_the_umask(cache):
    import os
    import stat

    old = os.umask(0o022)
    try:
        cache.save("k", {"x": np.zeros(3)}, {})
    finally:
        os.umask(old)
    (entry,) = [p for p in cache.root.iterdir() if not p.name.startswith(".")]
    assert stat.S_IMODE(entry.stat().st_mode) == 0o755


def test_an_entry_wanted_by_two_processes_at_once_is_computed_once(tmp_path):
    import threading
    import time

    cache = FeatureCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.3)  # the second caller arrives while this one computes
        return {"x": np.arange(3.0)}, {}

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute, "x")))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert [arrays["x"].tolist() for arrays, _ in results] == [[0.0, 1.0, 2.0]] * 2
    assert [meta["cost"]["seconds"] >= 0.3 for _, meta in results] == [True, True]  # the one computation's
