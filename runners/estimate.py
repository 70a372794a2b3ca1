"""What a sweep still costs: training tokens per cell, and seconds from the cells already finished.

The estimate a user plans a grid with (``selbench sweep --dry-run``): each cell costs its evaluation
(model load and every evaluator, the same for all cells) plus its training tokens at the measured
training throughput. Both rates come from the sweep's own finished records, so they describe this
machine and this configuration; before any cell has finished only the token counts are known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.records import RunRecord
from benchmark.settings import TrainingConfig
from benchmark.training import tokenize_for_sft
from benchmark.types import Pool


@dataclass(frozen=True)
class Rates:
    """Measured on finished cells: training tokens per second and seconds of evaluation per cell."""

    train_tokens_per_second: float | None
    evaluation_seconds: float | None
    cells: int  # how many records they come from


def measured_rates(records: list[RunRecord]) -> Rates:
    trained = [r.training for r in records if r.training is not None]
    tokens = sum(t.tokens for t in trained)
    train_seconds = sum(t.seconds for t in trained)
    evaluation = [
        r.timings["train_evaluate_seconds"] - (r.training.seconds if r.training else 0.0) for r in records
    ]
    return Rates(
        tokens / train_seconds if train_seconds else None,
        float(np.mean(evaluation)) if evaluation else None,
        len(records),
    )


def mean_example_tokens(pool: Pool, tokenizer: Any, max_length: int) -> float:
    """Mean SFT length (prompt and response, truncated as in training) of the pool's examples."""
    return float(
        np.mean(
            [len(row["input_ids"]) for row in tokenize_for_sft(tokenizer, pool.examples, max_length).rows]
        )
    )


def training_tokens(per_example: float, training: TrainingConfig, budget: int) -> int:
    """Expected non-padding tokens trained on for ``budget`` examples (all epochs, raised to ``min_steps``,
    or ``max_steps``)."""
    if budget == 0:
        return 0
    batch = training.batch_size * training.gradient_accumulation_steps
    if training.max_steps:
        seen = training.max_steps * batch
    else:
        seen = max(budget * training.epochs, training.min_steps * batch)
    return math.ceil(per_example * seen)


def cell_seconds(tokens: int, rates: Rates) -> float | None:
    """Seconds one cell takes at ``rates``; None while a needed rate is unmeasured."""
    if rates.evaluation_seconds is None or (tokens and rates.train_tokens_per_second is None):
        return None
    return rates.evaluation_seconds + (tokens / rates.train_tokens_per_second if tokens else 0.0)


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
