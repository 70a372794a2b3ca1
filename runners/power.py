"""What a sweep can decide: paired differences with intervals, minimum detectable effects, signal-to-noise.

A comparison of strategy S with the baseline pairs the cells that share a budget and a seed (a seed
fixes the selection's random draws and the training order). Over n pairs with standard deviation s of
the differences, the 95 % interval is mean ± t(0.975, n-1) s / sqrt(n), and the minimum detectable
effect at 80 % power of that design is (t(0.975, n-1) + t(0.8, n-1)) s / sqrt(n). A difference is a win
or a loss only when its interval excludes zero; otherwise it is inconclusive, with the effect the design
could have detected. The design's MDE pools the variance of the differences over the strategies that
are not positive controls, so one noisy pair does not decide what the benchmark can resolve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from strategies.base import BASE_MODEL, FULL_POOL

ALPHA = 0.05
POWER = 0.8


def mde(sd: float, n: int, df: int | None = None) -> float:
    """Minimum detectable mean difference at 80 % power, two-sided 5 % test, for n pairs of sd ``sd``."""
    df = n - 1 if df is None else df
    if n < 2 or df < 1 or not np.isfinite(sd):
        return float("nan")
    return float((stats.t.ppf(1 - ALPHA / 2, df) + stats.t.ppf(POWER, df)) * sd / np.sqrt(n))


@dataclass(frozen=True)
class Difference:
    """A paired difference to the baseline: mean, 95 % interval, p-value, pairs, sd and MDE."""

    mean: float
    low: float
    high: float
    p: float
    n: int
    sd: float
    mde: float

    @classmethod
    def of(cls, diff: np.ndarray) -> Difference:
        diff = np.asarray(diff, dtype=np.float64)
        n = len(diff)
        mean = float(diff.mean()) if n else float("nan")
        if n < 2:
            return cls(mean, float("nan"), float("nan"), float("nan"), n, float("nan"), float("nan"))
        sd = float(diff.std(ddof=1))
        se = sd / np.sqrt(n)
        half = float(stats.t.ppf(1 - ALPHA / 2, n - 1) * se)
        # the one-sample t-test by its formula: scipy's warns of cancellation on levels far from zero
        p = 1.0 if sd == 0 and mean == 0 else float(2 * stats.t.sf(abs(mean) / se, n - 1)) if sd > 0 else 0.0
        return cls(mean, mean - half, mean + half, p, n, sd, mde(sd, n))

    def verdict(self, design_mde: float | None = None) -> str:
        """'win' or 'loss' when the interval excludes zero, else 'inconclusive (MDE x)'."""
        if np.isfinite(self.low) and self.low > 0:
            return "win"
        if np.isfinite(self.high) and self.high < 0:
            return "loss"
        effect = self.mde if design_mde is None or not np.isfinite(design_mde) else design_mde
        return f"inconclusive (MDE {effect:.3g})" if np.isfinite(effect) else "inconclusive"

    def interval_text(self, digits: int = 3) -> str:
        if not np.isfinite(self.low):
            return f"{self.mean:+.{digits}f}"
        return f"{self.mean:+.{digits}f} [{self.low:+.{digits}f}, {self.high:+.{digits}f}]"


def paired_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Values indexed by (budget, seed), one column per strategy, budgets strictly between 0 and full."""
    inner = frame[(frame["budget"] > 0) & (frame["share"] < 1.0)]
    return inner.pivot_table(index=["budget", "seed"], columns="strategy", values="value")


def differences(frame: pd.DataFrame, baseline: str) -> dict[tuple[str, str], Difference]:
    """(strategy, budget or 'all') -> its paired difference to ``baseline``."""
    wide = paired_wide(frame)
    out = {}
    for strategy in [s for s in wide.columns if s != baseline]:
        diff = (wide[strategy] - wide[baseline]).dropna()
        for budget, d in diff.groupby(level="budget"):
            out[(strategy, str(budget))] = Difference.of(d.to_numpy())
        out[(strategy, "all")] = Difference.of(diff.to_numpy())
    return out


