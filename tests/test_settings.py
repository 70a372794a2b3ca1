"""A study resumed with other settings says which stored runs it will not reuse, and why, before it
recomputes them."""

import dataclasses
import logging

from benchmark.config import SweepConfig
from benchmark.data import load_pool
from benchmark.records import TrainingInfo
from benchmark.store import RunStore
from runners.plan import plan
from runners.settings import differing_settings, unreused_runs
from runners.sweep import execute
from tests.fake_harness import FakeHarness
from tests.test_sweep_execute import CONFIG


def planned_todo(config: SweepConfig, store: RunStore):
    loaded = load_pool(config.pool)
    cells = plan(config, loaded.pool, loaded.heldout, "fake-model")
    return [c for c in cells if store.load(c.key) is None]


def test_differing_settings_names_leaves_and_skips_model_locations():
    stored = {"training": {"lr": 1, "epochs": 1}, "model": {"name_or_path": "/a"}, "old": 1}
    here = {"training": {"lr": 2, "epochs": 1}, "model": {"name_or_path": "/b"}}
    assert differing_settings(stored, here) == ["training.lr"]


def test_changed_training_names_the_setting(tmp_path, caplog):
    store = RunStore(tmp_path / "runs")
    execute(CONFIG, FakeHarness(), store, progress=False)
    changed = dataclasses.replace(CONFIG, training=dataclasses.replace(CONFIG.training, learning_rate=1e-3))
    todo = planned_todo(changed, store)
    assert len(todo) == 3 * 2 + 2  # the base model's key does not hold training settings
    warning = unreused_runs(todo, store.runs(), changed, "fake-model", bf16=False)
    assert warning.startswith("8 of the 8 cells to run are stored already under another key")
    assert "training.learning_rate (8 runs)" in warning
    assert "--set" not in warning
    with caplog.at_level(logging.WARNING):
        execute(changed, FakeHarness(), store, progress=False)
    assert "training.learning_rate (8 runs)" in caplog.text
    assert unreused_runs(planned_todo(CONFIG, store), store.runs(), CONFIG, "fake-model", False) is None


def test_bfloat16_resolved_otherwise_here_says_how_to_reuse(tmp_path):
    store = RunStore(tmp_path / "runs")
    execute(CONFIG, FakeHarness(), store, progress=False)
    trained = TrainingInfo(steps=12, tokens=100, seconds=1.0, bf16=True)
    records = [
        dataclasses.replace(
            r, training=trained if r.cell.budget else None, model={"fingerprint": "fake-model"}
        )
        for r in store.runs()
    ]
    changed = dataclasses.replace(CONFIG, training=dataclasses.replace(CONFIG.training, warmup_ratio=0.2))
    warning = unreused_runs(planned_todo(changed, store), records, changed, "fake-model", bf16=False)
    assert "bfloat16 training (True there, False here) (8 runs)" in warning
    assert "--set training.bf16=true" in warning
    assert "emulated" in warning
    other = unreused_runs(planned_todo(changed, store), records, changed, "other-model", bf16=True)
    assert "the model's weights (8 runs)" in other
    assert "bfloat16" not in other
