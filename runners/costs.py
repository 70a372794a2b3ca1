"""What selecting cost against what training cost, per strategy: a method that needs an hour of scoring
to save ten minutes of annotation-budget training is no saving. Read off the run records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.records import RunRecord
from strategies.base import REFERENCES

COSTS_TITLE = (
    "What selection cost against training, mean per cell (scoring: the features it reads, once per pool)"
)


def selection_costs(records: list[RunRecord]) -> pd.DataFrame:
    """Per strategy (mean over its cells with cost records): scoring seconds and tokens (computing the
    features it reads, once per pool), selection seconds, training seconds and tokens, and the ratio of
    selection (scoring included) to training seconds. Empty when no record has costs."""
    rows = []
    for r in records:
        if r.cell.strategy in REFERENCES or r.selection is None or not r.selection.cost:
            continue
        cost = r.selection.cost
        rows.append(
            {
                "strategy": r.table_label,
                "scoring s": cost.get("scoring_seconds"),
                "scoring tokens": cost.get("scoring_tokens"),
                "selection s": cost.get("select_seconds"),
                "training s": r.training.seconds if r.training else None,
                "training tokens": r.training.tokens if r.training else None,
            }
        )
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).set_index("strategy").astype(float).groupby(level=0).mean()
    spent = table["scoring s"] + table["selection s"]
    table["selection / training"] = spent / table["training s"].replace(0, np.nan)
    return table.sort_index()


def format_costs(costs: pd.DataFrame) -> str:
    """Markdown of ``selection_costs``; an unknown cost (a feature cached before costs were recorded)
    shows as n/a."""
    shown = costs.copy()
    for column in ("scoring tokens", "training tokens"):
        shown[column] = [("n/a" if np.isnan(v) else f"{v:,.0f}") for v in costs[column]]
    for column in ("scoring s", "selection s", "training s"):
        shown[column] = [("n/a" if np.isnan(v) else f"{v:.2f}") for v in costs[column]]
    shown["selection / training"] = [
        ("n/a" if np.isnan(v) else f"{v:.3g}") for v in costs["selection / training"]
    ]
    return shown.to_markdown()
