"""MMLU as evaluation data: the original release layout (test/dev/val CSVs) or the hub's ``cais/mmlu``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from benchmark.data.files import existing_path, load_hub_rows, utf8
from benchmark.errors import DataError
from benchmark.registry import did_you_mean

LETTERS = ("A", "B", "C", "D")
SPLITS = ("test", "dev", "val")
HUB_SPLITS = {"test": "test", "dev": "dev", "val": "validation"}


@dataclass(frozen=True, slots=True)
class MMLUQuestion:
    subject: str
    question: str
    choices: tuple[str, str, str, str]
    answer: int  # index into choices

    @property
    def answer_letter(self) -> str:
        return LETTERS[self.answer]


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise DataError(f"MMLU split {split!r}: use one of {', '.join(SPLITS)}.")


def mmlu_subjects(path: str | Path) -> list[str]:
    """The subjects of a local MMLU release folder, read from its test file names."""
    folder = existing_path(Path(path) / "test", "MMLU test folder", folder=True)
    subjects = sorted(p.name.removesuffix("_test.csv") for p in folder.glob("*_test.csv"))
    if not subjects:
        raise DataError(f"{folder}: no <subject>_test.csv files. Point path at an MMLU release folder.")
    return subjects


def _read_subject_csv(file: Path, subject: str) -> list[MMLUQuestion]:
    questions = []
    with io.StringIO(utf8(file.read_bytes(), file), newline="") as f:
        for row_number, row in enumerate(csv.reader(f), start=1):
            where = f"{file} record {row_number}"
            if len(row) != 6:
                raise DataError(f"{where}: {len(row)} fields, expected 6 (question, A, B, C, D, answer).")
            if row[5] not in LETTERS:
                raise DataError(f"{where}: answer {row[5]!r} is not one of A, B, C, D.")
            questions.append(MMLUQuestion(subject, row[0], tuple(row[1:5]), LETTERS.index(row[5])))
    return questions


def _check_subjects(subjects: list[str] | None, known: list[str]) -> list[str]:
    if subjects is None:
        return known
    for s in subjects:
        if s not in known:
            raise DataError(f"unknown MMLU subject {s!r}.{did_you_mean(s, known)} See the MMLU test folder.")
    return list(subjects)


def load_mmlu(
    *,
    path: str | Path | None = None,
    hub_id: str = "cais/mmlu",
    split: str = "test",
    subjects: list[str] | None = None,
) -> list[MMLUQuestion]:
    """The questions of ``split`` for ``subjects`` (all by default), grouped by subject in sorted order.

    ``path``: a folder with test/, dev/ and val/ holding ``<subject>_<split>.csv`` files without header.
    Without ``path`` the hub data set is read (its ``all`` configuration).
    """
    _check_split(split)
    if path is not None:
        chosen = _check_subjects(subjects, mmlu_subjects(path))
        folder = Path(path) / split
        return [
            q
            for s in chosen
            for q in _read_subject_csv(existing_path(folder / f"{s}_{split}.csv", f"MMLU {split} file"), s)
        ]
    columns = ("question", "subject", "choices", "answer")
    questions = [
        MMLUQuestion(row["subject"], row["question"], tuple(row["choices"]), int(row["answer"]))
        for _, row in load_hub_rows(hub_id, config="all", split=HUB_SPLITS[split], columns=columns)
    ]
    chosen = _check_subjects(subjects, sorted({q.subject for q in questions}))
    keep = set(chosen)
    return sorted((q for q in questions if q.subject in keep), key=lambda q: q.subject)


def few_shot_examples(dev: list[MMLUQuestion], subject: str, k: int) -> list[MMLUQuestion]:
    """The first ``k`` dev questions of ``subject`` (MMLU's fixed few-shot examples, 5 per subject)."""
    if not 0 <= k <= 5:
        raise DataError(f"MMLU few-shot k={k}: must be between 0 and 5 (the dev split has 5 per subject).")
    shots = [q for q in dev if q.subject == subject][:k]
    if len(shots) < k:
        raise DataError(f"MMLU dev split has {len(shots)} questions for {subject!r}, fewer than k={k}.")
    return shots
