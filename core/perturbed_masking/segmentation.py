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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.lab.errors import BadArgument
from core.lab.messages import msg
from core.lab.progress import Progress
from core.models.registry import Encoder
from core.perturbed_masking.char_stats import CharStats
from core.perturbed_masking.impact import WordPieces, pair_impacts

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
    return CharDistances(
        text, pieces.words, encoder.id, (forward + backward) / 2, pieces.unknown_words, pieces.dropped_words
    )


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


def best_threshold(
    scores: Sequence[np.ndarray], chars: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]
) -> tuple[float, float]:
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


# Rules and their calibration -------------------------------------------------

RULES = ("combined", "probe", "stats", "blog")
CALIBRATION_SENTENCES = 200
MAX_PROBE_LAYER = 7
CALIBRATION_FORMAT = 1


def probe_layers(encoder: Encoder) -> tuple[int, ...]:
    """Layers the probe reads: 1..7 (the middle layers carry the structure; fewer layers run faster)."""
    return tuple(range(1, min(encoder.n_layers, MAX_PROBE_LAYER) + 1))


def contrast(x: np.ndarray) -> np.ndarray:
    """How much each gap's scores stand out from the gaps on either side.

    <float>[gaps, k] -> <float>[gaps, 2k]; a word boundary is a local extreme.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if len(x) == 0:
        return np.zeros((0, 2 * x.shape[1]))
    padded = np.pad(x, ((1, 1), (0, 0)), mode="edge")
    return np.column_stack([x - padded[:-2], x - padded[2:]])


def probe_features(distances: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    """Per gap, d of each probe layer standardised within the sentence. -> [gaps, layers]"""
    return (
        np.column_stack([sentence_z(distances[layer]) for layer in layers])
        if distances.shape[1]
        else np.zeros((0, len(layers)))
    )


@dataclass(frozen=True)
class Calibration:
    """Weights and thresholds of each rule, fitted on People's Daily's calibration slice."""

    model: str
    stats_source: str
    layers: tuple[int, ...]
    stats_mean: tuple[float, ...]
    stats_std: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]  # rule -> linear weights over its features
    thresholds: dict[str, float]  # rule -> merge when score > threshold
    calibration_f1: dict[str, float]


def rule_features(
    rule: str,
    distances: np.ndarray | None,
    stats_features: np.ndarray | None,
    cal_layers: Sequence[int],
    mean: np.ndarray,
    std: np.ndarray,
) -> np.ndarray:
    """The features a rule's linear score reads, each with its local contrast."""
    parts = []
    if rule in ("stats", "combined"):
        parts.append((stats_features - mean) / std)
    if rule in ("probe", "combined"):
        parts.append(probe_features(distances, cal_layers))
    base = np.column_stack(parts)
    return np.column_stack([base, contrast(base)])


def merge_labels(words: Sequence[str]) -> list[bool]:
    """Gold merge decisions between neighbouring characters of a segmented sentence."""
    merges: list[bool] = []
    for w in words:
        merges += [True] * (len(w) - 1) + [False]
    return merges[:-1]


