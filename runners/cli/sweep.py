"""`selbench sweep`: plan (--dry-run) or run a budget sweep, then print and write its report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from benchmark.config import SweepConfig, load_sweep_config
from benchmark.data import load_pool
from benchmark.errors import SelbenchError
from benchmark.models import load_tokenizer
from benchmark.records import RunRecord
from benchmark.store import RunStore
from runners.cli.options import (
    writable_folder,
)
from runners.cli.report import print_report
from runners.report import (
    headline_metric,
    write_report,
)

if TYPE_CHECKING:
    from runners.harness import ModelHarness


def _print_plan(
    config: SweepConfig, harness: ModelHarness, store: RunStore, output: Path, console: Console
) -> None:
    """Every cell with its state and cost: measured for finished cells, estimated for the others."""
    from runners.estimate import (
        cell_seconds,
        format_duration,
        mean_example_tokens,
        measured_rates,
        training_tokens,
    )
    from runners.plan import plan, resolved_bf16
    from runners.settings import unreused_runs

    loaded = load_pool(config.pool)
    model = harness.model_fingerprint()
    cells = plan(config, loaded.pool, loaded.heldout, model)
    stored = store.runs()  # each record read once: the plan's own, and those it may fail to reuse
    by_key = {r.key: r for r in stored}
    records = {c.key: by_key[c.key] for c in cells if c.key in by_key}
    rates = measured_rates(list(records.values()))
    tokenizer = load_tokenizer(harness.scorer.resolved, config.scorer.cache_dir)
    per_example = mean_example_tokens(loaded.pool, tokenizer, config.training.max_length)
    todo = [c for c in cells if c.key not in records]
    tokens = {c.key: training_tokens(per_example, config.training, c.budget) for c in todo}
    console.print(
        f"sweep {config.name}: {len(cells)} cells, {len(records)} already done, {len(todo)} to run "
        f"({sum(tokens.values()):,} training tokens); results in {output}",
        highlight=False,
    )
    if warning := unreused_runs(todo, stored, config, model, resolved_bf16(config)):
        console.print(f"warning: {warning}", highlight=False)
    for cell in cells:
        if cell.key in records:
            cost = f"took {format_duration(_measured_seconds(records[cell.key]))}"
        else:
            seconds = cell_seconds(tokens[cell.key], rates)
            cost = f"{tokens[cell.key]:,} tokens" + (f", ~{format_duration(seconds)}" if seconds else "")
        console.print(
            f"  {'done' if cell.key in records else 'todo'}  {cell.label}  {cell.key}  {cost}",
            highlight=False,
        )
    if not todo:
        return
    left = [cell_seconds(tokens[c.key], rates) for c in todo]
    if rates.evaluation_seconds is None or None in left:
        console.print("time to run: unknown until a cell has finished (its timings calibrate the estimate)")
    else:
        console.print(
            f"time to run: ~{format_duration(sum(left))} on this machine (from {rates.cells} finished cells: "
            f"{rates.train_tokens_per_second or 0:.0f} training tokens/s, "
            f"{format_duration(rates.evaluation_seconds)} of evaluation per cell)",
            highlight=False,
        )


def _measured_seconds(record: RunRecord) -> float:
    return sum(record.timings.values())


def run(args: argparse.Namespace, console: Console) -> int:
    """Plan (--dry-run) or run a budget sweep; finished cells are skipped, failed cells listed at the end."""
    from runners.harness import ModelHarness
    from runners.sweep import execute

    config = load_sweep_config(args.config, args.set)
    output = Path(args.output_dir or config.output_dir or Path("runs") / config.name)
    store = RunStore(output / "runs")
    if not args.dry_run:
        writable_folder(output, "--output-dir or the config's output_dir")
    harness = ModelHarness(config)
    try:  # the pool and the budgets it resolves are the config's: errors name the file
        if args.dry_run:
            _print_plan(config, harness, store, output, console)
            return 0
        outcome = execute(config, harness, store, executor=args.executor, address=args.address)
    except SelbenchError as err:
        raise SelbenchError(f"{args.config}: {err}") from None
    console.print(
        f"sweep {config.name}: {len(outcome.done)} cells run, {len(outcome.skipped)} already done, "
        f"{len(outcome.failed)} failed; results in {store.root}"
    )
    records = [r for c in outcome.skipped + outcome.done if (r := store.run(c.key)) is not None]
    for evaluator in config.evaluators if records else ():
        metric = config.headline.get(evaluator.name) or headline_metric(evaluator.name)
        print_report(records, evaluator.name, metric, console)
        write_report(records, evaluator.name, metric, output / "report" / evaluator.name, args.command_line)
    if records:
        console.print(f"tables and plots in {output / 'report'}", highlight=False)
    for label, error in outcome.failed.items():
        console.print(f"  failed: {label}: {error}", highlight=False)
    if outcome.failed:
        console.print(
            f"tracebacks in {output / 'failures'}; a re-run retries only these cells", highlight=False
        )
    return 1 if outcome.failed else 0


def add_parser(commands: Any) -> None:
    """The `sweep` subcommand and its flags."""
    sweep = commands.add_parser("sweep", help="run a budget sweep described by a YAML config")
    sweep.add_argument("config", help="sweep YAML file, e.g. configs/default.yaml")
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a config value, repeatable: training.epochs=1",
    )
    sweep.add_argument("--output-dir", help="where runs are stored (default: the config's, or runs/<name>)")
    sweep.add_argument("--dry-run", action="store_true", help="print the plan: cells, done, still to run")
    sweep.add_argument("--executor", default="local", choices=("local", "ray"))
    sweep.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    sweep.set_defaults(run=run)
