"""Artifacts in the lab home: atomic writes, and "build once under a lock" for anything trained or precomputed.

Every trained model, prepared data set and precomputed table goes through
:func:`load_or_build`: take the artifact's cross-process lock, check again
whether another process built it meanwhile, build it, write it atomically, then
load it. Two visitors (or a visitor and the worker) asking for the same missing
artifact build it once; a crash half-way leaves the previous state, never a
half-written file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from core.lab.paths import file_lock

T = TypeVar("T")


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` through a temporary sibling, then rename it into place.

    ``write`` receives the temporary path and must create the file there. A crash
    half-way leaves at most a stray temporary file, never a truncated ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def write_folder(folder: Path, write: Callable[[Path], None]) -> Path:
    """Fill a temporary sibling folder with ``write``, then rename it into place (replacing ``folder``)."""
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return folder


def has_version(path: Path, version: int) -> bool:
    """Whether a JSON artifact written as ``{"version": N, ...}`` is there with this ``version`` (reads its
    first bytes only; a missing file, or one of another version, is not built)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return f'"version": {version},' in fh.read(40)
    except OSError:
        return False


def load_or_build(name: str, is_built: Callable[[], bool], build: Callable[[], object], load: Callable[[], T]) -> T:
    """Load an artifact, building it first when it is missing.

    Args:
        name: the artifact's lock name (one per artifact, e.g. ``classifier-zh-sentiment``).
        is_built: whether a complete artifact is on disk (cheap; called before and after taking the lock).
        build: makes the artifact and writes it atomically (its return value is ignored).
        load: reads the artifact.

    The fast path (already built) takes no lock.
    """
    if not is_built():
        with file_lock(name):
            if not is_built():
                build()
    return load()