def calibrate(
    encoder: Encoder,
    stats: CharStats,
    sentences: Sequence[Sequence[str]],
    progress: Progress | None = None,
) -> Calibration:
    """Fit each rule's weights (logistic regression on the merge decisions) and its F1-best threshold."""
    from sklearn.linear_model import LogisticRegression

    from core.perturbed_masking.char_stats import gap_features

    layers = probe_layers(encoder)
    distances, kept = [], []
    for k, sentence in enumerate(sentences):
        text = "".join(sentence)
        result = neighbour_distances(encoder, text, upto_layer=max(layers))
        if len(result.chars) == len(text):  # skip sentences cut at the encoder's limit or holding spaces
            distances.append(result.distances)
            kept.append(sentence)
        if progress:
            progress(
                (k + 1) / len(sentences),
                msg(
                    "Calibrating on People's Daily: sentence {k} of {n_sentences}", k=k + 1, n_sentences=len(sentences)
                ),
            )
    sentences = kept
    texts = ["".join(s) for s in sentences]
    feats = [gap_features(stats, text) for text in texts]
    pooled = np.concatenate(feats)
    mean, std = pooled.mean(axis=0), np.maximum(pooled.std(axis=0), 1e-9)
    labels = np.concatenate([merge_labels(s) for s in sentences])
    chars = [list(t) for t in texts]
    gold = [list(s) for s in sentences]
    weights, thresholds, f1s = {}, {}, {}
    for rule in ("combined", "probe", "stats"):
        xs = [rule_features(rule, d, f, layers, mean, std) for d, f in zip(distances, feats, strict=True)]
        fit = LogisticRegression(max_iter=2000).fit(np.concatenate(xs), labels)
        w = fit.coef_[0]
        t, f1 = best_threshold([x @ w for x in xs], chars, gold)
        weights[rule], thresholds[rule], f1s[rule] = tuple(map(float, w)), t, f1
    thresholds["blog"] = BLOG_THRESHOLD
    return Calibration(
        encoder.id, stats.source, layers, tuple(map(float, mean)), tuple(map(float, std)), weights, thresholds, f1s
    )


def calibration_path(model: str, stats_source: str) -> Path:
    from core.lab.paths import lab_home

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{model}--{stats_source}")
    return lab_home() / "calibration" / f"{safe}-v{CALIBRATION_FORMAT}.json"


