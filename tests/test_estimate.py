import pytest

from benchmark.data import PoolSpec, load_pool
from benchmark.records import CellId, PoolInfo, RunRecord, TrainingInfo
from benchmark.settings import TrainingConfig
from runners.estimate import (
    cell_seconds,
    format_duration,
    mean_example_tokens,
    measured_rates,
    training_tokens,
)
from tests.fake_tokenizer import CharTokenizer


def record(train_tokens, train_seconds, total_seconds):
    return RunRecord(
        key=None,
        cell=CellId("random", {}, 10, 0),
        pool=PoolInfo("p", "f", 100),
        selection=None,
        evaluations={},
        training=TrainingInfo(steps=1, tokens=train_tokens, seconds=train_seconds) if train_tokens else None,
        timings={"select_seconds": 0.1, "train_evaluate_seconds": total_seconds},
    )


def test_rates_come_from_finished_cells():
    rates = measured_rates([record(0, 0, 10.0), record(1000, 5.0, 15.0), record(3000, 15.0, 25.0)])
    assert rates.train_tokens_per_second == pytest.approx(200.0)
    assert rates.evaluation_seconds == pytest.approx(10.0)  # 10 s outside training in each
    assert cell_seconds(400, rates) == pytest.approx(12.0)
    assert cell_seconds(0, rates) == pytest.approx(10.0)
    unknown = measured_rates([])
    assert unknown.cells == 0
    assert cell_seconds(400, unknown) is None


def test_training_tokens_follow_the_pool_lengths_and_epochs():
    pool = load_pool(PoolSpec(options={"examples_per_task": 4})).pool
    per_example = mean_example_tokens(pool, CharTokenizer(), max_length=64)
    assert 0 < per_example <= 64
    training = TrainingConfig(epochs=2)
    assert training_tokens(per_example, training, 0) == 0
    assert training_tokens(per_example, training, 10) == pytest.approx(20 * per_example, abs=1)
    steps = TrainingConfig(max_steps=3, batch_size=4)
    assert training_tokens(per_example, steps, 10) == pytest.approx(12 * per_example, abs=1)
    assert format_duration(75) == "1m15s"
    assert format_duration(3720) == "1h02m"


def test_min_steps_raise_small_budgets_to_the_same_compute():
    from benchmark.training import planned_steps
    from runners.estimate import training_tokens

    config = TrainingConfig(epochs=1, min_steps=12, batch_size=8)
    assert [planned_steps(config, n) for n in (12, 48, 96, 240)] == [12, 12, 12, 30]
    assert training_tokens(10.0, config, 12) == training_tokens(10.0, config, 96) == 960
    assert training_tokens(10.0, config, 240) == 2400
    assert planned_steps(TrainingConfig(max_steps=5, min_steps=12), 1000) == 5  # max_steps wins
