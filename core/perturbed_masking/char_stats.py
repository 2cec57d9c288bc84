"""Classic unsupervised segmentation statistics from raw text: PMI and branching entropy.

For the gap between neighbouring characters a | b:

* PMI(a, b) = log p(ab) / (p(a) p(b)): high inside a word;
* right branching entropy: the entropy of the character that follows the
  n-gram ending at the gap (n = 1..3, averaged); left branching entropy: of
  the character that precedes the n-gram starting after the gap. High
  entropy means many continuations: a word boundary.

Counted once from a raw-text corpus and cached in ``KEXUE_LAB_HOME``.
"""

from __future__ import annotations

import hashlib
import math
import pickle
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.lab.artifacts import atomic_write
from core.lab.messages import msg
from core.lab.paths import lab_home

MAX_N = 3  # branching entropy over 1- to 3-grams
SMOOTHING = 0.5
FORMAT = 2  # 2: CharStats moved to core.perturbed_masking.char_stats (format-1 pickles name core.char_stats)


@dataclass
class CharStats:
    """Unigram and bigram counts and branching entropies of 1..MAX_N-grams."""

    unigrams: dict[str, int]
    bigrams: dict[str, int]
    right_entropy: dict[str, float]
    left_entropy: dict[str, float]
    n_chars: int
    source: str


def _entropies(counts: Counter, prefix: bool) -> dict[str, float]:
    """Entropy of the next (prefix=True) or previous character for each (n-1)-gram."""
    totals: dict[str, int] = defaultdict(int)
    c_log_c: dict[str, float] = defaultdict(float)
    for gram, c in counts.items():
        key = gram[:-1] if prefix else gram[1:]
        totals[key] += c
        c_log_c[key] += c * math.log(c)
    return {k: math.log(t) - c_log_c[k] / t for k, t in totals.items()}


def count_stats(
    lines: Iterable[str], source: str = "", progress: Callable[[float, str], None] | None = None
) -> CharStats:
    """Count a corpus: one pass per n-gram order."""
    text_lines = [line.strip() for line in lines if line and line.strip()]
    grams: list[Counter] = [Counter() for _ in range(MAX_N + 2)]
    for n in range(1, MAX_N + 2):
        counter = grams[n]
        for line in text_lines:
            counter.update(line[i : i + n] for i in range(len(line) - n + 1))
        if progress:
            progress(n / (MAX_N + 1), msg("counted {n}-grams", n=n))
    right: dict[str, float] = {}
    left: dict[str, float] = {}
    for n in range(2, MAX_N + 2):
        right.update(_entropies(grams[n], prefix=True))
        left.update(_entropies(grams[n], prefix=False))
    return CharStats(dict(grams[1]), dict(grams[2]), right, left, sum(grams[1].values()), source)


FEATURES = ("pmi", *(f"right_be{k}" for k in range(1, MAX_N + 1)), *(f"left_be{k}" for k in range(1, MAX_N + 1)))


def gap_features(stats: CharStats, chars: Sequence[str]) -> np.ndarray:
    """Per gap: PMI, then right branching entropy of the 1..MAX_N-gram ending at the gap,
    then left branching entropy of the 1..MAX_N-gram starting after it.

    An n-gram the corpus never saw (or that runs off the sentence) takes the
    mean of the orders that exist on its side.

    Returns:
        <float64>[n_chars - 1, 1 + 2 * MAX_N], columns as in ``FEATURES``
    """
    text = "".join(chars)
    n = len(text)
    out = np.full((max(n - 1, 0), len(FEATURES)), np.nan)
    total = max(stats.n_chars, 1)
    vocab = max(len(stats.unigrams), 1)

    def logp_uni(c: str) -> float:
        return math.log((stats.unigrams.get(c, 0) + SMOOTHING) / (total + SMOOTHING * vocab))

    for i in range(n - 1):
        pair = text[i : i + 2]
        out[i, 0] = (
            math.log((stats.bigrams.get(pair, 0) + SMOOTHING) / total) - logp_uni(text[i]) - logp_uni(text[i + 1])
        )
        for k in range(1, MAX_N + 1):
            if i - k + 1 >= 0:
                out[i, k] = stats.right_entropy.get(text[i - k + 1 : i + 1], np.nan)
            if i + 1 + k <= n:
                out[i, MAX_N + k] = stats.left_entropy.get(text[i + 1 : i + 1 + k], np.nan)
    for side in (slice(1, MAX_N + 1), slice(MAX_N + 1, 2 * MAX_N + 1)):
        block = out[:, side]
        fill = np.nanmean(np.where(np.isnan(block).all(axis=1, keepdims=True), 0.0, block), axis=1)
        rows, cols = np.nonzero(np.isnan(block))
        block[rows, cols] = fill[rows]
        out[:, side] = block
    return out


def corpus_key(lines: Sequence[str], source: str) -> str:
    digest = hashlib.sha256()
    digest.update(source.encode())
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def cached_stats(lines: Sequence[str], source: str, progress: Callable[[float, str], None] | None = None) -> CharStats:
    """Counts for this exact corpus, from the cache or counted (and cached) now."""
    path = lab_home() / "char-stats" / f"{corpus_key(lines, source)}-v{FORMAT}.pickle"
    try:
        with open(path, "rb") as fh:
            stats = pickle.load(fh)
        if isinstance(stats, CharStats):
            return stats
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, ImportError):
        pass
    if progress and any(path.parent.glob(f"{corpus_key(lines, source)}-v*.pickle")):
        progress(0.0, msg("The stored character statistics are of an older format: counting them again (once)"))
    stats = count_stats(lines, source, progress)
    atomic_write(path, lambda p: p.write_bytes(pickle.dumps(stats, protocol=pickle.HIGHEST_PROTOCOL)))
    return stats


def corpus_source(corpus: str | None) -> str:
    """The statistics source of a corpus key: ``None`` is the default corpus, else a saved upload's source."""
    from core.data.peoples_daily import DEFAULT_RAW_SOURCE

    return DEFAULT_RAW_SOURCE if corpus is None else corpus


def _corpus_file(source: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source)
    return lab_home() / "char-corpora" / f"{safe}.txt"


def save_corpus(lines: Sequence[str], source: str) -> str:
    """Keep an uploaded statistics corpus in the lab home (the worker counts from it); returns its key."""
    path = _corpus_file(source)
    if not path.exists():
        text = "\n".join(lines) + "\n"
        atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    return source


def corpus_lines(corpus: str | None) -> tuple[list[str], str]:
    """The lines and source of the default corpus (``None``) or of a saved upload.

    Raises:
        LookupError: the saved upload is gone from the lab home.
    """
    if corpus is None:
        from core.data.peoples_daily import default_raw_corpus

        return default_raw_corpus()
    path = _corpus_file(corpus)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise LookupError(f"the uploaded statistics corpus {corpus} is no longer in the lab home") from None
    return [line for line in text.splitlines() if line], corpus
