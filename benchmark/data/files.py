"""Reading local files and hub datasets with errors that name the file, line or column and the fix."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark.errors import DataError


def existing_path(path: str | Path, what: str, *, folder: bool = False) -> Path:
    """``path`` as a Path, or a DataError saying it is missing or of the wrong kind."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such {'folder' if folder else 'file'} ({what}). Fix the path.")
    if folder and not p.is_dir():
        raise DataError(f"{p}: is a file, but {what} must be a folder.")
    if not folder and p.is_dir():
        raise DataError(f"{p}: is a folder, but {what} must be a file.")
    return p


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line; a malformed line is an error naming file:line."""
    with path.open("rb") as f:
        for lineno, raw in enumerate(f, start=1):
            line = utf8(raw, path, lineno)
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(
                    f"{path}:{lineno}: not valid JSON ({err.msg}, column {err.colno}). "
                    "Fix or remove that line: each line must be one JSON object."
                ) from None
            if not isinstance(record, dict):
                raise DataError(f"{path}:{lineno}: a JSON {type(record).__name__}, expected an object.")
            yield lineno, record


TABLE_FORMATS = {
    ".jsonl": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def read_json_records(path: Path) -> list[dict[str, Any]]:
    """A JSON file's records: a list of objects, or an object whose ``examples`` is one (BIG-Bench
    Hard's layout); anything else is an error that says which layouts are read."""
    text = utf8(path.read_bytes(), path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        hint = (
            " One JSON object per line is JSON Lines: name the file .jsonl."
            if err.msg == "Extra data"
            else ""
        )
        raise DataError(
            f"{path}:{err.lineno}: not valid JSON ({err.msg}, column {err.colno}).{hint}"
        ) from None
    records = data.get("examples") if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DataError(
            f"{path}: expected a JSON list of objects or an object with an 'examples' list of objects "
            f"(got a {type(data).__name__}{' without examples' if isinstance(data, dict) else ''})."
        )
    return records


def read_table(path: Path, header: list[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, record) pairs of a JSONL, JSON, CSV, TSV or Parquet file; locations are file:line
    for JSONL, CSV and TSV, "file example N" for JSON, "file row N" for Parquet. ``header``: the
    column names of a CSV or TSV file without a header line."""
    kind = TABLE_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{path}: unknown file type {path.suffix!r}. Use one of {', '.join(sorted(TABLE_FORMATS))}."
        )
    if kind == "jsonl":
        for lineno, record in read_jsonl(path):
            yield f"{path}:{lineno}", record
        return
    if kind == "json":
        for i, record in enumerate(read_json_records(path)):
            yield f"{path} example {i}", record
        return
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, sep="\t" if kind == "tsv" else ",",
                header=None if header else "infer", names=header,
            )  # fmt: skip
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: cannot be read as {kind}: {err}") from None
    # a header line is line 1; a quoted field spanning lines makes this the record's first line at best
    offset, unit = (0, " row ") if kind == "parquet" else (1 if header else 2, ":")
    for i, record in enumerate(frame.to_dict(orient="records")):
        yield f"{path}{unit}{i + offset}", record


def utf8(raw: bytes, path: Path, first_line: int = 1) -> str:
    """``raw`` (the text of ``path`` from line ``first_line`` on) decoded as UTF-8, or an error naming
    the file, the line and the first byte that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = first_line + raw[: err.start].count(b"\n")
        raise DataError(
            f"{path}:{line}: not UTF-8 text (byte {raw[err.start]:#04x}). Save the file as UTF-8."
        ) from None


def require_fields(record: Mapping[str, Any], fields: Iterable[str], where: str) -> None:
    """Fail naming the first missing field and the fields the record does have."""
    for name in fields:
        if name not in record:
            have = ", ".join(sorted(record)) or "none"
            raise DataError(f"{where}: missing field {name!r}; the record has: {have}.")


def text_field(record: Mapping[str, Any], name: str, where: str, *, allow_empty: bool = False) -> str:
    """``record[name]`` as a stripped string; missing, non-text or (unless allowed) empty is an error."""
    require_fields(record, [name], where)
    value = record[name]
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str):
        raise DataError(f"{where}: field {name!r} is {type(value).__name__}, expected text.")
    value = value.strip()
    if not value and not allow_empty:
        raise DataError(f"{where}: field {name!r} is empty. Fill it in or remove the record.")
    return value


def choices_field(value: object, where: str, column: str) -> tuple[str, ...]:
    """A column of answer choices: a list, or a JSON array of strings (CSV and TSV cells)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise DataError(
                f"{where}: column {column!r} must be a JSON array of strings, got {value!r}."
            ) from None
    if not hasattr(value, "__iter__") or isinstance(value, dict):
        raise DataError(f"{where}: column {column!r} must be a list of answer choices, got {value!r}.")
    choices = tuple(str(c) for c in value)
    if len(choices) < 2:
        raise DataError(f"{where}: column {column!r} needs at least two choices, got {list(choices)}.")
    return choices


def join_prompt(instruction: str, *inputs: str) -> str:
    """The prompt an annotator sees: the instruction, then each non-empty input (context) block."""
    return "\n\n".join([instruction, *(x for x in inputs if x)])


@contextmanager
def no_download_counts() -> Iterator[None]:
    """``datasets`` pings the hub to count a download even when it reads local files (its builders
    for json, csv, ...); reading files on this machine must not contact any host."""
    import datasets.config

    saved = datasets.config.HF_UPDATE_DOWNLOAD_COUNTS
    datasets.config.HF_UPDATE_DOWNLOAD_COUNTS = False
    try:
        yield
    finally:
        datasets.config.HF_UPDATE_DOWNLOAD_COUNTS = saved


def load_hub_rows(
    hub_id: str,
    *,
    split: str,
    columns: Iterable[str],
    config: str | None = None,
    streaming: bool = False,
    max_rows: int | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) of a Hugging Face dataset (a hub id or a local dataset folder).

    Streaming with ``max_rows`` reads only the head of very large collections such as FLAN 2022.
    """
    import datasets  # heavy: imported only when a hub source is used

    local = Path(hub_id).expanduser().is_dir()  # a dataset saved on this machine: no hub traffic
    try:
        with no_download_counts() if local else nullcontext():
            ds = datasets.load_dataset(hub_id, config, split=split, streaming=streaming)
    except (OSError, ValueError) as err:
        raise DataError(
            f"could not load dataset {hub_id!r} (split {split!r}) from the Hugging Face Hub: {err}. "
            "Without network access, download it once or set `path` to a local copy."
        ) from err
    columns = list(columns)
    for i, row in enumerate(ds):
        if max_rows is not None and i >= max_rows:
            break
        if i == 0:
            missing = [c for c in columns if c not in row]
            if missing:
                raise DataError(
                    f"dataset {hub_id!r}: missing column {missing[0]!r}; it has: {', '.join(row)}. "
                    "Map the columns in the source options."
                )
        yield i, row
