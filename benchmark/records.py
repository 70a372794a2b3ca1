"""A run's record as typed, frozen dataclasses with a schema version and a JSON round trip.

The store keeps JSON (one file per cell, checksummed); everything that reads runs (report, estimate,
CLI) reads them as ``RunRecord`` through ``RunRecord.from_json``, so a field is named in one place.
Records written before the schema had a version are version 1 and load unchanged: every record
committed under ``results/`` is read by a test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmark.errors import SelbenchError

SCHEMA_VERSION = 2  # 1: records without "schema_version" (the same fields)


def strategy_label(name: str, params: Mapping[str, Any]) -> str:
    """How tables name a strategy: its name, with its parameters where it has any, so two settings of
    one strategy (``task_uniform(within=kcenter)``) stay two rows."""
    if name == "submitted":  # strategies.base.SUBMITTED: the selections' uids are no label
        return f"submitted:{params.get('name', '?')}"
    if not params:
        return name
    inner = ", ".join(
        f"{k}={json.dumps(v, sort_keys=True) if isinstance(v, Mapping | list) else v}"
        for k, v in sorted(params.items())
    )
    return f"{name}({inner})"


def registered_name(label: str) -> str:
    """The strategy name in a table label (``strategy_label``, oracles marked)."""
    return label.split("(")[0].split(" ")[0].split(":")[0]


ORACLE_MARK = " [oracle]"  # after the label of a strategy whose selection read the gold responses


@dataclass(frozen=True)
class CellId:
    """Which cell: a strategy with its parameters, a budget (examples annotated) and a seed."""

    strategy: str
    params: Mapping[str, Any]
    budget: int
    seed: int

    @property
    def label(self) -> str:
        return f"{self.strategy} budget={self.budget} seed={self.seed}"

    @property
    def strategy_label(self) -> str:
        return strategy_label(self.strategy, self.params)


@dataclass(frozen=True)
class PoolInfo:
    name: str
    fingerprint: str
    size: int


@dataclass(frozen=True)
class SelectionInfo:
    """The selected examples' uids (anyone can retrain on exactly them) and their hash; ``reads``: what
    the selection read of the pool (``benchmark.types.READS``; "responses": an oracle)."""

    uids: tuple[str, ...]
    hash: str
    reads: tuple[str, ...] = ()
    # scoring_seconds and scoring_tokens (computing the features it read), select_seconds
    cost: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def oracle(self) -> bool:
        return "responses" in self.reads


@dataclass(frozen=True)
class TrainingInfo:
    """What SFT did: steps, tokens, time, the loss curve, precision, how many examples were cut."""

    steps: int
    tokens: int
    seconds: float
    loss_curve: tuple[Mapping[str, Any], ...] = ()
    final_loss: float | None = None
    tokens_per_second: float | None = None
    bf16: bool | None = None
    prompts_cut: int = 0
    responses_cut: int = 0
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """One evaluator's result: headline and continuous metrics, per-task values, settings, details."""

    metrics: Mapping[str, float]
    per_task: Mapping[str, float] = field(default_factory=dict)
    n: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """One finished cell."""

    key: str | None
    cell: CellId
    pool: PoolInfo
    selection: SelectionInfo | None
    evaluations: Mapping[str, Evaluation]
    training: TrainingInfo | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    model: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] | None = None
    evaluation_precision: str | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def strategy(self) -> str:
        return self.cell.strategy

    @property
    def table_label(self) -> str:
        """The strategy as tables name it: with its parameters, an oracle marked."""
        oracle = self.selection is not None and self.selection.oracle
        return self.cell.strategy_label + (ORACLE_MARK if oracle else "")

    @property
    def created(self) -> str:
        """When the sweep that computed this cell started (its code's provenance)."""
        return str(self.provenance.get("created", ""))

    def metric(self, evaluator: str, name: str) -> float | None:
        """``evaluations[evaluator].metrics[name]``, None when this run lacks it."""
        evaluation = self.evaluations.get(evaluator)
        return None if evaluation is None else evaluation.metrics.get(name)

    def per_task(self, evaluator: str, family: str) -> Mapping[str, float]:
        """Each task's mean of a metric family (``acc``: accuracy; a continuous family from the
        evaluator's ``per_task_<family>`` details); empty where this run has none."""
        evaluation = self.evaluations.get(evaluator)
        if evaluation is None:
            return {}
        return evaluation.per_task if family == "acc" else evaluation.details.get(f"per_task_{family}", {})

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "run record") -> RunRecord:
        """A record from its stored JSON (any schema version up to this one); an error names ``where``."""
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise SelbenchError(
                f"{where}: schema version {version!r}; this selbench reads up to {SCHEMA_VERSION}. "
                "Upgrade selbench."
            )
        try:
            cell, pool = data["cell"], data["pool"]
            selection = data.get("selection")
            training = data.get("training")
            return cls(
                key=data.get("key"),
                cell=CellId(
                    cell["strategy"]["name"], dict(cell["strategy"]["params"]), cell["budget"], cell["seed"]
                ),
                pool=PoolInfo(pool["name"], pool["fingerprint"], pool["size"]),
                selection=SelectionInfo(
                    tuple(selection["uids"]),
                    selection["hash"],
                    tuple(selection.get("reads", ())),
                    dict(selection.get("cost", {})),
                )
                if selection
                else None,
                evaluations={
                    name: Evaluation(**{k: v for k, v in e.items() if k in _EVALUATION_FIELDS})
                    for name, e in data.get("evaluations", {}).items()
                },
                training=None
                if training is None
                else TrainingInfo(
                    **{k: v for k, v in training.items() if k in _TRAINING_FIELDS}
                    | {"loss_curve": tuple(training.get("loss_curve", ()))}
                ),
                timings=dict(data.get("timings", {})),
                model=dict(data.get("model", {})),
                provenance=dict(data.get("provenance", {})),
                config=data.get("config"),
                evaluation_precision=data.get("evaluation_precision"),
                schema_version=version,
            )
        except (KeyError, TypeError) as err:
            raise SelbenchError(f"{where}: not a run record (missing or malformed {err}).") from None

    def to_json(self) -> dict[str, Any]:
        """The stored form: the JSON ``from_json`` reads back to an equal record."""
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "key": self.key,
            "cell": {
                "strategy": {"name": self.cell.strategy, "params": dict(self.cell.params)},
                "budget": self.cell.budget,
                "seed": self.cell.seed,
            },
            "pool": {"name": self.pool.name, "fingerprint": self.pool.fingerprint, "size": self.pool.size},
            "evaluations": {name: _evaluation_json(e) for name, e in self.evaluations.items()},
            "timings": dict(self.timings),
        }
        if self.selection is not None:
            out["selection"] = {"uids": list(self.selection.uids), "hash": self.selection.hash}
            if self.selection.reads:
                out["selection"]["reads"] = list(self.selection.reads)
            if self.selection.cost:
                out["selection"]["cost"] = dict(self.selection.cost)
        if self.training is not None:
            t = self.training
            out["training"] = {
                name: getattr(t, name) for name in _TRAINING_FIELDS if name != "loss_curve"
            } | {"loss_curve": list(t.loss_curve), "config": dict(t.config)}
        for name in ("model", "provenance"):
            if getattr(self, name):
                out[name] = dict(getattr(self, name))
        if self.config is not None:
            out["config"] = self.config
        if self.evaluation_precision is not None:
            out["evaluation_precision"] = self.evaluation_precision
        return out


_EVALUATION_FIELDS = ("metrics", "per_task", "n", "params", "details")
_TRAINING_FIELDS = tuple(TrainingInfo.__dataclass_fields__)


def _evaluation_json(e: Evaluation) -> dict[str, Any]:
    return {
        "metrics": dict(e.metrics),
        "per_task": dict(e.per_task),
        "n": e.n,
        "params": dict(e.params),
        "details": dict(e.details),
    }
