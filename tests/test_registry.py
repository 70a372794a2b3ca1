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


def _plugins(monkeypatch, *specs: tuple[str, str]) -> None:
    eps = [EntryPoint(name=name, value=value, group="selbench.test") for name, value in specs]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps if group == "selbench.test" else [])


def test_a_plugin_that_fails_to_import_is_listed_and_the_others_still_load(monkeypatch, caplog):
    import json

    _plugins(monkeypatch, ("broken", "no_such_module_xyz:Thing"), ("fine", "json:dumps"))
    reg: Registry[object] = Registry("thing", entry_point_group="selbench.test")
    assert reg.get("fine") is json.dumps
    assert "ModuleNotFoundError" in reg.broken["broken"]
    assert "no_such_module_xyz:Thing" in caplog.text
    with pytest.raises(SelbenchError, match=r"'broken': no_such_module_xyz:Thing .* failed to import"):
        reg.get("broken")


def test_a_plugin_taking_a_built_in_name_is_an_error_naming_both(monkeypatch):
    import json

    _plugins(monkeypatch, ("dumps", "json:loads"))
    reg: Registry[object] = Registry("thing", entry_point_group="selbench.test")
    reg.register("dumps")(json.dumps)
    with pytest.raises(SelbenchError, match=r"'dumps' from json:loads .* collides with json\.dumps"):
        reg.names()


def test_reserved_names_cannot_be_strategies():
    from strategies import Strategy, register_strategy

    class Everything(Strategy):
        def _select(self, pool, budget, features, rng):
            return list(range(budget))

    with pytest.raises(SelbenchError, match="'full' is reserved"):
        register_strategy("full")(Everything)


def test_strategies_lists_a_plugin_with_a_required_parameter_and_a_broken_one(monkeypatch, capsys):
    from runners.cli import main
    from strategies import STRATEGIES, Strategy

    class NeedsK(Strategy):
        requires = frozenset({"embeddings"})

        def __init__(self, *, k: int) -> None:
            self.k = k

        def _select(self, pool, budget, features, rng):
            return list(range(budget))

    monkeypatch.setattr(STRATEGIES, "_items", dict(STRATEGIES._items))
    monkeypatch.setattr(STRATEGIES, "broken", {"ghost": "ghost_pkg:Ghost failed to import: ImportError: x"})
    STRATEGIES.register("needs_k")(NeedsK)
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    assert "needs_k" in out
    assert "not loaded: ghost: ghost_pkg:Ghost failed to import" in out
