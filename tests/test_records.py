"""Typed run records: every record committed under results/ loads, and the JSON round trip loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmark.errors import SelbenchError
from benchmark.evaluation import EVALUATORS
from benchmark.records import SCHEMA_VERSION, RunRecord
from benchmark.store import RunStore
from runners.sweep import execute
from tests.fake_harness import FakeHarness
from tests.test_sweep_execute import CONFIG

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = sorted((ROOT / "results").glob("*/**/runs/*.json"))


def _contained(original, output, where="record") -> None:
    """Every value of ``original`` is in ``output`` (which may add defaults)."""
    if isinstance(original, dict):
        for key, value in original.items():
            assert key in output, f"{where}.{key} lost"
            _contained(value, output[key], f"{where}.{key}")
    else:
        assert original == output, f"{where}: {original!r} became {output!r}"


def test_every_committed_record_loads_and_round_trips_without_loss():
    assert len(COMMITTED) >= 200  # the first two studies' 200, the pilot's and flan_v2's
    for path in COMMITTED:
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("checksum")
        record = RunRecord.from_json(data, str(path))
        assert record.schema_version == data.get("schema_version", 1)
        assert RunRecord.from_json(record.to_json()) == record
        _contained(data, record.to_json(), path.name)
        for name, evaluation in record.evaluations.items():  # what a config's `headline` may name
            if record.schema_version == SCHEMA_VERSION:
                # MMLU results kept their few-shot count among the metrics until it moved to details;
                # the dolly_cpu study's records were computed by the code from before that move
                legacy = {"num_fewshot"} if name.startswith("mmlu") else set()
                assert set(evaluation.metrics) - legacy <= set(EVALUATORS.get(name).metric_names()), path.name


def test_sweeps_store_typed_records_of_this_schema(tmp_path):
    store = RunStore(tmp_path / "runs")
    execute(CONFIG, FakeHarness(), store, progress=False)
    runs = store.runs()
    assert len(runs) == 9
    assert {r.schema_version for r in runs} == {SCHEMA_VERSION}
    uniform = [r for r in runs if r.strategy == "task_uniform"]
    assert all(r.metric("heldout", "acc") == 1.0 for r in uniform)
    assert all(len(r.selection.uids) == r.cell.budget for r in runs)
    assert runs[0].config["seeds"] == [0, 1]


def test_a_record_of_a_newer_schema_or_missing_fields_is_a_clear_error():
    with pytest.raises(SelbenchError, match="schema version 99"):
        RunRecord.from_json({"schema_version": 99}, "x.json")
    with pytest.raises(SelbenchError, match=r"x\.json: not a run record"):
        RunRecord.from_json({"cell": {}}, "x.json")
