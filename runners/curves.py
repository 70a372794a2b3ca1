"""One number per strategy across budgets, with intervals over seeds: the normalised area under the
metric-versus-annotation-cost curve, the budget needed to reach a share of the full pool's gain over the
base model, and a win/tie/loss matrix from paired intervals. Read off a report's results frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from runners.power import Difference
from strategies.base import BASE_MODEL, FULL_POOL


def _curves(frame: pd.DataFrame) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """(strategy, seed) -> (shares, values): the base model at share 0, the strategy's budgets, and the
    full pool of that seed at share 1 (the base model and the full pool are every strategy's ends).
    Only curves with every budget of the sweep: a curve missing one is not comparable."""
    base = frame[frame["strategy"] == BASE_MODEL]["value"]
    full = frame[frame["strategy"] == FULL_POOL].groupby("seed")["value"].mean()
    out = {}
    inner = frame[~frame["strategy"].isin([BASE_MODEL, FULL_POOL])]
    budgets = set(inner["budget"])
    for (strategy, seed), rows in inner.groupby(["strategy", "seed"]):
        if set(rows["budget"]) != budgets:
            continue
        rows = rows.sort_values("share")
        shares, values = rows["share"].to_list(), rows["value"].to_list()
        if not base.empty:
            shares, values = [0.0, *shares], [float(base.mean()), *values]
        if seed in full.index:
            shares, values = [*shares, 1.0], [*values, float(full[seed])]
        out[(strategy, int(seed))] = (np.array(shares), np.array(values))
    return out


def _ci(values: list[float]) -> tuple[float, float, float]:
    d = Difference.of(np.array(values))
    return d.mean, d.low, d.high


def area_under_curve(frame: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: the trapezoidal area under its curve over the share of the pool annotated, divided
    by the share range it spans (the curve's mean height, in the metric's units), mean and 95 % interval
    over seeds."""
    by_strategy: dict[str, list[float]] = {}
    for (strategy, _), (x, y) in _curves(frame).items():
        if len(x) > 1:
            by_strategy.setdefault(strategy, []).append(float(np.trapezoid(y, x) / (x[-1] - x[0])))
    rows = [(s, *_ci(v), len(v)) for s, v in sorted(by_strategy.items())]
    return pd.DataFrame(rows, columns=["strategy", "auc", "low", "high", "seeds"]).set_index("strategy")


def budget_to_reach(frame: pd.DataFrame, fraction: float, pool_size: int) -> pd.DataFrame:
    """Per strategy: the annotation budget (examples, linearly interpolated along its curve) at which it
    first reaches ``fraction`` of the full pool's gain over the base model, per seed; mean and interval
    over the seeds that reach it, and how many do not."""
    out: dict[str, list[float | None]] = {}
    for (strategy, _), (x, y) in _curves(frame).items():
        if x[0] != 0.0 or x[-1] != 1.0:
            continue
        target = y[0] + fraction * (y[-1] - y[0])
        rising = y[-1] >= y[0]
        reached = np.flatnonzero(y >= target) if rising else np.flatnonzero(y <= target)
        budget = None
        if len(reached) and reached[0] > 0 and x[reached[0]] < 1.0:
            i = reached[0]
            t = (target - y[i - 1]) / (y[i] - y[i - 1]) if y[i] != y[i - 1] else 1.0
            budget = float((x[i - 1] + t * (x[i] - x[i - 1])) * pool_size)
        out.setdefault(strategy, []).append(budget)
    rows = []
    for strategy, budgets in sorted(out.items()):
        found = [b for b in budgets if b is not None]
        mean, low, high = _ci(found) if found else (np.nan, np.nan, np.nan)
        rows.append((strategy, mean, low, high, len(found), len(budgets) - len(found)))
    return pd.DataFrame(
        rows, columns=["strategy", "budget", "low", "high", "seeds", "not reached"]
    ).set_index("strategy")


def win_tie_loss(frame: pd.DataFrame) -> pd.DataFrame:
    """Row strategy against column strategy over every shared (budget, seed) below the full pool: "win"
    or "loss" where the paired 95 % interval excludes zero, else "tie"."""
    inner = frame[(frame["budget"] > 0) & (frame["share"] < 1.0)]
    wide = inner.pivot_table(index=["budget", "seed"], columns="strategy", values="value")
    names = list(wide.columns)
    matrix = pd.DataFrame("", index=names, columns=names)
    for a in names:
        for b in names:
            if a == b:
                continue
            d = Difference.of((wide[a] - wide[b]).dropna().to_numpy())
            matrix.loc[a, b] = "win" if d.low > 0 else "loss" if d.high < 0 else "tie"
    return matrix


def format_curves(frame: pd.DataFrame, pool_size: int, fraction: float = 0.9) -> str:
    """Markdown: the area under each curve with its interval, the budget to reach ``fraction`` of the
    full pool's gain, and the win/tie/loss matrix."""
    auc = area_under_curve(frame)
    reach = budget_to_reach(frame, fraction, pool_size)
    if auc.empty:
        return ""
    table = pd.DataFrame(
        {
            "area under the curve [95% CI]": [
                f"{r.auc:.4g} [{r.low:.4g}, {r.high:.4g}]" if np.isfinite(r.low) else f"{r.auc:.4g}"
                for r in auc.itertuples()
            ],
            f"budget to {fraction:.0%} of the full pool's gain [95% CI]": [
                _reach_text(reach.loc[s]) if s in reach.index else "n/a" for s in auc.index
            ],
        },
        index=auc.index,
    )
    matrix = win_tie_loss(frame)
    return (
        "Across budgets: the curve's mean height over the share of the pool annotated (the normalised area "
        "under it), and the budget at which a strategy reaches "
        f"{fraction:.0%} of the full pool's gain over the base model (interpolated; 'not reached' counts "
        "seeds that never do); intervals over seeds.\n\n"
        + table.to_markdown()
        + "\n\nRow against column, paired over budgets and seeds: win or loss where the 95 % interval "
        "excludes zero, else tie.\n\n" + matrix.to_markdown()
    )


def _reach_text(row: pd.Series) -> str:
    missing = int(row["not reached"])
    if not row["seeds"]:
        return "not reached"
    text = f"{row['budget']:.1f}" + (
        f" [{row['low']:.1f}, {row['high']:.1f}]" if np.isfinite(row["low"]) else ""
    )
    return text + (f" ({missing} seeds: not reached)" if missing else "")
