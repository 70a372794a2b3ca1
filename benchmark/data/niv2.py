"""Super-NaturalInstructions (NIv2) task files: one JSON object per task with its ``Definition``,
``Categories`` and ``Instances`` (``input`` and a list of reference ``output``s). Task = the file (fine)
or its first category (coarse); prompt = the definition, then the instance's input; response = its first
output. Classification tasks (2-10 distinct outputs) get their choices, as FLAN templates do."""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.data.files import existing_path, join_prompt, utf8
from benchmark.data.labels import with_choices
from benchmark.data.sources import register_source
from benchmark.errors import DataError
from benchmark.types import Example

TASK_LEVELS = ("fine", "coarse")


def _task_file(path: Path, task_level: str, limit: int | None) -> list[Example]:
    try:
        task = json.loads(utf8(path.read_bytes(), path))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: not valid JSON ({err.msg}, column {err.colno}).") from None
    if not isinstance(task, dict):
        raise DataError(f"{path}: a NIv2 task file is one JSON object; got a {type(task).__name__}.")
    for key in ("Definition", "Instances"):
        if key not in task:
            raise DataError(f"{path}: no {key!r}. A NIv2 task file has Definition, Categories and Instances.")
    definition = task["Definition"]
    definition = " ".join(definition) if isinstance(definition, list) else str(definition)
    categories = task.get("Categories") or []
    label = path.stem if task_level == "fine" else (categories[0] if categories else path.stem)
    examples = []
    for i, instance in enumerate(_instances(task["Instances"], path)[:limit]):
        where = f"{path} instance {i}"
        outputs = instance.get("output")
        if isinstance(outputs, str):
            outputs = [outputs]
        if not outputs or not isinstance(outputs, list) or not str(outputs[0]).strip():
            raise DataError(f"{where}: no reference output (its 'output' list is empty or missing).")
        if "input" not in instance:
            raise DataError(f"{where}: no 'input'.")
        prompt = join_prompt(definition.strip(), str(instance["input"]))
        examples.append(Example(prompt, str(outputs[0]).strip(), label, "niv2", template=path.stem))
    return examples


def _instances(instances: object, path: Path) -> list[dict]:
    """The task's instances, checked to be a list of objects."""
    if not isinstance(instances, list) or not all(isinstance(i, dict) for i in instances):
        raise DataError(f"{path}: 'Instances' must be a list of objects with input and output.")
    return instances


@register_source("niv2")
def load_niv2(
    *, path: str, task_level: str = "fine", tasks: list[str] | None = None, limit_per_task: int | None = None
) -> list[Example]:
    """NIv2 examples from a task file or a folder of them (``tasks/task001_....json``); ``tasks``: file
    names (without .json) to read; ``limit_per_task``: the first N instances of each."""
    if task_level not in TASK_LEVELS:
        raise DataError(f"niv2 option task_level={task_level!r}: use one of {', '.join(TASK_LEVELS)}.")
    root = existing_path(path, "NIv2 task file or folder", folder=Path(path).is_dir())
    files = [root] if root.is_file() else sorted(root.glob("*.json"))
    if tasks is not None:
        by_name = {f.stem: f for f in files}
        unknown = [t for t in tasks if t not in by_name]
        if unknown:
            raise DataError(f"{root}: no task file {unknown[0]}.json (niv2 option tasks).")
        files = [by_name[t] for t in tasks]
    if not files:
        raise DataError(f"{root}: no *.json task files. A NIv2 folder holds one JSON object per task.")
    examples = [ex for file in files for ex in _task_file(file, task_level, limit_per_task)]
    return with_choices(examples)
