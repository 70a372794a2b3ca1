"""`selbench evaluate`: score a `selbench finetune` run again, with any evaluator, without retraining:
its saved adapter (or full model) on the base model it was trained from, which must be unchanged."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmark.atomic import atomic_write_text
from benchmark.data.files import existing_path
from benchmark.errors import SelbenchError
from benchmark.models import ModelSpec, resolve_model
from benchmark.store import provenance
from runners.cli.evaluators import accuracy_table, add_evaluator_arguments, checked_evaluators


def _base_model(run_dir: Path) -> tuple[dict[str, Any], ModelSpec]:
    """The run's record and the base model it names (from `selbench finetune`'s metrics.json)."""
    path = existing_path(run_dir / "metrics.json", "the record of a `selbench finetune` run")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        model = record["model"]
        return record, ModelSpec(
            model["model"], gguf_file=model.get("gguf_file"), revision=model.get("revision")
        )
    except (ValueError, KeyError, TypeError) as err:
        raise SelbenchError(f"{path}: not the record of a `selbench finetune` run ({err}).") from None


def run(args: argparse.Namespace, console: Console) -> int:
    """Load the run's model (base model plus its saved adapter) and evaluate it with each evaluator."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from benchmark.models import load_model

    evaluators = checked_evaluators(args)
    run_dir = existing_path(args.run_dir, "the run folder, RUN_DIR", folder=True)
    record, spec = _base_model(run_dir)
    for evaluator in evaluators:
        if evaluator.needs_heldout:
            raise SelbenchError(
                f"--evaluators {evaluator.name} scores a pool's held-out split, which a run does not keep: "
                "use `selbench finetune` with the pool options."
            )
    adapter, full = run_dir / "adapter", run_dir / "model"
    if record.get("budget") and not (adapter.is_dir() or full.is_dir()):
        raise SelbenchError(
            f"{run_dir}: no saved adapter/ or model/ (trained with save_model: false); nothing to evaluate."
        )
    resolved = resolve_model(spec)
    if resolved.fingerprint != record["model"].get("fingerprint"):
        raise SelbenchError(
            f"{run_dir}: the base model {spec.name_or_path} is not the one this run was trained from "
            "(its fingerprint changed); the adapter would be applied to other weights."
        )
    model, tokenizer = load_model(resolved, args.cache_dir)
    if adapter.is_dir():
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    elif full.is_dir():
        model = AutoModelForCausalLM.from_pretrained(full, torch_dtype=model.dtype)
    model.eval()
    started = provenance()
    rows = []
    for evaluator in evaluators:
        result = evaluator.evaluate(model, tokenizer)
        out = {
            "evaluator": evaluator.name, "params": evaluator.get_params(), "metrics": result.metrics,
            "per_task": result.per_task, "n": result.n, "details": result.details,
            "command": args.command_line, "provenance": started,
        }  # fmt: skip
        atomic_write_text(run_dir / "evaluations" / f"{evaluator.name}.json", json.dumps(out, indent=1))
        rows.append((evaluator.name, result.n, result.metrics))
    console.print(accuracy_table(f"{run_dir}: budget {record.get('budget', 0)}", rows))
    console.print(f"written to {run_dir / 'evaluations'}")
    return 0


def add_parser(commands: Any) -> None:
    """The `evaluate` subcommand and its flags."""
    evaluate = commands.add_parser(
        "evaluate", help="evaluate a finetune run's saved model, without retraining"
    )
    evaluate.add_argument("run_dir", help="a `selbench finetune` run folder (metrics.json, adapter/)")
    evaluate.add_argument("--cache-dir", help="model cache (default: $SELBENCH_CACHE_DIR or user cache)")
    add_evaluator_arguments(evaluate, default=["mmlu_native"])
    evaluate.set_defaults(run=run)
