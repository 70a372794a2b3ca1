"""The embedded default pool: procedurally generated tasks with short, verifiable answers.

No download and no model: a deterministic function of the seed. Every prompt ends with its answer format
("Reply with the number only."), so what a model generates is the answer itself. The tasks differ
clearly in difficulty for a small pre-trained model (copying a word is easy, four-digit addition is
hard), which is what makes task-aware selection matter.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from benchmark.data.sources import register_source
from benchmark.errors import DataError
from benchmark.registry import did_you_mean
from benchmark.types import Example

_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
_VOWELS = ["a", "e", "i", "o", "u"]
_ITEMS = [
    "apple",
    "pear",
    "plum",
    "fig",
    "lime",
    "kiwi",
    "mango",
    "melon",
    "grape",
    "peach",
    "cherry",
    "lemon",
    "olive",
    "date",
    "guava",
]

NUMBER_ONLY = "Reply with the number only."

Generator = Callable[[random.Random], tuple[str, str]]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 3)))


def _words(rng: random.Random, lo: int, hi: int) -> list[str]:
    return [_word(rng) for _ in range(rng.randint(lo, hi))]


def _numbers(rng: random.Random, n: int, hi: int) -> list[int]:
    return rng.sample(range(1, hi), n)


def _copy_word(rng: random.Random) -> tuple[str, str]:
    w = _word(rng)
    return f"Repeat this word exactly: {w}\nReply with the word only.", w


def _uppercase(rng: random.Random) -> tuple[str, str]:
    w = _word(rng)
    return f"Write this word in capital letters: {w}\nReply with the word only.", w.upper()


def _first_letter(rng: random.Random) -> tuple[str, str]:
    w = _word(rng)
    return f"What is the first letter of the word '{w}'?\nReply with the letter only.", w[0]


def _last_word(rng: random.Random) -> tuple[str, str]:
    ws = _words(rng, 3, 6)
    return f"What is the last word in this list: {' '.join(ws)}?\nReply with the word only.", ws[-1]


def _reverse_word(rng: random.Random) -> tuple[str, str]:
    w = _word(rng)
    return f"Write the word '{w}' backwards.\nReply with the word only.", w[::-1]


def _count_words(rng: random.Random) -> tuple[str, str]:
    ws = _words(rng, 2, 9)
    return f"How many words are in this list: {' '.join(ws)}?\n{NUMBER_ONLY}", str(len(ws))


def _add_small(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(0, 49), rng.randint(0, 49)
    return f"What is {a} + {b}?\n{NUMBER_ONLY}", str(a + b)


def _add_large(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(1000, 9999), rng.randint(1000, 9999)
    return f"What is {a} + {b}?\n{NUMBER_ONLY}", str(a + b)


def _multiply(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(11, 99), rng.randint(11, 99)
    return f"What is {a} * {b}?\n{NUMBER_ONLY}", str(a * b)


def _compare(rng: random.Random) -> tuple[str, str]:
    a, b = _numbers(rng, 2, 1000)
    return f"Which number is larger, {a} or {b}?\n{NUMBER_ONLY}", str(max(a, b))


def _parity(rng: random.Random) -> tuple[str, str]:
    n = rng.randint(0, 99_999)
    return f"Is {n} even or odd?\nReply with one word: even or odd.", "even" if n % 2 == 0 else "odd"


def _sort_numbers(rng: random.Random) -> tuple[str, str]:
    ns = _numbers(rng, rng.randint(3, 5), 100)
    listed = ", ".join(map(str, ns))
    return (
        f"Sort these numbers from smallest to largest: {listed}\nReply with the sorted list only.",
        ", ".join(map(str, sorted(ns))),
    )


def _max_number(rng: random.Random) -> tuple[str, str]:
    ns = _numbers(rng, rng.randint(3, 6), 100)
    return f"What is the largest number in this list: {', '.join(map(str, ns))}?\n{NUMBER_ONLY}", str(max(ns))


def _table_lookup(rng: random.Random) -> tuple[str, str]:
    items = rng.sample(_ITEMS, 4)
    prices = [rng.randint(1, 99) for _ in items]
    table = "\n".join(f"{item}: {price}" for item, price in zip(items, prices, strict=True))
    k = rng.randrange(len(items))
    return f"Prices:\n{table}\nWhat is the price of {items[k]}?\n{NUMBER_ONLY}", str(prices[k])


def _contains(rng: random.Random) -> tuple[str, str]:
    ws = _words(rng, 3, 6)
    present = rng.random() < 0.5
    w = rng.choice(ws) if present else _word(rng)
    answer = "yes" if w in ws else "no"
    return f"Does the list {' '.join(ws)} contain the word '{w}'?\nReply with one word: yes or no.", answer


TASKS: dict[str, Generator] = {
    "copy_word": _copy_word,
    "uppercase": _uppercase,
    "first_letter": _first_letter,
    "last_word": _last_word,
    "reverse_word": _reverse_word,
    "count_words": _count_words,
    "add_small": _add_small,
    "add_large": _add_large,
    "multiply": _multiply,
    "compare": _compare,
    "parity": _parity,
    "sort_numbers": _sort_numbers,
    "max_number": _max_number,
    "table_lookup": _table_lookup,
    "contains": _contains,
}

# The classification tasks: their answer options, scored by log-likelihood in held-out evaluation.
CHOICES: dict[str, tuple[str, ...]] = {
    "parity": ("even", "odd"),
    "contains": ("no", "yes"),
    "count_words": tuple(str(n) for n in range(2, 10)),
}


def _generate(task: str, n: int, seed: int) -> list[Example]:
    """``n`` examples of ``task`` with distinct prompts; the stream depends only on (seed, task)."""
    rng = random.Random(f"selbench-synthetic:{seed}:{task}")
    seen: dict[str, str] = {}
    for _ in range(20 * n + 100):
        if len(seen) == n:
            break
        prompt, answer = TASKS[task](rng)
        seen.setdefault(prompt, answer)
    if len(seen) < n:
        raise DataError(
            f"synthetic task {task!r} yields only {len(seen)} distinct examples; lower examples_per_task."
        )
    choices = CHOICES.get(task, ())
    return [Example(prompt, answer, task, "synthetic", choices) for prompt, answer in seen.items()]


@register_source("synthetic")
def load_synthetic(
    *, examples_per_task: int = 200, tasks: list[str] | None = None, seed: int = 0
) -> list[Example]:
    """``examples_per_task`` generated examples of each task (all tasks by default)."""
    if examples_per_task < 1:
        raise DataError(f"synthetic option examples_per_task={examples_per_task}: must be at least 1.")
    for task in tasks or []:
        if task not in TASKS:
            raise DataError(
                f"synthetic option tasks: unknown task {task!r}.{did_you_mean(task, list(TASKS))} "
                f"Known: {', '.join(TASKS)}."
            )
    return [ex for task in tasks or TASKS for ex in _generate(task, examples_per_task, seed)]
