"""FLAN 2022 collection: hub dumps (task and task-source columns) or a local folder of per-template JSONL."""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path

from benchmark.data.files import existing_path, load_hub_rows, read_jsonl, text_field
from benchmark.data.labels import with_choices
from benchmark.data.sources import register_source
from benchmark.errors import DataError
from benchmark.types import Example

log = logging.getLogger(__name__)

END_OF_TEXT = "<|endoftext|>"
TASK_LEVELS = ("fine", "coarse")


def p3_dataset_names() -> list[str]:
    """The T0 / P3 source data sets that prefix template names (packaged list)."""
    text = files("benchmark.data").joinpath("p3_datasets.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def dataset_of_template(template: str, prefixes: list[str]) -> str | None:
    """The longest prefix that ``template`` starts with (followed by '_'), or None."""
    matches = [p for p in prefixes if template == p or template.startswith(p + "_")]
    return max(matches, key=len) if matches else None


def _check_task_level(task_level: str) -> None:
    if task_level not in TASK_LEVELS:
        raise DataError(f"flan option task_level={task_level!r}: use one of {', '.join(TASK_LEVELS)}.")


def _load_local(folder: Path, task_level: str, dataset_prefixes: list[str] | None) -> list[Example]:
    paths = sorted(folder.glob("*.jsonl"))
    if not paths:
        raise DataError(f"{folder}: no *.jsonl files. A FLAN folder holds one JSONL file per task template.")
    prefixes = dataset_prefixes if dataset_prefixes is not None else p3_dataset_names()
    examples = []
    unlabelled: dict[str, int] = {}  # file name -> records without a completion
    for path in paths:
        task = path.stem
        if task_level == "coarse":
            task = dataset_of_template(path.stem, prefixes)
            if task is None:
                raise DataError(
                    f"{path}: template {path.stem!r} starts with no known source data set name. "
                    "Add its data set to the flan option dataset_prefixes, or use task_level: fine."
                )
        for lineno, record in read_jsonl(path):
            where = f"{path}:{lineno}"
            response = text_field(record, "completion", where).removesuffix(END_OF_TEXT).strip()
            if not response:  # upstream records without a target: nothing to annotate or learn
                unlabelled[path.name] = unlabelled.get(path.name, 0) + 1
                continue
            examples.append(
                Example(text_field(record, "prompt", where), response, task, "flan", template=path.stem)
            )
    if unlabelled:
        log.warning(
            "%s: %d records with an empty completion left out (%s)",
            folder,
            sum(unlabelled.values()),
            ", ".join(f"{name}: {n}" for name, n in unlabelled.items()),
        )
    return with_choices(examples)


@register_source("flan")
def load_flan(
    *,
    path: str | None = None,
    hub_id: str = "SirNeural/flan_v2",
    split: str = "train",
    task_level: str = "fine",
    dataset_prefixes: list[str] | None = None,
    prompt_column: str = "inputs",
    response_column: str = "targets",
    task_column: str = "task_name",
    coarse_task_column: str = "task_source",
    streaming: bool = True,
    max_rows: int | None = 200_000,
) -> list[Example]:
    """FLAN examples with task labels.

    Local ``path``: a folder of ``<template>.jsonl`` files with prompt/completion fields; the task is the
    template (``task_level: fine``) or its source data set (``coarse``). Hub: the task is the task-name
    column (fine) or the task-source column (coarse); the collection is large, so it is streamed and
    only its first ``max_rows`` rows are read (set None for all).
    """
    _check_task_level(task_level)
    if path is not None:
        return _load_local(existing_path(path, "FLAN folder", folder=True), task_level, dataset_prefixes)
    task_col = task_column if task_level == "fine" else coarse_task_column
    rows = load_hub_rows(
        hub_id,
        split=split,
        columns=list(dict.fromkeys([prompt_column, response_column, task_column, task_col])),
        streaming=streaming,
        max_rows=max_rows,
    )
    examples = []
    for i, row in rows:
        where = f"{hub_id} row {i}"
        examples.append(
            Example(
                text_field(row, prompt_column, where),
                text_field(row, response_column, where),
                text_field(row, task_col, where),
                "flan",
                template=text_field(row, task_column, where),
            )
        )
    return with_choices(examples)
