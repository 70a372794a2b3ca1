"""Does task coverage matter in a study? The value of covering a task, read from per-task results.

A macro metric averages per-task values. Model a task's gain over the base model in a trained cell as
``g = c(task, budget) + a * covered + b * n``, where ``n`` is the number of the task's examples the
selection holds and ``covered`` is ``n > 0``. A selection of B examples covering k of T tasks then has
a macro gain of ``mean(c) + (a * k + b * B) / T``: at a fixed budget only ``a``, the value of covering a
task beyond its examples' own effect, rewards coverage. When ``a`` is zero no macro metric of that
family can rank a strategy that concentrates its budget on a few tasks (the positive control) below one
that spreads it; the difference coverage predicts is ``a * (k_strategy - k_baseline) / T``.

``a`` and ``b`` are estimated within (task, budget) groups (fixed effects, so task difficulty and the
number of training steps cancel) and bootstrapped over cells, because one cell's per-task results share
its training. This is descriptive: selections are not randomised over ``n``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from benchmark.records import RunRecord
from runners.comparison import control_strategies
from runners.power import design_mde
from runners.report import results_frame
from strategies.base import BASE_MODEL, REFERENCES

RESAMPLES = 2000
DOSE_BINS = (-0.5, 0.5, 1.5, 2.5, 4.5, 8.5, 16.5, np.inf)
DOSE_LABELS = ("0", "1", "2", "3-4", "5-8", "9-16", "17+")


def per_task_families(records: list[RunRecord], evaluator: str) -> list[str]:
    """The metric families ``evaluator`` stored per task in these records (``acc`` first)."""
    found: set[str] = set()
    for r in records:
        result = r.evaluations.get(evaluator)
        if result is None:
            continue
        if result.per_task:
            found.add("acc")
        found |= {
            k.removeprefix("per_task_") for k, v in result.details.items() if k.startswith("per_task_") and v
        }
    return sorted(found, key=lambda f: (f != "acc", f))


def coverage_frame(
    records: list[RunRecord], evaluator: str, family: str, task_of: dict[str, str]
) -> pd.DataFrame:
    """One row per (trained strategy cell, evaluated task): the task's gain over the base model and how
    many of its examples the cell's selection holds. Empty without a base-model run."""
    base = next((r.per_task(evaluator, family) for r in records if r.strategy == BASE_MODEL), {})
    rows = []
    for i, r in enumerate(records):
        if r.strategy in REFERENCES or r.selection is None or not base:
            continue
        counts = Counter(task_of.get(uid) for uid in r.selection.uids)
        for task, value in r.per_task(evaluator, family).items():
            if task in base:
                rows.append(
                    {
                        "cell": i,
                        "strategy": r.table_label,
                        "budget": r.cell.budget,
                        "seed": r.cell.seed,
                        "task": task,
                        "n": counts.get(task, 0),
                        "gain": value - base[task],
                    }
                )
    return pd.DataFrame(rows)


def _within_fit(groups: np.ndarray, x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least squares of y on x after removing each group's weighted mean (fixed effects)."""
    total = np.bincount(groups, weights=weights)
    safe = np.where(total > 0, total, 1.0)
    xm = np.stack([np.bincount(groups, weights=weights * col) / safe for col in x.T], axis=1)
    ym = np.bincount(groups, weights=weights * y) / safe
    xd, yd = x - xm[groups], y - ym[groups]
    root = np.sqrt(weights)[:, None]
    coef, *_ = np.linalg.lstsq(xd * root, yd * root[:, 0], rcond=None)
    return coef


def coverage_effect(frame: pd.DataFrame, seed: int = 0, resamples: int = RESAMPLES) -> dict[str, float]:
    """``a`` (covering a task) and ``b`` (each example of it), each with a 95 % percentile interval from
    a bootstrap over cells; NaN where the cells do not vary coverage within a (task, budget) group."""
    groups = frame.groupby(["task", "budget"]).ngroup().to_numpy()
    x = np.stack([(frame["n"] > 0).to_numpy(float), frame["n"].to_numpy(float)], axis=1)
    y = frame["gain"].to_numpy(float)
    cells, cell_of_row = np.unique(frame["cell"].to_numpy(), return_inverse=True)
    varies = np.linalg.matrix_rank(x - pd.DataFrame(x).groupby(groups).transform("mean").to_numpy()) == 2
    if not varies:
        return {k: float("nan") for k in ("a", "a_low", "a_high", "b", "b_low", "b_high")}
    a, b = _within_fit(groups, x, y, np.ones(len(y)))
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, 2))
    for i in range(resamples):
        picks = np.bincount(rng.integers(0, len(cells), len(cells)), minlength=len(cells))
        draws[i] = _within_fit(groups, x, y, picks[cell_of_row].astype(float))
    low, high = np.nanpercentile(draws, [2.5, 97.5], axis=0)
    return {"a": a, "a_low": low[0], "a_high": high[0], "b": b, "b_low": low[1], "b_high": high[1]}