def design_mde(frame: pd.DataFrame, baseline: str, controls: set[str]) -> dict[str, float]:
    """Per budget (and 'all'), the MDE of one strategy-versus-baseline comparison of this design: the
    variance of the paired differences pooled over the strategies that are not positive controls."""
    wide = paired_wide(frame)
    others = [s for s in wide.columns if s != baseline and s not in controls]
    out = {}
    groups = [(str(b), wide.xs(b, level="budget")) for b in sorted(set(wide.index.get_level_values(0)))]
    groups.append(("all", wide))
    for label, block in groups:
        residual, df, sizes = 0.0, 0, []
        for strategy in others:
            d = (block[strategy] - block[baseline]).dropna().to_numpy()
            if len(d) > 1:
                residual += float(((d - d.mean()) ** 2).sum())
                df += len(d) - 1
                sizes.append(len(d))
        out[label] = mde(np.sqrt(residual / df), int(np.median(sizes)), df) if df else float("nan")
    return out


def variance_components(frame: pd.DataFrame, controls: set[str]) -> pd.DataFrame:
    """Per budget: the sd of the strategies' means (signal), the pooled sd over seeds within a strategy
    (noise) and their signal-to-noise ratio sd_between / (sd_seed / sqrt(seeds)); controls left out."""
    inner = frame[(frame["budget"] > 0) & (frame["share"] < 1.0) & ~frame["strategy"].isin(controls)]
    rows = []
    for budget, block in inner.groupby("budget"):
        by = block.groupby("strategy")["value"]
        means, variances, counts = by.mean(), by.var(ddof=1), by.count()
        if len(means) < 2 or counts.min() < 2:
            continue
        seed_sd = float(np.sqrt((variances * (counts - 1)).sum() / (counts - 1).sum()))
        between = float(means.std(ddof=1))
        seeds = float(counts.mean())
        rows.append(
            {
                "budget": budget,
                "strategies": len(means),
                "seeds": round(seeds),
                "sd between strategies": between,
                "sd over seeds": seed_sd,
                "signal-to-noise": between / (seed_sd / np.sqrt(seeds)) if seed_sd > 0 else float("inf"),
            }
        )
    return pd.DataFrame(rows)


def full_versus_base(frame: pd.DataFrame) -> Difference | None:
    """The full pool's gain over the base model (seeds of the full pool minus the one base cell)."""
    base = frame[frame["strategy"] == BASE_MODEL]["value"]
    full = frame[frame["strategy"] == FULL_POOL]["value"]
    if base.empty or full.empty:
        return None
    return Difference.of(full.to_numpy() - float(base.mean()))


def metric_signal(frame: pd.DataFrame, baseline: str, controls: set[str]) -> list[dict[str, object]]:
    """Per budget, what one metric can resolve: the baseline's gain over the base model, the sd over seeds
    (pooled over the strategies that are not controls), the design's MDE, that MDE as a share of the gain
    (comparable across metrics of different units) and each control's difference to the baseline."""
    base = frame[frame["strategy"] == BASE_MODEL]["value"]
    design = design_mde(frame, baseline, controls)
    found = differences(frame, baseline)
    inner = frame[(frame["budget"] > 0) & (frame["share"] < 1.0)]
    rows = []
    for budget, block in inner.groupby("budget"):
        ordinary = block[~block["strategy"].isin(controls)].groupby("strategy")["value"]
        variances, counts = ordinary.var(ddof=1), ordinary.count()
        seed_sd = (
            float(np.sqrt((variances * (counts - 1)).sum() / (counts - 1).sum()))
            if counts.min() > 1
            else float("nan")
        )
        gain = (
            float(block[block["strategy"] == baseline]["value"].mean() - base.mean())
            if len(base)
            else float("nan")
        )
        row: dict[str, object] = {
            "budget": budget,
            f"{baseline} minus base": gain,
            "sd over seeds": seed_sd,
            "design MDE": design.get(str(budget), float("nan")),
        }
        row["MDE / gain"] = abs(row["design MDE"] / gain) if gain else float("nan")
        for control in sorted(controls):
            if (control, str(budget)) in found:
                row[f"{control} minus {baseline}"] = found[(control, str(budget))].interval_text(4)
        rows.append(row)
    return rows
