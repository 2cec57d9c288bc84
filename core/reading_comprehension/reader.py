"""Answering one question about one passage with a trained reader: what a visitor or the command line asks.

Input is checked here: an empty passage or question, one without Chinese characters, and a passage over
``MAX_PASSAGE`` characters (cut, with a note) are messages, not tracebacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from core.lab.errors import LabError
from core.lab.messages import Message, msg
from core.lab.paths import lab_home
from core.reading_comprehension.data import Question

MAX_PASSAGE = 2000
MAX_QUESTION = 200
_HAN = re.compile(r"[\u4e00-\u9fff]")


class ReaderError(LabError):
    """A passage, question or reader the reading-comprehension page cannot use."""


@dataclass
class Checked:
    passage: str
    question: str
    notes: list[Message] = field(default_factory=list)


def check(passage: str, question: str) -> Checked:
    """The passage and question as the reader takes them; raises ReaderError on what it cannot read."""
    passage, question = (passage or "").strip(), (question or "").strip()
    if not passage:
        raise ReaderError("the passage is empty: paste a Chinese passage")
    if not question:
        raise ReaderError("the question is empty: ask 谁……？, 哪里……？ or 哪个机构……？")
    if not _HAN.search(passage):
        raise ReaderError("the passage has no Chinese characters: the reader was trained on Chinese text")
    if not _HAN.search(question):
        raise ReaderError("the question has no Chinese characters: the reader was trained on Chinese questions")
    notes: list[Message] = []
    if len(passage) > MAX_PASSAGE:
        notes.append(
            msg("the passage has {n:,} characters: cut to the first {limit:,}", n=len(passage), limit=MAX_PASSAGE)
        )
        passage = passage[:MAX_PASSAGE]
    if len(question) > MAX_QUESTION:
        notes.append(
            msg("the question has {n:,} characters: cut to the first {limit:,}", n=len(question), limit=MAX_QUESTION)
        )
        question = question[:MAX_QUESTION]
    return Checked(passage, question, notes)


@lru_cache(maxsize=4)
def _reader(name: str, home: str, stamp: float) -> tuple[Any, Any]:
    from core.reading_comprehension.features import Vocab
    from core.reading_comprehension.model import load
    from core.reading_comprehension.training import model_folder

    folder = model_folder(name)
    return load(folder), Vocab.load(folder / "vocab.json")


def reader(name: str) -> tuple[Any, Any]:
    """A trained reader and its vocabulary, loaded once per process (reloaded when retrained)."""
    from core.reading_comprehension.training import is_trained, model_folder

    if not is_trained(name):
        raise ReaderError(
            "the reader {model} is not trained yet (python -m core train-reader, or open the page)", model=name
        )
    return _reader(name, str(lab_home()), (model_folder(name) / "card.json").stat().st_mtime)


def answer(name: str, passages_and_questions: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Answers of the reader ``name`` to checked (passage, question) pairs, batched: per pair the answer,
    its start and end (inclusive), score, gate, top spans and, for the page, the per-character start and
    end probabilities and the question's attention weights."""
    from core.reading_comprehension.training import predict

    model, vocab = reader(name)
    questions = [Question(p, q, "", "", (), -1) for p, q in passages_and_questions]
    return predict(model, vocab, questions, details=True)


def examples() -> tuple[Question, ...]:
    """The page's examples: one answerable test question per test window, in window order (empty until the
    questions are built, which the first reader's training does)."""
    from core.reading_comprehension.data import is_built, load

    if not is_built():
        return ()
    seen: set[int] = set()
    out = []
    for q in load()["test"]:
        if q.has_answer and q.window not in seen:
            seen.add(q.window)
            out.append(q)
    return tuple(out)
