"""Accuracy on held-out examples of the pool's own tasks: does a selection cover the tasks?

An example whose template is a classification (its ``choices``, read off the whole source data by
``data.labels``: yes/no, a rating, A-D) is scored by log-likelihood: the model picks the choice it finds
most likely after the prompt. Every other example is scored by exact match of the model's greedy answer,
after normalising case, surrounding space, quotes and final punctuation. Accuracy is reported per task
and averaged over tasks (macro) and over examples (micro).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np

from benchmark.errors import SelbenchError
from benchmark.evaluation.base import EvalResult, Evaluator, accuracy_metrics, register_evaluator
from benchmark.inference import Choices, greedy_generate, score_choices
from benchmark.prompting import format_response, tokenize_prompts
from benchmark.types import Pool


def normalise(text: str) -> str:
    """Lower case, single spaces, no surrounding quotes or final punctuation."""
    text = re.sub(r"\s+", " ", text.strip().lower())
    return text.strip("\"'`").rstrip(".!").strip()


@register_evaluator("heldout")
class HeldoutAccuracy(Evaluator):
    """Per-task accuracy on the pool's held-out split (log-likelihood over choices or exact match)."""

    version = 2  # 2: choices from the source data (1: label sets from the held-out answers)

    def __init__(
        self,
        *,
        max_new_tokens: int = 16,
        max_prompt_tokens: int = 256,
        batch_size: int = 16,
        progress: bool = True,
    ) -> None:
        self.max_new_tokens = max_new_tokens
        self.max_prompt_tokens = max_prompt_tokens
        self.batch_size = batch_size
        self.progress = progress

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        if heldout is None or not len(heldout):
            raise SelbenchError(
                "the heldout evaluator needs a held-out split: set heldout_per_task in the pool."
            )
        examples = heldout.examples
        prompt_ids = tokenize_prompts(tokenizer, [ex.prompt for ex in examples], self.max_prompt_tokens)
        task_ids = heldout.task_ids()
        correct = np.zeros(len(examples), dtype=bool)
        by_choices: dict[tuple[str, ...], list[int]] = defaultdict(list)
        open_rows = []
        for i, ex in enumerate(examples):
            (by_choices[ex.choices] if len(ex.choices) >= 2 else open_rows).append(i)
        for choices, rows in by_choices.items():
            choice_ids = tokenizer([format_response(tokenizer, c) for c in choices], add_special_tokens=False)
            items = [Choices(prompt_ids[i], choice_ids["input_ids"]) for i in rows]
            scores = score_choices(model, tokenizer, [], items, letter=False, batch_size=self.batch_size)
            correct[rows] = [
                choices[p] == examples[i].response for p, i in zip(scores.argmax(1), rows, strict=True)
            ]
        if open_rows:
            out = greedy_generate(
                model,
                tokenizer,
                [prompt_ids[i] for i in open_rows],
                max_new_tokens=self.max_new_tokens,
                batch_size=self.batch_size,
                progress=self.progress,
            )
            answers = tokenizer.batch_decode(out.tokens, skip_special_tokens=True)
            correct[open_rows] = [
                normalise(a) == normalise(examples[i].response)
                for a, i in zip(answers, open_rows, strict=True)
            ]
        by_task = {task: correct[task_ids == t] for t, task in enumerate(heldout.tasks)}
        return EvalResult(
            self.name,
            accuracy_metrics(by_task),
            {task: float(c.mean()) for task, c in by_task.items()},
            len(examples),
            {"scored_by_choices": len(examples) - len(open_rows)},
        )