def load_or_calibrate(
    encoder: Encoder,
    stats: CharStats,
    sentences: Sequence[Sequence[str]] | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """The stored calibration of this model and statistics, calibrating (and storing) it first if needed."""
    import json

    from core.lab.artifacts import atomic_write

    path = calibration_path(encoder.id, stats.source)
    try:
        raw = json.loads(path.read_text())
        raw["layers"] = tuple(raw["layers"])
        raw["stats_mean"], raw["stats_std"] = tuple(raw["stats_mean"]), tuple(raw["stats_std"])
        raw["weights"] = {k: tuple(v) for k, v in raw["weights"].items()}
        return Calibration(**raw)
    except (OSError, ValueError, TypeError, KeyError):
        pass
    if sentences is None:
        from core.data.peoples_daily import slices

        sentences = slices().calibration[:CALIBRATION_SENTENCES]
    cal = calibrate(encoder, stats, sentences, progress)
    payload = json.dumps({**cal.__dict__}, ensure_ascii=False, indent=1)
    atomic_write(path, lambda p: p.write_text(payload))
    return cal


@dataclass(frozen=True)
class Segmentation:
    """One sentence segmented by one rule, with every score the page draws."""

    chars: tuple[str, ...]
    words: tuple[str, ...]
    rule: str
    scores: np.ndarray  # <float>[gaps] the rule's merge score
    threshold: float
    distances: np.ndarray  # <float32>[layers, gaps] raw probe d (empty for the stats rule)
    unknown_chars: int
    dropped_chars: int


def segment(
    text: str,
    rule: str,
    calibration: Calibration,
    encoder: Encoder | None,
    stats: CharStats,
    distances: CharDistances | None = None,
) -> Segmentation:
    """Segment one sentence with a calibrated rule."""
    from core.perturbed_masking.char_stats import gap_features

    if rule not in RULES:
        raise BadArgument("unknown rule {rule!r}; choose one of {rules}", rule=rule, rules=", ".join(RULES))
    needs_probe = rule != "stats"
    if needs_probe and distances is None:
        if encoder is None:
            raise BadArgument("the {rule} rule needs an encoder", rule=rule)
        upto = None if rule == "blog" else max(calibration.layers)
        distances = neighbour_distances(encoder, text, upto_layer=upto)
    if distances is not None:
        chars, unknown, dropped = distances.chars, distances.unknown_chars, distances.dropped_chars
        d = distances.distances
    else:
        all_chars = [c for c in text if not c.isspace()]
        chars, unknown, dropped = tuple(all_chars[:MAX_CHARS]), 0, max(len(all_chars) - MAX_CHARS, 0)
        d = np.zeros((0, max(len(chars) - 1, 0)), np.float32)
    feats = gap_features(stats, chars) if rule in ("stats", "combined") else None
    if rule == "blog":
        scores = d[-1].astype(np.float64)
    else:
        x = rule_features(
            rule, d, feats, calibration.layers, np.asarray(calibration.stats_mean), np.asarray(calibration.stats_std)
        )
        scores = x @ np.asarray(calibration.weights[rule]) if len(x) else np.zeros(0)
    threshold = calibration.thresholds[rule]
    words = words_from_merges(list(chars), list(scores > threshold))
    return Segmentation(tuple(chars), tuple(words), rule, scores, threshold, d, unknown, dropped)


def shown_distances(distances: np.ndarray, rule: str, layers: Sequence[int]) -> np.ndarray:
    """d between neighbouring characters as the page and the command line show it.

    The blog's rule reads the last layer (its threshold 8 is for that layer); the
    calibrated rules read the probe layers, shown as their mean. <float>[layers + 1, gaps] -> [gaps]
    """
    if distances.size == 0:
        return np.zeros(distances.shape[-1] if distances.ndim else 0)
    return distances[-1] if rule == "blog" else distances[list(layers)].mean(axis=0)


def jieba_words(text: str) -> list[str]:
    """jieba's segmentation (a supervised dictionary segmenter), spaces dropped."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.cut("".join(c for c in text if not c.isspace()), HMM=True) if w.strip()]


def segment_corpus(
    encoder: Encoder,
    texts: Sequence[str],
    calibration: Calibration,
    stats: CharStats,
    rule: str = "combined",
    progress: Progress | None = None,
) -> tuple[list[dict], dict]:
    """Segment every line with a calibrated rule: one row per line and the corpus's agreement with jieba.

    Each row: the text, the words, jieba's words and the line's F1 against jieba. The summary pools every
    line's words (a corpus F1, not a mean of line F1s).
    """
    rows, predicted, references = [], [], []
    for k, text in enumerate(texts):
        if progress:
            progress(k / len(texts), msg("Line {k} of {n_texts}", k=k + 1, n_texts=len(texts)))
        result = segment(text, rule, calibration, encoder, stats)
        jieba = jieba_words(text)
        rows.append(
            {
                "text": text,
                "words": list(result.words),
                "jieba": jieba,
                "jieba_f1": round(score([list(result.words)], [jieba]).f1, 1),
                "dropped_chars": result.dropped_chars,
            }
        )
        predicted.append(list(result.words))
        references.append(jieba)
    if progress:
        progress(1.0, msg("Segmented"))
    return rows, {"rule": rule, "jieba_f1": round(score(predicted, references).f1, 1)}


def evaluate(
    encoder: Encoder | None,
    stats: CharStats,
    calibration: Calibration,
    sentences: Sequence[Sequence[str]],
    rule: str = "combined",
    progress: Progress | None = None,
) -> dict:
    """Word-level scores of a rule and the references on gold-segmented sentences."""
    texts = ["".join(s) for s in sentences]
    gold = [list(s) for s in sentences]
    predicted = []
    stats_only = []
    for k, text in enumerate(texts):
        result = segment(text, rule, calibration, encoder, stats)
        predicted.append(list(result.words))
        stats_only.append(
            list(result.words) if rule == "stats" else list(segment(text, "stats", calibration, None, stats).words)
        )
        if progress:
            progress((k + 1) / len(texts), msg("sentence {k} of {n_texts}", k=k + 1, n_texts=len(texts)))
    main = score(predicted, gold)
    return {
        "n_sentences": len(texts),
        "precision": round(main.precision, 2),
        "recall": round(main.recall, 2),
        "f1": round(main.f1, 2),
        "jieba_f1": round(score([jieba_words(t) for t in texts], gold).f1, 2),
        "every_char_f1": round(score([list(t) for t in texts], gold).f1, 2),
        "stats_f1": round(score(stats_only, gold).f1, 2),
        "rule": rule,
        "model": calibration.model,
    }
