"""`selbench leaderboard`: build the static leaderboard site from the studies' leaderboard.json files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console


def run(args: argparse.Namespace, console: Console) -> int:
    """Build the site and say where it is."""
    from runners.site import build_site

    out = Path(args.out)
    studies = build_site(Path(args.results), out)
    console.print(
        f"{len(studies)} studies ({', '.join(s.name for s in studies)}): open {out / 'index.html'}",
        highlight=False,
    )
    return 0


def add_parser(commands: Any) -> None:
    """The `leaderboard` subcommand and its flags."""
    board = commands.add_parser(
        "leaderboard", help="build the static leaderboard site (opens without a server or network)"
    )
    board.add_argument("results", help="folder holding the studies' report folders (leaderboard.json)")
    board.add_argument("--out", default="site", help="folder for the site (default: site/)")
    board.set_defaults(run=run)
