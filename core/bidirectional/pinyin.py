"""Toneless pinyin in and out: the syllable inventory, what a visitor types, Chinese text converted first.

The inventory is every toneless reading in ``pypinyin``'s character dictionary (``ü`` written ``v``, as
``pypinyin`` writes it). Input is split at spaces and apostrophes; a run of letters that is not one syllable
is split into the fewest syllables that spell it (``beijing`` -> ``bei jing``; ``xian`` stays one
syllable, ``xi'an`` is two). Tone digits and tone marks are stripped, with a note saying so. Chinese input
(any Han character) is converted with ``pypinyin``; its Han characters become the reference the model's
output is scored against.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from core.lab.errors import LabError
from core.lab.messages import Message, msg

MAX_SYLLABLES = 80
HAN = re.compile(r"[\u4e00-\u9fff]")
_TONE_DIGIT = re.compile(r"[1-5]")


class PinyinError(LabError):
    """Input that is not toneless pinyin (or Chinese text) the models can read."""


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless syllable of ``pypinyin``'s dictionary (about 420)."""
    from pypinyin import Style
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    found = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            found.add(convert(reading, Style.NORMAL, strict=True))
    return frozenset(s for s in found if s.isascii() and s.isalpha())


def to_pinyin(text: str) -> list[str]:
    """The toneless syllables of Chinese characters, one per character (pypinyin's phrase dictionary)."""
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(text, style=Style.NORMAL, errors="ignore")


@dataclass
class Parsed:
    syllables: list[str]
    reference: str | None = None  # the Han characters of a Chinese input
    notes: list[Message] = field(default_factory=list)  # what was changed on the way (tones stripped, a cut)

    @property
    def text(self) -> str:
        return " ".join(self.syllables)


def _strip_tone_marks(token: str) -> str:
    """``běi`` -> ``bei``, ``lǜ`` -> ``lv`` (``u:`` and ``ü`` are ``v``)."""
    token = token.replace("u:", "v").replace("U:", "v")
    out = []
    for ch in unicodedata.normalize("NFD", token):
        if unicodedata.category(ch) == "Mn":
            if ch == "\u0308" and out and out[-1] == "u":  # the diaeresis of ü
                out[-1] = "v"
            continue
        out.append(ch)
    return "".join(out)


def split_run(run: str) -> list[str] | None:
    """The fewest syllables that spell ``run`` (ties: the longer syllable first), or None."""
    inventory = syllables()
    n = len(run)
    best: list[list[str] | None] = [None] * (n + 1)
    best[n] = []
    for i in range(n - 1, -1, -1):
        for j in range(min(n, i + 6), i, -1):
            rest = best[j]
            if rest is not None and run[i:j] in inventory:
                if best[i] is None or len(rest) + 1 < len(best[i]):
                    best[i] = [run[i:j], *rest]
    return best[0]


def parse(text: str, limit: int = MAX_SYLLABLES) -> Parsed:
    """What a visitor typed, as toneless syllables (or Chinese text with its reference); raises PinyinError."""
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text:
        raise PinyinError("the input is empty: type toneless pinyin (bei jing da xue) or Chinese text")
    if HAN.search(text):
        return _parse_chinese(text, limit)
    notes: list[Message] = []
    out: list[str] = []
    toned: list[str] = []
    for raw in re.split(r"[\s'’,，.。]+", text):
        if not raw:
            continue
        token = _strip_tone_marks(raw.lower())
        if _TONE_DIGIT.search(token):
            toned.append(raw)
            token = _TONE_DIGIT.sub(" ", token)
        elif token != raw.lower():
            toned.append(raw)
        for run in token.split():
            if not run.isascii() or not run.isalpha():
                raise PinyinError("{syllable!r} is not pinyin: use the letters a-z (v for ü)", syllable=raw)
            pieces = [run] if run in syllables() else split_run(run)
            if pieces is None:
                raise PinyinError("{syllable!r} is not a pinyin syllable", syllable=raw)
            out += pieces
    if toned:
        notes.append(
            msg(
                "the models read toneless pinyin: the tones of {syllables} were stripped",
                syllables=" ".join(toned[:5]) + (" …" if len(toned) > 5 else ""),
            )
        )
    if not out:
        raise PinyinError("the input is empty: type toneless pinyin (bei jing da xue) or Chinese text")
    return _cut(Parsed(out, None, notes), limit)


def _parse_chinese(text: str, limit: int) -> Parsed:
    han = "".join(HAN.findall(text))
    notes: list[Message] = []
    dropped = len(text.replace(" ", "")) - len(han)
    if dropped:
        notes.append(msg("{n} characters that are not Chinese characters were left out", n=dropped))
    syl = to_pinyin(han)
    if len(syl) != len(han):  # pypinyin reads one syllable per Han character; a mismatch is a bug upstream
        raise PinyinError("pypinyin could not read every character of {text!r}", text=han[:20])
    return _cut(Parsed(syl, han, notes), limit)


def _cut(parsed: Parsed, limit: int) -> Parsed:
    if len(parsed.syllables) > limit:
        parsed.notes.append(
            msg("{n} syllables is over the limit: cut to the first {limit}", n=len(parsed.syllables), limit=limit)
        )
        parsed.syllables = parsed.syllables[:limit]
        if parsed.reference is not None:
            parsed.reference = parsed.reference[:limit]
    return parsed
