from importlib.metadata import EntryPoint

import pytest

from benchmark import registry
from benchmark.errors import SelbenchError
from benchmark.registry import Registry


def test_register_and_get():
    reg: Registry[int] = Registry("thing")
    reg.register("one")(1)
    assert reg.get("one") == 1
    assert reg.names() == ["one"]
    assert list(reg) == [("one", 1)]


def test_registering_a_second_object_under_a_name_fails():
    reg: Registry[int] = Registry("thing")
    reg.register("one")(1)
    reg.register("one")(1)  # the same object again (module re-import) is fine
    with pytest.raises(SelbenchError, match="registered twice"):
        reg.register("one")(2)


def test_unknown_name_lists_known_names_and_a_close_match():
    reg: Registry[int] = Registry("thing")
    reg.register("kcenter")(1)
    reg.register("random")(2)
    with pytest.raises(
        SelbenchError, match=r"unknown thing 'kcentre'\. Did you mean 'kcenter'\? Known: kcenter, random"
    ):
        reg.get("kcentre")


def test_entry_points_are_discovered_on_first_lookup(monkeypatch):
    ep = EntryPoint(name="plugged", value="json:dumps", group="selbench.test")
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep] if group == "selbench.test" else [])
    reg: Registry[object] = Registry("thing", entry_point_group="selbench.test")
    import json

    assert reg.get("plugged") is json.dumps
