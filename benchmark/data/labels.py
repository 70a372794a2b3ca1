"""Answer options of classification tasks, read off the source data itself.

A template (FLAN) or task (synthetic) whose responses over the whole source take a few distinct values
is a classification: its examples carry those values as ``choices``, and the held-out evaluator scores
them by log-likelihood over the choices instead of exact match. Reading the options off the whole
source, never off a small held-out sample, keeps the right answer from being the only "choice".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from benchmark.types import Example

MAX_CHOICES = 10


def with_choices(examples: list[Example], max_choices: int = MAX_CHOICES) -> list[Example]:
    """``examples`` with ``choices`` set to the sorted distinct responses of their template (else task)
    where it has 2 to ``max_choices`` of them."""
    responses: dict[str, set[str]] = defaultdict(set)
    for ex in examples:
        responses[ex.template_or_task].add(ex.response)
    options = {g: tuple(sorted(r)) for g, r in responses.items() if 2 <= len(r) <= max_choices}
    return [
        replace(ex, choices=options[ex.template_or_task]) if ex.template_or_task in options else ex
        for ex in examples
    ]
