"""A study's results as one versioned file (``leaderboard.json``, checked against its JSON Schema):
strategies with what they read, every metric per strategy and budget with its interval over seeds, the
curve statistics, provenance and the selected uids' hashes. Tables and sites can be built from it alone."""

from __future__ import annotations

import json
import math
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from benchmark.atomic import atomic_write_text
from benchmark.errors import SelbenchError
from benchmark.records import RunRecord, registered_name
from benchmark.types import content_hash
from runners.comparison import control_strategies
from runners.curves import area_under_curve
from runners.power import Difference
from runners.report import reported_metrics, results_frame

SCHEMA_VERSION = 1


def schema() -> dict[str, Any]:
    return json.loads(files("runners").joinpath("leaderboard_schema.json").read_text(encoding="utf-8"))


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _cells(frame: Any) -> list[dict[str, Any]]:
    out = []
    for (strategy, budget), rows in frame.groupby(["strategy", "budget"]):
        d = Difference.of(rows["value"].to_numpy())
        std = float(rows["value"].std(ddof=1)) if len(rows) > 1 else None
        out.append(
            {"strategy": strategy, "budget": int(budget), "n": len(rows), "mean": d.mean, "std": _number(std),
             "low": _number(d.low), "high": _number(d.high)}
        )  # fmt: skip
    return out


def leaderboard(records: list[RunRecord], study: str) -> dict[str, Any]:
    """The leaderboard record of ``records`` (one study's store)."""
    labels = {r.table_label: r for r in records if r.strategy not in ("base", "full")}
    controls = control_strategies(set(labels))
    metrics = []
    for evaluator, metric in reported_metrics(records):
        frame = results_frame(records, evaluator, metric)
        curves = area_under_curve(frame)
        metrics.append(
            {
                "evaluator": evaluator,
                "metric": metric,
                "cells": _cells(frame),
                "curves": [
                    {
                        "strategy": s,
                        "auc": float(r.auc),
                        "low": _number(r.low),
                        "high": _number(r.high),
                        "seeds": int(r.seeds),
                    }
                    for s, r in curves.iterrows()
                ],
            }
        )
    commits = sorted({str(r.provenance.get("git", {}).get("commit", "")) for r in records} - {""})
    config = next((r.config for r in records if r.config), {})
    return {
        "schema_version": SCHEMA_VERSION,
        "study": study,
        "pool": {
            "name": records[0].pool.name,
            "fingerprint": records[0].pool.fingerprint,
            "size": records[0].pool.size,
        },
        "budgets": sorted({r.cell.budget for r in records}),
        "seeds": sorted({r.cell.seed for r in records}),
        "strategies": [
            {
                "label": label,
                "name": registered_name(label),
                "params": dict(r.cell.params),
                "reads": list(r.selection.reads) if r.selection else [],
                "oracle": bool(r.selection and r.selection.oracle),
                "control": label in controls,
            }
            for label, r in sorted(labels.items())
        ],
        "metrics": metrics,
        "provenance": {
            "commits": commits,
            "config_hash": content_hash(config, length=16),
            "models": sorted({str(r.model.get("fingerprint", "")) for r in records} - {""}),
        },
        "selections": [
            {
                "key": r.key or "",
                "strategy": r.table_label,
                "budget": r.cell.budget,
                "seed": r.cell.seed,
                "hash": r.selection.hash,
            }
            for r in records
            if r.selection is not None
        ],
    }


def write_leaderboard(records: list[RunRecord], study: str, path: Path) -> dict[str, Any]:
    """Build, check against the schema and write ``leaderboard.json`` atomically."""
    board = leaderboard(records, study)
    try:
        jsonschema.validate(board, schema())
    except jsonschema.ValidationError as err:  # a bug, not a user error: the file would mislead
        raise SelbenchError(f"leaderboard of {study}: does not match its schema ({err.message}).") from None
    atomic_write_text(path, json.dumps(board, indent=1) + "\n")
    return board
