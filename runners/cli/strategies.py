"""`selbench strategies`: list the registered strategies (plugins included, broken ones with their error)."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from rich.console import Console
from rich.table import Table

from runners.cli.options import (
    parameters,
)
from strategies import STRATEGIES, Strategy


def _reads(strategy: Strategy | type[Strategy]) -> str:
    """What a selection reads, oracles marked (they read the gold responses annotation buys)."""
    info = strategy.information() if isinstance(strategy, Strategy) else strategy.reads
    text = ", ".join(sorted(i.replace("_", " ") for i in info)) or "nothing"
    return text + (" (ORACLE)" if "responses" in info else "")


def _default_instance(cls: type[Strategy]) -> Strategy | None:
    """The strategy with its default parameters; None when a parameter has no default."""
    required = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.default is p.empty and p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return None if required else cls()


def run(args: argparse.Namespace, console: Console) -> int:
    """List every registered strategy (entry-point plugins included) with its parameters, features and
    what it reads, then every allocation x within-task picker composition."""
    from strategies.task_sampling import TaskSampling

    table = Table(title="selection strategies")
    table.add_column("strategy", no_wrap=True)
    for column in ("parameters (defaults)", "requires", "reads", "description"):
        table.add_column(column)
    defaults = {name: _default_instance(cls) for name, cls in STRATEGIES}
    for name, cls in STRATEGIES:
        instance = defaults[name]
        features = cls.requires if instance is None else instance.required_features()
        summary = (inspect.getdoc(cls) or "").splitlines()[0]
        reads = _reads(instance or cls)
        table.add_row(name, parameters(cls.__init__), ", ".join(sorted(features)) or "-", reads, summary)
    console.print(table)
    compositions = Table(title="compositions: an allocation over tasks with a picker within each task")
    compositions.add_column("strategy", no_wrap=True)
    compositions.add_column("reads")
    allocations = [n for n, c in STRATEGIES if issubclass(c, TaskSampling) and defaults[n] is not None]
    pickers = [n for n, c in STRATEGIES if not issubclass(c, TaskSampling) and defaults[n] is not None]
    for allocation in allocations:
        for picker in (p for p in pickers if not STRATEGIES.get(p).control):
            composed = STRATEGIES.build(allocation, {"within": picker})
            compositions.add_row(f"{allocation} within={picker}", _reads(composed))
    console.print(compositions)
    for name, error in sorted(STRATEGIES.broken.items()):
        console.print(f"not loaded: {name}: {error}", highlight=False, markup=False)
    return 0


def add_parser(commands: Any) -> None:
    """The `strategies` subcommand and its flags."""
    strategies = commands.add_parser("strategies", help="list the selection strategies")
    strategies.set_defaults(run=run)
