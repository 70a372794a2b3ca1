import json

from benchmark.store import RunStore, provenance


def test_round_trip_and_listing(tmp_path):
    store = RunStore(tmp_path / "runs")
    assert store.load("abc") is None
    store.save("abc", {"metrics": {"acc": 0.5}, "budget": 10})
    store.save("abd", {"metrics": {"acc": 0.6}, "budget": 20})
    assert store.load("abc") == {"key": "abc", "metrics": {"acc": 0.5}, "budget": 10}
    assert store.keys() == ["abc", "abd"]
    assert [record["budget"] for record in map(store.load, store.keys())] == [10, 20]
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_truncated_or_edited_records_are_never_read(tmp_path, caplog):
    store = RunStore(tmp_path)
    path = store.save("k1", {"metrics": {"acc": 0.5}})
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    assert store.load("k1") is None
    record = json.loads(text)
    record["metrics"]["acc"] = 0.9
    path.write_text(json.dumps(record))
    assert store.load("k1") is None
    assert "checksum does not match" in caplog.text
    store.save("k2", {"metrics": {}})
    store.path("k2").rename(store.path("k3"))  # a record filed under another key
    assert store.load("k3") is None
    assert list(map(store.load, store.keys())) == [None, None]


def test_provenance_names_the_code_and_packages():
    record = provenance()
    assert len(record["git"]["commit"]) == 40
    assert record["packages"]["torch"].startswith("2.13.0")
    assert record["packages"]["selbench"] == "0.1.0"
    assert record["created"].endswith("+00:00")


def test_records_get_the_users_umask_not_owner_only(tmp_path):
    import os
    import stat

    from benchmark.atomic import atomic_write_text

    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
