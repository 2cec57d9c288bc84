"""Sentences from typed text or uploaded files (.txt, .csv, .jsonl), validated.

Shared by the pages and the command line, so both refuse the same bad input
with the same sentence.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

from core.lab.errors import LabError

MAX_SENTENCES = 500
MAX_FILE_BYTES = 2 * 1024 * 1024
FILE_TYPES = ("txt", "csv", "jsonl")
TEXT_COLUMNS = ("text", "sentence", "sentences", "content", "review")


class InputError(LabError, ValueError):
    """Input the lab cannot use; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Sentences:
    sentences: tuple[str, ...]
    source: str  # "typed" or the file name
    columns: tuple[str, ...] = ()  # a CSV's columns, for the column picker
    column: str | None = None  # the CSV column read


def _clean(lines: list[str], source: str) -> Sentences:
    sentences = tuple(" ".join(line.split()) for line in lines if line and line.strip())
    if not sentences:
        raise InputError(f"{source} holds no sentence: it is empty or only whitespace.")
    if len(sentences) > MAX_SENTENCES:
        raise InputError(
            f"{source} holds {len(sentences)} sentences; the lab analyses at most {MAX_SENTENCES} at once. "
            "Split the file."
        )
    return Sentences(sentences, source)


TYPED = "The text box"


def corpus_name(sentences: Sentences, when: float | None = None) -> str:
    """The name a saved corpus is listed under: the file's name, or for typed text its first words and the time."""
    if sentences.source != TYPED:
        return sentences.source
    first = sentences.sentences[0]
    words = first.split()
    head = " ".join(words[:6]) if len(words) > 1 else first[:16]
    if len(head) < len(first):
        head = head[:48] + "..."
    return f"{head} ({time.strftime('%Y-%m-%d %H:%M', time.localtime(when))})"


def from_text(text: str, source: str = TYPED) -> Sentences:
    """One sentence per line of typed text."""
    if not text or not text.strip():
        raise InputError(f"Type a sentence first: {source.lower()} is empty or only whitespace.")
    return _clean(text.splitlines(), source)


def decode_upload(name: str, data: bytes, limit: int = MAX_FILE_BYTES) -> str:
    """Check size and encoding of an uploaded file and return its text."""
    if len(data) > limit:
        raise InputError(f"{name} is {len(data) / 1e6:.1f} MB; files up to {limit / 1e6:.0f} MB are accepted.")
    if b"\x00" in data[:8192]:
        raise InputError(f"{name} looks like a binary file, not text. Upload UTF-8 text (.txt, .csv or .jsonl).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text (byte {exc.start} cannot be decoded). Save it as UTF-8 and upload it again."
        ) from exc


def from_upload(name: str, data: bytes, column: str | None = None) -> Sentences:
    """Sentences from an uploaded file, by its extension.

    ``.txt``: one sentence per line; ``.csv``: the ``column`` (default: the first
    column named like text, else the first column); ``.jsonl``: each line an
    object with a ``text`` field.
    """
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in FILE_TYPES:
        raise InputError(f"{name}: upload a .txt, .csv or .jsonl file, not .{suffix or '(no extension)'}.")
    text = decode_upload(name, data)
    if suffix == "txt":
        return _clean(text.splitlines(), name)
    if suffix == "jsonl":
        return _clean(_jsonl_texts(name, text), name)
    return _csv_sentences(name, text, column)


def _jsonl_texts(name: str, text: str) -> list[str]:
    texts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}, line {number}: not valid JSON ({exc.msg}).") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise InputError(f'{name}, line {number}: each line must be an object with a "text" string.')
        texts.append(obj["text"])
    return texts


def _csv_sentences(name: str, text: str, column: str | None) -> Sentences:
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise InputError(f"{name} is not a readable CSV file: {exc}.") from exc
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputError(f"{name} has no header row: the first line must name the columns.")
    header = tuple(cell.strip() for cell in rows[0])
    if column is None:
        lowered = [h.lower() for h in header]
        column = next((header[lowered.index(c)] for c in TEXT_COLUMNS if c in lowered), None)
        if column is None and len(header) > 1:
            raise InputError(
                f"{name}: no text column found (looked for {', '.join(TEXT_COLUMNS)}); its columns are "
                f"{', '.join(header)}. Name the column that holds the sentences."
            )
        column = column or header[0]
    if column not in header:
        raise InputError(f"{name} has no column named {column!r}; its columns are {', '.join(header)}.")
    at = header.index(column)
    found = _clean([row[at] if at < len(row) else "" for row in rows[1:]], f"{name} (column {column!r})")
    return Sentences(found.sentences, name, header, column)


def from_path(path: str) -> Sentences:
    """Read a file given on the command line, with the same checks as an upload."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such file: {path}")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path} is over {MAX_FILE_BYTES / 1e6:.0f} MB; split it.")
    return from_upload(p.name, p.read_bytes())


MAX_CORPUS_BYTES = 5 * 1024 * 1024
MIN_CORPUS_CHARS = 20_000


def raw_corpus_from_upload(name: str, data: bytes) -> tuple[list[str], str]:
    """Raw text to count character statistics from: its lines and a source label unique to its content."""
    import hashlib

    text = decode_upload(name, data, MAX_CORPUS_BYTES)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    n_chars = sum(len(line) for line in lines)
    if n_chars < MIN_CORPUS_CHARS:
        raise InputError(
            f"{name} holds {n_chars:,} characters; counting statistics needs at least "
            f"{MIN_CORPUS_CHARS:,} (a few pages of text), and millions work far better."
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    stem = "".join(c if c.isalnum() else "-" for c in Path(name).stem)[:40]
    return lines, f"upload-{stem}-{digest}"
