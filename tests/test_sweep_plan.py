import dataclasses

import pytest

from benchmark.config import ComponentSpec, ConfigError, SweepConfig
from benchmark.data import PoolSpec, load_pool
from runners.plan import BASE, FULL, plan, resolve_budgets


@pytest.fixture(scope="module")
def loaded():
    return load_pool(PoolSpec(options={"examples_per_task": 10}, heldout_per_task=2))  # 120 pool examples


def config(**changes) -> SweepConfig:
    base = SweepConfig(
        name="t",
        pool=PoolSpec(options={"examples_per_task": 10}, heldout_per_task=2),
        strategies=(ComponentSpec("random"), ComponentSpec("task_inverse_confidence")),
        budgets=(0, 0.1, 30, "full"),
        evaluators=(ComponentSpec("heldout"),),
        seeds=(0, 1),
    )
    return dataclasses.replace(base, **changes)


def test_budgets_resolve_to_sorted_unique_counts():
    assert resolve_budgets((0, 0.1, 30, "full", 12), 120) == [0, 12, 30, 120]
    assert resolve_budgets((0.001,), 120) == [1]
    with pytest.raises(ConfigError, match=r"budgets\[1\]: 500 exceeds the pool size 120"):
        resolve_budgets((0, 500), 120)


def test_plan_shares_base_and_full_cells(loaded):
    cells = plan(config(), loaded.pool, loaded.heldout, model="m")
    assert [(c.strategy.name, c.budget, c.seed) for c in cells] == [
        ("base", 0, 0),
        ("random", 12, 0),
        ("random", 12, 1),
        ("task_inverse_confidence", 12, 0),
        ("task_inverse_confidence", 12, 1),
        ("random", 30, 0),
        ("random", 30, 1),
        ("task_inverse_confidence", 30, 0),
        ("task_inverse_confidence", 30, 1),
        ("full", 120, 0),
        ("full", 120, 1),
    ]
    assert len({c.key for c in cells}) == len(cells)
    assert cells[0].strategy == BASE
    assert cells[-1].strategy == FULL


def test_keys_change_with_what_decides_a_result_and_only_that(loaded):
    keys = {c.label: c.key for c in plan(config(), loaded.pool, loaded.heldout, model="m")}

    def relabel(**changes):
        return {c.label: c.key for c in plan(config(**changes), loaded.pool, loaded.heldout, model="m")}

    assert relabel() == keys  # deterministic
    trained = relabel(training=dataclasses.replace(config().training, epochs=1.0))
    assert trained["base budget=0 seed=0"] == keys["base budget=0 seed=0"]  # the base model is not trained
    assert trained["random budget=12 seed=0"] != keys["random budget=12 seed=0"]
    scored = relabel(scorer=dataclasses.replace(config().scorer, task_sample_size=8, batch_size=4))
    assert scored["random budget=12 seed=0"] == keys["random budget=12 seed=0"]  # random needs no features
    assert (
        scored["task_inverse_confidence budget=12 seed=0"] != keys["task_inverse_confidence budget=12 seed=0"]
    )
    batch_only = relabel(scorer=dataclasses.replace(config().scorer, batch_size=4))
    assert batch_only == keys  # the batch size does not decide results
    other_model = {c.label: c.key for c in plan(config(), loaded.pool, loaded.heldout, model="other")}
    assert not set(other_model.values()) & set(keys.values())


def test_the_key_holds_the_precision_this_machine_trains_in(loaded, monkeypatch):
    import benchmark.training

    def keys(**changes):
        return {c.label: c.key for c in plan(config(**changes), loaded.pool, loaded.heldout, model="m")}

    forced = keys(training=dataclasses.replace(config().training, bf16=True))
    monkeypatch.setattr(benchmark.training.torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    assert keys() == forced  # bf16: null resolves to what this (bfloat16-capable) machine uses
    monkeypatch.setattr(benchmark.training.torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(benchmark.training.torch.cpu, "_is_amx_tile_supported", lambda: False)
    plain = keys()
    assert plain["random budget=12 seed=0"] != forced["random budget=12 seed=0"]
    # evaluation runs in the weights' precision whatever training used: the base model is one cell
    assert plain["base budget=0 seed=0"] == forced["base budget=0 seed=0"]


def test_keys_hold_evaluation_data_by_content_not_by_location(loaded, data_dir, tmp_path):
    """A study moved to another data folder keeps its finished cells; a different slice does not."""
    moved = tmp_path / "mmlu"
    for split in ("dev", "test"):
        (moved / split).mkdir(parents=True)
        for subject in ("anatomy", "virology"):
            name = f"{subject}_{split}.csv"
            (moved / split / name).write_bytes((data_dir / "mmlu" / split / name).read_bytes())

    def keys(path, **params):
        mmlu = ComponentSpec("mmlu_native", {"path": str(path), "subjects": ["anatomy", "virology"]} | params)
        cells = plan(config(evaluators=(mmlu,)), loaded.pool, loaded.heldout, model="m")
        return [c.key for c in cells]

    assert keys(data_dir / "mmlu", limit_per_subject=3) == keys(moved, limit_per_subject=3)
    assert keys(moved, limit_per_subject=3) != keys(moved, limit_per_subject=4)
    assert keys(moved, limit_per_subject=3, progress=False) == keys(moved, limit_per_subject=3)
    (moved / "test" / "virology_test.csv").write_text("Edited question?,a,b,c,d,A\n")
    assert keys(data_dir / "mmlu", limit_per_subject=3) != keys(moved, limit_per_subject=3)
