"""Perturbed masking (Wu et al., ACL 2020; kexue.fm 7476): the impact matrix.

The impact of word j on word i is ``f(i, j) = d(H(x \\ {x_i})_i, H(x \\ {x_i, x_j})_i)``:
how much the representation of the masked word i moves when word j is masked
too. A word of several sub-tokens is masked whole (every sub-token becomes the
mask token, so all inputs keep one length) and is represented by its first
sub-token.

``f(i, j)`` and ``f(j, i)`` read the same input (both words masked), so a
sentence of n words needs only n single-masked and n(n - 1)/2 pair-masked
inputs, all independent; they run in batches, and one forward gives every
layer at once. The released code runs n forwards of batch n instead (each
pair twice).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.lab.compute import MODEL_LOCK
from core.lab.errors import BadArgument
from core.lab.messages import msg
from core.lab.progress import Progress
from core.models.registry import Encoder
from core.perturbed_masking.parsing import (
    DECODERS,
    Split,
    arc_scores,
    bracketed,
    mart,
    normalise_impact,
    right_chain,
    uas,
)
from core.perturbed_masking.reference import ReferenceParse, reference_parse, split_words

DISTANCES = ("euclidean", "cosine")
# Tokens per forward batch. Measured on 2 cores (benchmarks/perturbed_masking.py):
# 2048 keeps the matmuls efficient while activations stay in cache; 8192 ran 15-25%
# slower.
TOKENS_PER_BATCH = 2048
# The cost grows with the square of the word count (n(n+1)/2 inputs), so a
# sentence is cut at this many words; the page and the CLI say so.
MAX_WORDS = 60


@dataclass(frozen=True)
class WordPieces:
    """A sentence's words mapped onto the encoder's token sequence."""

    words: tuple[str, ...]
    input_ids: tuple[int, ...]  # with the encoder's special tokens
    spans: tuple[tuple[int, int], ...]  # [start, end) of each word in input_ids
    dropped_words: int  # words cut to fit the encoder's limit
    unknown_words: int  # words that map only to the unknown token

    @property
    def first_positions(self) -> np.ndarray:
        return np.array([s for s, _ in self.spans], dtype=np.int64)


@dataclass(frozen=True)
class ImpactResult:
    """Impact matrices for every layer computed, with what produced them."""

    words: tuple[str, ...]
    model: str
    distance: str
    matrices: np.ndarray  # <float32>[n_layers_computed, n_words, n_words]; [l, i, j] = f(i, j)
    n_sequences: int
    dropped_words: int = 0

    def layer(self, layer: int) -> np.ndarray:
        if not 0 <= layer < len(self.matrices):
            raise BadArgument(
                "layer must be between 0 and {n_matrices}, not {layer}", n_matrices=len(self.matrices) - 1, layer=layer
            )
        return self.matrices[layer]


def word_pieces(
    encoder: Encoder, words: Sequence[str], max_tokens: int | None = None, max_words: int = MAX_WORDS
) -> WordPieces:
    """Tokenize each word on its own and lay the pieces out between the specials.

    Words past ``max_words`` or past ``max_tokens`` (default: the encoder's
    limit) are dropped from the end and counted.
    """
    limit = max_tokens or encoder.max_tokens
    budget = limit - len(encoder.prefix_ids) - len(encoder.suffix_ids)
    encoded = encoder.tokenizer(list(words), add_special_tokens=False)["input_ids"] if words else []
    ids: list[int] = list(encoder.prefix_ids)
    spans: list[tuple[int, int]] = []
    unknown = 0
    kept: list[str] = []
    for word, pieces in zip(words, encoded, strict=True):
        pieces = list(pieces) or [encoder.unk_id]
        if len(ids) - len(encoder.prefix_ids) + len(pieces) > budget or len(kept) == max_words:
            break
        unknown += all(p == encoder.unk_id for p in pieces)
        spans.append((len(ids), len(ids) + len(pieces)))
        ids.extend(pieces)
        kept.append(word)
    ids.extend(encoder.suffix_ids)
    return WordPieces(tuple(kept), tuple(ids), tuple(spans), len(words) - len(kept), unknown)


def all_pairs(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def masked_inputs(
    pieces: WordPieces, mask_id: int, pairs: Sequence[tuple[int, int]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The unique perturbed inputs: n single-masked, then the pairs (default: all i < j).

    Returns:
        inputs: <int64>[n + pairs, tokens]
        masked: <int64>[n + pairs, 2] the word indices masked in each row
            (a single-masked row repeats its word).
    """
    n = len(pieces.spans)
    base = np.asarray(pieces.input_ids, dtype=np.int64)
    pairs = [(i, i) for i in range(n)] + list(all_pairs(n) if pairs is None else pairs)
    inputs = np.repeat(base[None, :], len(pairs), axis=0)
    for row, (i, j) in enumerate(pairs):
        for w in (i, j):
            start, end = pieces.spans[w]
            inputs[row, start:end] = mask_id
    return inputs, np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def hidden_states(
    encoder: Encoder, input_ids: np.ndarray, upto_layer: int | None = None, positions: np.ndarray | None = None
) -> np.ndarray:
    """Hidden states of layers 0..upto_layer for unpadded, equal-length inputs.

    Layer 0 is the embedding output; layer L the output of block L. Stops after
    ``upto_layer`` instead of running the whole encoder. With ``positions``
    (<int>[batch, k]) only those tokens of each row are kept, layer by layer,
    instead of every token's state.

    Returns:
        <float32>[layers, batch, tokens, hidden], or [layers, batch, k, hidden]
    """
    import torch

    model = encoder.model
    last = encoder.n_layers if upto_layer is None else upto_layer
    ids = torch.as_tensor(input_ids, dtype=torch.long)
    if positions is not None:
        rows = torch.arange(len(ids))[:, None]
        cols = torch.as_tensor(positions, dtype=torch.long)

        def keep(h):
            return h[rows, cols]
    else:

        def keep(h):
            return h

    with MODEL_LOCK, torch.inference_mode():  # one batch of one session at a time (core.lab.compute)
        blocks = getattr(getattr(model, "encoder", None), "layer", None)
        if hasattr(model, "embeddings") and blocks is not None:
            h = model.embeddings(input_ids=ids)
            states = [keep(h)]
            for block in blocks[:last]:
                out = block(h)
                h = out[0] if isinstance(out, tuple) else out
                states.append(keep(h))
        else:
            every = model(input_ids=ids, output_hidden_states=True).hidden_states[: last + 1]
            states = [keep(h) for h in every]
        return torch.stack(states).float().numpy()


