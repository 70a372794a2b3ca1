"""The ``selbench`` command line: one module per subcommand, each adding its flags (``add_parser``) and
running it (``run``). Modules that import torch are imported by the commands that need them, so that
``selbench --help`` starts without it. User errors print one line and exit with code 2 (``--debug``:
traceback)."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from collections.abc import Sequence
from typing import NoReturn

from rich.console import Console

from benchmark.errors import SelbenchError
from runners.cli import (
    describe,
    evaluate,
    finetune,
    leaderboard,
    report,
    score,
    select,
    sources,
    strategies,
    submit,
    sweep,
)

SUBCOMMANDS = (
    describe,
    sources,
    strategies,
    score,
    select,
    finetune,
    evaluate,
    sweep,
    submit,
    report,
    leaderboard,
)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as SelbenchError: one line and exit code 2, like every user error."""

    def error(self, message: str) -> NoReturn:
        raise SelbenchError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="selbench",
        description="selbench: which examples to annotate for supervised fine-tuning. Selection strategies, "
        "one scoring, training and evaluation harness, budget sweeps and their reports.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    for subcommand in SUBCOMMANDS:
        subcommand.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SelbenchError as err:
        print(f"selbench: error: {err}", file=sys.stderr)
        return 2
    args.command_line = shlex.join(["selbench", *argv])  # recorded beside results
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.run(args, Console(soft_wrap=True))  # tables are never wrapped
    except SelbenchError as err:
        if args.debug:
            raise
        print(f"selbench: error: {err}", file=sys.stderr)
        return 2
