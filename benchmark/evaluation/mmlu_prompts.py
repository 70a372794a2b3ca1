"""MMLU prompts exactly as lm-evaluation-harness builds them, so both MMLU evaluators score the same text.

``letter`` is lm-eval's default ``mmlu`` (question, lettered choices, "Answer:", continuations " A".." D");
``cloze`` is its ``mmlu_continuation`` ("Question: ...\\nAnswer:", each answer text as the continuation).
Few-shot examples are the first k dev questions of the subject, joined by a blank line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchmark.data.mmlu import LETTERS, MMLUQuestion
from benchmark.errors import SelbenchError

if TYPE_CHECKING:  # the CLI reads FORMATS without importing torch
    from benchmark.inference import Choices

FORMATS = ("letter", "cloze")
TARGET_DELIMITER = " "
FEWSHOT_DELIMITER = "\n\n"


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise SelbenchError(f"MMLU format {fmt!r}: use letter (lm-eval's mmlu) or cloze (mmlu_continuation).")


def description(subject: str, fmt: str) -> str:
    kind = "multiple choice questions" if fmt == "letter" else "questions"
    return f"The following are {kind} (with answers) about {' '.join(subject.split('_'))}.\n\n"


def question_text(q: MMLUQuestion, fmt: str) -> str:
    if fmt == "letter":
        lines = [
            q.question.strip(),
            *(f"{letter}. {choice}" for letter, choice in zip(LETTERS, q.choices, strict=True)),
        ]
        return "\n".join(lines) + "\nAnswer:"
    return f"Question: {q.question.strip()}\nAnswer:"


def choices(q: MMLUQuestion, fmt: str) -> list[str]:
    return list(LETTERS) if fmt == "letter" else list(q.choices)


def few_shot_prefix(subject: str, shots: list[MMLUQuestion], fmt: str) -> str:
    """What every question of a subject starts with: the description and the answered dev examples."""
    examples = "".join(
        question_text(s, fmt) + TARGET_DELIMITER + choices(s, fmt)[s.answer] + FEWSHOT_DELIMITER
        for s in shots
    )
    return description(subject, fmt) + examples


def context(q: MMLUQuestion, shots: list[MMLUQuestion], fmt: str) -> str:
    return few_shot_prefix(q.subject, shots, fmt) + question_text(q, fmt)


def encode_pair(tokenizer: Any, context_text: str, continuation: str) -> tuple[list[int], list[int]]:
    """lm-eval's HFLM encoding: trailing context spaces move to the continuation, the whole string is
    encoded and the context's tokens are cut off its start."""
    n_spaces = len(context_text) - len(context_text.rstrip())
    if n_spaces:
        continuation = context_text[-n_spaces:] + continuation
        context_text = context_text[:-n_spaces]
    whole = tokenizer(context_text + continuation, add_special_tokens=False)["input_ids"]
    ctx = tokenizer(context_text, add_special_tokens=False)["input_ids"]
    return ctx, whole[len(ctx) :]


def encode_question(tokenizer: Any, q: MMLUQuestion, shots: list[MMLUQuestion], fmt: str) -> Choices:
    from benchmark.inference import Choices

    text = context(q, shots, fmt)
    pairs = [encode_pair(tokenizer, text, TARGET_DELIMITER + c) for c in choices(q, fmt)]
    return Choices(pairs[0][0], [cont for _, cont in pairs])
