"""The records that flow between data, strategies, training and evaluation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from benchmark.errors import SelbenchError


def content_hash(*parts: object, length: int = 16) -> str:
    """Hex digest of the JSON of ``parts``: the same content gives the same key on any machine."""
    payload = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


@dataclass(frozen=True, slots=True)
class Example:
    """One instruction example. ``response`` is the label that annotation buys; ``choices``: the fixed
    answer options of its template when it is a classification (``data.labels``), else empty;
    ``template``: the prompt template it was rendered with, where the source has several per task."""

    prompt: str
    response: str
    task: str
    source: str
    choices: tuple[str, ...] = ()
    template: str = ""
    uid: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "uid", content_hash(self.prompt, self.response, self.task))

    @property
    def template_or_task(self) -> str:
        """The finest label of how the prompt was written: its template, else its task."""
        return self.template or self.task


READS = ("prompts", "tasks", "base_model", "responses")  # what a selection may read (Strategy.reads)
_HIDDEN = {"tasks": ("task", "template_or_task"), "responses": ("response",)}  # fields, by what hides them


class ExampleView:
    """An example as a strategy sees it: a field of information the strategy did not declare raises
    instead of answering, so the contract in ``Strategy.reads`` is enforced, not trusted."""

    __slots__ = ("_example", "_hidden", "_who")

    def __init__(self, example: Example, hidden: frozenset[str], who: str) -> None:
        self._example, self._hidden, self._who = example, hidden, who

    def __getattr__(self, name: str) -> object:
        if name in self._hidden:
            what = "responses" if name == "response" else "tasks"
            why = " (then it is an oracle: annotation buys the responses)" if what == "responses" else ""
            raise SelbenchError(
                f"{self._who} read the field {name!r} of an example without declaring {what!r} in its "
                f"`reads`. Declare it{why}, or do not read it."
            )
        return getattr(self._example, name)


@dataclass(frozen=True)
class Pool:
    """An ordered, duplicate-free collection of examples with task labels."""

    name: str
    examples: tuple[Example, ...]

    def __post_init__(self) -> None:
        if len(set(self.uids)) != len(self.examples):
            raise ValueError(f"pool {self.name!r} holds duplicate examples; load it through load_pool.")

    def __len__(self) -> int:
        return len(self.examples)

    @cached_property
    def uids(self) -> tuple[str, ...]:
        return tuple(ex.uid for ex in self.examples)

    @cached_property
    def tasks(self) -> tuple[str, ...]:
        """The distinct task names, sorted: position i is task id i."""
        return tuple(sorted({ex.task for ex in self.examples}))

    def task_ids(self) -> np.ndarray:
        """(N,) int64 index of each example's task in ``tasks``."""
        index = {task: i for i, task in enumerate(self.tasks)}
        return np.fromiter((index[ex.task] for ex in self.examples), dtype=np.int64, count=len(self))

    def task_counts(self) -> dict[str, int]:
        return dict(
            zip(self.tasks, np.bincount(self.task_ids(), minlength=len(self.tasks)).tolist(), strict=True)
        )

    def fingerprint(self) -> str:
        """Content hash of the ordered examples: equal pools share caches whatever their file or name."""
        return content_hash(list(self.uids))

    def subset(self, indices: np.ndarray | list[int], name: str | None = None) -> Pool:
        """The examples at ``indices``, in that order."""
        return Pool(name or self.name, tuple(self.examples[i] for i in indices))

    def view(self, reads: frozenset[str], who: str) -> Pool:
        """The pool as a selection that reads only ``reads`` (of ``READS``) sees it: reading an
        undeclared field (the gold response, the task label) is an error naming ``who``."""
        hidden = frozenset(f for what, names in _HIDDEN.items() if what not in reads for f in names)
        if not hidden:
            return self
        return Pool(self.name, tuple(ExampleView(ex, hidden, who) for ex in self.examples))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Features:
    """Label-free features of a pool, computed once by the scorer and shared by every strategy.

    Per-example arrays are aligned with ``pool.examples``; ``task_confidence`` maps each task name to its
    mean confidence (estimated from a sample of its prompts, so it needs no pass over the whole pool).
    """

    confidence: np.ndarray | None = None  # (N,) mean probability of the model's own answer tokens, in [0, 1]
    entropy: np.ndarray | None = None  # (N,) mean token entropy of that answer, in nats
    embeddings: np.ndarray | None = None  # (N, d) float32, L2-normalised rows
    task_confidence: dict[str, float] | None = None
    prompt_logprob: np.ndarray | None = None  # (N,) mean log-likelihood per prompt token: -log perplexity
    ifd: np.ndarray | None = None  # (N,) instruction-following difficulty: reads the gold responses

    def require(self, name: str, pool: Pool, who: str) -> np.ndarray | dict[str, float]:
        """Feature ``name``, checked against ``pool``; missing or misaligned is an error naming it."""
        value = getattr(self, name)
        if value is None:
            raise SelbenchError(
                f"{who} needs the feature {name!r}, which was not computed. Declare it in the strategy's "
                "`requires` so the runner computes it, or pass Features with it."
            )
        if name == "task_confidence":
            missing = [t for t in pool.tasks if t not in value]
            if missing:
                raise SelbenchError(f"{who}: feature 'task_confidence' has no value for task {missing[0]!r}.")
        elif len(value) != len(pool):
            raise SelbenchError(f"{who}: feature {name!r} has {len(value)} rows; the pool has {len(pool)}.")
        return value

    def subset(self, indices: np.ndarray) -> Features:
        """The features of ``pool.subset(indices)``: per-example arrays sliced, per-task values kept."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return Features(**{k: v[indices] if isinstance(v, np.ndarray) else v for k, v in values.items()})


FEATURE_NAMES = frozenset(f.name for f in fields(Features))
# the scored model's outputs, and those computed from the gold responses (whoever reads one is an oracle)
BASE_MODEL_FEATURES = frozenset({"confidence", "entropy", "task_confidence", "prompt_logprob", "ifd"})
RESPONSE_FEATURES = frozenset({"ifd"})
