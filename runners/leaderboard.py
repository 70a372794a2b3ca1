"""A study's results as one versioned file (``leaderboard.json``, checked against its JSON Schema):
strategies with what they read and the command that reproduces their row, every metric per strategy and
budget with its interval over seeds and per task, the curve statistics, how many examples each task
received, the study's configuration, provenance and the selected uids' hashes. Tables and the static site
(``runners.site``) are built from it alone."""

from __future__ import annotations

import json
import math
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from benchmark.atomic import atomic_write_text
from benchmark.errors import SelbenchError
from benchmark.evaluation.base import metric_family
from benchmark.records import RunRecord
from benchmark.types import content_hash
from runners.comparison import comparable, control_lines, control_strategies, paired_comparison
from runners.curves import area_under_curve
from runners.power import Difference
from runners.report import reported_metrics, results_frame
from strategies.base import REFERENCES, SUBMITTED

# 2: per-task means, allocations, comparisons with random, the configuration and reproduce commands
SCHEMA_VERSION = 2
BASELINE = "random"  # what every strategy is compared with
CONFIG_FILE = "config.yaml"  # the study's configuration as recorded, beside a published leaderboard


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


def _per_task(records: list[RunRecord], evaluator: str, metric: str) -> list[dict[str, Any]]:
    """Mean over seeds of each task's value of ``metric``'s family, where the evaluator reports one per
    task (accuracy per task; ``per_task_<family>`` details for the continuous metrics)."""
    family = metric_family(metric)
    rows = []
    for r in records:
        if r.metric(evaluator, metric) is not None:
            rows += [
                (r.table_label, r.cell.budget, task, v) for task, v in r.per_task(evaluator, family).items()
            ]
    if not rows:
        return []
    frame = pd.DataFrame(rows, columns=["strategy", "budget", "task", "value"])
    means = frame.groupby(["strategy", "budget", "task"])["value"].mean().reset_index()
    return [
        {"strategy": s, "budget": int(b), "task": t, "mean": float(v)}
        for s, b, t, v in means.itertuples(index=False)
    ]


def _allocations(records: list[RunRecord], task_of: dict[str, str]) -> list[dict[str, Any]]:
    """How many selected examples each task received, mean over seeds, per strategy and budget."""
    rows = []
    for r in records:
        if r.selection is None or not r.cell.budget:
            continue
        counts = pd.Series([task_of.get(u, "?") for u in r.selection.uids]).value_counts()
        rows += [(r.table_label, r.cell.budget, r.cell.seed, t, int(n)) for t, n in counts.items()]
    if not rows:
        return []
    frame = pd.DataFrame(rows, columns=["strategy", "budget", "seed", "task", "count"])
    full = frame.pivot_table(
        index=["strategy", "budget", "seed"], columns="task", values="count", fill_value=0
    )
    means = full.groupby(level=["strategy", "budget"]).mean().stack().rename("mean").reset_index()
    return [
        {"strategy": s, "budget": int(b), "task": t, "mean": float(m)}
        for s, b, t, m in means.itertuples(index=False)
    ]


def _comparison(frame: pd.DataFrame) -> tuple[list[str], list[dict[str, Any]]]:
    """What the metric can decide: the checks of known effects (full pool against the base model,
    positive controls against random; a warning first where one is not detected) and every strategy
    against random per budget and over all budgets, with its interval, the design's MDE and the verdict."""
    comparison = None
    if comparable(frame, BASELINE) and frame["seed"].nunique() > 1:
        comparison = paired_comparison(frame, BASELINE, control_strategies(set(frame["strategy"])))
    rows = []
    for (strategy, budget), r in comparison.iterrows() if comparison is not None else []:
        rows.append(
            {"strategy": strategy, "budget": str(budget), "diff": float(r["diff"]), "low": _number(r["low"]),
             "high": _number(r["high"]), "mde": _number(r["design mde"]), "verdict": r["verdict"],
             "pairs": int(r["pairs"])}
        )  # fmt: skip
    return control_lines(frame, comparison, BASELINE), rows


