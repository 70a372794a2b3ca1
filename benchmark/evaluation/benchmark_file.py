"""Evaluators for benchmarks a user brings as files, and BIG-Bench Hard in its official layout.

``benchmark_file`` reads any JSONL, JSON, CSV, TSV or Parquet file, or a folder of them (one per task),
and scores it as the held-out evaluator scores a pool's held-out split: over the answer choices by
log-likelihood where there are choices, else exact match of the greedy answer (teacher-forced, or
generated with an optional regular expression that extracts the answer from a chain of thought); per
task, macro and micro accuracy with standard errors, and the gold answer's log-likelihood. ``bbh`` is the
same with BIG-Bench Hard's defaults.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from benchmark.data.benchmark_files import BenchmarkColumns, fewshot_texts, load_benchmark
from benchmark.errors import SelbenchError
from benchmark.evaluation.base import EvalResult, Evaluator, register_evaluator
from benchmark.evaluation.heldout import HeldoutAccuracy, normalise
from benchmark.types import Example, Pool


@register_evaluator("benchmark_file")
class BenchmarkFile(HeldoutAccuracy):
    """Accuracy on a task-labelled benchmark file or folder (columns, choices, few-shot prompts and
    answer extraction set by parameters; checked before any model loads)."""

    version = 1
    needs_heldout = False

    def __init__(
        self,
        *,
        path: str,
        input_column: str = "input",
        target_column: str = "target",
        choices_column: str | None = None,
        task_column: str | None = None,
        tasks: list[str] | None = None,
        limit_per_task: int | None = None,
        choices_from_targets: int = 0,
        fewshot_path: str | None = None,
        num_fewshot: int = 0,
        question_template: str = "{fewshot}{input}",
        answer_regex: str | None = None,
        exact_match: str = "teacher_forced",
        max_new_tokens: int = 16,
        max_prompt_tokens: int = 1024,
        max_response_tokens: int = 64,
        batch_size: int = 8,
        progress: bool = True,
    ) -> None:
        super().__init__(
            exact_match=exact_match,
            max_new_tokens=max_new_tokens,
            max_prompt_tokens=max_prompt_tokens,
            max_response_tokens=max_response_tokens,
            batch_size=batch_size,
            progress=progress,
        )
        self.path = path
        self.input_column = input_column
        self.target_column = target_column
        self.choices_column = choices_column
        self.task_column = task_column
        self.tasks = tasks
        self.limit_per_task = limit_per_task
        self.choices_from_targets = choices_from_targets
        self.fewshot_path = fewshot_path
        self.num_fewshot = num_fewshot
        self.question_template = question_template
        self.answer_regex = answer_regex
        if answer_regex is not None:
            try:
                re.compile(answer_regex)
            except re.error as err:
                raise SelbenchError(
                    f"{self.name} answer_regex={answer_regex!r}: not a regular expression ({err})."
                ) from None
            if exact_match != "generate":
                raise SelbenchError(
                    f"{self.name} answer_regex: the answer is extracted from generated text; "
                    "set exact_match: generate."
                )
        if "{input}" not in question_template:
            raise SelbenchError(
                f"{self.name} question_template={question_template!r}: must contain {{input}}."
            )
        self._pool: Pool | None = None

    def columns(self) -> BenchmarkColumns:
        return BenchmarkColumns(self.input_column, self.target_column, self.choices_column, self.task_column)

    def pool(self) -> Pool:
        """The benchmark's examples, their prompts with the few-shot text of their task (read once)."""
        if self._pool is None:
            pool = load_benchmark(
                self.path, self.columns(), tasks=self.tasks, limit_per_task=self.limit_per_task,
                choices_from_targets=self.choices_from_targets,
            )  # fmt: skip
            shots = (
                fewshot_texts(self.fewshot_path, self.columns(), self.num_fewshot)
                if self.fewshot_path
                else {}
            )
            self._pool = Pool(pool.name, tuple(self._with_fewshot(ex, shots) for ex in pool.examples))
        return self._pool

    def _with_fewshot(self, ex: Example, shots: dict[str, str]) -> Example:
        fewshot = f"{shots[ex.task]}\n\n" if ex.task in shots else ""
        prompt = self.question_template.format(fewshot=fewshot, input=ex.prompt)
        return Example(prompt, ex.response, ex.task, ex.source, ex.choices)

    def check(self) -> None:
        self.pool()

    def fingerprint_params(self) -> dict[str, Any]:
        """The benchmark by content (its examples with their prompts), not by where it lies."""
        params = super().fingerprint_params()
        for name in ("path", "fewshot_path", "progress"):
            params.pop(name, None)
        return params | {"examples": self.pool().fingerprint()}

    def answer(self, text: str) -> str:
        """The answer in a generated text: the regular expression's first group (or whole match) where it
        matches, else the text."""
        if self.answer_regex and (found := re.search(self.answer_regex, text)):
            return found.group(1) if found.groups() else found.group(0)
        return text

    def matches(self, answer: str, gold: str) -> bool:
        return normalise(self.answer(answer)) == normalise(gold)

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        return super().evaluate(model, tokenizer, heldout=self.pool())


