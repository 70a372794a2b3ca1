"""Any JSONL, JSON, CSV, TSV or Parquet file with a column mapping onto prompt, response and task."""

from __future__ import annotations

from dataclasses import replace

from benchmark.data.files import choices_field, existing_path, join_prompt, read_table, text_field
from benchmark.data.labels import with_choices
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
    choices_column: str | None = None,
    choices: str | None = None,
) -> list[Example]:
    """Examples from a JSONL, JSON, CSV, TSV or Parquet file.

    ``input_columns`` (context, input, ...) are appended to the prompt. Give either ``task_column`` or a
    fixed ``task`` for every row. ``header``: the column names of a CSV or TSV file without a header line
    (FLAN's chain-of-thought files are header-less TSV). Classification examples are scored over their
    answer choices, not by exact match: ``choices_column`` gives each row's choices (a list, or a JSON
    array in a CSV or TSV cell), or the rule ``choices: task`` makes every task whose responses take 2 to
    10 distinct values a classification over them (as FLAN's templates are).
    """
    file = existing_path(path, "data file")
    if task is None and task_column is None:
        raise DataError(
            "generic source: set task_column (a column of task labels) or task (one fixed label)."
        )
    check_choices_options(choices_column, choices, f"{file}")
    source = source_name or file.stem
    examples = []
    if header is not None and file.suffix.lower() not in (".csv", ".tsv"):
        raise DataError(f"{file}: header names the columns of a CSV or TSV file; this one names its own.")
    for where, record in read_table(file, header):
        inputs = [text_field(record, c, where, allow_empty=True) for c in input_columns or []]
        label = task if task is not None else text_field(record, task_column, where)
        example = Example(
            join_prompt(text_field(record, prompt_column, where), *inputs),
            text_field(record, response_column, where),
            label,
            source,
        )
        if choices_column is not None:
            example = replace(example, choices=row_choices(record, choices_column, example.response, where))
        examples.append(example)
    return with_choices(examples) if choices == "task" else examples


CHOICE_RULES = ("task",)


def check_choices_options(column: str | None, rule: str | None, where: str) -> None:
    """A choices column or a rule, not both; a known rule."""
    if rule is not None and rule not in CHOICE_RULES:
        raise DataError(f"{where}: choices {rule!r}: the rule is one of {', '.join(CHOICE_RULES)}.")
    if rule is not None and column is not None:
        raise DataError(f"{where}: give choices_column (per row) or choices (a rule), not both.")


def row_choices(record: dict, column: str, response: str, where: str) -> tuple[str, ...]:
    """A row's answer choices, which must hold its response (else the gold answer could never win)."""
    if column not in record:
        raise DataError(f"{where}: no column {column!r} (choices_column); columns: {', '.join(record)}.")
    options = choices_field(record[column], where, column)
    if response not in options:
        raise DataError(f"{where}: the response {response!r} is not among its choices {list(options)}.")
    return options
