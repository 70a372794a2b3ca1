"""`selbench select`: run one strategy on one pool and write the selected uids."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from benchmark.atomic import atomic_write_text
from benchmark.data import load_pool
from benchmark.errors import SelbenchError
from benchmark.typecheck import typed_kwargs
from runners.cli.options import (
    add_key_values,
    add_pool_arguments,
    add_scorer_arguments,
    pool_spec,
    scorer_config,
    writable_folder,
)
from strategies import STRATEGIES, build_strategy


def run(args: argparse.Namespace, console: Console) -> int:
    """Run one strategy on one pool and write the selected uids."""
    from benchmark.scoring import Scorer

    params = typed_kwargs(STRATEGIES.get(args.strategy).__init__, dict(args.params), "-p {}")
    strategy = build_strategy(args.strategy, params)
    scorer = Scorer(scorer_config(args))
    pool = load_pool(pool_spec(args)).pool
    if not 0 <= args.budget <= len(pool):
        raise SelbenchError(f"--budget {args.budget}: must be between 0 and the pool size {len(pool)}.")
    writable_folder(Path(args.out).parent, "--out")
    features = scorer.features(pool, strategy.required_features())
    picked = strategy.select(pool, args.budget, features, np.random.default_rng(args.selection_seed))
    uids = [pool.uids[i] for i in picked]
    record = {
        "strategy": args.strategy,
        "params": strategy.get_params(),
        "budget": args.budget,
        "seed": args.selection_seed,
        "pool": pool.name,
        "pool_fingerprint": pool.fingerprint(),
        "uids": uids,
    }
    atomic_write_text(args.out, json.dumps(record, indent=1))
    counts = pd.Series([pool.examples[i].task for i in picked]).value_counts().sort_index()
    console.print(
        f"{strategy!r} picked {len(uids)} of {len(pool)} examples from {len(counts)} tasks -> {args.out}"
    )
    console.print(", ".join(f"{task}: {n}" for task, n in counts.items()), highlight=False)
    return 0


def add_parser(commands: Any) -> None:
    """The `select` subcommand and its flags."""
    select = commands.add_parser("select", help="run one strategy on one pool and write the picked uids")
    add_pool_arguments(select)
    select.add_argument("--strategy", required=True, help="a name from `selbench strategies`")
    add_key_values(select, "-p", "--param", "strategy parameter, repeatable: temperature=2")
    select.add_argument("--budget", type=int, required=True, help="number of examples to annotate")
    select.add_argument("--selection-seed", type=int, default=0, help="seed of the strategy's random choices")
    select.add_argument("--out", required=True, help="JSON file for the selection")
    add_scorer_arguments(select)
    select.set_defaults(run=run)
