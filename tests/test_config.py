from pathlib import Path

import pytest

from benchmark.config import (
    ConfigError,
    apply_overrides,
    config_record,
    from_mapping,
    load_sweep_config,
    load_yaml,
)
from benchmark.data import PoolSpec
from benchmark.settings import ScorerConfig, TrainingConfig


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


SWEEP = """
name: tiny
pool:
  source: synthetic
  options: {examples_per_task: 20}
  heldout_per_task: 5
strategies:
  - random
  - name: task_inverse_confidence
    params: {temperature: 2.0}
budgets: [0, 0.1, 30, full]
seeds: [0, 1]
evaluators: [heldout]
training: {epochs: 1}
"""


def write(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


def test_sweep_config_from_yaml_with_overrides(tmp_path):
    config = load_sweep_config(write(tmp_path, SWEEP), ["training.epochs=2", "seeds=[3]"])
    assert [s.name for s in config.strategies] == ["random", "task_inverse_confidence"]
    assert config.strategies[1].params == {"temperature": 2.0}
    assert config.budgets == (0, 0.1, 30, "full")
    assert config.training.epochs == 2.0
    assert config.seeds == (3,)
    assert config.pool.heldout_per_task == 5


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("budgets: [0, 0.1, 30, full]", "budgets: [0, 1.5]"), r"budgets\[1\]: 1\.5 is not a count"),
        (("budgets: [0, 0.1, 30, full]", "budgets: [all]"), r"budgets\[0\]: 'all' is not a count"),
        (("  - random", "  - randm"), r"strategies\[0\]: unknown strategy 'randm'\. Did you mean 'random'\?"),
        (
            ("temperature: 2.0", "temp: 2.0"),
            r"strategies\[1\]: strategy 'task_inverse_confidence' has no parameter",
        ),
        (("evaluators: [heldout]", "evaluators: [heldot]"), r"evaluators\[0\]: unknown evaluator 'heldot'"),
        (
            ("training: {epochs: 1}", "training: {epoch: 1}"),
            r"config\.training\.epoch: unknown key\. Did you mean",
        ),
        (("seeds: [0, 1]", "seeds: [zero]"), r"config\.seeds\[0\]: expected int"),
        (("seeds: [0, 1]", "seeds: [0, -1]"), r"seeds\[1\]: -1 must be a non-negative integer"),
        (("budgets: [0, 0.1, 30, full]", "budgets: []"), r"budgets: give at least one budget"),
        (("name: tiny", "name: ../../x"), r"name: '\.\./\.\./x' names the output folder"),
        (
            ("heldout_per_task: 5", "heldout_per_task: 0"),
            r"evaluators\[0\] \(heldout\) scores the pool's held-out",
        ),
        (
            ("evaluators: [heldout]", "evaluators: [{name: heldout, params: {max_prompt_tokens: many}}]"),
            r"evaluators\[0\]\.params\.max_prompt_tokens: expected int, got 'many'",
        ),
        (
            ("params: {temperature: 2.0}", "params: {temperature: hot}"),
            r"strategies\[1\]\.params\.temperature: expected float, got 'hot'",
        ),
        (
            ("evaluators: [heldout]", "evaluators: [heldout]\nheadline: {mmlu_native: acc}"),
            r"headline\.mmlu_native: not one of the evaluators \(heldout\)",
        ),
        (
            ("evaluators: [heldout]", "evaluators: [heldout]\nheadline: {heldout: gold_logprob_macr}"),
            r"headline\.heldout: 'gold_logprob_macr' is not a metric of heldout\. Did you mean 'gold_logprob_macro'",  # noqa: E501
        ),
    ],
)
def test_sweep_config_errors_name_file_and_key(tmp_path, edit, message):
    path = write(tmp_path, SWEEP.replace(*edit))
    with pytest.raises(ConfigError, match=f"sweep.yaml: .*{message}"):
        load_sweep_config(path)


def test_all_strategies_and_environment_variables(tmp_path, monkeypatch):
    from strategies import STRATEGIES

    path = tmp_path / "sweep.yaml"
    path.write_text(
        "name: s\npool: {source: synthetic}\nstrategies: all\nbudgets: [2]\n"
        "evaluators: [{name: mmlu_native, params: {path: '${SELBENCH_TEST_DATA:-/default}/mmlu'}}]\n"
    )
    config = load_sweep_config(path)
    assert [s.name for s in config.strategies] == STRATEGIES.names()
    assert config.evaluators[0].params["path"] == "/default/mmlu"
    monkeypatch.setenv("SELBENCH_TEST_DATA", "/data")
    config = load_sweep_config(path)
    assert config.evaluators[0].params["path"] == "/data/mmlu"
    record = config_record(config)  # what run records store: the value as written, not this machine's
    assert record["evaluators"][0]["params"]["path"] == "${SELBENCH_TEST_DATA:-/default}/mmlu"
    assert record["budgets"] == [2]
    assert "as_written" not in record
    path.write_text(path.read_text().replace(":-/default", ""))
    monkeypatch.delenv("SELBENCH_TEST_DATA")
    with pytest.raises(ConfigError, match="environment variable SELBENCH_TEST_DATA is not set"):
        load_sweep_config(path)


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml")), ids=lambda p: p.name
)
def test_every_shipped_config_is_valid(path):
    config = load_sweep_config(path)
    assert config.name
    assert config.budgets


def test_the_model_is_one_top_level_key_for_scoring_and_training(tmp_path):
    path = tmp_path / "sweep.yaml"
    base = (
        "name: s\npool: {source: synthetic}\nstrategies: [random]\nbudgets: [2]\nevaluators: [mmlu_native]\n"
    )
    path.write_text(base + "model: {name_or_path: /models/mine, dtype: bfloat16}\n")
    config = load_sweep_config(path)
    assert config.scorer.model == config.model
    assert config.model.dtype == "bfloat16"
    path.write_text(base + "scorer: {model: {name_or_path: /models/mine}}\n")  # where it was before
    with pytest.raises(ConfigError, match=r"sweep\.yaml: scorer\.model: the model is a top-level key now"):
        load_sweep_config(path)
