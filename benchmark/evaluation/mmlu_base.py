"""What both MMLU evaluators share: their parameters, the question slice and the result."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

import numpy as np
from scipy.special import logsumexp

from benchmark.data.mmlu import MMLUQuestion, few_shot_examples, load_mmlu
from benchmark.evaluation.base import EvalResult, Evaluator, accuracy_metrics, mean_metrics
from benchmark.evaluation.mmlu_prompts import check_format
from benchmark.types import content_hash


def mmlu_slice(
    path: str | None, hub_id: str, subjects: list[str] | None, limit_per_subject: int | None, num_fewshot: int
) -> tuple[list[MMLUQuestion], dict[str, list[MMLUQuestion]]]:
    """The first ``limit_per_subject`` test questions of each subject (lm-eval's ``limit``) and the
    few-shot examples of each subject."""
    test = load_mmlu(path=path, hub_id=hub_id, split="test", subjects=subjects)
    if limit_per_subject is not None:
        counts: Counter[str] = Counter()
        kept = []
        for q in test:
            counts[q.subject] += 1
            if counts[q.subject] <= limit_per_subject:
                kept.append(q)
        test = kept
    dev = load_mmlu(path=path, hub_id=hub_id, split="dev", subjects=subjects) if num_fewshot else []
    shots = {s: few_shot_examples(dev, s, num_fewshot) for s in sorted({q.subject for q in test})}
    return test, shots


class MMLUEvaluator(Evaluator):
    """MMLU on local release files (``path``) or the hub; ``format`` letter or cloze; ``num_fewshot``
    dev examples; optionally a subject subset and the first ``limit_per_subject`` questions of each."""

    metric_families = ("acc", "prob_correct")

    def __init__(
        self,
        *,
        path: str | None = None,
        hub_id: str = "cais/mmlu",
        format: str = "cloze",
        num_fewshot: int = 5,
        subjects: list[str] | None = None,
        limit_per_subject: int | None = None,
        batch_size: int = 8,
        progress: bool = True,
    ) -> None:
        check_format(format)
        self.path = path
        self.hub_id = hub_id
        self.format = format
        self.num_fewshot = num_fewshot
        self.subjects = subjects
        self.limit_per_subject = limit_per_subject
        self.batch_size = batch_size
        self.progress = progress

    def questions(self) -> tuple[list[MMLUQuestion], dict[str, list[MMLUQuestion]]]:
        return mmlu_slice(self.path, self.hub_id, self.subjects, self.limit_per_subject, self.num_fewshot)

    def check(self) -> None:
        self.questions()

    def fingerprint_params(self) -> dict[str, object]:
        """The questions and few-shot examples by content: the same slice read from another folder or
        from the hub keys the same results."""
        test, shots = self.questions()
        where = {"path", "hub_id", "subjects", "limit_per_subject"}
        params = {k: v for k, v in super().fingerprint_params().items() if k not in where}
        content = [asdict(q) for q in test], {s: [asdict(q) for q in qs] for s, qs in shots.items()}
        return params | {"questions": content_hash(*content)}

    def result(self, test: list[MMLUQuestion], logprobs: np.ndarray, **details: object) -> EvalResult:
        """From the (questions, choices) log-likelihoods: accuracy micro over questions and macro over
        subjects, and the probability mass on the correct answer (softmax over the choices), which
        moves before accuracy does; each with standard errors."""
        logprobs = np.asarray(logprobs, dtype=np.float64)
        predictions = logprobs.argmax(1)
        answers = np.array([q.answer for q in test])
        correct = predictions == answers
        prob = np.exp(logprobs[np.arange(len(test)), answers] - logsumexp(logprobs, axis=1))
        subjects = np.array([q.subject for q in test])
        by_subject = {s: correct[subjects == s] for s in sorted(set(subjects))}
        prob_by_subject = {s: prob[subjects == s] for s in by_subject}
        return EvalResult(
            self.name,
            accuracy_metrics(by_subject) | mean_metrics("prob_correct", prob_by_subject),
            {s: float(c.mean()) for s, c in by_subject.items()},
            len(test),
            {
                "format": self.format,
                "num_fewshot": self.num_fewshot,
                "predictions": predictions.tolist(),
                "per_task_prob_correct": {s: float(p.mean()) for s, p in prob_by_subject.items()},
                **details,
            },
        )
