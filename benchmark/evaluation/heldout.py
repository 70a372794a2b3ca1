"""Accuracy on held-out examples of the pool's own tasks: does a selection cover the tasks?

An example whose template is a classification (its ``choices``, read off the whole source data by
``data.labels``: yes/no, a rating, A-D) is scored by log-likelihood: the model picks the choice it finds
most likely after the prompt. Every other example is scored by exact match of the model's greedy answer:
by default (``exact_match: teacher_forced``) read off one teacher-forced pass over prompt and gold
response, where the gold response counts as produced when each of its tokens (EOS included) is the
model's most likely next token, which is what greedy decoding would reproduce token for token; the same
pass gives the gold log-likelihood, so an open example costs one pass instead of generation plus
scoring. ``exact_match: generate`` generates up to ``max_new_tokens`` tokens and compares after
normalising case, surrounding space, quotes and final punctuation (lenient, and slower on a CPU).
``rouge: true`` adds ROUGE-L F1 (the ``rouge-score`` package, stemmed) of greedy answers of up to
``max_new_tokens`` tokens against the gold response of every open example: the usual score of free-text
answers such as Dolly's, where exact match is meaningless. Every example's outcome (and its generated
answer, where one was generated) is kept in the result's details, so a score can be read example by example.
Accuracy is reported per task and averaged over tasks (macro) and over examples (micro); so are the
continuous metrics, which separate models long before their accuracy differs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np
from scipy.special import logsumexp

from benchmark.errors import SelbenchError
from benchmark.evaluation.base import (
    EvalResult,
    Evaluator,
    accuracy_metrics,
    mean_metrics,
    register_evaluator,
)
from benchmark.inference import Choices, greedy_generate, score_choices, score_continuations
from benchmark.prompting import format_response, tokenize_prompts
from benchmark.types import Pool

EXACT_MATCH = ("teacher_forced", "generate")


def normalise(text: str) -> str:
    """Lower case, single spaces, no surrounding quotes or final punctuation."""
    text = re.sub(r"\s+", " ", text.strip().lower())
    return text.strip("\"'`").rstrip(".!").strip()


@register_evaluator("heldout")
class HeldoutAccuracy(Evaluator):
    """Per-task accuracy on the pool's held-out split (log-likelihood over choices or exact match), with
    two continuous metrics that move before accuracy does: the gold response's mean per-token
    log-likelihood (every example) and the probability mass on the correct choice (choice-scored ones)."""

    version = 3  # 3: gold log-likelihood and choice probability; prompts cut in the middle, not the left
    headline = "acc_macro"  # every task counts once: what a selection's task coverage changes
    metric_families = ("acc", "gold_logprob", "choice_prob", "rouge_l")
    needs_heldout = True

    def __init__(
        self,
        *,
        exact_match: str = "teacher_forced",
        max_new_tokens: int = 16,
        max_prompt_tokens: int = 256,
        max_response_tokens: int = 64,
        rouge: bool = False,
        batch_size: int = 16,
        progress: bool = True,
    ) -> None:
        if exact_match not in EXACT_MATCH:
            raise SelbenchError(f"heldout exact_match={exact_match!r}: use one of {', '.join(EXACT_MATCH)}.")
        self.exact_match = exact_match
        self.max_new_tokens = max_new_tokens
        self.max_prompt_tokens = max_prompt_tokens
        self.max_response_tokens = max_response_tokens
        self.rouge = rouge
        self.batch_size = batch_size
        self.progress = progress

    def fingerprint_params(self) -> dict[str, Any]:
        """``rouge`` only when on: cells evaluated before it existed keep their keys."""
        params = super().fingerprint_params()
        return params if self.rouge else {k: v for k, v in params.items() if k != "rouge"}

    def _generate(
        self, model: Any, tokenizer: Any, prompt_ids: list[list[int]], rows: list[int]
    ) -> list[str]:
        """Greedy answers of up to ``max_new_tokens`` tokens to the given rows' prompts."""
        out = greedy_generate(
            model,
            tokenizer,
            [prompt_ids[i] for i in rows],
            max_new_tokens=self.max_new_tokens,
            batch_size=self.batch_size,
            progress=self.progress,
        )
        return tokenizer.batch_decode(out.tokens, skip_special_tokens=True)

    def matches(self, answer: str, gold: str) -> bool:
        """Whether a generated answer is the gold one, after normalising both."""
        return normalise(answer) == normalise(gold)

    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        if heldout is None or not len(heldout):
            raise SelbenchError(
                "the heldout evaluator needs a held-out split: set heldout_per_task in the pool."
            )
        examples = heldout.examples
        prompts = tokenize_prompts(tokenizer, [ex.prompt for ex in examples], self.max_prompt_tokens)
        prompt_ids = prompts.ids
        task_ids = heldout.task_ids()
        correct = np.zeros(len(examples), dtype=bool)
        gold_logprob = np.empty(len(examples))  # mean per token, EOS included
        choice_prob = np.full(len(examples), np.nan)
        by_choices: dict[tuple[str, ...], list[int]] = defaultdict(list)
        open_rows = []
        for i, ex in enumerate(examples):
            (by_choices[ex.choices] if len(ex.choices) >= 2 else open_rows).append(i)
        for choices, rows in by_choices.items():
            choice_ids = tokenizer([format_response(tokenizer, c) for c in choices], add_special_tokens=False)
            lengths = np.array([len(c) for c in choice_ids["input_ids"]])
            items = [Choices(prompt_ids[i], choice_ids["input_ids"]) for i in rows]
            scores = score_choices(model, tokenizer, [], items, letter=False, batch_size=self.batch_size)
            gold = np.array([choices.index(examples[i].response) for i in rows])
            correct[rows] = scores.argmax(1) == gold
            at_gold = scores[np.arange(len(rows)), gold]
            gold_logprob[rows] = at_gold / lengths[gold]
            choice_prob[rows] = np.exp(at_gold - logsumexp(scores, axis=1))
        answers: dict[int, str] = {}
        rouge_l = np.full(len(examples), np.nan)
        if open_rows:
            responses = tokenizer(
                [format_response(tokenizer, examples[i].response) for i in open_rows],
                add_special_tokens=False,
            )["input_ids"]
            fits = np.array([len(r) <= self.max_response_tokens for r in responses])
            responses = [r[: self.max_response_tokens] for r in responses]
            scored = score_continuations(
                model, tokenizer, [prompt_ids[i] for i in open_rows], responses, batch_size=self.batch_size
            )
            gold_logprob[open_rows] = scored.sum_logprob / np.array([len(r) for r in responses])
            if self.rouge or self.exact_match == "generate":
                generated = self._generate(model, tokenizer, prompt_ids, open_rows)
                answers = dict(zip(open_rows, generated, strict=True))
            if self.exact_match == "teacher_forced":
                correct[open_rows] = scored.greedy & fits
            else:
                correct[open_rows] = [self.matches(answers[i], examples[i].response) for i in open_rows]
            if self.rouge:
                gold = [examples[i].response for i in open_rows]
                rouge_l[open_rows] = rouge_l_f1([answers[i] for i in open_rows], gold)
        tasks = heldout.tasks
        by_task = {task: correct[task_ids == t] for t, task in enumerate(tasks)}
        logprob_by_task = {task: gold_logprob[task_ids == t] for t, task in enumerate(tasks)}
        metrics = accuracy_metrics(by_task) | mean_metrics("gold_logprob", logprob_by_task)
        extra = {}
        for name, values in (("choice_prob", choice_prob), ("rouge_l", rouge_l)):
            by = {task: values[(task_ids == t) & ~np.isnan(values)] for t, task in enumerate(tasks)}
            by = {task: v for task, v in by.items() if len(v)}
            if by:
                metrics |= mean_metrics(name, by)
                extra[f"per_task_{name}"] = {t: float(v.mean()) for t, v in by.items()}
        return EvalResult(
            self.name,
            metrics,
            {task: float(c.mean()) for task, c in by_task.items()},
            len(examples),
            {
                "scored_by_choices": len(examples) - len(open_rows),
                "prompts_cut": prompts.truncated,
                "per_task_gold_logprob": {t: float(v.mean()) for t, v in logprob_by_task.items()},
                **extra,
                "examples": [
                    example_outcome(
                        ex,
                        answers.get(i),
                        correct=correct[i],
                        gold_logprob=gold_logprob[i],
                        choice_prob=choice_prob[i],
                        rouge_l=rouge_l[i],
                    )
                    for i, ex in enumerate(examples)
                ],
            },
        )


def example_outcome(example: Any, answer: str | None, *, correct: bool, **metrics: float) -> dict[str, Any]:
    """One held-out example's outcome as stored in a record: what a user reads to see why a score is what
    it is (NaN metrics, which do not apply to the example, left out)."""
    outcome: dict[str, Any] = {"uid": example.uid, "task": example.task, "correct": bool(correct)}
    for name, value in metrics.items():
        if not np.isnan(value):
            outcome[name] = round(float(value), 6)
    if answer is not None:
        outcome["answer"] = answer
    return outcome


def rouge_l_f1(answers: list[str], references: list[str]) -> np.ndarray:
    """ROUGE-L F1 of each answer against its reference (rouge-score, Porter stemming)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    pairs = zip(answers, references, strict=True)
    return np.array([scorer.score(ref, ans)["rougeL"].fmeasure for ans, ref in pairs])
