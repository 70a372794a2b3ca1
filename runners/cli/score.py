"""`selbench score`: compute a pool's features and write them (with the per-task confidence table)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmark.atomic import atomic_write, atomic_write_text
from benchmark.data import load_pool
from benchmark.types import FEATURE_NAMES
from runners.cli.options import (
    add_pool_arguments,
    add_scorer_arguments,
    pool_spec,
    scorer_config,
    writable_folder,
)
from strategies.task_sampling import inverse_confidence_weights


def run(args: argparse.Namespace, console: Console) -> int:
    """Compute pool features, write them to --out and print the per-task confidence."""
    from benchmark.scoring import Scorer

    scorer = Scorer(scorer_config(args))
    pool = load_pool(pool_spec(args)).pool
    out = Path(args.out)
    writable_folder(out, "--out")
    features = scorer.features(pool, set(args.features))
    for name in sorted(FEATURE_NAMES - {"task_confidence"}):  # the per-example arrays
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


def add_parser(commands: Any) -> None:
    """The `score` subcommand and its flags."""
    score = commands.add_parser("score", help="compute a pool's features (confidence, embeddings)")
    add_pool_arguments(score)
    score.add_argument("--out", required=True, help="folder for the feature files")
    score.add_argument(
        "--features",
        nargs="+",
        default=["confidence", "task_confidence", "embeddings"],
        choices=sorted(FEATURE_NAMES),
    )
    add_scorer_arguments(score)
    score.set_defaults(run=run)
