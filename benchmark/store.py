"""The results store: one JSON file per finished run, written atomically, checked on read.

A run is addressed by the content hash of everything that determines it, so a re-run finds finished work
by key. Each file carries a checksum of its own content: a truncated or edited file is reported and
treated as missing, never read as a result. Provenance (code version, package versions, machine) travels
with every record.
"""

from __future__ import annotations

import json
import logging
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmark.atomic import atomic_write_text
from benchmark.records import RunRecord
from benchmark.types import content_hash

log = logging.getLogger(__name__)

PACKAGES = (
    "selbench",
    "torch",
    "transformers",
    "peft",
    "datasets",
    "lm_eval",
    "faiss-cpu",
    "sentence-transformers",
    "numpy",
)


def git_commit(cwd: str | Path | None = None) -> dict[str, Any]:
    """The checkout's commit and whether its code has uncommitted changes (None outside a git
    checkout); ``results/`` is output, not code: studies and reports written there do not count."""
    where = Path(cwd or Path(__file__).resolve().parent)
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)", ":(top,exclude)results"],
            cwd=where,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def provenance() -> dict[str, Any]:
    """What produced a result: code version, package versions, Python, machine and time (UTC)."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    return {
        "git": git_commit(),
        "packages": packages,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


class RunStore:
    """Run records as ``<root>/<key>.json``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def save(self, key: str, record: dict[str, Any]) -> Path:
        """Write ``record`` under ``key`` atomically, with its checksum."""
        body = {"key": key, **record}
        text = json.dumps(body | {"checksum": content_hash(body, length=64)}, indent=1, sort_keys=True)
        return atomic_write_text(self.path(key), text)

    def load(self, key: str) -> dict[str, Any] | None:
        """The record stored under ``key``, or None when it is absent or fails its checksum."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            checksum = record.pop("checksum")
        except (ValueError, KeyError, AttributeError, TypeError) as err:
            log.warning("ignoring unreadable run record %s (%s); it will be recomputed", path, err)
            return None
        if checksum != content_hash(record, length=64) or record.get("key") != key:
            log.warning("ignoring run record %s: its checksum does not match; it will be recomputed", path)
            return None
        return record

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json"))

    def run(self, key: str) -> RunRecord | None:
        """The typed record stored under ``key`` (None: absent or failing its checksum)."""
        record = self.load(key)
        return None if record is None else RunRecord.from_json(record, str(self.path(key)))

    def runs(self) -> list[RunRecord]:
        """Every valid record, typed, in key order: what reports and estimates read."""
        return [run for key in self.keys() if (run := self.run(key)) is not None]
