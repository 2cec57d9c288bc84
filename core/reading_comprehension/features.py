"""Characters and the jieba words they belong to, as ids: the two inputs of the mixed embedding.

A text is segmented sentence by sentence (passages of one window share most sentences, so each sentence
is segmented once, cached); every character gets its own id and the id of its word. The vocabularies
come from the training questions: characters seen at least twice, words at least three times (at most
``MAX_WORDS``); the rest is ``UNK_ID``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.reading_comprehension.model import PAD_ID, UNK_ID

MAX_WORDS = 40_000
_SENTENCE = re.compile(r"[^。！？]*[。！？]|[^。！？]+")


@lru_cache(maxsize=200_000)
def _segment_sentence(sentence: str) -> tuple[str, ...]:
    import jieba

    jieba.setLogLevel(60)
    return tuple(jieba.lcut(sentence))


def segment(text: str) -> list[str]:
    """jieba's words of the text, sentence by sentence."""
    return [w for s in _SENTENCE.findall(text) for w in _segment_sentence(s)]


@dataclass
class Vocab:
    characters: list[str]  # index -> character (padding and unknown first)
    words: list[str]

    def __post_init__(self) -> None:
        self.char_id = {c: i for i, c in enumerate(self.characters)}
        self.word_id = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, texts: Iterable[str]) -> Vocab:
        chars: Counter = Counter()
        words: Counter = Counter()
        for text in texts:
            chars.update(text)
            words.update(segment(text))
        keep_chars = sorted(c for c, n in chars.items() if n >= 2)
        keep_words = sorted(w for w, n in words.most_common(MAX_WORDS) if n >= 3)
        return cls(["<pad>", "<unk>", *keep_chars], ["<pad>", "<unk>", *keep_words])

    def encode(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Character ids and word ids [len(text)] of a text (its characters, in order)."""
        chars = np.array([self.char_id.get(c, UNK_ID) for c in text], dtype=np.int32)
        words = np.empty(len(text), dtype=np.int32)
        at = 0
        for w in segment(text):
            words[at : at + len(w)] = self.word_id.get(w, UNK_ID)
            at += len(w)
        words[at:] = UNK_ID  # the sentence pattern covers every character; this only guards the invariant
        return chars, words

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"characters": self.characters, "words": self.words}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> Vocab:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["characters"], data["words"])


# Not evidence of a match: punctuation, function characters and the question words themselves.
_NO_MATCH = frozenset("的了是在和与及对为把被，。、；：“”（）《》！？　 谁哪里个机构")


def overlap(passage: str, question: str) -> np.ndarray:
    """Su's co-occurrence features (kexue.fm 5409), per passage character [len(passage), 2]: whether the
    character occurs in the question, and whether its jieba word does (function characters, punctuation and
    the question words never count). The question sentence is not in its passage, so these mark the
    other places that share its words: where the lexical baseline looks, and what one pooled question
    vector cannot point at."""
    chars = set(question) - _NO_MATCH
    words = {w for w in segment(question) if not set(w) <= _NO_MATCH}
    out = np.zeros((len(passage), 2), dtype=np.float32)
    out[:, 0] = [c in chars for c in passage]
    at = 0
    for w in segment(passage):
        out[at : at + len(w), 1] = w in words
        at += len(w)
    return out


def pad(rows: list[np.ndarray]) -> np.ndarray:
    """Right-padded with ``PAD_ID`` to the longest row: [len(rows), longest]."""
    out = np.full((len(rows), max(len(r) for r in rows)), PAD_ID, dtype=np.int32)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out
