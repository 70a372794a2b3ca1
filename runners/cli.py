"""The ``selbench`` command line. User errors print one line and exit with code 2 (``--debug``: traceback)."""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import yaml
from rich.console import Console
from rich.table import Table

from benchmark.atomic import atomic_write, atomic_write_text
from benchmark.data import SOURCES, PoolSpec, load_pool
from benchmark.errors import SelbenchError
from benchmark.models import ModelSpec
from benchmark.scoring import CONFIDENCE_MODES, EMBEDDINGS, Scorer, ScorerConfig
from benchmark.types import FEATURE_NAMES
from strategies import STRATEGIES
from strategies.task_sampling import inverse_confidence_weights

log = logging.getLogger("selbench")
T = TypeVar("T")


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


def _from_args(cls: type[T], args: argparse.Namespace, **overrides: object) -> T:
    """An instance of the dataclass ``cls`` from the parsed flags named like its fields."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    return cls(**(values | overrides))


def _pool_spec(args: argparse.Namespace) -> PoolSpec:
    return _from_args(
        PoolSpec, args, options=dict(args.options), tasks=tuple(args.tasks) if args.tasks else None
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


def _scorer_config(args: argparse.Namespace) -> ScorerConfig:
    model = ModelSpec(args.model, gguf_file=args.gguf_file) if args.model else ModelSpec.default()
    return _from_args(ScorerConfig, args, model=model)


def cmd_score(args: argparse.Namespace, console: Console) -> int:
    """Compute pool features, write them to --out and print the per-task confidence."""
    pool = load_pool(_pool_spec(args)).pool
    scorer = Scorer(_scorer_config(args))
    features = scorer.features(pool, set(args.features))
    out = Path(args.out)
    for name in ("confidence", "entropy", "embeddings"):
        value = getattr(features, name)
        if value is not None:
            atomic_write(out / f"{name}.npy", lambda f, v=value: np.save(f, v, allow_pickle=False))
    atomic_write_text(out / "uids.json", json.dumps(list(pool.uids)))
    atomic_write_text(
        out / "provenance.json", json.dumps(scorer.provenance() | {"pool": pool.fingerprint()}, indent=1)
    )
    if "task_confidence" in args.features:
        table = scorer.task_confidence(pool)
        share = inverse_confidence_weights(table.mean, 1.0)
        frame = pd.DataFrame(
            {
                "task": table.tasks,
                "n": table.n,
                "confidence": table.mean,
                "stderr": table.stderr,
                "inverse_confidence_share": share / share.sum(),
            }
        ).sort_values("confidence")
        atomic_write_text(out / "task_confidence.csv", frame.to_csv(index=False))
        view = Table(title=f"per-task confidence ({scorer.config.confidence}), pool {pool.name}")
        for column in ("task", "n", "confidence", "share at T=1"):
            view.add_column(column, justify="left" if column == "task" else "right")
        for row in frame.itertuples():
            view.add_row(
                row.task,
                str(row.n),
                f"{row.confidence:.3f} ± {row.stderr:.3f}",
                f"{row.inverse_confidence_share:.1%}",
            )
        console.print(view)
    console.print(f"features written to {out}")
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
    score = commands.add_parser("score", help="compute a pool's features (confidence, embeddings)")
    _add_pool_arguments(score)
    score.add_argument("--out", required=True, help="folder for the feature files")
    score.add_argument(
        "--features",
        nargs="+",
        default=["confidence", "task_confidence", "embeddings"],
        choices=sorted(FEATURE_NAMES),
    )
    score.add_argument(
        "--model", help="causal LM: hub id or local folder (default: packaged SmolLM2-135M-Instruct)"
    )
    score.add_argument("--gguf-file", help="GGUF file inside the --model folder")
    score.add_argument("--confidence", default="label_free", choices=CONFIDENCE_MODES)
    score.add_argument("--max-new-tokens", type=int, default=16)
    score.add_argument("--max-prompt-tokens", type=int, default=256)
    score.add_argument("--task-sample-size", type=int, default=32)
    score.add_argument("--embedding", default="sentence_transformers", choices=EMBEDDINGS)
    score.add_argument(
        "--embedder", help="sentence-transformers id or folder (default: packaged all-MiniLM-L6-v2)"
    )
    score.add_argument("--batch-size", type=int, default=16)
    score.add_argument(
        "--cache-dir", help="feature and model cache (default: $SELBENCH_CACHE_DIR or user cache)"
    )
    score.set_defaults(run=cmd_score)
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
