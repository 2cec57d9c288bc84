"""SQLite store of saved analyses (uploaded corpora with their results).

One database file in ``KEXUE_LAB_HOME``. WAL journaling and one transaction per
saved analysis: a server restart or a killed process leaves either the whole
analysis or none of it, never half.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lab.paths import lab_home

SCHEMA = """
CREATE TABLE IF NOT EXISTS analyses (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    params TEXT NOT NULL,
    summary TEXT NOT NULL,
    n_items INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    analysis_id TEXT NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (analysis_id, idx)
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    result TEXT,
    error TEXT,
    cancel INTEGER NOT NULL DEFAULT 0,
    pid INTEGER
);
"""


@dataclass(frozen=True)
class SavedAnalysis:
    id: str
    kind: str  # the page that made it, e.g. "perturbed-masking"
    name: str
    created: float
    params: dict[str, Any]
    summary: dict[str, Any]
    n_items: int


def db_path() -> Path:
    return lab_home() / "lab.sqlite3"


@contextmanager
def connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(path or db_path(), timeout=30)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.executescript(SCHEMA)
        yield con
    finally:
        con.close()


def save(
    kind: str,
    name: str,
    params: dict[str, Any],
    items: Iterable[tuple[str, bytes]],
    summary: dict[str, Any] | None = None,
) -> str:
    """Save an analysis and its items in one transaction; returns its id."""
    analysis_id = secrets.token_hex(6)
    rows = [(analysis_id, i, text, payload) for i, (text, payload) in enumerate(items)]
    with connect() as con, con:
        con.execute(
            "INSERT INTO analyses VALUES (?, ?, ?, ?, ?, ?, ?)",
            (analysis_id, kind, name, time.time(), json.dumps(params), json.dumps(summary or {}), len(rows)),
        )
        con.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", rows)
    return analysis_id


def _row(r: tuple) -> SavedAnalysis:
    return SavedAnalysis(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6])


def list_analyses(kind: str | None = None) -> list[SavedAnalysis]:
    """Saved analyses, newest first."""
    query = "SELECT id, kind, name, created, params, summary, n_items FROM analyses"
    args: tuple = ()
    if kind:
        query += " WHERE kind = ?"
        args = (kind,)
    with connect() as con:
        return [_row(r) for r in con.execute(query + " ORDER BY created DESC", args)]


def get(analysis_id: str) -> SavedAnalysis | None:
    with connect() as con:
        r = con.execute(
            "SELECT id, kind, name, created, params, summary, n_items FROM analyses WHERE id = ?", (analysis_id,)
        ).fetchone()
    return _row(r) if r else None


def items(analysis_id: str) -> list[tuple[str, bytes]]:
    with connect() as con:
        return list(con.execute("SELECT text, payload FROM items WHERE analysis_id = ? ORDER BY idx", (analysis_id,)))


def delete(analysis_id: str) -> bool:
    with connect() as con, con:
        return con.execute("DELETE FROM analyses WHERE id = ?", (analysis_id,)).rowcount > 0
