"""The ``selbench`` command line. User errors print one line and exit with code 2 (``--debug``: traceback)."""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import numpy as np
import pandas as pd
import yaml
from rich.console import Console
from rich.table import Table

from benchmark.atomic import atomic_write, atomic_write_text
from benchmark.config import SweepConfig, load_sweep_config
from benchmark.data import SOURCES, PoolSpec, load_pool
from benchmark.data.overlap import leakage
from benchmark.data.pools import SPLITS, cut_pool, load_source
from benchmark.errors import SelbenchError
from benchmark.evaluation import build_evaluator
from benchmark.evaluation.mmlu_prompts import FORMATS
from benchmark.models import ModelSpec, load_tokenizer, resolve_model
from benchmark.records import RunRecord
from benchmark.registry import did_you_mean
from benchmark.settings import CONFIDENCE_MODES, EMBEDDINGS, METHODS, ScorerConfig, TrainingConfig
from benchmark.store import RunStore, provenance
from benchmark.typecheck import typed_kwargs
from benchmark.types import FEATURE_NAMES, Example, Pool
from runners.report import (
    comparison_report,
    failed_cells,
    format_table,
    gap_lines,
    headline_metric,
    missing_cells,
    planned_seeds,
    results_frame,
    savings_line,
    signal_report,
    summary_table,
    write_report,
)
from strategies import STRATEGIES, build_strategy
from strategies.task_sampling import inverse_confidence_weights

if TYPE_CHECKING:
    from runners.sweep import ModelHarness

# Modules that import torch (scoring, training, the sweep's harness) are imported by the commands that
# use them, so that `selbench --help`, `describe` and `report` start without loading torch or FAISS.

T = TypeVar("T")


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as SelbenchError: one line and exit code 2, like every user error."""

    def error(self, message: str) -> NoReturn:
        raise SelbenchError(f"{message} (see `{self.prog} --help`)")


def _key_value(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: expected KEY=VALUE, e.g. task_level=coarse")
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError:
        raise argparse.ArgumentTypeError(f"{text!r}: the value is not valid YAML; quote it") from None


def _add_key_values(parser: argparse.ArgumentParser, short: str, long: str, help: str) -> None:
    """A repeatable KEY=VALUE flag collected as (key, YAML-parsed value) pairs in ``<long>s``."""
    parser.add_argument(
        short,
        long,
        dest=long.lstrip("-") + "s",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help=help,
    )


def _add_pool_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", default="synthetic", help="pool source (default: synthetic)")
    _add_key_values(parser, "-o", "--option", "source option, repeatable: path=../shared/data/flan_t0, ...")
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


def _from_args(
    cls: type[T], args: argparse.Namespace, flags: dict[str, str] | None = None, **values: object
) -> T:
    """An instance of the dataclass ``cls`` from the parsed flags named like its fields (``flags``: the
    fields whose flag is named otherwise); an invalid value is reported under its flag."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)} | values
    try:
        return cls(**values)
    except SelbenchError as err:
        raise SelbenchError(_flag_names(str(err), flags or {})) from None


def _flag_names(message: str, flags: dict[str, str]) -> str:
    """A settings error (``pool heldout_per_task=-1: ...``) as typed (``--heldout-per-task=-1: ...``)."""

    def flag(match: re.Match[str]) -> str:
        return f"--{flags.get(match[1], match[1]).replace('_', '-')}="

    message = re.sub(r"^(?:pool|scorer|training) (\w+)=", flag, message)
    return re.sub(r"^options\.(\w+):", r"-o \1:", message)


def _pool_spec(args: argparse.Namespace) -> PoolSpec:
    return _from_args(
        PoolSpec, args, options=dict(args.options), tasks=tuple(args.tasks) if args.tasks else None
    )


