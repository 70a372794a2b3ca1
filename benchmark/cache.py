"""A content-addressed store of feature arrays: npy files and a JSON manifest with SHA-256 checksums.

An entry is a folder named by the hash of everything that determines it. It is written into a temporary
folder, synced and renamed, so readers see a whole entry or none. A truncated or altered entry fails its
checksums on read and is deleted and recomputed, never returned. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.atomic import current_umask
from benchmark.locks import wait_lock
from benchmark.types import content_hash

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FeatureCache:
    """Arrays and JSON metadata stored under ``root/features/<key>``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / "features"

    @staticmethod
    def key(**parts: Any) -> str:
        return content_hash(parts, length=32)

    def path(self, key: str) -> Path:
        return self.root / key

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The entry's (arrays, meta), or None when absent or corrupt (a corrupt entry is removed)."""
        folder = self.path(key)
        if not folder.is_dir():
            return None
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            body = {k: v for k, v in manifest.items() if k != "checksum"}
            if manifest.get("checksum") != content_hash(body, length=64):
                raise ValueError("manifest checksum mismatch")
            arrays = {}
            for name, entry in body["arrays"].items():
                file = folder / entry["file"]
                if _sha256(file) != entry["sha256"]:
                    raise ValueError(f"checksum mismatch in {file.name}")
                arrays[name] = np.load(file, allow_pickle=False)
        except (OSError, ValueError, KeyError, TypeError) as err:  # json.JSONDecodeError is a ValueError
            log.warning("feature cache entry %s is corrupt (%s); recomputing it", folder, err)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return arrays, body["meta"]

    def get_or_compute(
        self, key: str, compute: Callable[[], tuple[dict[str, np.ndarray], dict[str, Any]]], what: str
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The entry's (arrays, meta), computed by ``compute`` (arrays, meta) and stored when absent; the
        meta records what computing cost (``cost``: wall seconds, and ``tokens`` where ``compute``'s meta
        counts them), so a cache hit still knows the price. One process computes an entry while others
        wanting it wait and then read it."""
        if (hit := self.load(key)) is not None:
            return hit
        with wait_lock(self.root / ".locks" / f"{key}.lock", f"{what} (computed by another process)"):
            if (hit := self.load(key)) is not None:
                return hit
            start = time.perf_counter()
            arrays, meta = compute()
            cost = {"seconds": time.perf_counter() - start, "tokens": meta.pop("tokens", None)}
            meta = meta | {"cost": cost}
            self.save(key, arrays, meta)
            return arrays, meta

    def save(self, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Write an entry atomically; an entry another process wrote first is kept."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{key}.tmp-"))
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp's folders are owner-only; others follow the umask
        try:
            entries = {}
            for name, array in arrays.items():
                file = tmp / f"{name}.npy"
                np.save(file, np.ascontiguousarray(array), allow_pickle=False)
                _fsync(file)
                entries[name] = {
                    "file": file.name,
                    "sha256": _sha256(file),
                    "shape": list(array.shape),
                    "dtype": str(array.dtype),
                }
            body = {"key": key, "arrays": entries, "meta": meta}
            manifest = tmp / MANIFEST
            manifest.write_text(json.dumps(body | {"checksum": content_hash(body, length=64)}, indent=1))
            _fsync(manifest)
            _fsync(tmp)
            os.replace(tmp, self.path(key))
        except OSError:
            if not self.path(key).is_dir():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
