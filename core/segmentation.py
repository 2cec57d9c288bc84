"""Unsupervised Chinese word segmentation with a masked encoder (kexue.fm 7476).

For n characters the probe runs 2n - 1 inputs in one batch: each character
masked alone, and each pair of neighbours (i, i + 1) masked together. Then

    d1 = ||h_{i+1}(mask i+1) - h_{i+1}(mask i, i+1)||
    d2 = ||h_i(mask i)       - h_i(mask i, i+1)||
    d  = (d1 + d2) / 2

A large d means masking one character disturbs its neighbour a lot: the two
belong to one word (merge); a small d starts a new word.

Rules turn d into words: the blog's fixed threshold, a calibrated absolute
threshold, or a per-sentence relative one (a z-score of d within the sentence),
which carries over between encoders and corpora better.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.models.registry import Encoder
from core.perturbed_masking import WordPieces, pair_impacts

Progress = Callable[[float, str], None]
BLOG_THRESHOLD = 8.0
MAX_CHARS = 200


@dataclass(frozen=True)
class CharDistances:
    """Neighbour distances of one sentence for every layer computed."""

    text: str
    chars: tuple[str, ...]
    model: str
    distances: np.ndarray  # <float32>[layers, n_chars - 1]; [l, i] between chars i and i + 1
    unknown_chars: int
    dropped_chars: int = 0


def char_token_id(encoder: Encoder, char: str) -> int:
    """The id of one character as a token: the bare piece, else with the word marker, else unk."""
    normal = unicodedata.normalize("NFKC", char)
    tokenizer = encoder.tokenizer
    for piece in (normal, "\u2581" + normal, normal.lower()):
        pid = tokenizer.convert_tokens_to_ids(piece)
        if pid is not None and pid != encoder.unk_id:
            return int(pid)
    return encoder.unk_id


def char_pieces(encoder: Encoder, text: str, max_chars: int = MAX_CHARS) -> WordPieces:
    """One token per character (spaces dropped), between the encoder's specials."""
    chars = [c for c in text if not c.isspace()]
    limit = min(max_chars, encoder.max_tokens - len(encoder.prefix_ids) - len(encoder.suffix_ids))
    kept = chars[:limit]
    ids = list(encoder.prefix_ids)
    spans = []
    unknown = 0
    for c in kept:
        tid = char_token_id(encoder, c)
        unknown += tid == encoder.unk_id
        spans.append((len(ids), len(ids) + 1))
        ids.append(tid)
    ids.extend(encoder.suffix_ids)
    return WordPieces(tuple(kept), tuple(ids), tuple(spans), len(chars) - len(kept), unknown)


def neighbour_distances(
    encoder: Encoder, text: str, upto_layer: int | None = None, progress: Progress | None = None
) -> CharDistances:
    """d between every pair of neighbouring characters, every layer, from 2n - 1 inputs."""
    pieces = char_pieces(encoder, text)
    n = len(pieces.words)
    pairs = [(i, i + 1) for i in range(n - 1)]
    forward, backward, _ = pair_impacts(encoder, pieces, pairs, "euclidean", upto_layer, progress)
    # forward[l, i] = f(i, i+1) = d2 ; backward[l, i] = f(i+1, i) = d1
    return CharDistances(text, pieces.words, encoder.id, (forward + backward) / 2, pieces.unknown_words,
                         pieces.dropped_words)


def words_from_merges(chars: Sequence[str], merge: Sequence[bool]) -> list[str]:
    """Join characters where ``merge[i]`` (between i and i + 1) is true."""
    if not chars:
        return []
    words, current = [], chars[0]
    for c, m in zip(chars[1:], merge, strict=True):
        if m:
            current += c
        else:
            words.append(current)
            current = c
    words.append(current)
    return words


def sentence_z(values: np.ndarray) -> np.ndarray:
    """Standardise within one sentence (the relative rule); a constant row maps to 0."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v
    sd = v.std()
    return (v - v.mean()) / sd if sd > 1e-12 else np.zeros_like(v)


def word_spans(words: Sequence[str]) -> set[tuple[int, int]]:
    spans, start = set(), 0
    for w in words:
        spans.add((start, start + len(w)))
        start += len(w)
    return spans


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def score(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> Score:
    """Word-level precision, recall and F1 (percent) on character spans."""
    hit = n_pred = n_gold = 0
    for p, g in zip(predicted, gold, strict=True):
        ps, gs = word_spans(p), word_spans(g)
        hit += len(ps & gs)
        n_pred += len(ps)
        n_gold += len(gs)
    precision = 100.0 * hit / n_pred if n_pred else 0.0
    recall = 100.0 * hit / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def best_threshold(scores: Sequence[np.ndarray], chars: Sequence[Sequence[str]],
                   gold: Sequence[Sequence[str]]) -> tuple[float, float]:
    """The merge threshold (merge where score > t) with the best F1 on a calibration set.

    Returns:
        (threshold, f1)
    """
    pooled = np.concatenate([np.asarray(s) for s in scores if len(s)]) if scores else np.zeros(0)
    if pooled.size == 0:
        return 0.0, 0.0
    candidates = np.unique(np.quantile(pooled, np.linspace(0.02, 0.98, 97)))
    best = (float(candidates[0]), -1.0)
    for t in candidates:
        f1 = score([words_from_merges(c, s > t) for c, s in zip(chars, scores, strict=True)], gold).f1
        if f1 > best[1]:
            best = (float(t), f1)
    return best
