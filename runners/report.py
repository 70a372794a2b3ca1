"""Accuracy-versus-annotation-cost tables from stored runs (never edited by hand).

Rows are budgets (count and share of the pool, the annotation cost), columns are strategies, cells are
mean ± std over seeds with n; the best mean of each row is marked. The base model (budget 0) and the
full pool are rows of their own. For each strategy, the smallest budget whose mean reaches the full-pool
accuracy is its annotation saving.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import SelbenchError


def results_frame(records: Iterable[dict[str, Any]], evaluator: str, metric: str) -> pd.DataFrame:
    """One row per run: strategy, budget, share of the pool, seed and the chosen metric."""
    rows = []
    for r in records:
        evaluation = r.get("evaluations", {}).get(evaluator)
        if evaluation is None:
            continue
        rows.append(
            {
                "strategy": r["cell"]["strategy"]["name"],
                "budget": r["cell"]["budget"],
                "share": r["cell"]["budget"] / r["pool"]["size"],
                "seed": r["cell"]["seed"],
                "value": evaluation["metrics"][metric],
            }
        )
    if not rows:
        raise SelbenchError(f"no stored run has metric {metric!r} of evaluator {evaluator!r}.")
    return pd.DataFrame(rows)


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and n over seeds per (budget, strategy); base and full-pool values repeated in every
    strategy column so each column reads as one curve."""
    stats = (
        frame.groupby(["budget", "share", "strategy"])["value"].agg(["mean", "std", "count"]).reset_index()
    )
    strategies = sorted(set(frame["strategy"]) - {"base", "full"})
    shared = stats[stats["strategy"].isin(["base", "full"])]
    expanded = [shared.assign(strategy=s) for s in strategies]
    stats = pd.concat([stats[~stats["strategy"].isin(["base", "full"])], *expanded], ignore_index=True)
    return stats.sort_values(["budget", "strategy"]).reset_index(drop=True)


def annotation_savings(stats: pd.DataFrame) -> dict[str, int | None]:
    """Per strategy, the smallest budget whose mean reaches the full-pool mean (None: never below full)."""
    full_budget = stats["budget"].max()
    savings = {}
    for strategy, rows in stats.groupby("strategy"):
        target = rows.loc[rows["budget"] == full_budget, "mean"].iloc[0]
        reached = rows[(rows["mean"] >= target) & (rows["budget"] < full_budget)]["budget"]
        savings[strategy] = int(reached.min()) if len(reached) else None
    return savings


def format_table(stats: pd.DataFrame, pool_size: int, fmt: str = "markdown") -> str:
    """The leaderboard table as Markdown, CSV or LaTeX, the best mean of each budget in bold."""

    def cell(row: pd.Series) -> str:
        std = "" if np.isnan(row["std"]) else f" ± {row['std']:.3f}"
        return f"{row['mean']:.3f}{std} (n={int(row['count'])})"

    wide = stats.assign(text=stats.apply(cell, axis=1))
    table = wide.pivot(index="budget", columns="strategy", values="text")
    best = stats.loc[stats.groupby("budget")["mean"].idxmax()].set_index("budget")["strategy"]
    multiple = stats.groupby("budget")["strategy"].nunique() > 1
    distinct = stats.groupby("budget")["mean"].nunique() > 1
    if fmt != "csv":
        for budget, strategy in best.items():
            if multiple[budget] and distinct[budget]:
                table.loc[budget, strategy] = f"**{table.loc[budget, strategy]}**"
    labels = {b: f"{b} ({b / pool_size:.1%})" for b in table.index}
    labels[0] = "0 (base model)"
    labels[table.index.max()] = f"{table.index.max()} (full pool)"
    table.index = [labels[b] for b in table.index]
    table.index.name = "budget (share of pool)"
    if fmt == "markdown":
        return table.to_markdown()
    if fmt == "csv":
        return stats.to_csv(index=False)
    if fmt == "latex":
        return table.to_latex().replace("**", "")
    raise SelbenchError(f"table format {fmt!r}: use markdown, csv or latex.")
