"""The lab's on-disk home (``KEXUE_LAB_HOME``) and the cross-process locks kept in it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def lab_home() -> Path:
    """The folder holding converted models, caches and the SQLite store.

    Read from ``KEXUE_LAB_HOME`` on every call, so tests can point it elsewhere.
    """
    root = Path(os.environ.get("KEXUE_LAB_HOME") or Path.home() / ".cache" / "kexue-lab")
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def try_lock(name: str) -> Iterator[bool]:
    """Like :func:`file_lock` without waiting: yields whether this process got the lock."""
    import fcntl

    path = lab_home() / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def file_lock(name: str) -> Iterator[None]:
    """Hold an exclusive lock named ``name`` across processes (the server, the CLI, workers).

    Used so that two visitors asking for the same untrained model train it once:
    the second waits, then finds the first one's result on disk.
    """
    import fcntl

    path = lab_home() / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