def pair_distance(a: np.ndarray, b: np.ndarray, distance: str) -> np.ndarray:
    """Distance over the last axis. <float>[..., hidden] x2 -> <float>[...]."""
    if distance == "euclidean":
        return np.linalg.norm(a - b, axis=-1)
    if distance == "cosine":
        na = np.linalg.norm(a, axis=-1)
        nb = np.linalg.norm(b, axis=-1)
        return 1.0 - np.sum(a * b, axis=-1) / np.maximum(na * nb, 1e-12)
    raise BadArgument(
        "unknown distance {distance!r}; choose one of {distances}", distance=distance, distances=DISTANCES
    )


def pair_impacts(
    encoder: Encoder,
    pieces: WordPieces,
    pairs: Sequence[tuple[int, int]],
    distance: str = "euclidean",
    upto_layer: int | None = None,
    progress: Progress | None = None,
    tokens_per_batch: int = TOKENS_PER_BATCH,
) -> tuple[np.ndarray, np.ndarray, int]:
    """f(i, j) and f(j, i) for each pair (i, j), every layer 0..upto_layer.

    Runs the n single-masked inputs and one input per pair, in batches.

    Returns:
        forward: <float32>[layers, pairs] f(i, j), the impact of j on i
        backward: <float32>[layers, pairs] f(j, i)
        n_sequences: how many inputs went through the encoder
    """
    if distance not in DISTANCES:
        raise BadArgument(
            "unknown distance {distance!r}; choose one of {distances}", distance=distance, distances=DISTANCES
        )
    last = encoder.n_layers if upto_layer is None else upto_layer
    if not 0 <= last <= encoder.n_layers:
        raise BadArgument("layer must be between 0 and {n_layers}, not {last}", n_layers=encoder.n_layers, last=last)
    n = len(pieces.spans)
    inputs, masked = masked_inputs(pieces, encoder.mask_id, pairs)
    first = pieces.first_positions
    batch = max(1, tokens_per_batch // inputs.shape[1])
    # Gathered first-sub-token states of the two masked words of every row.
    # <float32>[layers, rows, 2, hidden]
    gathered: np.ndarray | None = None
    for start in range(0, len(inputs), batch):
        stop = min(start + batch, len(inputs))
        pick = hidden_states(encoder, inputs[start:stop], last, first[masked[start:stop]])  # [layers, b, 2, hidden]
        if gathered is None:
            gathered = np.empty((pick.shape[0], len(inputs), 2, pick.shape[-1]), np.float32)
        gathered[:, start:stop] = pick
        if progress:
            progress(stop / len(inputs), msg("{stop}/{n_inputs} masked inputs", stop=stop, n_inputs=len(inputs)))
    assert gathered is not None
    single = gathered[:, :n, 0]  # [layers, n, hidden]: H(x \ {i})_i
    pair_rows = gathered[:, n:]  # [layers, pairs, 2, hidden]
    i_idx, j_idx = masked[n:, 0], masked[n:, 1]
    forward = pair_distance(single[:, i_idx], pair_rows[:, :, 0], distance)
    backward = pair_distance(single[:, j_idx], pair_rows[:, :, 1], distance)
    return forward.astype(np.float32), backward.astype(np.float32), len(inputs)


def impact_matrices(
    encoder: Encoder,
    pieces: WordPieces,
    distance: str = "euclidean",
    upto_layer: int | None = None,
    progress: Progress | None = None,
    tokens_per_batch: int = TOKENS_PER_BATCH,
) -> ImpactResult:
    """The impact matrix of every layer 0..upto_layer from the unique inputs.

    Returns:
        An :class:`ImpactResult` whose ``matrices[l, i, j]`` is f(i, j) at layer l.
    """
    n = len(pieces.spans)
    last = encoder.n_layers if upto_layer is None else upto_layer
    if n == 0:
        if distance not in DISTANCES or not 0 <= last <= encoder.n_layers:
            raise BadArgument("bad distance {distance!r} or layer {last}", distance=distance, last=last)
        return ImpactResult((), encoder.id, distance, np.zeros((last + 1, 0, 0), np.float32), 0)
    pairs = all_pairs(n)
    forward, backward, n_sequences = pair_impacts(
        encoder, pieces, pairs, distance, upto_layer, progress, tokens_per_batch
    )
    matrices = np.zeros((forward.shape[0], n, n), np.float32)
    if pairs:
        i_idx, j_idx = np.asarray(pairs).T
        matrices[:, i_idx, j_idx] = forward
        matrices[:, j_idx, i_idx] = backward
    return ImpactResult(pieces.words, encoder.id, distance, matrices, n_sequences, pieces.dropped_words)


# From matrices to trees ------------------------------------------------------

ROOT_CHOICES = ("auto", "reference")


@dataclass(frozen=True)
class SentenceAnalysis:
    """One sentence: its impact matrices (every layer) and the reference parse."""

    text: str
    impact: ImpactResult
    reference: ReferenceParse | None

    @property
    def words(self) -> tuple[str, ...]:
        return self.impact.words

    @property
    def n_layers(self) -> int:
        return len(self.impact.matrices) - 1


@dataclass(frozen=True)
class TreeReport:
    """The trees decoded from one layer, scored against the reference."""

    layer: int
    decoder: str
    normalisation: str
    root: int | None  # the forced root word (1-based), None when the decoder chose
    heads: tuple[int, ...]
    right_chain: tuple[int, ...]
    constituency: Split
    tree: str  # bracketed constituency tree
    uas: float | None  # vs the reference, punctuation excluded
    right_chain_uas: float | None


def analyse(
    encoder: Encoder,
    text: str,
    distance: str = "euclidean",
    words: Sequence[str] | None = None,
    with_reference: bool = True,
    upto_layer: int | None = None,
    progress: Progress | None = None,
) -> SentenceAnalysis:
    """Impact matrices of layers 0..upto_layer (default all) for one sentence, plus spaCy's parse.

    Words come from spaCy's English tokenizer unless given.
    """
    words = list(words) if words is not None else split_words(text)
    pieces = word_pieces(encoder, words)
    impact = impact_matrices(encoder, pieces, distance=distance, upto_layer=upto_layer, progress=progress)
    reference = reference_parse(pieces.words) if with_reference and pieces.words else None
    return SentenceAnalysis(text, impact, reference)


def resolve_root(analysis: SentenceAnalysis, root: str | int | None) -> int | None:
    """``auto``/None: the decoder chooses; ``reference``: spaCy's root; a number: that word."""
    if root in (None, "auto"):
        return None
    if root == "reference":
        if analysis.reference is None:
            return None
        return analysis.reference.heads.index(0) + 1
    word = int(root)
    if not 1 <= word <= len(analysis.words):
        raise BadArgument(
            "root must be a word number between 1 and {n_words}, not {word}", n_words=len(analysis.words), word=word
        )
    return word


def decode(
    analysis: SentenceAnalysis,
    layer: int,
    decoder: str = "eisner",
    normalisation: str = "paper",
    root: str | int | None = "auto",
    mart_variant: str = "paper",
) -> TreeReport:
    """Dependency and constituency trees of one layer, and their UAS."""
    if decoder not in DECODERS:
        raise BadArgument("unknown decoder {decoder!r}; choose one of {tuple}", decoder=decoder, tuple=tuple(DECODERS))
    matrix = analysis.impact.layer(layer)
    n = len(matrix)
    forced = resolve_root(analysis, root)
    if n == 0:
        empty = Split(0, 0, None)
        return TreeReport(layer, decoder, normalisation, forced, (), (), empty, "", None, None)
    preferences = normalise_impact(matrix, normalisation)
    heads = tuple(DECODERS[decoder](arc_scores(preferences, forced)))
    chain = tuple(right_chain(n, forced))
    split = mart(1.0 - preferences, mart_variant)
    ref = analysis.reference
    keep = [not p for p in ref.punct] if ref else None
    score = uas(heads, ref.heads, keep) if ref else None
    chain_score = uas(chain, ref.heads, keep) if ref else None
    return TreeReport(
        layer,
        decoder,
        normalisation,
        forced,
        heads,
        chain,
        split,
        bracketed(split, analysis.words),
        _finite(score),
        _finite(chain_score),
    )


def _finite(x: float | None) -> float | None:
    return None if x is None or x != x else float(x)


def uas_by_layer(
    analysis: SentenceAnalysis, decoder: str = "eisner", normalisation: str = "paper", root: str | int | None = "auto"
) -> list[float | None]:
    """UAS against the reference for every layer (``None`` without a reference)."""
    return [decode(analysis, layer, decoder, normalisation, root).uas for layer in range(analysis.n_layers + 1)]


def corpus_uas_by_layer(
    analyses: Sequence[SentenceAnalysis],
    decoder: str = "eisner",
    normalisation: str = "paper",
    root: str | int | None = "auto",
) -> tuple[list[float | None], float | None]:
    """Word-weighted UAS per layer over a corpus, and the right-chain UAS.

    Scores every non-punctuation word of every sentence once (as treebank UAS
    is), not an average of per-sentence percentages.
    """
    scored = [a for a in analyses if a.reference is not None and a.words]
    if not scored:
        return [], None
    n_layers = min(a.n_layers for a in scored)
    hits = np.zeros(n_layers + 1)
    chain_hits = 0
    total = 0
    for a in scored:
        keep = np.array([not p for p in a.reference.punct])
        gold = np.array(a.reference.heads)
        total += int(keep.sum())
        for layer in range(n_layers + 1):
            report = decode(a, layer, decoder, normalisation, root)
            hits[layer] += int(((np.array(report.heads) == gold) & keep).sum())
        chain_hits += int(((np.array(right_chain(len(gold), resolve_root(a, root))) == gold) & keep).sum())
    if total == 0:
        return [None] * (n_layers + 1), None
    return [float(100 * h / total) for h in hits], float(100 * chain_hits / total)


def matrix_csv(words: Sequence[str], matrix: np.ndarray) -> str:
    """One layer's impact matrix as CSV: rows i (read), columns j (masked too), numbered words as labels."""
    import csv

    labels = [f"{i} {w}" for i, w in enumerate(words, start=1)]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["", *labels])
    for label, row in zip(labels, np.asarray(matrix), strict=True):
        writer.writerow([label, *(f"{v:.6f}" for v in row)])
    return buf.getvalue()


