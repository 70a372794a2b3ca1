"""`selbench describe`: load a pool and describe it (per-task counts, held-out split, leak check)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmark.data.overlap import leakage
from benchmark.data.pools import cut_pool, load_source
from runners.cli.options import (
    add_pool_arguments,
    pool_spec,
)


def run(args: argparse.Namespace, console: Console) -> int:
    """Load a pool and print its tasks with pool and held-out counts."""
    spec = pool_spec(args)
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


def add_parser(commands: Any) -> None:
    """The `describe` subcommand and its flags."""
    describe = commands.add_parser("describe", help="load a pool and print its per-task counts")
    add_pool_arguments(describe)
    describe.set_defaults(run=run)
