"""`selbench finetune`: fine-tune on a selection (none: the base model), then evaluate with each evaluator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmark.atomic import atomic_write_text
from benchmark.data import load_pool
from benchmark.errors import SelbenchError
from benchmark.models import ModelSpec, resolve_model
from benchmark.settings import METHODS, TrainingConfig
from benchmark.store import provenance
from benchmark.types import Example, Pool
from runners.cli.evaluators import accuracy_table, add_evaluator_arguments, checked_evaluators
from runners.cli.options import (
    add_pool_arguments,
    add_settings_arguments,
    from_args,
    pool_spec,
    writable_folder,
)

TRAINING_FLAGS = {"batch_size": "train_batch_size", "seed": "training_seed"}  # pool flags own the plain names


def _selected_examples(pool: Pool, selection_file: str | None) -> list[Example]:
    """The examples a selection file names (none: budget 0, the base model)."""
    if selection_file is None:
        return []
    path = Path(selection_file)
    try:
        uids = json.loads(path.read_text(encoding="utf-8"))["uids"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SelbenchError(f"{path}: not a selection file from `selbench select` ({err}).") from None
    by_uid = dict(zip(pool.uids, pool.examples, strict=True))
    missing = [u for u in uids if u not in by_uid]
    if missing:
        raise SelbenchError(
            f"{path}: {len(missing)} of {len(uids)} selected uids (first {missing[0]}) are not in pool "
            f"{pool.name!r}. Use the pool options the selection was made with."
        )
    return [by_uid[u] for u in uids]


def run(args: argparse.Namespace, console: Console) -> int:
    """Fine-tune the model on a selection (none: the base model) and evaluate it with each evaluator."""
    from runners.harness import train_and_evaluate

    training = from_args(
        TrainingConfig,
        args,
        TRAINING_FLAGS,
        batch_size=args.train_batch_size,
        seed=args.training_seed,
        bf16={"auto": None, "bf16": True, "fp32": False}[args.precision],
    )
    loaded = load_pool(pool_spec(args))
    examples = _selected_examples(loaded.pool, args.selection)
    evaluators = checked_evaluators(args)  # every evaluator can run before any training is spent
    for evaluator in evaluators:
        if evaluator.needs_heldout and loaded.heldout is None:
            raise SelbenchError(
                f"--evaluators {evaluator.name} scores the pool's held-out split: give --heldout-per-task N "
                "(N > 0)."
            )
    run_dir = Path(args.run_dir)
    writable_folder(run_dir, "--run-dir")
    resolved = resolve_model(
        ModelSpec(args.model, gguf_file=args.gguf_file) if args.model else ModelSpec.default()
    )
    started = provenance()  # the code that runs, even if the checkout moves on before the run ends
    record = {
        "pool": loaded.pool.name,
        "pool_fingerprint": loaded.pool.fingerprint(),
        "budget": len(examples),
        "selection": args.selection,
    }
    record |= train_and_evaluate(
        resolved, args.cache_dir, examples, training, evaluators, loaded.heldout, run_dir
    )
    share = len(examples) / len(loaded.pool)
    table = accuracy_table(
        f"budget {len(examples)} of {len(loaded.pool)} ({share:.1%})",
        ((name, e["n"], e["metrics"]) for name, e in record["evaluations"].items()),
    )
    record |= {"command": args.command_line, "provenance": started}
    atomic_write_text(run_dir / "metrics.json", json.dumps(record, indent=1))
    console.print(table)
    console.print(f"run written to {run_dir}")
    return 0


def add_parser(commands: Any) -> None:
    """The `finetune` subcommand and its flags."""
    finetune = commands.add_parser("finetune", help="fine-tune on a selection, then evaluate")
    add_pool_arguments(finetune)
    finetune.add_argument("--selection", help="file from `selbench select` (none: evaluate the base model)")
    finetune.add_argument("--run-dir", required=True, help="folder for the adapter, loss curve and metrics")
    finetune.add_argument("--model", help="causal LM: hub id or local folder (default: packaged SmolLM2)")
    finetune.add_argument("--gguf-file", help="GGUF file inside the --model folder")
    finetune.add_argument("--cache-dir", help="model cache (default: $SELBENCH_CACHE_DIR or user cache)")
    add_settings_arguments(
        finetune,
        TrainingConfig,
        ("method", "learning_rate", "epochs", "max_steps", "min_steps", "batch_size", "max_length", "seed"),
        choices={"method": METHODS},
        flags=TRAINING_FLAGS,
    )
    finetune.add_argument(
        "--precision",
        default="auto",
        choices=("auto", "bf16", "fp32"),
        help="training on CPU: bf16 autocast or float32 (auto: bf16 where the CPU has it); evaluation: fp32",
    )
    add_evaluator_arguments(finetune, default=["heldout", "mmlu_native"])
    finetune.set_defaults(run=run)