def dose_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean gain over the same task's uncovered cells at the same budget, by examples of the task
    selected: the dose-response the fit summarises (groups without an uncovered cell left out)."""
    uncovered = frame[frame["n"] == 0].groupby(["task", "budget"])["gain"].mean().rename("uncovered")
    joined = frame.join(uncovered, on=["task", "budget"]).dropna(subset=["uncovered"])
    joined["examples of the task"] = pd.cut(joined["n"], DOSE_BINS, labels=DOSE_LABELS)
    joined["gain over uncovered"] = joined["gain"] - joined["uncovered"]
    table = joined.groupby("examples of the task", observed=True)["gain over uncovered"].agg(
        ["mean", "std", "count"]
    )
    return table.reset_index()


def covered_tasks(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean number of evaluated tasks each strategy's selections cover, per budget (rows) and strategy."""
    per_cell = frame.groupby(["strategy", "budget", "cell"])["n"].apply(lambda n: int((n > 0).sum()))
    return per_cell.groupby(["budget", "strategy"]).mean().unstack("strategy")


def coverage_section(
    frame: pd.DataFrame, title: str, baseline: str, mdes: dict[str, float], seed: int = 0
) -> str:
    """Markdown for one metric family: the fit, the coverage prediction for each positive control beside
    the design's MDE of its macro metric (``mdes``, per budget), the dose-response table and the tasks
    each strategy covers."""
    fit = coverage_effect(frame, seed)
    tasks = frame["task"].nunique()
    lines = [
        f"### {title}",
        "",
        f"Value of covering a task (a): {fit['a']:+.4f} [{fit['a_low']:+.4f}, {fit['a_high']:+.4f}]; "
        f"each example of it (b): {fit['b']:+.4f} [{fit['b_low']:+.4f}, {fit['b_high']:+.4f}] "
        f"({len(frame)} task results of {frame['cell'].nunique()} cells, {tasks} tasks; 95 % bootstrap "
        "intervals over cells).",
        "",
    ]
    covered = covered_tasks(frame)
    for control in sorted(control_strategies(covered.columns)):
        if baseline not in covered.columns:
            break
        for budget, row in covered[[control, baseline]].dropna().iterrows():
            delta = (row[control] - row[baseline]) / tasks
            lines.append(
                f"- {control} minus {baseline} at budget {budget}, as coverage predicts: covers "
                f"{row[control]:.1f} against {row[baseline]:.1f} tasks, so a·Δk/T = {fit['a'] * delta:+.4f} "
                f"[{min(fit['a_low'] * delta, fit['a_high'] * delta):+.4f}, "
                f"{max(fit['a_low'] * delta, fit['a_high'] * delta):+.4f}]; the design's MDE there: "
                f"{mdes.get(str(budget), float('nan')):.4f}"
            )
    lines += [
        "",
        "Gain over the same task's uncovered cells at the same budget, by the examples of the task selected:",
        "",
        dose_table(frame).to_markdown(index=False, floatfmt=".4f"),
        "",
        "Tasks covered per selection (mean over seeds):",
        "",
        covered.to_markdown(floatfmt=".1f"),
    ]
    return "\n".join(lines)


COVERAGE_INTRO = (
    "## Does task coverage matter here?\n\n"
    "Per task and trained cell, gain over the base model = c(task, budget) + a·covered + b·examples. "
    "At a fixed budget a macro metric rewards spreading the budget over tasks only through a, the value "
    "of covering a task beyond its examples' own effect; where a is zero, no macro metric of that "
    "family can rank a strategy that concentrates its budget (the positive control) below random. "
    "Estimated within (task, budget) groups, bootstrapped over cells; descriptive (selections are not "
    "randomised over the number of a task's examples)."
)


def coverage_report(
    records: list[RunRecord], evaluator: str, task_of: dict[str, str], baseline: str = "random", seed: int = 0
) -> str:
    """Markdown: the coverage analysis of every metric family ``evaluator`` stored per task."""
    sections = []
    for family in per_task_families(records, evaluator):
        frame = coverage_frame(records, evaluator, family, task_of)
        informative = len(frame) and frame["gain"].nunique() > 1  # e.g. exact match on free text: all 0
        if informative and frame["n"].gt(0).any() and frame["n"].eq(0).any():
            macro = results_frame(records, evaluator, f"{family}_macro")
            mdes = design_mde(macro, baseline, control_strategies(set(macro["strategy"])))
            sections.append(coverage_section(frame, f"{evaluator} {family}", baseline, mdes, seed))
    return "\n\n".join([COVERAGE_INTRO, *sections]) if sections else ""
