"""Inter-process locks on files, so that two sweeps (or Ray workers on a shared file system) on one
store split the work instead of repeating it, and say who holds what they wait for.

A lock is an advisory ``flock`` through ``filelock``: the operating system releases it when its holder
dies, so a killed sweep never leaves a cell locked. Beside each held lock an ``.owner`` file names
the holder (host, process, start time) for the messages of those who find it taken.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from benchmark.atomic import atomic_write_text

log = logging.getLogger(__name__)


def _owner_file(path: Path) -> Path:
    return path.with_name(path.name + ".owner")


def holder(path: Path) -> str:
    """Who holds the lock at ``path``, as its ``.owner`` file says ('another process' if unknown)."""
    try:
        return _owner_file(path).read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"


@contextmanager
def _held(lock: FileLock, path: Path) -> Iterator[None]:
    atomic_write_text(
        _owner_file(path),
        f"process {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}",
    )
    try:
        yield
    finally:
        _owner_file(path).unlink(missing_ok=True)
        lock.release()


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """Hold the lock at ``path`` if it is free (True), else yield False at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    with _held(lock, path):
        yield True


@contextmanager
def wait_lock(path: Path, what: str) -> Iterator[None]:
    """Hold the lock at ``path``, waiting for its holder (and saying so) when it is taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=-1)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("waiting for %s: %s holds it", what, holder(path))
        lock.acquire()
    with _held(lock, path):
        yield