def to_bytes(analysis: SentenceAnalysis) -> bytes:
    """Serialise an analysis for the store (numpy arrays plus a JSON header)."""
    ref = analysis.reference
    meta = {
        "text": analysis.text,
        "words": list(analysis.words),
        "model": analysis.impact.model,
        "distance": analysis.impact.distance,
        "n_sequences": analysis.impact.n_sequences,
        "dropped_words": analysis.impact.dropped_words,
        "reference": None
        if ref is None
        else {"heads": list(ref.heads), "punct": list(ref.punct), "labels": list(ref.labels)},
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, matrices=analysis.impact.matrices, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    return buf.getvalue()


def from_bytes(data: bytes) -> SentenceAnalysis:
    with np.load(io.BytesIO(data)) as z:
        matrices = z["matrices"].astype(np.float32)
        meta = json.loads(z["meta"].tobytes().decode())
    words = tuple(meta["words"])
    impact = ImpactResult(words, meta["model"], meta["distance"], matrices, meta["n_sequences"], meta["dropped_words"])
    ref = meta["reference"]
    reference = (
        None if ref is None else ReferenceParse(words, tuple(ref["heads"]), tuple(ref["punct"]), tuple(ref["labels"]))
    )
    return SentenceAnalysis(meta["text"], impact, reference)


def corpus_table(
    analyses: Sequence[SentenceAnalysis], layer: int, decoder: str, normalisation: str, root: str
) -> tuple[list[dict], list[TreeReport | None]]:
    """One row per sentence (UAS and right-chain UAS at ``layer``) and its tree, each sentence decoded once.

    A one-word sentence has no tree: its report is ``None`` and its scores are empty.
    """
    reports = [decode(a, layer, decoder, normalisation, root) if len(a.words) > 1 else None for a in analyses]
    rows = [
        {
            "#": i + 1,
            "sentence": a.text,
            "words": len(a.words),
            "UAS": rep.uas if rep else None,
            "right-chain UAS": rep.right_chain_uas if rep else None,
        }
        for i, (a, rep) in enumerate(zip(analyses, reports, strict=True))
    ]
    return rows, reports


def parses_jsonl(analyses: Sequence[SentenceAnalysis], reports: Sequence[TreeReport | None]) -> str:
    """The corpus's trees as JSON Lines (text, words, heads), one-word sentences left out."""
    return "".join(
        json.dumps({"text": a.text, "words": list(a.words), "heads": list(rep.heads)}, ensure_ascii=False) + "\n"
        for a, rep in zip(analyses, reports, strict=True)
        if rep is not None
    )
