"""Any JSONL, JSON, CSV, TSV or Parquet file with a column mapping onto prompt, response and task."""

from __future__ import annotations

from benchmark.data.files import existing_path, join_prompt, read_table, text_field
from benchmark.data.sources import register_source
from benchmark.errors import DataError
from benchmark.types import Example


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
    header: list[str] | None = None,
) -> list[Example]:
    """Examples from a JSONL, JSON, CSV, TSV or Parquet file.

    ``input_columns`` (context, input, ...) are appended to the prompt. Give either ``task_column`` or a
    fixed ``task`` for every row. ``header``: the column names of a CSV or TSV file without a header line
    (FLAN's chain-of-thought files are header-less TSV).
    """
    file = existing_path(path, "data file")
    if task is None and task_column is None:
        raise DataError(
            "generic source: set task_column (a column of task labels) or task (one fixed label)."
        )
    source = source_name or file.stem
    examples = []
    if header is not None and file.suffix.lower() not in (".csv", ".tsv"):
        raise DataError(f"{file}: header names the columns of a CSV or TSV file; this one names its own.")
    for where, record in read_table(file, header):
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
