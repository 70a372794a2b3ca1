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
from strategies import STRATEGIES


def run(args: argparse.Namespace, console: Console) -> int:
    """List every registered strategy (entry-point plugins included) with its parameters and features."""
    table = Table(title="selection strategies")
    table.add_column("strategy", no_wrap=True)
    for column in ("parameters (defaults)", "requires", "description"):
        table.add_column(column)
    for name, cls in STRATEGIES:
        required = [  # with a required parameter there is no default instance to ask
            p
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.default is p.empty
            and p.name != "self"
            and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        features = cls.requires if required else cls().required_features()
        summary = (inspect.getdoc(cls) or "").splitlines()[0]
        table.add_row(name, parameters(cls.__init__), ", ".join(sorted(features)) or "-", summary)
    console.print(table)
    for name, error in sorted(STRATEGIES.broken.items()):
        console.print(f"not loaded: {name}: {error}", highlight=False, markup=False)
    return 0


def add_parser(commands: Any) -> None:
    """The `strategies` subcommand and its flags."""
    strategies = commands.add_parser("strategies", help="list the selection strategies")
    strategies.set_defaults(run=run)
