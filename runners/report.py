"""Accuracy-versus-annotation-cost tables from stored runs (never edited by hand).

Rows are budgets (count and share of the pool, the annotation cost), columns are strategies, cells are
mean ± std over seeds with n; the best mean of each row is marked. The base model (budget 0) and the
full pool are rows of their own. For each strategy, the smallest budget whose mean reaches the full-pool
accuracy is its annotation saving.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.atomic import atomic_write_text
from benchmark.errors import SelbenchError
from benchmark.evaluation.base import WORST_GAIN, metric_family
from benchmark.records import RunRecord, strategy_label
from benchmark.registry import did_you_mean
from benchmark.store import git_commit
from runners.comparison import comparable, comparison_report, control_strategies
from runners.costs import COSTS_TITLE, format_costs, selection_costs
from runners.curves import format_curves
from runners.plots import plot_curves, plot_task_heatmap
from runners.power import metric_signal
from strategies.base import BASE_MODEL, FULL_POOL, REFERENCES


def check_evaluator(records: list[RunRecord], evaluator: str) -> None:
    """An evaluator no stored run has is an error naming those they do have."""
    evaluators = sorted({e for r in records for e in r.evaluations})
    if evaluator not in evaluators:
        raise SelbenchError(
            f"--evaluator {evaluator!r}: no stored run has it.{did_you_mean(evaluator, evaluators)} "
            f"Stored: {', '.join(evaluators) or 'none'}."
        )


def results_frame(records: Iterable[RunRecord], evaluator: str, metric: str) -> pd.DataFrame:
    """One row per run: strategy, budget, share of the pool, seed and the chosen metric. An evaluator or
    metric no run has is an error naming the ones they do have."""
    rows = []
    records = list(records)
    check_evaluator(records, evaluator)
    metrics = sorted({m for r in records for m in getattr(r.evaluations.get(evaluator), "metrics", {})})
    derived = worst_gains(records, evaluator, metric) if metric.endswith(WORST_GAIN) else None
    if metric not in metrics and not derived:
        also = [f"{m.removesuffix('_macro')}{WORST_GAIN}" for m in metrics if m.endswith("_macro")]
        raise SelbenchError(
            f"--metric {metric!r}: no stored {evaluator} run has it.{did_you_mean(metric, metrics + also)} "
            f"Stored: {', '.join(metrics)}; derived from per-task values: {', '.join(also) or 'none'}."
        )
    for i, r in enumerate(records):
        value = derived.get(i) if derived is not None else r.metric(evaluator, metric)
        if value is None:
            continue
        rows.append(
            {
                "strategy": r.table_label,
                "budget": r.cell.budget,
                "share": r.cell.budget / r.pool.size,
                "seed": r.cell.seed,
                "value": value,
            }
        )
    return pd.DataFrame(rows)


def worst_gains(records: list[RunRecord], evaluator: str, metric: str) -> dict[int, float]:
    """``<family>_worst_gain`` of each record (by index): the smallest per-task gain over the base
    model's value of the family, over the tasks both have; empty without a base-model run or per-task
    values (``acc``: accuracy; a continuous family: the evaluator's per-task details)."""
    family = metric_family(metric)
    base = next((r.per_task(evaluator, family) for r in records if r.strategy == BASE_MODEL), {})
    gains = {}
    for i, r in enumerate(records):
        values = r.per_task(evaluator, family)
        tasks = set(values) & set(base)
        if tasks:
            gains[i] = min(values[t] - base[t] for t in tasks)
    return gains


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and n over seeds per (budget, strategy); base and full-pool values repeated in every
    strategy column so each column reads as one curve."""
    stats = (
        frame.groupby(["budget", "share", "strategy"])["value"].agg(["mean", "std", "count"]).reset_index()
    )
    strategies = sorted(set(frame["strategy"]) - set(REFERENCES))
    shared = stats[stats["strategy"].isin(REFERENCES)]
    if not strategies:  # only the base model and the full pool: they are the columns
        return stats.sort_values(["budget", "strategy"]).reset_index(drop=True)
    expanded = [shared.assign(strategy=s) for s in strategies]
    stats = pd.concat([stats[~stats["strategy"].isin(REFERENCES)], *expanded], ignore_index=True)
    return stats.sort_values(["budget", "strategy"]).reset_index(drop=True)


def annotation_savings(stats: pd.DataFrame) -> dict[str, int | None]:
    """Per strategy, the smallest budget below the full pool whose mean reaches the full-pool mean
    (None: no such budget, or the sweep has no full-pool row)."""
    savings: dict[str, int | None] = {}
    for strategy, rows in stats.groupby("strategy"):
        full = rows[rows["share"] >= 1.0]
        reached = (
            rows[(rows["share"] < 1.0) & (rows["mean"] >= full["mean"].max())] if len(full) else rows[:0]
        )
        savings[strategy] = int(reached["budget"].min()) if len(reached) else None
    return savings


def format_table(stats: pd.DataFrame, pool_size: int, fmt: str = "markdown", seeds: int | None = None) -> str:
    """The leaderboard table as Markdown, CSV or LaTeX, the best mean of each budget in bold. With the
    planned number of ``seeds``, a cell with fewer says "n=k of seeds" and an absent one "missing"."""

    def cell(row: pd.Series) -> str:
        std = "" if np.isnan(row["std"]) else f" ± {row['std']:.3f}"
        count = int(row["count"])
        short = seeds is not None and row["budget"] > 0 and count < seeds
        return f"{row['mean']:.3f}{std} (n={count}{f' of {seeds}' if short else ''})"

    wide = stats.assign(text=stats.apply(cell, axis=1))
    table = wide.pivot(index="budget", columns="strategy", values="text").fillna("missing")
    if fmt != "csv":  # every strategy tied for the best mean, in rows where the strategies differ
        top = stats.groupby("budget")["mean"].transform("max")
        distinct = stats.groupby("budget")["mean"].transform("nunique") > 1
        for row in stats[(stats["mean"] >= top - 1e-12) & distinct].itertuples():
            table.loc[row.budget, row.strategy] = f"**{table.loc[row.budget, row.strategy]}**"
    labels = {b: f"{b} ({b / pool_size:.1%})" for b in table.index}
    labels |= {b: f"{b} (full pool)" for b in table.index if b == pool_size}
    labels |= {0: "0 (base model)"}
    table.index = [labels[b] for b in table.index]
    table.index.name = "budget (share of pool)"
    if fmt == "markdown":
        return table.to_markdown()
    if fmt == "csv":
        return stats.to_csv(index=False)
    if fmt == "latex":
        return re.sub(r"\*\*(.+?)\*\*", r"\\textbf{\1}", table.to_latex())
    raise SelbenchError(f"table format {fmt!r}: use markdown, csv or latex.")


def planned_cells(config: Mapping[str, Any], pool_size: int) -> set[tuple[str, str, int, int]]:
    """(strategy, parameters as JSON, budget, seed) of every cell a stored sweep configuration plans,
    as ``runners.plan.plan`` lays them out, without loading the pool: the records know its size."""
    from runners.plan import resolve_budgets

    cells = set()
    seeds = list(config["seeds"])
    for budget in resolve_budgets(tuple(config["budgets"]), pool_size):
        if budget == 0:
            cells.add((BASE_MODEL, "{}", 0, seeds[0]))
        elif budget == pool_size:
            cells |= {(FULL_POOL, "{}", budget, seed) for seed in seeds}
        else:
            cells |= {
                (s["name"], json.dumps(s["params"], sort_keys=True), budget, seed)
                for s in config["strategies"]
                for seed in seeds
            }
    return cells


def latest_config(records: list[RunRecord]) -> Mapping[str, Any] | None:
    """The configuration of the sweep's latest run (a resumed sweep may have changed, say, its
    strategy list; its latest configuration is what it plans now)."""
    stamped = [r for r in records if isinstance(r.config, Mapping)]
    if not stamped:
        return None
    return max(stamped, key=lambda r: r.created).config


def missing_cells(records: list[RunRecord]) -> list[str]:
    """Labels of the cells that any of the records' configurations plans and no record holds: a run of
    a few rows (``--set strategies=[...]``, as the site's reproduce commands do) does not hide the
    rest of the study's plan."""
    configs = {json.dumps(r.config, sort_keys=True) for r in records if isinstance(r.config, Mapping)}
    if not configs:
        return []
    have = {
        (
            r.cell.strategy,
            json.dumps(r.cell.params, sort_keys=True),
            r.cell.budget,
            r.cell.seed,
        )
        for r in records
    }
    planned = set().union(*(planned_cells(json.loads(c), records[0].pool.size) for c in configs))
    return [
        f"{strategy_label(name, json.loads(params))} budget={budget} seed={seed}"
        for name, params, budget, seed in sorted(planned - have, key=lambda c: (c[2], c[0], c[1], c[3]))
    ]


def planned_seeds(records: list[RunRecord]) -> int | None:
    """How many seeds the records' configuration plans per cell (None: no stored configuration)."""
    config = latest_config(records)
    return len(config["seeds"]) if config is not None else None


def gap_lines(missing: list[str], failed: list[str]) -> list[str]:
    """One warning line each for the missing and the failed cells of a partial sweep."""
    lines = []
    if missing:
        lines.append(f"PARTIAL: {len(missing)} planned cells have no record: {', '.join(missing)}")
    if failed:
        lines.append(f"FAILED: {len(failed)} cells failed on their last attempt: {', '.join(failed)}")
    return lines


def failed_cells(run_dir: str | Path) -> list[str]:
    """Labels of the cells whose last attempt failed (``failures/<key>.txt``, first line)."""
    folder = Path(run_dir) / "failures"
    return sorted(p.read_text(encoding="utf-8").split("\n", 1)[0] for p in folder.glob("*.txt"))


def headline_metric(evaluator: str) -> str:
    """The metric a table of ``evaluator`` shows by default: what the evaluator declares as its headline
    (held-out accuracy macro over tasks, MMLU's micro over questions)."""
    from benchmark.evaluation import EVALUATORS

    return EVALUATORS.get(evaluator).headline


def savings_line(stats: pd.DataFrame) -> str:
    savings = annotation_savings(stats)
    return "smallest budget reaching full-pool accuracy: " + ", ".join(
        f"{s}: {b if b is not None else 'none'}" for s, b in savings.items()
    )


def report_provenance(records: list[RunRecord], command: str) -> dict[str, Any]:
    """What a published table came from: the command, when, the code that ran the cells and the
    configuration they were run with (resolved, as stored in the records)."""
    created = sorted(r.created for r in records)
    configs = {json.dumps(r.config, sort_keys=True) for r in records if isinstance(r.config, Mapping)}
    return {
        "command": command,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "report_code": git_commit(),
        "cells": len(records),
        "runs_started": {"first": created[0], "last": created[-1]},  # a sweep stamps its start on its cells
        "cell_code_commits": sorted({str(r.provenance.get("git", {}).get("commit")) for r in records}),
        "configs": [json.loads(c) for c in sorted(configs)],
    }


def write_report(
    records: list[RunRecord],
    evaluator: str,
    metric: str,
    out: str | Path,
    command: str,
    baseline: str = "random",
    failed: list[str] | None = None,
) -> pd.DataFrame:
    """table.md/.csv/.tex, the accuracy-versus-cost plot, (per-task results) the heatmap, the comparison
    with ``baseline`` and provenance.json (``command`` and where the cells came from) in ``out``. Cells
    the sweep planned that are missing, and the ``failed`` ones, are named at the top of the table."""
    out = Path(out)
    atomic_write_text(out / "provenance.json", json.dumps(report_provenance(records, command), indent=1))
    frame = results_frame(records, evaluator, metric)
    stats = summary_table(frame)
    pool_size = records[0].pool.size
    for fmt, suffix in (("markdown", "md"), ("csv", "csv"), ("latex", "tex")):
        atomic_write_text(
            out / f"table.{suffix}", format_table(stats, pool_size, fmt, planned_seeds(records))
        )
    seeds = int(stats["count"].max())
    title = f"{evaluator} {metric} against annotation cost (mean ± std over {seeds} seed{'s' * (seeds > 1)})"
    plot_curves(stats, out / "accuracy_vs_cost.png", title, f"{evaluator} {metric}")
    budgets = sorted(set(stats["budget"]))
    family = metric_family(metric)  # the table's metric, per task
    if any(r.per_task(evaluator, family) for r in records):
        heatmap = out / "per_task_heatmap.png"
        plot_task_heatmap(records, evaluator, budgets[len(budgets) // 2], heatmap, family)
    text, warnings_ = comparison_report(frame, baseline)
    if text:
        atomic_write_text(out / "comparison.md", text + "\n")
    if not (costs := selection_costs(records)).empty:
        atomic_write_text(out / "costs.md", COSTS_TITLE + "\n\n" + format_costs(costs) + "\n")
    if curves := format_curves(frame, pool_size):
        atomic_write_text(out / "curves.md", curves + "\n")
    warnings_ = gap_lines(missing_cells(records), failed or []) + warnings_
    if warnings_:  # a partial table, or one that cannot detect a known effect, says so at its top
        table = (out / "table.md").read_text(encoding="utf-8")
        atomic_write_text(out / "table.md", "\n".join(f"> {w}" for w in warnings_) + "\n\n" + table)
    return stats


def reported_metrics(records: list[RunRecord]) -> list[tuple[str, str]]:
    """(evaluator, metric) of every numeric headline metric in ``records`` (standard errors left out)."""
    found = set()
    for r in records:
        for evaluator, result in r.evaluations.items():
            for metric, value in result.metrics.items():
                if isinstance(value, float) and not metric.endswith("_stderr"):
                    found.add((evaluator, metric))
    return sorted(found)


def signal_report(records: list[RunRecord], baseline: str = "random") -> str:
    """Markdown: for every metric of every evaluator, per budget, the baseline's gain over the base
    model, the seed noise, the design's minimum detectable effect and its share of the gain, and each
    positive control's difference: which metric can decide, in comparable terms."""
    rows = []
    for evaluator, metric in reported_metrics(records):
        frame = results_frame(records, evaluator, metric)
        if not comparable(frame, baseline) or frame["seed"].nunique() < 2:
            continue
        controls = control_strategies(set(frame["strategy"]))
        rows += [
            {"metric": f"{evaluator} {metric}"} | row for row in metric_signal(frame, baseline, controls)
        ]
    if not rows:
        return ""
    return pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g")
