"""`selbench submit`: enter selections made by any tool into a study, without writing a plugin. Every
uid is checked against the study's pool before any model loads; then each (budget, seed) is trained
and evaluated with the study's fixed recipe and stored as strategy ``submitted:NAME`` beside the
baselines, in the study's own store."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmark.config import ComponentSpec, SweepConfig, load_sweep_config
from benchmark.data import load_pool
from benchmark.data.files import existing_path, utf8
from benchmark.errors import SelbenchError
from benchmark.store import RunStore
from strategies.base import SUBMITTED


def read_selections(path: Path) -> dict[tuple[int, int], list[str]]:
    """(budget, seed) -> uids from a selection file: ``{"selections": [{"budget", "seed", "uids"}]}``."""
    try:
        data = json.loads(utf8(path.read_bytes(), path))
        entries = data["selections"]
        out: dict[tuple[int, int], list[str]] = {}
        for i, entry in enumerate(entries):
            key = (int(entry["budget"]), int(entry["seed"]))
            if key in out:
                raise SelbenchError(f"{path}: selections[{i}]: budget {key[0]}, seed {key[1]} given twice.")
            if not isinstance(entry["uids"], list) or not all(isinstance(u, str) for u in entry["uids"]):
                raise SelbenchError(f"{path}: selections[{i}].uids: a list of uid strings.")
            out[key] = entry["uids"]
        return out
    except (ValueError, KeyError, TypeError) as err:
        raise SelbenchError(
            f"{path}: not a selection file ({err}). Expected "
            '{"selections": [{"budget": 12, "seed": 0, "uids": ["..."]}, ...]} (see the README).'
        ) from None


def check_selections(
    selections: dict[tuple[int, int], list[str]],
    pool: Any,
    heldout: Any,
    budgets: list[int],
    seeds: list[int],
) -> None:
    """Every planned (budget, seed) present and no other; per selection: the budget's count of unique
    uids of the pool, none held out."""
    planned = {(b, s) for b in budgets for s in seeds}
    for budget, seed in sorted(planned - set(selections)):
        raise SelbenchError(f"no selection for budget {budget}, seed {seed}: the study plans it.")
    for budget, seed in sorted(set(selections) - planned):
        raise SelbenchError(
            f"budget {budget}, seed {seed}: the study plans no such cell (budgets {budgets}, seeds {seeds})."
        )
    in_pool, held = set(pool.uids), set(heldout.uids) if heldout is not None else set()
    for (budget, seed), uids in sorted(selections.items()):
        where = f"budget {budget}, seed {seed}"
        if len(uids) != budget:
            raise SelbenchError(f"{where}: {len(uids)} uids; the budget is {budget}.")
        seen = set()
        for uid in uids:
            if uid in seen:
                raise SelbenchError(f"{where}: uid {uid} appears twice.")
            seen.add(uid)
            if uid in held:
                raise SelbenchError(f"{where}: uid {uid} is a held-out example: it may not be trained on.")
            if uid not in in_pool:
                raise SelbenchError(f"{where}: uid {uid} is not in the study's pool.")


def submission_config(
    config: SweepConfig, name: str, selections: dict[tuple[int, int], list[str]]
) -> SweepConfig:
    """The study's configuration with the submission as its one strategy (base and full pool cells are
    the study's own: their keys do not depend on the strategies)."""
    params = {"name": name, "selections": {f"{b}/{s}": uids for (b, s), uids in sorted(selections.items())}}
    return replace(config, strategies=(ComponentSpec(SUBMITTED, params),))


def run(args: argparse.Namespace, console: Console) -> int:
    """Check a selection file against a study's pool, then train and evaluate each selection."""
    from runners.harness import ModelHarness
    from runners.plan import resolve_budgets
    from runners.report import headline_metric
    from runners.sweep import execute

    if not re.fullmatch(r"[A-Za-z0-9._-]+", args.name):
        raise SelbenchError(f"--name {args.name!r}: letters, digits, '.', '_' or '-'.")
    config = load_sweep_config(args.config)
    selections = read_selections(existing_path(args.selections, "--selections file"))
    loaded = load_pool(config.pool)
    budgets = [b for b in resolve_budgets(config.budgets, len(loaded.pool)) if 0 < b < len(loaded.pool)]
    check_selections(selections, loaded.pool, loaded.heldout, budgets, list(config.seeds))
    config = submission_config(config, args.name, selections)
    output = Path(args.output_dir or config.output_dir or Path("runs") / config.name)
    store = RunStore(output / "runs")
    outcome = execute(config, ModelHarness(config), store, executor=args.executor)
    console.print(
        f"submitted:{args.name}: {len(outcome.done)} cells run, {len(outcome.skipped)} already stored, "
        f"{len(outcome.failed)} failed; `selbench report {output}` shows it beside the baselines "
        f"({headline_metric(config.evaluators[0].name)} by default)."
    )
    return 1 if outcome.failed else 0


def add_parser(commands: Any) -> None:
    """The `submit` subcommand and its flags."""
    submit = commands.add_parser("submit", help="train and evaluate selections made by any tool in a study")
    submit.add_argument("config", help="the study's sweep YAML, e.g. configs/study/flan_v2.yaml")
    submit.add_argument("--name", required=True, help="the row's name: submitted:NAME")
    submit.add_argument("--selections", required=True, help="JSON file of uids per (budget, seed)")
    submit.add_argument("--output-dir", help="the study's store (default: the config's output_dir)")
    submit.add_argument("--executor", default="local", choices=("local", "ray"))
    submit.set_defaults(run=run)
