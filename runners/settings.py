"""The settings that decide how a cell runs, and why a store's runs are not reused by a plan.

A cell's key hashes everything that decides its result, so a study resumed with other settings (another
machine that resolves ``training.bf16`` differently, a changed evaluator) plans new keys and silently
recomputes every cell. Matching stored runs to planned cells by strategy, budget and seed, and naming
the settings that differ, turns that into a warning before any compute is spent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from benchmark.config import SweepConfig, config_record
from benchmark.records import RunRecord

if TYPE_CHECKING:  # runners.plan imports torch; `selbench report` and --help must start without it
    from runners.plan import Cell

WHICH_CELLS = ("name", "output_dir", "strategies", "budgets", "seeds", "headline")  # not how a cell runs


def how_cells_run(config: dict[str, Any] | None, common: set[str]) -> dict[str, Any]:
    """The settings that decide how a cell runs (pool, model, scorer, training, evaluators), among the
    ``common`` keys every record's configuration has, without data locations (``path``: cells key data by
    content): a store that gained strategies, budgets or seeds, records of a selbench with more
    settings, or data read from another folder, is still one configuration."""

    def without_paths(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: without_paths(v) for k, v in node.items() if k != "path"}
        return node

    return without_paths({k: v for k, v in (config or {}).items() if k in common and k not in WHICH_CELLS})


def differing_settings(stored: Any, here: Any, prefix: str = "") -> list[str]:
    """Dotted names of the settings two configurations both have and set differently; ``model``
    sections left out (where the weights lie differs between checkouts: their fingerprint decides)."""
    if isinstance(stored, dict) and isinstance(here, dict):
        return [
            name
            for key in sorted(set(stored) & set(here) - {"model"})
            for name in differing_settings(stored[key], here[key], f"{prefix}{key}.")
        ]
    return [] if stored == here else [prefix.rstrip(".")]


def _cell_id(strategy: str, params: Any, budget: int, seed: int) -> str:
    return json.dumps([strategy, params, budget, seed], sort_keys=True, default=str)


def unreused_runs(
    todo: list[Cell], records: Iterable[RunRecord], config: SweepConfig, model: str, bf16: bool
) -> str | None:
    """A warning when stored runs are planned cells (same strategy, parameters, budget and seed) under
    another key, naming what differs: this machine's bfloat16, the model or data read, or settings
    (``model``: the fingerprint this plan keys by; ``bf16``: ``training.bf16`` as resolved here)."""
    planned = {_cell_id(c.strategy.name, c.strategy.params, c.budget, c.seed) for c in todo}
    matches = [
        r
        for r in records
        if _cell_id(r.cell.strategy, dict(r.cell.params), r.cell.budget, r.cell.seed) in planned
    ]
    if not matches:
        return None
    here = config_record(config)
    reasons: Counter[str] = Counter()
    for r in matches:
        common = set(here) & set(r.config or {})
        found = differing_settings(how_cells_run(r.config, common), how_cells_run(here, common))
        if r.training is not None and r.training.bf16 is not None and r.training.bf16 != bf16:
            found.append(f"bfloat16 training ({r.training.bf16} there, {bf16} here)")
        if r.model.get("fingerprint") not in (None, model):
            found.append("the model's weights")
        reasons.update(set(found) or {"the data the pool or held-out split was built from"})
    hint = ""
    if any(reason.startswith("bfloat16") for reason in reasons):
        hint = (
            f" To reuse them, run with --set training.bf16={str(not bf16).lower()}"
            + (
                " (this CPU lacks native bfloat16: emulated training is many times slower)"
                if bf16 is False
                else ""
            )
            + "."
        )
    return (
        f"{len(matches)} of the {len(todo)} cells to run are stored already under another key, computed "
        f"with other settings, so they are not reused: "
        + "; ".join(f"{reason} ({n} runs)" for reason, n in reasons.most_common())
        + "."
        + hint
    )
