"""Benchmarks a user brings: task-labelled files (one per task, or one with a task column) read into a
pool of evaluation examples, with optional answer choices and few-shot prompts. Every file, column and
task is checked here, before any model loads, with errors that name the file, line and fix."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from benchmark.data.files import TABLE_FORMATS, choices_field, existing_path, read_table, text_field
from benchmark.errors import DataError
from benchmark.registry import did_you_mean
from benchmark.types import Example, Pool


@dataclass(frozen=True)
class BenchmarkColumns:
    """Where a benchmark file keeps each field. ``choices``: a list (JSON, Parquet) or a JSON array in
    text (CSV, TSV); ``task``: None means the file's name is the task."""

    input: str = "input"
    target: str = "target"
    choices: str | None = None
    task: str | None = None


def benchmark_files(path: str | Path) -> list[Path]:
    """The data files of a benchmark: ``path`` itself, or every readable file in the folder ``path``."""
    root = existing_path(path, "benchmark file or folder", folder=Path(path).is_dir())
    if root.is_file():
        return [root]
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in TABLE_FORMATS and p.is_file())
    if not files:
        raise DataError(
            f"{root}: no benchmark files in the folder (one per task, {', '.join(sorted(TABLE_FORMATS))})."
        )
    return files


def load_benchmark(
    path: str | Path,
    columns: BenchmarkColumns,
    *,
    tasks: list[str] | None = None,
    limit_per_task: int | None = None,
    choices_from_targets: int = 0,
) -> Pool:
    """The benchmark's examples as a pool (prompt = input, response = target). ``tasks``: a subset,
    each checked to exist; ``limit_per_task``: the first N of each task; ``choices_from_targets``: a
    task whose targets take at most this many distinct values (at least two) is scored over them as its
    choices (True/False, (A)-(E)), where no choices column says otherwise."""
    by_task: dict[str, list[Example]] = defaultdict(list)
    for file in benchmark_files(path):
        for where, record in read_table(file):
            for name in (columns.input, columns.target, columns.choices, columns.task):
                if name is not None and name not in record:
                    raise DataError(
                        f"{where}: no column {name!r}.{did_you_mean(name, list(record))} Columns: "
                        f"{', '.join(map(str, record))}. Set the evaluator's column options."
                    )
            task = text_field(record, columns.task, where) if columns.task else file.stem
            choices = (
                choices_field(record[columns.choices], where, columns.choices) if columns.choices else ()
            )
            target = text_field(record, columns.target, where)
            if choices and target not in choices:
                raise DataError(f"{where}: target {target!r} is not one of its choices {list(choices)}.")
            example = Example(text_field(record, columns.input, where), target, task, file.name, choices)
            by_task[task].append(example)
    if tasks is not None:
        unknown = [t for t in tasks if t not in by_task]
        if unknown:
            raise DataError(
                f"{path}: unknown task {unknown[0]!r}.{did_you_mean(unknown[0], sorted(by_task))} "
                f"Tasks: {', '.join(sorted(by_task))}."
            )
        by_task = {t: by_task[t] for t in tasks}
    examples = []
    for _, items in sorted(by_task.items()):
        items = items[:limit_per_task]
        targets = sorted({ex.response for ex in items})
        if choices_from_targets and 2 <= len(targets) <= choices_from_targets:
            items = [ex if ex.choices else replace(ex, choices=tuple(targets)) for ex in items]
        examples.extend(items)
    unique = list({ex.uid: ex for ex in examples}.values())  # a repeated item counts once
    return Pool(Path(path).name, tuple(unique))


def fewshot_texts(path: str | Path, columns: BenchmarkColumns, num_fewshot: int) -> dict[str, str]:
    """Per task, the few-shot text that goes before each question: a folder of ``<task>.txt`` prompts
    (BIG-Bench Hard's ``cot-prompts``: the text after the first ``-----`` line, whole otherwise), or
    benchmark files whose first ``num_fewshot`` examples per task become "input\\ntarget" blocks."""
    root = Path(path)
    texts = sorted(root.glob("*.txt")) if root.is_dir() else []
    if texts:
        out = {}
        for file in texts:
            text = file.read_text(encoding="utf-8")
            out[file.stem] = text.split("-----\n", 1)[1].strip() if "-----\n" in text else text.strip()
        return out
    pool = load_benchmark(path, columns, limit_per_task=num_fewshot)
    blocks: dict[str, list[str]] = defaultdict(list)
    for ex in pool.examples:
        blocks[ex.task].append(f"{ex.prompt}\n{ex.response}")
    return {task: "\n\n".join(items) for task, items in blocks.items()}