def reproduce_command(label: str, name: str, params: dict[str, Any]) -> str:
    """The command that recomputes a strategy's cells from the study's published ``config.yaml``."""
    if name == SUBMITTED:
        return f"selbench submit {CONFIG_FILE} --name {label.split(':', 1)[1]} --selections SELECTIONS.json"
    spec = yaml.safe_dump({"name": name, "params": params} if params else name, default_flow_style=True)
    return f"selbench sweep {CONFIG_FILE} --set 'strategies=[{spec.strip().removesuffix('...').strip()}]'"


def leaderboard(
    records: list[RunRecord], study: str, task_of: dict[str, str] | None = None
) -> dict[str, Any]:
    """The leaderboard record of ``records`` (one study's store); ``task_of`` maps the pool's uids to
    tasks (allocations are left out without it)."""
    labels = {r.table_label: r for r in records if r.strategy not in REFERENCES}
    controls = control_strategies(set(labels))
    metrics = []
    for evaluator, metric in reported_metrics(records):
        frame = results_frame(records, evaluator, metric)
        curves = area_under_curve(frame)
        checks, differences = _comparison(frame)
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
                "per_task": _per_task(records, evaluator, metric),
                "checks": checks,
                "comparison": differences,
            }
        )
    commits = sorted({str(r.provenance.get("git", {}).get("commit", "")) for r in records} - {""})
    config = study_config(records)
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
                "name": r.strategy,
                "params": dict(r.cell.params),
                "reads": list(r.selection.reads) if r.selection else [],
                "oracle": bool(r.selection and r.selection.oracle),
                "control": label in controls,
                "command": reproduce_command(label, r.strategy, dict(r.cell.params)),
            }
            for label, r in sorted(labels.items())
        ],
        "metrics": metrics,
        "allocations": _allocations(records, task_of) if task_of else [],
        "config": config,
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


def study_config(records: list[RunRecord]) -> dict[str, Any]:
    """The study's configuration as its records store it, loadable by ``selbench sweep``: the one naming
    the most strategies (strategies added to a study later run under the grown configuration; earlier
    cells are unchanged by it), without the scorer's copy of the model, and without the model where it
    is the packaged default (its recorded location is the machine's, not the study's). ``training.bf16``
    left to the machine (null) is pinned to what the trained cells resolved it to, so the configuration
    plans the same cells on any machine (cell keys hold the resolved value)."""
    from benchmark.models import ModelSpec

    configs = [r.config for r in records if r.config]
    if not configs:
        return {}
    config = json.loads(json.dumps(max(configs, key=lambda c: len(c.get("strategies", [])))))
    config.get("scorer", {}).pop("model", None)
    model, default = config.get("model") or {}, ModelSpec.default()
    packaged = Path(str(model.get("name_or_path"))).name == Path(default.name_or_path).name
    if packaged and model.get("gguf_file") == default.gguf_file:
        del config["model"]
    resolved = {r.training.bf16 for r in records if r.training is not None and r.training.bf16 is not None}
    training = config.get("training") or {}
    if training.get("bf16", False) is None and len(resolved) == 1:
        training["bf16"] = resolved.pop()
    return config


def pool_tasks(records: list[RunRecord]) -> dict[str, str]:
    """The task of every pool uid, read by loading the pool the study's configuration names; a
    SelbenchError when that data is not here or is not the data the study read."""
    from benchmark.config import sweep_config
    from benchmark.data import load_pool

    pool = load_pool(sweep_config(study_config(records), "the study's recorded configuration").pool).pool
    if pool.fingerprint() != records[0].pool.fingerprint:
        raise SelbenchError("the pool its configuration loads here is not the pool the study read.")
    return {ex.uid: ex.task for ex in pool.examples}


def write_leaderboard(
    records: list[RunRecord], study: str, path: Path, task_of: dict[str, str] | None = None
) -> dict[str, Any]:
    """Build, check against the schema and write ``leaderboard.json`` atomically."""
    board = leaderboard(records, study, task_of)
    try:
        jsonschema.validate(board, schema())
    except jsonschema.ValidationError as err:  # a bug, not a user error: the file would mislead
        raise SelbenchError(f"leaderboard of {study}: does not match its schema ({err.message}).") from None
    atomic_write_text(path, json.dumps(board, indent=1) + "\n")
    return board
