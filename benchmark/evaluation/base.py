"""The Evaluator interface and its registry: evaluators are registered by name, like strategies."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from benchmark.registry import Component, ComponentRegistry
from benchmark.types import Pool


@dataclass(frozen=True)
class EvalResult:
    """Headline metrics, per-task (or per-subject) accuracy and per-item correctness."""

    evaluator: str
    metrics: dict[str, float]
    per_task: dict[str, float]
    n: int
    details: dict[str, Any] = field(default_factory=dict)


def accuracy_metrics(correct_by_task: dict[str, np.ndarray]) -> dict[str, float]:
    """Micro accuracy (over items) and macro accuracy (over tasks), each with its standard error."""
    allc = np.concatenate(list(correct_by_task.values())).astype(np.float64)
    per_task = {t: c.astype(np.float64) for t, c in correct_by_task.items()}
    acc = float(allc.mean())
    task_acc = np.array([c.mean() for c in per_task.values()])
    task_var = np.array([c.mean() * (1 - c.mean()) / len(c) for c in per_task.values()])
    return {
        "acc": acc,
        "acc_stderr": float(np.sqrt(acc * (1 - acc) / len(allc))),
        "acc_macro": float(task_acc.mean()),
        "acc_macro_stderr": float(np.sqrt(task_var.sum()) / len(task_acc)),
    }


def mean_metrics(name: str, values_by_task: dict[str, np.ndarray]) -> dict[str, float]:
    """A continuous per-item metric averaged over items (``name``) and over tasks (``name_macro``),
    each with its standard error (tasks with one item add no variance estimate)."""
    values = np.concatenate(list(values_by_task.values())).astype(np.float64)
    means = np.array([v.mean() for v in values_by_task.values()])
    task_var = np.array([v.var(ddof=1) / len(v) if len(v) > 1 else 0.0 for v in values_by_task.values()])
    return {
        name: float(values.mean()),
        f"{name}_stderr": float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0,
        f"{name}_macro": float(means.mean()),
        f"{name}_macro_stderr": float(np.sqrt(task_var.sum()) / len(means)),
    }


# A metric derived by reports, not stored: the smallest gain over the base model among the tasks (a cell
# that leaves any task behind scores low, however much it gains on the others).
WORST_GAIN = "_worst_gain"


def metric_family(metric: str) -> str:
    """The per-item quantity a metric summarises, whose per-task values ``RunRecord.per_task`` reads:
    ``acc_macro`` -> ``acc``, ``gold_logprob_worst_gain`` -> ``gold_logprob``."""
    return metric.removesuffix(WORST_GAIN).removesuffix("_macro")


class Evaluator(Component, ABC):
    """Measures a model. Parameters are explicit keyword arguments stored unchanged (as for strategies)."""

    version = 1  # raised when the evaluator's results change for the same parameters (keys change)
    headline: ClassVar[str] = "acc"  # the metric a table shows unless told another
    # the per-item quantities it reports, each averaged over items (NAME) and tasks (NAME_macro)
    metric_families: ClassVar[tuple[str, ...]] = ("acc",)

    @classmethod
    def metric_names(cls) -> tuple[str, ...]:
        """Every metric this evaluator may report (a choice-based one only where items have choices),
        and those a report derives from its per-task values (``WORST_GAIN``)."""
        return tuple(
            f"{f}{s}"
            for f in cls.metric_families
            for s in ("", "_macro", "_stderr", "_macro_stderr", WORST_GAIN)
        )

    needs_heldout: ClassVar[bool] = False  # scores the pool's held-out split (which must then exist)

    @abstractmethod
    def evaluate(self, model: Any, tokenizer: Any, *, heldout: Pool | None = None) -> EvalResult:
        """Evaluate ``model``; ``heldout`` is the pool's held-out split, for evaluators that need it."""

    def check(self) -> None:
        """Fail now on unusable evaluation data (a sweep calls this before any training)."""

    def fingerprint_params(self) -> dict[str, Any]:
        """The parameters that decide the results (sweep cell keys): display settings left out; an
        evaluator that reads data by location replaces the location with the content it reads."""
        return {k: v for k, v in self.get_params().items() if k != "progress"} | {"version": self.version}


EVALUATORS: ComponentRegistry[Evaluator] = ComponentRegistry(
    "evaluator",
    Evaluator,
    "selbench.evaluators",
    builtin_modules=tuple(
        f"benchmark.evaluation.{m}"
        for m in ("heldout", "mmlu_lm_eval", "mmlu_native", "benchmark_file", "bbh_lm_eval")
    ),  # imported on first lookup: they load torch
)
register_evaluator: Callable[[str], Callable[[type[Evaluator]], type[Evaluator]]] = EVALUATORS.register
build_evaluator = EVALUATORS.build
