import pytest

from benchmark.config import ConfigError, apply_overrides, from_mapping, load_yaml
from benchmark.data import PoolSpec
from benchmark.scoring import ScorerConfig
from benchmark.training import TrainingConfig


def test_builds_nested_typed_settings():
    pool = from_mapping(
        PoolSpec,
        {"source": "flan", "options": {"path": "x"}, "tasks": ["a", "b"], "heldout_per_task": 5},
        "pool",
    )
    assert pool.tasks == ("a", "b")
    assert pool.options == {"path": "x"}
    training = from_mapping(
        TrainingConfig, {"learning_rate": 1, "target_modules": ["q_proj", "v_proj"]}, "training"
    )
    assert training.learning_rate == 1.0
    assert isinstance(training.learning_rate, float)
    assert training.target_modules == ("q_proj", "v_proj")
    scorer = from_mapping(ScorerConfig, {"model": {"name_or_path": "/m", "gguf_file": "w.gguf"}}, "scorer")
    assert scorer.model.gguf_file == "w.gguf"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"heldout_per_tsk": 3}, r"pool\.heldout_per_tsk: unknown key\. Did you mean 'heldout_per_task'\?"),
        ({"heldout_per_task": "many"}, r"pool\.heldout_per_task: expected int, got 'many'"),
        ({"heldout_per_task": True}, r"pool\.heldout_per_task: expected int, got True"),
        ({"tasks": "copy"}, r"pool\.tasks: expected a list of str or null, got 'copy'"),
        ({"options": [1]}, r"pool\.options: expected a mapping"),
        ({"heldout_per_task": -1}, r"pool: pool heldout_per_task=-1: must be an integer of at least 0"),
    ],
)
def test_errors_name_the_key_path(data, message):
    spec = from_mapping(PoolSpec, {}, "pool")
    assert spec.source == "synthetic"
    with pytest.raises(ConfigError, match=message):
        from_mapping(PoolSpec, data, "pool")


def test_invalid_values_caught_by_the_dataclass_are_prefixed():
    with pytest.raises(ConfigError, match=r"training: training method='qlora'"):
        from_mapping(TrainingConfig, {"method": "qlora"}, "training")


def test_overrides_and_yaml_errors(tmp_path):
    data = apply_overrides({"training": {"epochs": 3}}, ["training.epochs=1", "pool.seed=4", "name=x y"])
    assert data == {"training": {"epochs": 1}, "pool": {"seed": 4}, "name": "x y"}
    with pytest.raises(ConfigError, match=r"expected KEY\.PATH=VALUE"):
        apply_overrides({}, ["training.epochs"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("pool:\n  source: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: not valid YAML"):
        load_yaml(bad)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_yaml(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_yaml(tmp_path / "list.yaml")
