"""The ``selbench`` command line. User errors print one line and exit with code 2 (``--debug``: traceback)."""

from __future__ import annotations

import argparse
import inspect
import logging
import sys
from collections.abc import Callable, Sequence

import yaml
from rich.console import Console
from rich.table import Table

from benchmark.data import SOURCES, PoolSpec, load_pool
from benchmark.errors import SelbenchError
from strategies import STRATEGIES

log = logging.getLogger("selbench")


def _key_value(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE, e.g. task_level=coarse")
    return key, yaml.safe_load(value)


def _add_pool_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", default="synthetic", help="pool source (default: synthetic)")
    parser.add_argument(
        "-o",
        "--option",
        dest="options",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="source option, repeatable: path=../shared/data/flan_t0, task_level=coarse, ...",
    )
    parser.add_argument("--tasks", nargs="+", help="keep only these tasks")
    parser.add_argument("--heldout-per-task", type=int, default=0, help="examples per task set aside")
    parser.add_argument("--min-per-task", type=int, default=1, help="drop tasks with fewer pool examples")
    parser.add_argument("--max-per-task", type=int, help="seeded cap on pool examples per task")
    parser.add_argument("--max-examples", type=int, help="seeded cap on pool examples in total")
    parser.add_argument("--seed", type=int, default=0)


def _pool_spec(args: argparse.Namespace) -> PoolSpec:
    return PoolSpec(
        source=args.source,
        options=dict(args.options),
        tasks=tuple(args.tasks) if args.tasks else None,
        heldout_per_task=args.heldout_per_task,
        min_per_task=args.min_per_task,
        max_per_task=args.max_per_task,
        max_examples=args.max_examples,
        seed=args.seed,
    )


def cmd_describe(args: argparse.Namespace, console: Console) -> int:
    """Load a pool and print its tasks with pool and held-out counts."""
    loaded = load_pool(_pool_spec(args))
    pool, heldout = loaded.pool, loaded.heldout
    held_counts = heldout.task_counts() if heldout else {}
    table = Table(title=f"pool {pool.name}: {len(pool)} examples, {len(pool.tasks)} tasks")
    for column in ("task", "pool", "held out", "prompt chars", "response chars"):
        table.add_column(column, justify="left" if column == "task" else "right")
    by_task: dict[str, list] = {t: [] for t in pool.tasks}
    for ex in pool.examples:
        by_task[ex.task].append(ex)
    for task, examples in by_task.items():
        table.add_row(
            task,
            str(len(examples)),
            str(held_counts.get(task, 0)),
            f"{sum(len(e.prompt) for e in examples) / len(examples):.0f}",
            f"{sum(len(e.response) for e in examples) / len(examples):.0f}",
        )
    console.print(table)
    console.print(
        f"fingerprint {pool.fingerprint()}; exact duplicates dropped: {loaded.duplicates_dropped}; "
        f"tasks below min_per_task dropped: {len(loaded.small_tasks_dropped)}"
    )
    return 0


def _parameters(function: Callable) -> str:
    """``name=default`` for each keyword parameter of ``function`` (``name`` alone when required)."""
    params = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    return ", ".join(f"{p.name}={p.default!r}" if p.default is not p.empty else p.name for p in params) or "-"


def cmd_sources(args: argparse.Namespace, console: Console) -> int:
    """List the pool sources with their options."""
    for name, loader in SOURCES:
        console.print(f"[bold]{name}[/bold]: {_parameters(loader)}", highlight=False)
    return 0


def cmd_strategies(args: argparse.Namespace, console: Console) -> int:
    """List every registered strategy (entry-point plugins included) with its parameters and features."""
    table = Table(title="selection strategies")
    table.add_column("strategy", no_wrap=True)
    for column in ("parameters (defaults)", "requires", "description"):
        table.add_column(column)
    for name, cls in STRATEGIES:
        features = ", ".join(sorted(cls().required_features())) or "-"
        summary = (inspect.getdoc(cls) or "").splitlines()[0]
        table.add_row(name, _parameters(cls.__init__), features, summary)
    console.print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="selbench", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    describe = commands.add_parser("describe", help="load a pool and print its per-task counts")
    _add_pool_arguments(describe)
    describe.set_defaults(run=cmd_describe)
    sources = commands.add_parser("sources", help="list the pool sources and their options")
    sources.set_defaults(run=cmd_sources)
    strategies = commands.add_parser("strategies", help="list the selection strategies")
    strategies.set_defaults(run=cmd_strategies)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.run(args, Console())
    except SelbenchError as err:
        if args.debug:
            raise
        print(f"selbench: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
