"""Comparisons that decide: each strategy against a baseline, paired over seeds, with intervals, the
minimum detectable effect of the design and verdicts that follow the intervals; positive controls;
each metric's signal against its seed noise."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from benchmark.errors import SelbenchError
from benchmark.records import registered_name
from runners.power import (
    Difference,
    design_mde,
    differences,
    full_versus_base,
    paired_wide,
    variance_components,
)
from strategies.base import REFERENCES


def control_strategies(names: Iterable[str]) -> set[str]:
    """The table labels among ``names`` of registered strategies that are positive controls (known bad)."""
    from strategies import STRATEGIES

    known = set(STRATEGIES.names())
    return {
        n
        for n in names
        if (s := registered_name(n)) in known and getattr(STRATEGIES.get(s), "control", False)
    }


def comparison_report(frame: pd.DataFrame, baseline: str = "random") -> tuple[str, list[str]]:
    """Markdown of what the sweep can decide (controls, every strategy against ``baseline`` with
    intervals and MDEs, signal-to-noise per budget) and its warnings; empty when nothing compares."""
    comparison = None
    if comparable(frame, baseline) and frame["seed"].nunique() > 1:
        comparison = paired_comparison(frame, baseline, control_strategies(set(frame["strategy"])))
    lines = control_lines(frame, comparison, baseline)
    warnings_ = [line for line in lines if line.startswith("WARNING")]
    parts = ["\n".join(f"- {line}" for line in lines)] if lines else []
    if comparison is not None:
        parts.append(
            f"Each strategy minus {baseline} on the same budgets and seeds: mean [95 % interval]; a win or "
            "a loss only where the interval excludes zero, else inconclusive with the minimum effect this "
            "design detects at 80 % power (MDE; 'design': the seed variance pooled over the strategies "
            "that are not controls)."
        )
        parts.append(format_comparison(comparison, baseline))
        components = variance_components(frame, control_strategies(set(frame["strategy"])))
        if not components.empty:
            parts.append(
                "Signal and noise per budget: the sd of the strategies' means against the sd over seeds "
                "(signal-to-noise = sd between / (sd over seeds / sqrt(seeds)); controls left out)."
            )
            parts.append(format_variance(components))
    return "\n\n".join(parts), warnings_


def comparable(frame: pd.DataFrame, baseline: str = "random") -> bool:
    """Whether ``frame`` has ``baseline`` and another strategy to compare with it."""
    strategies = set(frame["strategy"]) - set(REFERENCES)
    return baseline in strategies and len(strategies) > 1


def paired_comparison(
    frame: pd.DataFrame, baseline: str = "random", controls: set[str] = frozenset()
) -> pd.DataFrame:
    """Each strategy against ``baseline`` on the same budgets and seeds (``runners.power``): per budget
    and over all budgets below the full pool, the mean paired difference with its 95 % interval, the
    paired t-test, this comparison's MDE, the design's MDE (variance pooled over the strategies that are
    not ``controls``) and the verdict; over all budgets also the Wilcoxon signed-rank test, raw and
    Benjamini-Hochberg adjusted over the strategies."""
    from scipy import stats as tests

    if baseline not in set(paired_wide(frame).columns):
        raise SelbenchError(f"no run of the baseline strategy {baseline!r} to compare with.")
    design = design_mde(frame, baseline, controls)
    wide = paired_wide(frame)
    rows = []
    for (strategy, budget), d in differences(frame, baseline).items():
        row = {
            "strategy": strategy,
            "budget": budget,
            "diff": d.mean,
            "low": d.low,
            "high": d.high,
            "p (t)": d.p,
            "pairs": d.n,
            "mde": d.mde,
            "design mde": design.get(budget, float("nan")),
            "verdict": d.verdict(design.get(budget)),
            "control": strategy in controls,
        }
        if budget == "all":
            diff = (wide[strategy] - wide[baseline]).dropna().to_numpy()
            row["p (wilcoxon)"] = _wilcoxon(diff)
        rows.append(row)
    table = pd.DataFrame(rows).set_index(["strategy", "budget"])
    tested = table["p (wilcoxon)"].notna()
    table["p (wilcoxon, BH)"] = np.nan
    if tested.any():
        table.loc[tested, "p (wilcoxon, BH)"] = tests.false_discovery_control(
            table.loc[tested, "p (wilcoxon)"].to_numpy()
        )
    return table


def _wilcoxon(diff: np.ndarray) -> float:
    from scipy import stats as tests

    if len(diff) < 2:
        return float("nan")
    if np.allclose(diff, 0):  # identical results: no evidence of a difference
        return 1.0
    with warnings.catch_warnings():  # near-identical differences: scipy warns, the p-value stands
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(tests.wilcoxon(diff).pvalue)


def p_text(p: float) -> str:
    """A p-value as people cite it: two significant digits, never a bare 0.00."""
    if np.isnan(p):
        return "p=n/a"
    return "p<0.001" if p < 0.001 else f"p={p:.2g}"


def _difference(row: pd.Series) -> Difference:
    return Difference(
        row["diff"], row["low"], row["high"], row["p (t)"], row["pairs"], float("nan"), row["mde"]
    )


def control_lines(frame: pd.DataFrame, comparison: pd.DataFrame | None, baseline: str) -> list[str]:
    """What the sweep proves it can detect: the full pool against the base model, and every positive
    control against ``baseline``. A known effect it cannot detect is said first, as a warning."""
    lines = []
    gain = full_versus_base(frame)
    if gain is not None:
        if not np.isfinite(gain.low):  # one seed: nothing to test against
            verdict = "untested (one seed of the full pool)"
        else:
            verdict = "detected" if gain.low > 0 else "NOT detected"
        lines.append(f"full pool minus base model: {gain.interval_text()} over {gain.n} seeds: {verdict}")
    if comparison is not None:
        for strategy in comparison[comparison["control"]].index.get_level_values(0).unique():
            row = comparison.loc[(strategy, "all")]
            interval = _difference(row).interval_text()
            if not np.isfinite(row["high"]):
                verdict = "untested (one pair)"
            else:
                verdict = f"ranked below {baseline}" if row["high"] < 0 else f"NOT ranked below {baseline}"
            lines.append(f"positive control {strategy} minus {baseline}, all budgets: {interval}: {verdict}")
    if any("NOT" in line for line in lines):
        lines.insert(
            0, "WARNING: this sweep could not detect a known effect; its other comparisons are not evidence."
        )
    return lines


def format_comparison(comparison: pd.DataFrame, baseline: str = "random") -> str:
    """Markdown: per strategy and budget, the difference to ``baseline`` with its 95 % interval, p-value,
    minimum detectable effect and verdict; over all budgets also the Wilcoxon tests."""
    table = pd.DataFrame(
        {
            f"difference to {baseline} [95% CI]": [
                Difference(
                    r["diff"], r["low"], r["high"], r["p (t)"], r["pairs"], 0, r["mde"]
                ).interval_text()
                for _, r in comparison.iterrows()
            ],
            "paired t": [p_text(p) for p in comparison["p (t)"]],
            "pairs": comparison["pairs"].tolist(),
            "MDE (this pair)": [f"{m:.3g}" for m in comparison["mde"]],
            "MDE (design)": [f"{m:.3g}" for m in comparison["design mde"]],
            "verdict": comparison["verdict"].tolist(),
            "Wilcoxon (BH)": [
                "" if np.isnan(p) else f"{p_text(p)} ({p_text(q)})"
                for p, q in zip(comparison["p (wilcoxon)"], comparison["p (wilcoxon, BH)"], strict=True)
            ],
        },
        index=[
            f"{s}{' (control)' * bool(c)} @ {b}"
            for (s, b), c in zip(comparison.index, comparison["control"], strict=True)
        ],
    )
    table.index.name = "strategy @ budget"
    return table.to_markdown()


def format_variance(components: pd.DataFrame) -> str:
    """Markdown: per budget, the spread of the strategies' means against the spread over seeds."""
    if components.empty:
        return ""
    return components.to_markdown(index=False, floatfmt=".4g")
