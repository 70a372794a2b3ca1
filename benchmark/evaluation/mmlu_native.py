"""MMLU scored natively: the lm-eval prompt, evaluated with fewer model passes.

The few-shot prefix of a subject (its description and dev examples) is computed once and its KV cache
reused by every question of the subject. Each question then costs one pass over its own tokens:
``letter`` compares the log-probabilities of the four answer letters at the last position; ``cloze``
scores the four answer continuations from the question's KV cache instead of four full passes.
A question whose tokens do not start with the prefix's tokens (a merge across the boundary) is
computed without the shared prefix, so the result never depends on the sharing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from benchmark.errors import SelbenchError
from benchmark.evaluation.base import EvalResult, register_evaluator
from benchmark.evaluation.mmlu_base import MMLUEvaluator
from benchmark.evaluation.mmlu_prompts import encode_question, few_shot_prefix
from benchmark.inference import Choices, score_choices
from benchmark.types import Pool


def shared_prefixes(tokenizer: Any, test: list, shots: dict, fmt: str, encoded: list[Choices]) -> dict:
    """Question indices grouped by the token prefix they share: the subject's few-shot prefix, or none."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    prefix_tokens: dict[str, tuple[int, ...]] = {}
    for i, (q, e) in enumerate(zip(test, encoded, strict=True)):
        if q.subject not in prefix_tokens:
            head = few_shot_prefix(q.subject, shots[q.subject], fmt)
            prefix_tokens[q.subject] = tuple(tokenizer(head, add_special_tokens=False)["input_ids"])
        prefix = prefix_tokens[q.subject]
        shared = len(prefix) < len(e.context) and tuple(e.context[: len(prefix)]) == prefix
        groups[prefix if shared else ()].append(i)
    return groups


@register_evaluator("mmlu_native")
class MMLUNative(MMLUEvaluator):
    """MMLU with lm-eval's prompts (letter or cloze), scored natively and fast."""

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        test, shots = self.questions()
        encoded = [encode_question(tokenizer, q, shots[q.subject], self.format) for q in test]
        letter = self.format == "letter"
        if letter and not all(len(c) == 1 for e in encoded for c in e.continuations):
            raise SelbenchError("MMLU letter format: the tokenizer splits ' A'..' D' into several tokens.")
        logprobs = np.empty((len(test), len(encoded[0].continuations)))
        groups = shared_prefixes(tokenizer, test, shots, self.format, encoded)
        with tqdm(total=len(test), desc="mmlu", unit="question", disable=not self.progress) as bar:
            for prefix, members in groups.items():
                logprobs[members] = score_choices(
                    model,
                    tokenizer,
                    list(prefix),
                    [encoded[i] for i in members],
                    letter=letter,
                    batch_size=self.batch_size,
                    progress=bar,
                )
        return self.result(test, logprobs, shared_prefix_groups=len(groups))
