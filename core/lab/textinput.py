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
from core.lab.messages import N_, Message, msg

MAX_SENTENCES = 500
MAX_FILE_BYTES = 2 * 1024 * 1024
FILE_TYPES = ("txt", "csv", "jsonl")
TEXT_COLUMNS = ("text", "sentence", "sentences", "content", "review")


class InputError(LabError, ValueError):
    """Input the lab cannot use; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Sentences:
    sentences: tuple[str, ...]
    source: str  # TYPED, SENTENCE or the file name
    columns: tuple[str, ...] = ()  # a CSV's columns, for the column picker
    column: str | None = None  # the CSV column read


TYPED = N_("the text box")  # the source of typed text (a message key: errors name it in the reader's language)
SENTENCE = N_("the sentence")  # the source of one sentence taken from a link or the page's state


def _named(source: str) -> Message | str:
    """How an error names the source: a file by its name, typed text in the reader's language."""
    return msg(source) if source in (TYPED, SENTENCE) else source


def _clean(lines: list[str], source: str) -> Sentences:
    sentences = tuple(" ".join(line.split()) for line in lines if line and line.strip())
    if not sentences:
        raise InputError("Nothing to analyse in {source}: it is empty or only whitespace.", source=_named(source))
    if len(sentences) > MAX_SENTENCES:
        raise InputError(
            "There are {n_sentences} sentences in {source}; the lab analyses at most {max_sentences} at once. "
            "Split the file.",
            source=_named(source),
            n_sentences=len(sentences),
            max_sentences=MAX_SENTENCES,
        )
    return Sentences(sentences, source)


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
        raise InputError("Type a sentence first: {source} is empty or only whitespace.", source=_named(source))
    return _clean(text.splitlines(), source)


def decode_upload(name: str, data: bytes, limit: int = MAX_FILE_BYTES) -> str:
    """Check size and encoding of an uploaded file and return its text."""
    if len(data) > limit:
        raise InputError(
            "{name} is {n_data:.1f} MB; files up to {limit:.0f} MB are accepted.",
            name=name,
            n_data=len(data) / 1e6,
            limit=limit / 1e6,
        )
    if b"\x00" in data[:8192]:
        raise InputError(
            "{name} looks like a binary file, not text. Upload UTF-8 text (.txt, .csv or .jsonl).", name=name
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            "{name} is not UTF-8 text (byte {start} cannot be decoded). Save it as UTF-8 and upload it again.",
            name=name,
            start=exc.start,
        ) from exc


def from_upload(name: str, data: bytes, column: str | None = None) -> Sentences:
    """Sentences from an uploaded file, by its extension.

    ``.txt``: one sentence per line; ``.csv``: the ``column`` (default: the first
    column named like text, else the first column); ``.jsonl``: each line an
    object with a ``text`` field.
    """
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in FILE_TYPES:
        raise InputError(
            "{name}: upload a .txt, .csv or .jsonl file, not .{value}.", name=name, value=suffix or "(no extension)"
        )
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
            raise InputError(
                "{name}, line {number}: not valid JSON ({msg}).", name=name, number=number, msg=exc.msg
            ) from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise InputError(
                '{name}, line {number}: each line must be an object with a "text" string.', name=name, number=number
            )
        texts.append(obj["text"])
    return texts


def _csv_sentences(name: str, text: str, column: str | None) -> Sentences:
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise InputError("{name} is not a readable CSV file: {exc}.", name=name, exc=exc) from exc
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputError("{name} has no header row: the first line must name the columns.", name=name)
    header = tuple(cell.strip() for cell in rows[0])
    if column is None:
        lowered = [h.lower() for h in header]
        column = next((header[lowered.index(c)] for c in TEXT_COLUMNS if c in lowered), None)
        if column is None and len(header) > 1:
            raise InputError(
                "{name}: no text column found (looked for {text_columns}); its columns are {header}. Name the column "
                "that holds the sentences.",
                name=name,
                text_columns=", ".join(TEXT_COLUMNS),
                header=", ".join(header),
            )
        column = column or header[0]
    if column not in header:
        raise InputError(
            "{name} has no column named {column!r}; its columns are {header}.",
            name=name,
            column=column,
            header=", ".join(header),
        )
    at = header.index(column)
    found = _clean([row[at] if at < len(row) else "" for row in rows[1:]], f"{name} (column {column!r})")
    return Sentences(found.sentences, name, header, column)


def from_path(path: str) -> Sentences:
    """Read a file given on the command line, with the same checks as an upload."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file: {path}", path=path)
    if p.stat().st_size > MAX_FILE_BYTES:
        raise InputError(
            "{path} is over {max_file_bytes:.0f} MB; split it.", path=path, max_file_bytes=MAX_FILE_BYTES / 1e6
        )
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
            "{name} holds {n_chars:,} characters; counting statistics needs at least {min_corpus_chars:,} (a few "
            "pages of text), and millions work far better.",
            name=name,
            n_chars=n_chars,
            min_corpus_chars=MIN_CORPUS_CHARS,
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    stem = "".join(c if c.isalnum() else "-" for c in Path(name).stem)[:40]
    return lines, f"upload-{stem}-{digest}"
