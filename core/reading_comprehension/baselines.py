"""The heuristic baselines the DGCNN is measured against, and the answer metrics.

Both heuristics pick among the entities jieba's POS tagger finds in the passage (``nr`` person, ``ns``
place, ``nt`` organisation: the tags the questions were made from, but found by a tagger, as they would
be in a visitor's own passage):

* ``frequent``: the entity of the question's type that occurs most often in the passage (ties: the first);
* ``lexical``: the entity of the question's type whose surroundings share the most words with the question
  (a sliding window of ``WINDOW`` characters either side, inside the mention's sentence, as the MCTest /
  CBT baselines match words; ties: the more frequent entity, then the first).

The question's type comes from its question word (谁 person, 哪个机构 organisation, 哪里 place).
Metrics: exact match of the answer text (every gold occurrence has the same text) and character F1
(the bag of characters shared with the gold answer, as CMRC 2018 scores Chinese).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from core.reading_comprehension.data import ENTITY_TAGS, QUESTION_WORDS

WINDOW = 20
STOP = frozenset("的了是在和与及对为把被，。、；：“”（）《》！？")


def question_kind(question: str) -> str | None:
    """The entity type a question asks for, from its question word (None if it has none)."""
    for kind in ("organisation", "person", "place"):  # 哪个机构 before 哪里: both start with 哪
        if QUESTION_WORDS[kind] in question:
            return kind
    return None


@dataclass(frozen=True)
class Mention:
    text: str
    kind: str
    start: int  # character offset in the passage


@lru_cache(maxsize=256)
def mentions(passage: str) -> tuple[Mention, ...]:
    """The person, place and organisation mentions jieba tags in the passage, in order."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    found, offset = [], 0
    for pair in jieba.posseg.cut(passage):
        kind = ENTITY_TAGS.get(pair.flag)
        if kind and len(pair.word) >= 2:
            found.append(Mention(pair.word, kind, offset))
        offset += len(pair.word)
    return tuple(found)


def _words(text: str) -> set[str]:
    import jieba

    jieba.setLogLevel(60)
    return {w for w in jieba.lcut(text) if w.strip() and w not in STOP and w not in QUESTION_WORDS.values()}


def frequent(passage: str, question: str) -> str:
    """The most frequent entity of the question's type ("" if the passage has none)."""
    kind = question_kind(question)
    found = [m.text for m in mentions(passage) if m.kind == kind]
    if not found:
        return ""
    counts = Counter(found)
    return max(counts, key=lambda t: (counts[t], -found.index(t)))


def sentence_bounds(passage: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of the passage, cut after 。！？."""
    bounds, start = [], 0
    for i, ch in enumerate(passage):
        if ch in "。！？":
            bounds.append((start, i + 1))
            start = i + 1
    if start < len(passage):
        bounds.append((start, len(passage)))
    return bounds


def lexical(passage: str, question: str) -> str:
    """The entity of the question's type whose sentence shares the most question words (within ``WINDOW``
    characters of the mention)."""
    kind = question_kind(question)
    found = [m for m in mentions(passage) if m.kind == kind]
    if not found:
        return ""
    asked = _words(question)
    bounds = sentence_bounds(passage)
    counts = Counter(m.text for m in found)
    order = [m.text for m in found]
    best: dict[str, int] = {}
    for m in found:
        lo, hi = next((a, b) for a, b in bounds if a <= m.start < b)
        end = m.start + len(m.text)
        around = passage[max(lo, m.start - WINDOW) : m.start] + passage[end : min(hi, end + WINDOW)]
        score = sum(w in around for w in asked if w != m.text)
        best[m.text] = max(best.get(m.text, 0), score)
    return max(best, key=lambda t: (best[t], counts[t], -order.index(t)))


BASELINES = {"frequent": frequent, "lexical": lexical}


def score_answers(found: list[dict[str, Any]], questions: list[Any]) -> dict[str, float]:
    """EM and character F1 over the answerable questions; with gates in ``found``, the gate's accuracy (at
    0.5) and AUC over all questions."""
    answerable = [(f, q) for f, q in zip(found, questions, strict=True) if q.has_answer]
    out = {
        "em": float(np.mean([exact_match(f["answer"], q.answer) for f, q in answerable])) if answerable else 0.0,
        "f1": float(np.mean([char_f1(f["answer"], q.answer) for f, q in answerable])) if answerable else 0.0,
    }
    if found and "gate" in found[0]:
        gates = [f["gate"] for f in found]
        labels = [q.has_answer for q in questions]
        out["gate_accuracy"] = float(np.mean([(g > 0.5) == y for g, y in zip(gates, labels, strict=True)]))
        out["gate_auc"] = auc(gates, labels)
    return out


def exact_match(prediction: str, answer: str) -> float:
    return float(prediction == answer)


def char_f1(prediction: str, answer: str) -> float:
    """F1 of the characters shared by the prediction and the answer (as bags)."""
    common = sum((Counter(prediction) & Counter(answer)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(answer)
    return 2 * precision * recall / (precision + recall)


def auc(scores: list[float], labels: list[bool]) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative (ties half)."""
    pos = sorted(s for s, y in zip(scores, labels, strict=True) if y)
    neg = sorted(s for s, y in zip(scores, labels, strict=True) if not y)
    if not pos or not neg:
        return float("nan")
    import bisect

    wins = sum(
        bisect.bisect_left(neg, s) + 0.5 * (bisect.bisect_right(neg, s) - bisect.bisect_left(neg, s)) for s in pos
    )
    return wins / (len(pos) * len(neg))
