"""Any JSONL, CSV or Parquet file with a column mapping onto prompt, response and task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.data.files import existing_path, join_prompt, read_jsonl, text_field
from benchmark.data.sources import register_source
from benchmark.errors import DataError
from benchmark.types import Example

FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, record) pairs; locations are file:line for JSONL and CSV, file row N for Parquet."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{path}: unknown file type {path.suffix!r}. Use one of {', '.join(sorted(FORMATS))}."
        )
    if kind == "jsonl":
        for lineno, record in read_jsonl(path):
            yield f"{path}:{lineno}", record
        return
    try:
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            frame = pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: cannot be read as {kind}: {err}") from None
    # CSV: line 1 is the header; a quoted field spanning lines makes this the record's first line at best.
    offset, unit = (2, ":") if kind == "csv" else (0, " row ")
    for i, record in enumerate(frame.to_dict(orient="records")):
        yield f"{path}{unit}{i + offset}", record


@register_source("generic")
def load_generic(
    *,
    path: str,
    prompt_column: str = "prompt",
    response_column: str = "response",
    task_column: str | None = "task",
    task: str | None = None,
    input_columns: list[str] | None = None,
    source_name: str | None = None,
) -> list[Example]:
    """Examples from a JSONL, CSV or Parquet file.

    ``input_columns`` (context, input, ...) are appended to the prompt. Give either ``task_column`` or a
    fixed ``task`` for every row.
    """
    file = existing_path(path, "data file")
    if task is None and task_column is None:
        raise DataError(
            "generic source: set task_column (a column of task labels) or task (one fixed label)."
        )
    source = source_name or file.stem
    examples = []
    for where, record in _records(file):
        inputs = [text_field(record, c, where, allow_empty=True) for c in input_columns or []]
        label = task if task is not None else text_field(record, task_column, where)
        examples.append(
            Example(
                join_prompt(text_field(record, prompt_column, where), *inputs),
                text_field(record, response_column, where),
                label,
                source,
            )
        )
    return examples
