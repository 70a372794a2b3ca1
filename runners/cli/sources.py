"""`selbench sources`: list the pool sources and their options."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from benchmark.data import SOURCES
from runners.cli.options import (
    parameters,
)


def run(args: argparse.Namespace, console: Console) -> int:
    """List the pool sources with their options."""
    for name, loader in SOURCES:
        console.print(f"[bold]{name}[/bold]: {parameters(loader)}", highlight=False)
    return 0


def add_parser(commands: Any) -> None:
    """The `sources` subcommand and its flags."""
    sources = commands.add_parser("sources", help="list the pool sources and their options")
    sources.set_defaults(run=run)
