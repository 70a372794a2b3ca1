"""The report's figures: accuracy against annotation cost (a band of one std over seeds per strategy)
and per-task results at one budget. matplotlib, headless."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.atomic import atomic_write
from benchmark.errors import SelbenchError
from benchmark.records import RunRecord
from strategies.base import BASE_MODEL, FULL_POOL


def _save(fig: Any, path: str | Path) -> Path:
    """Write a figure as PNG (written beside, then renamed: never a half-written plot) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
    return path


def plot_curves(stats: pd.DataFrame, path: str | Path, title: str, ylabel: str) -> Path:
    """Accuracy against annotation cost (share of the pool), one line per strategy with a ±1 std band;
    a budget a strategy has no finished cell at is a gap in its line, never a straight line across it."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=150)
    styles = [(m, ls) for ls in ("-", "--", ":") for m in ("o", "s", "^", "D", "v", "P", "X")]
    shares = sorted(set(stats["share"]))
    gaps = False
    for (strategy, rows), (marker, linestyle) in zip(stats.groupby("strategy"), styles, strict=False):
        rows = rows.groupby("share")[["mean", "std"]].first().reindex(shares)
        gaps |= bool(rows["mean"].isna().any())
        x, mean = np.asarray(shares) * 100, rows["mean"].to_numpy()
        std = rows["std"].fillna(0.0).where(rows["mean"].notna()).to_numpy()
        (line,) = ax.plot(
            x, mean, marker=marker, linestyle=linestyle, markersize=4, label=strategy, alpha=0.9
        )
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.12, linewidth=0)
    ax.set_xscale("symlog", linthresh=1)
    ticks = sorted(set((stats["share"] * 100).round(1)))  # the budgets themselves
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("annotation cost: share of the pool labelled (%)")
    ax.set_ylabel(ylabel)
    title += " (a gap in a line: no finished cell at that budget)" if gaps else ""
    ax.set_title(textwrap.fill(title, 72), fontsize=10)  # long metric names must not run off the figure
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="best")
    return _save(fig, path)


def plot_task_heatmap(
    records: Iterable[RunRecord], evaluator: str, budget: int, path: str | Path, family: str = "acc"
) -> Path:
    """Per-task values of a metric family (accuracy, or a continuous family such as the gold
    log-likelihood) of every strategy at one budget, mean over seeds, tasks as columns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [r for r in records if evaluator in r.evaluations]
    if not any(r.cell.budget == budget for r in records):
        raise SelbenchError(f"no stored run of budget {budget} has per-task results of {evaluator!r}.")
    references = {BASE_MODEL: "base model", FULL_POOL: "full pool"}  # rows to read the strategies against
    rows = []
    for r in records:
        name = r.cell.strategy if r.cell.strategy in references else r.table_label
        if r.cell.budget == budget or name in references:
            label = references.get(name, name)
            rows += [{"row": label, "task": t, "value": v} for t, v in r.per_task(evaluator, family).items()]
    grid = pd.DataFrame(rows).pivot_table(index="row", columns="task", values="value", aggfunc="mean")
    middle = sorted(set(grid.index) - set(references.values()))
    grid = grid.loc[[x for x in ("base model", *middle, "full pool") if x in grid.index]]
    share = budget / records[0].pool.size
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * grid.shape[1] + 2), 0.45 * grid.shape[0] + 1.8), dpi=150)
    bounds = {"vmin": 0, "vmax": 1} if family == "acc" else {}  # accuracy on its full scale
    image = ax.imshow(grid.to_numpy(), cmap="viridis", aspect="auto", **bounds)
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=8)
    title = f"{evaluator} {family} per task\nbudget {budget} ({share:.0%} of the pool), mean over seeds"
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
    return _save(fig, path)
