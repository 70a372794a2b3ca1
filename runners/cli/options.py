"""Flags and checks shared by the subcommands: pool and scorer flags, KEY=VALUE options, settings built
from flags with errors that name the flag, output folders checked before any work."""

from __future__ import annotations

import argparse
import inspect
import os
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TypeVar

import yaml

from benchmark.data import PoolSpec
from benchmark.data.pools import SPLITS
from benchmark.errors import SelbenchError
from benchmark.models import ModelSpec
from benchmark.settings import CONFIDENCE_MODES, EMBEDDINGS, ScorerConfig

T = TypeVar("T")


def key_value(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE, e.g. task_level=coarse")
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"{text!r}: the value is not valid YAML; quote it") from None


def add_key_values(parser: argparse.ArgumentParser, short: str, long: str, help: str) -> None:
    """A repeatable KEY=VALUE flag collected as (key, YAML-parsed value) pairs in ``<long>s``."""
    parser.add_argument(
        short,
        long,
        dest=long.lstrip("-").replace("-", "_") + "s",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help=help,
    )


def add_pool_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", default="synthetic", help="pool source (default: synthetic)")
    add_key_values(parser, "-o", "--option", "source option, repeatable: path=../shared/data/flan_t0, ...")
    parser.add_argument("--tasks", nargs="+", help="keep only these tasks")
    parser.add_argument("--heldout-per-task", type=int, default=0, help="examples per task set aside")
    parser.add_argument("--min-per-task", type=int, default=1, help="drop tasks with fewer pool examples")
    parser.add_argument("--max-per-task", type=int, help="seeded cap on pool examples per task")
    parser.add_argument("--max-examples", type=int, help="seeded cap on pool examples in total")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--split",
        default="content",
        choices=SPLITS,
        help="held-out split: by shared source content (default) or by record (leaky; old studies only)",
    )
    parser.add_argument(
        "--constant-label-share",
        type=float,
        default=0.9,
        help="templates whose most common answer has this share are never held out",
    )
    parser.add_argument(
        "--heldout-max-group", type=int, default=50, help="content groups larger than this are never held out"
    )


def from_args(
    cls: type[T], args: argparse.Namespace, flags: dict[str, str] | None = None, **values: object
) -> T:
    """An instance of the dataclass ``cls`` from the parsed flags named like its fields (``flags``: the
    fields whose flag is named otherwise); an invalid value is reported under its flag."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)} | values
    try:
        return cls(**values)
    except SelbenchError as err:
        raise SelbenchError(flag_names(str(err), flags or {})) from None


def flag_names(message: str, flags: dict[str, str]) -> str:
    """A settings error (``pool heldout_per_task=-1: ...``) as typed (``--heldout-per-task=-1: ...``)."""

    def flag(match: re.Match[str]) -> str:
        return f"--{flags.get(match[1], match[1]).replace('_', '-')}="

    message = re.sub(r"^(?:pool|scorer|training) (\w+)=", flag, message)
    return re.sub(r"^options\.(\w+):", r"-o \1:", message)


def pool_spec(args: argparse.Namespace) -> PoolSpec:
    return from_args(
        PoolSpec, args, options=dict(args.options), tasks=tuple(args.tasks) if args.tasks else None
    )


def parameters(function: Callable) -> str:
    """``name=default`` for each keyword parameter of ``function`` (``name`` alone when required)."""
    params = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    return ", ".join(f"{p.name}={p.default!r}" if p.default is not p.empty else p.name for p in params) or "-"


def scorer_config(args: argparse.Namespace) -> ScorerConfig:
    model = ModelSpec(args.model, gguf_file=args.gguf_file) if args.model else ModelSpec.default()
    return from_args(ScorerConfig, args, model=model)


def add_settings_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    names: Sequence[str],
    choices: dict[str, Sequence[str]] | None = None,
    flags: dict[str, str] | None = None,
) -> None:
    """A flag per field of the settings dataclass ``cls`` (``--max-new-tokens`` for ``max_new_tokens``;
    ``flags`` renames), its type and default read off the dataclass: one source of defaults."""
    hints = typing.get_type_hints(cls)
    defaults = {f.name: f.default for f in fields(cls)}
    for name in names:
        kind = next(t for t in (int, float, str) if t == hints[name] or t in typing.get_args(hints[name]))
        parser.add_argument(
            f"--{(flags or {}).get(name, name).replace('_', '-')}",
            dest=(flags or {}).get(name, name),
            type=kind,
            default=defaults[name],
            choices=(choices or {}).get(name),
            help=f"default: {defaults[name]}",
        )


def add_scorer_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", help="causal LM: hub id or local folder (default: packaged SmolLM2-135M-Instruct)"
    )
    parser.add_argument("--gguf-file", help="GGUF file inside the --model folder")
    add_settings_arguments(
        parser,
        ScorerConfig,
        ("confidence", "max_new_tokens", "max_prompt_tokens", "task_sample_size", "embedding", "batch_size"),
        choices={"confidence": CONFIDENCE_MODES, "embedding": EMBEDDINGS},
    )
    parser.add_argument(
        "--embedder", help="sentence-transformers id or folder (default: packaged all-MiniLM-L6-v2)"
    )
    parser.add_argument(
        "--cache-dir", help="feature and model cache (default: $SELBENCH_CACHE_DIR or user cache)"
    )


def writable_folder(path: Path, what: str) -> None:
    """Fail now, not after hours of work, on an output folder that is a file or cannot be written;
    nothing is created (a bad input leaves nothing behind)."""
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        reason = "is a file" if existing.exists() and not existing.is_dir() else "is not writable"
        raise SelbenchError(
            f"{path}: the output folder cannot be written ({existing} {reason}). Fix {what} or its rights."
        )