def cmd_describe(args: argparse.Namespace, console: Console) -> int:
    """Load a pool and print its tasks with pool and held-out counts."""
    spec = _pool_spec(args)
    source, duplicates = load_source(spec)  # kept: the leak check reads boilerplate off the whole source
    loaded = cut_pool(spec, source, duplicates)
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
    if heldout is not None:
        leak = leakage(pool.examples, heldout.examples, source)
        console.print(
            f"split by {spec.split}: {leak.leaked_groups} content groups on both sides; "
            f"{leak.leaked_examples} of {leak.heldout_examples} held-out examples ({leak.rate:.1%}) share "
            f"content with the pool, {leak.examples_with_same_answer} with the same answer; "
            f"{loaded.overlap_dropped} pool examples left out for sharing a held-out example's content",
            highlight=False,
        )
        console.print(
            f"near-constant templates never held out: {len(loaded.constant_templates)}"
            + (f" ({', '.join(loaded.constant_templates)})" if loaded.constant_templates else "")
            + f"; tasks short of {spec.heldout_per_task} independent held-out groups: "
            + (", ".join(loaded.heldout_short) or "none"),
            highlight=False,
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
        required = [  # with a required parameter there is no default instance to ask
            p
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.default is p.empty
            and p.name != "self"
            and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        features = cls.requires if required else cls().required_features()
        summary = (inspect.getdoc(cls) or "").splitlines()[0]
        table.add_row(name, _parameters(cls.__init__), ", ".join(sorted(features)) or "-", summary)
    console.print(table)
    for name, error in sorted(STRATEGIES.broken.items()):
        console.print(f"not loaded: {name}: {error}", highlight=False, markup=False)
    return 0


def _scorer_config(args: argparse.Namespace) -> ScorerConfig:
    model = ModelSpec(args.model, gguf_file=args.gguf_file) if args.model else ModelSpec.default()
    return _from_args(ScorerConfig, args, model=model)


def cmd_score(args: argparse.Namespace, console: Console) -> int:
    """Compute pool features, write them to --out and print the per-task confidence."""
    from benchmark.scoring import Scorer

    scorer = Scorer(_scorer_config(args))
    pool = load_pool(_pool_spec(args)).pool
    out = Path(args.out)
    writable_folder(out, "--out")
    features = scorer.features(pool, set(args.features))
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


def _add_scorer_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", help="causal LM: hub id or local folder (default: packaged SmolLM2-135M-Instruct)"
    )
    parser.add_argument("--gguf-file", help="GGUF file inside the --model folder")
    parser.add_argument("--confidence", default="label_free", choices=CONFIDENCE_MODES)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--max-prompt-tokens", type=int, default=256)
    parser.add_argument("--task-sample-size", type=int, default=32)
    parser.add_argument("--embedding", default="sentence_transformers", choices=EMBEDDINGS)
    parser.add_argument(
        "--embedder", help="sentence-transformers id or folder (default: packaged all-MiniLM-L6-v2)"
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--cache-dir", help="feature and model cache (default: $SELBENCH_CACHE_DIR or user cache)"
    )


def cmd_select(args: argparse.Namespace, console: Console) -> int:
    """Run one strategy on one pool and write the selected uids."""
    from benchmark.scoring import Scorer

    params = typed_kwargs(STRATEGIES.get(args.strategy).__init__, dict(args.params), "-p {}")
    strategy = build_strategy(args.strategy, params)
    scorer = Scorer(_scorer_config(args))
    pool = load_pool(_pool_spec(args)).pool
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


def _evaluators(args: argparse.Namespace) -> list:
    mmlu = {
        "path": args.mmlu_path,
        "format": args.mmlu_format,
        "num_fewshot": args.mmlu_shots,
        "limit_per_subject": args.mmlu_limit,
        "subjects": args.mmlu_subjects,
    }
    return [build_evaluator(name, mmlu if name.startswith("mmlu") else {}) for name in args.evaluators]


def cmd_finetune(args: argparse.Namespace, console: Console) -> int:
    """Fine-tune the model on a selection (none: the base model) and evaluate it with each evaluator."""
    from runners.sweep import train_and_evaluate

    training = _from_args(
        TrainingConfig,
        args,
        {"batch_size": "train_batch_size", "seed": "training_seed"},
        batch_size=args.train_batch_size,
        seed=args.training_seed,
        bf16={"auto": None, "bf16": True, "fp32": False}[args.precision],
    )
    loaded = load_pool(_pool_spec(args))
    examples = _selected_examples(loaded.pool, args.selection)
    evaluators = _evaluators(args)
    for evaluator in evaluators:  # every evaluator can run before any training is spent
        if evaluator.name == "heldout" and loaded.heldout is None:
            raise SelbenchError(
                "--evaluators heldout scores the pool's held-out split: give --heldout-per-task N (N > 0)."
            )
        try:
            evaluator.check()
        except SelbenchError as err:
            raise SelbenchError(
                f"--evaluators {evaluator.name}: {err} (the MMLU data: --mmlu-path)"
            ) from None
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
    table = Table(title=f"budget {len(examples)} of {len(loaded.pool)} ({share:.1%})")
    for column in ("evaluator", "n", "accuracy (micro)", "accuracy (macro over tasks)"):
        table.add_column(column)
    for name, evaluation in record["evaluations"].items():
        m = evaluation["metrics"]
        table.add_row(
            name,
            str(evaluation["n"]),
            f"{m['acc']:.3f} ± {m['acc_stderr']:.3f}",
            f"{m['acc_macro']:.3f} ± {m['acc_macro_stderr']:.3f}",
        )
    record |= {"command": args.command_line, "provenance": started}
    atomic_write_text(run_dir / "metrics.json", json.dumps(record, indent=1))
    console.print(table)
    console.print(f"run written to {run_dir}")
    return 0


def _print_plan(
    config: SweepConfig, harness: ModelHarness, store: RunStore, output: Path, console: Console
) -> None:
    """Every cell with its state and cost: measured for finished cells, estimated for the others."""
    from runners.estimate import (
        cell_seconds,
        format_duration,
        mean_example_tokens,
        measured_rates,
        training_tokens,
    )
    from runners.sweep import plan

    loaded = load_pool(config.pool)
    cells = plan(config, loaded.pool, loaded.heldout, harness.model_fingerprint())
    records = {c.key: r for c in cells if (r := store.run(c.key)) is not None}  # each record read once
    rates = measured_rates(list(records.values()))
    tokenizer = load_tokenizer(harness.scorer.resolved, config.scorer.cache_dir)
    per_example = mean_example_tokens(loaded.pool, tokenizer, config.training.max_length)
    todo = [c for c in cells if c.key not in records]
    tokens = {c.key: training_tokens(per_example, config.training, c.budget) for c in todo}
    console.print(
        f"sweep {config.name}: {len(cells)} cells, {len(records)} already done, {len(todo)} to run "
        f"({sum(tokens.values()):,} training tokens); results in {output}",
        highlight=False,
    )
    for cell in cells:
        if cell.key in records:
            cost = f"took {format_duration(_measured_seconds(records[cell.key]))}"
        else:
            seconds = cell_seconds(tokens[cell.key], rates)
            cost = f"{tokens[cell.key]:,} tokens" + (f", ~{format_duration(seconds)}" if seconds else "")
        console.print(
            f"  {'done' if cell.key in records else 'todo'}  {cell.label}  {cell.key}  {cost}",
            highlight=False,
        )
    if not todo:
        return
    left = [cell_seconds(tokens[c.key], rates) for c in todo]
    if rates.evaluation_seconds is None or None in left:
        console.print("time to run: unknown until a cell has finished (its timings calibrate the estimate)")
    else:
        console.print(
            f"time to run: ~{format_duration(sum(left))} on this machine (from {rates.cells} finished cells: "
            f"{rates.train_tokens_per_second or 0:.0f} training tokens/s, "
            f"{format_duration(rates.evaluation_seconds)} of evaluation per cell)",
            highlight=False,
        )


def _measured_seconds(record: RunRecord) -> float:
    return sum(record.timings.values())


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


def cmd_sweep(args: argparse.Namespace, console: Console) -> int:
    """Plan (--dry-run) or run a budget sweep; finished cells are skipped, failed cells listed at the end."""
    from runners.sweep import ModelHarness, execute

    config = load_sweep_config(args.config, args.set)
    output = Path(args.output_dir or config.output_dir or Path("runs") / config.name)
    store = RunStore(output / "runs")
    if not args.dry_run:
        writable_folder(output, "--output-dir or the config's output_dir")
    harness = ModelHarness(config)
    try:  # the pool and the budgets it resolves are the config's: errors name the file
        if args.dry_run:
            _print_plan(config, harness, store, output, console)
            return 0
        outcome = execute(config, harness, store, executor=args.executor, address=args.address)
    except SelbenchError as err:
        raise SelbenchError(f"{args.config}: {err}") from None
    console.print(
        f"sweep {config.name}: {len(outcome.done)} cells run, {len(outcome.skipped)} already done, "
        f"{len(outcome.failed)} failed; results in {store.root}"
    )
    records = [r for c in outcome.skipped + outcome.done if (r := store.run(c.key)) is not None]
    for evaluator in config.evaluators if records else ():
        metric = headline_metric(evaluator.name)
        _print_report(records, evaluator.name, metric, console)
        write_report(records, evaluator.name, metric, output / "report" / evaluator.name, args.command_line)
    if records:
        console.print(f"tables and plots in {output / 'report'}", highlight=False)
    for label, error in outcome.failed.items():
        console.print(f"  failed: {label}: {error}", highlight=False)
    if outcome.failed:
        console.print(
            f"tracebacks in {output / 'failures'}; a re-run retries only these cells", highlight=False
        )
    return 1 if outcome.failed else 0


def _print_report(
    records: list[RunRecord], evaluator: str, metric: str, console: Console, baseline: str = "random"
) -> None:
    frame = results_frame(records, evaluator, metric)
    stats = summary_table(frame)
    console.print(f"{evaluator} {metric}, mean ± std over seeds (n), best per budget in bold")
    table = format_table(stats, records[0].pool.size, seeds=planned_seeds(records))
    console.print(table, highlight=False, markup=False)
    console.print(savings_line(stats), highlight=False)
    text, _ = comparison_report(frame, baseline)
    if text:
        console.print(text, highlight=False, markup=False)


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """Print (and with --out, write) the accuracy-versus-annotation-cost table of a sweep's stored runs."""
    store = RunStore(Path(args.run_dir) / "runs")
    records = store.runs()
    if not records:
        raise SelbenchError(f"{store.root}: no finished runs. Run `selbench sweep CONFIG` first.")
    configs = {json.dumps(r.config, sort_keys=True) for r in records}
    if len(configs) > 1:
        console.print(
            f"warning: {store.root} holds runs of {len(configs)} different configurations; the table mixes "
            "them (provenance.json lists them). Report a sweep's own folder to keep them apart.",
            highlight=False,
        )
    if args.out:
        writable_folder(Path(args.out), "--out")
    metric = args.metric or headline_metric(args.evaluator)
    strategies = sorted({r.cell.strategy for r in records})
    if args.baseline is not None and args.baseline not in strategies:
        raise SelbenchError(
            f"--baseline {args.baseline!r}: no stored run of it.{did_you_mean(args.baseline, strategies)} "
            f"Stored: {', '.join(strategies)}."
        )
    args.baseline = args.baseline or "random"
    _print_report(records, args.evaluator, metric, console, args.baseline)
    failed = failed_cells(args.run_dir)
    if args.out:
        write_report(records, args.evaluator, metric, args.out, args.command_line, args.baseline, failed)
        console.print(f"tables and plots written to {args.out}")
    if args.signal:
        signal = signal_report(records, args.baseline)
        console.print("signal of every metric (MDE: 80 % power, 5 % two-sided, paired over seeds)")
        console.print(
            signal or "no metric has a baseline and another strategy over several seeds", markup=False
        )
        if args.out and signal:
            atomic_write_text(Path(args.out) / "signal.md", signal + "\n")
    gaps = gap_lines(missing_cells(records), failed)
    for line in gaps:
        console.print(line, highlight=False, markup=False)
    if gaps and not args.allow_partial:
        console.print("the report is partial: exit code 1 (--allow-partial to accept it)", highlight=False)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="selbench", description=__doc__)
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
    _add_scorer_arguments(score)
    score.set_defaults(run=cmd_score)
    select = commands.add_parser("select", help="run one strategy on one pool and write the picked uids")
    _add_pool_arguments(select)
    select.add_argument("--strategy", required=True, help="a name from `selbench strategies`")
    _add_key_values(select, "-p", "--param", "strategy parameter, repeatable: temperature=2")
    select.add_argument("--budget", type=int, required=True, help="number of examples to annotate")
    select.add_argument("--selection-seed", type=int, default=0, help="seed of the strategy's random choices")
    select.add_argument("--out", required=True, help="JSON file for the selection")
    _add_scorer_arguments(select)
    select.set_defaults(run=cmd_select)
    finetune = commands.add_parser("finetune", help="fine-tune on a selection, then evaluate")
    _add_pool_arguments(finetune)
    finetune.add_argument("--selection", help="file from `selbench select` (none: evaluate the base model)")
    finetune.add_argument("--run-dir", required=True, help="folder for the adapter, loss curve and metrics")
    finetune.add_argument("--model", help="causal LM: hub id or local folder (default: packaged SmolLM2)")
    finetune.add_argument("--gguf-file", help="GGUF file inside the --model folder")
    finetune.add_argument("--cache-dir", help="model cache (default: $SELBENCH_CACHE_DIR or user cache)")
    finetune.add_argument("--method", default="lora", choices=METHODS)
    finetune.add_argument("--learning-rate", type=float, default=2e-4)
    finetune.add_argument("--epochs", type=float, default=3.0)
    finetune.add_argument("--max-steps", type=int)
    finetune.add_argument("--train-batch-size", type=int, default=8)
    finetune.add_argument("--max-length", type=int, default=256)
    finetune.add_argument("--training-seed", type=int, default=0)
    finetune.add_argument(
        "--precision",
        default="auto",
        choices=("auto", "bf16", "fp32"),
        help="training on CPU: bf16 autocast or float32 (auto: bf16 where the CPU has it); evaluation: fp32",
    )
    finetune.add_argument(
        "--evaluators",
        nargs="+",
        default=["heldout", "mmlu_native"],
        help="names from the evaluator registry: heldout, mmlu, mmlu_native",
    )
    finetune.add_argument("--mmlu-path", help="MMLU release folder (default: the hub's cais/mmlu)")
    finetune.add_argument("--mmlu-format", default="cloze", choices=FORMATS)
    finetune.add_argument("--mmlu-shots", type=int, default=5)
    finetune.add_argument("--mmlu-limit", type=int, help="first N test questions per subject")
    finetune.add_argument("--mmlu-subjects", nargs="+")
    finetune.set_defaults(run=cmd_finetune)
    sweep = commands.add_parser("sweep", help="run a budget sweep described by a YAML config")
    sweep.add_argument("config", help="sweep YAML file, e.g. configs/default.yaml")
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a config value, repeatable: training.epochs=1",
    )
    sweep.add_argument("--output-dir", help="where runs are stored (default: the config's, or runs/<name>)")
    sweep.add_argument("--dry-run", action="store_true", help="print the plan: cells, done, still to run")
    sweep.add_argument("--executor", default="local", choices=("local", "ray"))
    sweep.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    sweep.set_defaults(run=cmd_sweep)
    report = commands.add_parser("report", help="the accuracy-versus-annotation-cost table of a sweep")
    report.add_argument("run_dir", help="the sweep's output folder (holds runs/)")
    report.add_argument("--evaluator", default="heldout")
    report.add_argument("--metric", help="default: acc_macro for heldout, acc for MMLU")
    report.add_argument("--baseline", help="strategy the others are compared with (default: random)")
    report.add_argument("--out", help="folder for table.md, table.csv and table.tex")
    report.add_argument(
        "--allow-partial",
        action="store_true",
        help="exit 0 although planned cells are missing or failed (they are still named and marked)",
    )
    report.add_argument(
        "--signal",
        action="store_true",
        help="also each metric's signal: gain over the base model, seed noise, minimum detectable effect",
    )
    report.set_defaults(run=cmd_report)
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


if __name__ == "__main__":
    sys.exit(main())
