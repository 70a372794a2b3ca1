"""`selbench report`: print and write a sweep's accuracy-versus-annotation-cost report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmark.atomic import atomic_write_text
from benchmark.errors import SelbenchError
from benchmark.records import RunRecord
from benchmark.registry import did_you_mean
from benchmark.store import RunStore
from runners.cli.options import (
    writable_folder,
)
from runners.comparison import comparison_report
from runners.costs import COSTS_TITLE, format_costs, selection_costs
from runners.coverage import coverage_report
from runners.curves import format_curves
from runners.leaderboard import pool_tasks, study_config, write_leaderboard
from runners.report import (
    check_evaluator,
    failed_cells,
    format_table,
    gap_lines,
    headline_metric,
    missing_cells,
    planned_seeds,
    results_frame,
    savings_line,
    signal_report,
    summary_table,
    write_report,
)
from runners.settings import how_cells_run


def print_report(
    records: list[RunRecord], evaluator: str, metric: str, console: Console, baseline: str = "random"
) -> None:
    frame = results_frame(records, evaluator, metric)
    stats = summary_table(frame)
    console.print(f"{evaluator} {metric}, mean ± std over seeds (n), best per budget in bold")
    table = format_table(stats, records[0].pool.size, seeds=planned_seeds(records))
    console.print(table, highlight=False, markup=False)
    console.print(savings_line(stats), highlight=False)
    text, _ = comparison_report(frame, baseline)
    if text:
        console.print(text, highlight=False, markup=False)
    if not (costs := selection_costs(records)).empty:
        console.print(COSTS_TITLE + "\n" + format_costs(costs), highlight=False, markup=False)
    if curves := format_curves(frame, records[0].pool.size):
        console.print(curves, highlight=False, markup=False)


def run(args: argparse.Namespace, console: Console) -> int:
    """Print (and with --out, write) the accuracy-versus-annotation-cost table of a sweep's stored runs."""
    store = RunStore(Path(args.run_dir) / "runs")
    records = store.runs()
    if not records:
        raise SelbenchError(f"{store.root}: no finished runs. Run `selbench sweep CONFIG` first.")
    common = set.intersection(*(set(r.config or {}) for r in records))
    configs = {json.dumps(how_cells_run(r.config, common), sort_keys=True) for r in records}
    if len(configs) > 1:
        console.print(
            f"warning: {store.root} holds runs of {len(configs)} different configurations; the table mixes "
            "them (provenance.json lists them). Report a sweep's own folder to keep them apart.",
            highlight=False,
        )
    if args.out:
        writable_folder(Path(args.out), "--out")
    check_evaluator(records, args.evaluator)
    configured = (records[0].config or {}).get("headline") or {}  # the sweep's own choice, if it made one
    metric = args.metric or configured.get(args.evaluator) or headline_metric(args.evaluator)
    strategies = sorted({r.table_label for r in records})
    if args.baseline is not None and args.baseline not in strategies:
        raise SelbenchError(
            f"--baseline {args.baseline!r}: no stored run of it.{did_you_mean(args.baseline, strategies)} "
            f"Stored: {', '.join(strategies)}."
        )
    args.baseline = args.baseline or "random"
    task_of = pool_tasks(records) if args.coverage else None  # needed: its error stops the report
    print_report(records, args.evaluator, metric, console, args.baseline)
    failed = failed_cells(args.run_dir)
    if args.out:
        write_report(records, args.evaluator, metric, args.out, args.command_line, args.baseline, failed)
        if task_of is None:
            try:
                task_of = pool_tasks(records)
            except SelbenchError as err:  # the tables do not need the data; the allocation charts do
                console.print(
                    f"warning: task allocations left out of leaderboard.json: {err}", highlight=False
                )
        study = study_config(records).get("name") or Path(args.run_dir).resolve().parent.name
        write_leaderboard(records, study, Path(args.out) / "leaderboard.json", task_of)
        console.print(f"tables, plots and leaderboard.json written to {args.out}")
    if args.coverage:
        coverage = coverage_report(records, args.evaluator, task_of, args.baseline)
        console.print(
            coverage
            or f"no {args.evaluator} per-task results of selections covering some tasks and not others",
            markup=False,
        )
        if args.out and coverage:
            atomic_write_text(Path(args.out) / "coverage.md", coverage + "\n")
    if args.signal:
        signal = signal_report(records, args.baseline)
        console.print("signal of every metric (MDE: 80 % power, 5 % two-sided, paired over seeds)")
        console.print(
            signal or "no metric has a baseline and another strategy over several seeds", markup=False
        )
        if args.out and signal:
            atomic_write_text(Path(args.out) / "signal.md", signal + "\n")
    gaps = gap_lines(missing_cells(records), failed)
    for line in gaps:
        console.print(line, highlight=False, markup=False)
    if gaps and not args.allow_partial:
        console.print("the report is partial: exit code 1 (--allow-partial to accept it)", highlight=False)
        return 1
    return 0


def add_parser(commands: Any) -> None:
    """The `report` subcommand and its flags."""
    report = commands.add_parser("report", help="the accuracy-versus-annotation-cost table of a sweep")
    report.add_argument("run_dir", help="the sweep's output folder (holds runs/)")
    report.add_argument("--evaluator", default="heldout")
    report.add_argument(
        "--metric", help="default: the sweep config's headline, else acc_macro for heldout, acc for MMLU"
    )
    report.add_argument("--baseline", help="strategy the others are compared with (default: random)")
    report.add_argument("--out", help="folder for table.md, table.csv and table.tex")
    report.add_argument(
        "--allow-partial",
        action="store_true",
        help="exit 0 although planned cells are missing or failed (they are still named and marked)",
    )
    report.add_argument(
        "--signal",
        action="store_true",
        help="also each metric's signal: gain over the base model, seed noise, minimum detectable effect",
    )
    report.add_argument(
        "--coverage",
        action="store_true",
        help="also whether task coverage matters: each metric's gain from covering a task, from per-task "
        "results and the pool's task labels (reads the pool's data)",
    )
    report.set_defaults(run=run)
