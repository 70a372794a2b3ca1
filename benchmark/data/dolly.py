"""databricks-dolly-15k: hub id or a local JSONL file; task = category, context folded into the prompt."""

from __future__ import annotations

from benchmark.data.files import existing_path, join_prompt, load_hub_rows, read_jsonl, text_field
from benchmark.data.generic import check_choices_options
from benchmark.data.labels import with_choices
from benchmark.data.sources import register_source
from benchmark.types import Example

FIELDS = ("instruction", "context", "response", "category")


def _example(record: dict, where: str) -> Example:
    prompt = join_prompt(
        text_field(record, "instruction", where), text_field(record, "context", where, allow_empty=True)
    )
    return Example(
        prompt, text_field(record, "response", where), text_field(record, "category", where), "dolly"
    )


@register_source("dolly")
def load_dolly(
    *,
    path: str | None = None,
    hub_id: str = "databricks/databricks-dolly-15k",
    split: str = "train",
    choices: str | None = None,
) -> list[Example]:
    """Dolly examples from the local JSONL ``path`` (fields instruction, context, response, category)
    or from the hub. ``choices: task``: a category whose responses take 2 to 10 distinct values is
    scored over them (Dolly's are free text, so by default none is)."""
    check_choices_options(None, choices, "dolly source")
    if path is not None:
        file = existing_path(path, "Dolly JSONL file")
        examples = [_example(record, f"{file}:{lineno}") for lineno, record in read_jsonl(file)]
    else:
        rows = load_hub_rows(hub_id, split=split, columns=FIELDS)
        examples = [_example(row, f"{hub_id} row {i}") for i, row in rows]
    return with_choices(examples) if choices == "task" else examples