@register_evaluator("bbh")
class BigBenchHard(Evaluator):
    """BIG-Bench Hard in its official layout: ``path`` is the ``bbh/`` folder of ``<task>.json`` files;
    with a ``cot-prompts/`` folder beside it (or ``fewshot_path``), 3-shot chain-of-thought prompts and the
    answer read after "the answer is"; without, direct answers scored over each task's targets where a
    task has at most ``choices_from_targets`` of them (True/False, (A)-(E)), else by exact match."""

    version = 1
    headline = "acc_macro"
    metric_families = HeldoutAccuracy.metric_families

    def __init__(
        self,
        *,
        path: str,
        tasks: list[str] | None = None,
        limit_per_task: int | None = None,
        fewshot_path: str | None = None,
        chain_of_thought: bool = True,
        choices_from_targets: int = 10,
        max_new_tokens: int = 256,
        max_prompt_tokens: int = 2048,
        batch_size: int = 8,
        progress: bool = True,
    ) -> None:
        self.path = path
        self.tasks = tasks
        self.limit_per_task = limit_per_task
        self.fewshot_path = fewshot_path
        self.chain_of_thought = chain_of_thought
        self.choices_from_targets = choices_from_targets
        self.max_new_tokens = max_new_tokens
        self.max_prompt_tokens = max_prompt_tokens
        self.batch_size = batch_size
        self.progress = progress

    def evaluator(self) -> BenchmarkFile:
        """The benchmark-file evaluator with BIG-Bench Hard's settings (chain of thought where the
        prompts exist)."""
        prompts = self.fewshot_path or str(Path(self.path).parent / "cot-prompts")
        cot = self.chain_of_thought and Path(prompts).is_dir()
        return BenchmarkFile(
            path=self.path, tasks=self.tasks, limit_per_task=self.limit_per_task,
            choices_from_targets=0 if cot else self.choices_from_targets,
            fewshot_path=prompts if cot else None,
            question_template="{fewshot}Q: {input}\nA: Let's think step by step." if cot else "{input}",
            answer_regex=r"[Tt]he answer is\s*(.+?)\s*\.?\s*(?:\n|$)" if cot else None,
            exact_match="generate" if cot else "teacher_forced",
            max_new_tokens=self.max_new_tokens, max_prompt_tokens=self.max_prompt_tokens,
            batch_size=self.batch_size, progress=self.progress,
        )  # fmt: skip

    def check(self) -> None:
        self.evaluator().check()

    def fingerprint_params(self) -> dict[str, Any]:
        return self.evaluator().fingerprint_params() | {"version": self.version}

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        result = self.evaluator().evaluate(model, tokenizer)
        return EvalResult(self.name, result.metrics, result.per_task, result.n, result.details)
