import json

from benchmark.store import RunStore, git_commit, provenance


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


def test_only_code_changes_make_a_checkout_dirty(tmp_path):
    """Records and reports written under results/ (a study running beside the code) are output: a
    provenance that called them uncommitted code would say every record of a running study is dirty."""
    import subprocess

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "cell.json").write_text("{}\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    assert git_commit(tmp_path)["dirty"] is False
    (tmp_path / "results" / "cell.json").write_text('{"a": 1}\n')
    assert git_commit(tmp_path)["dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path)["dirty"] is True
