"""The neural decoders, batched over beams: one model call per step per direction, whatever the width.

* ``beam`` (width 1 is greedy): L2R or R2L alone; R2L's output is reversed into reading order.
* ``bidirectional``: Su's synchronous beam search on the bidirectional model. Both directions keep k
  hypotheses and advance together; each of a direction's hypotheses is scored against every one of the
  other direction's k hypotheses (its states attended under the model's mask), the next-character
  log-probabilities are averaged over those k, and each direction keeps its best k extensions. The
  answer is the better of the two directions' best finished hypotheses (R2L's reversed). Every
  hypothesis is as long as the input, so both finish at the last step: the post's early stop (the best
  finished hypothesis of one direction beating every open one of the other) is reached there.
* ``rerank``: what translation toolkits do instead: L2R beam search, then the k finished hypotheses
  rescored by the R2L model (teacher-forced on each, reversed), the mean of the two log-probabilities.
* ``beam_prefix_rerun``: the same beam search as ``beam`` run the way Su's script runs it, every prefix
  of every hypothesis through the whole model again, one hypothesis at a time: the benchmark's baseline
  and a test's reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.bidirectional.model import BOS_ID, PAD_ID, Vocab

OTHER = {"l2r": "r2l", "r2l": "l2r"}


@dataclass
class Result:
    output: str  # in reading order
    score: float  # the summed log-probability the decoder maximised
    direction: str = ""  # which direction's hypothesis won (bidirectional), "l2r" / "r2l" otherwise
    steps: int = 0  # decoding steps (one per character; each advances every direction)
    calls: int = 0  # model calls
    nbest: list[tuple[str, float]] = field(default_factory=list)  # the finished hypotheses, best first
    trace: list[dict[str, Any]] = field(default_factory=list)  # per step, for the step inspector


class Sentence:
    """One input sentence encoded once, with what every step of either direction needs."""

    def __init__(self, model: Any, vocab: Vocab, syllables: list[str] | tuple[str, ...]) -> None:
        from core.lab.runtime import keras

        self.k = keras()
        self.model, self.vocab = model, vocab
        self.n = len(syllables)
        self.src = vocab.encode_source(list(syllables))[None, :]
        self.enc = np.asarray(model.compiled_encode(self.src))  # [1, n, 2E]
        self.allowed = vocab.allowed()[self.src[0]]  # [n, V]
        self.calls = 1

    def position(self, d: str, t: int) -> int:
        return t if d == "l2r" else self.n - 1 - t

    def advance(self, d: str, prev: np.ndarray, state: np.ndarray, t: int) -> np.ndarray:
        m = len(prev)
        enc_t = np.repeat(self.enc[:, self.position(d, t)], m, axis=0)
        self.calls += 1
        return np.asarray(self.model.compiled_step(d, prev.astype(np.int32), enc_t, state))

    def log_probs(self, d: str, h: np.ndarray, t: int, other: np.ndarray | None = None) -> np.ndarray:
        """[M, V] from states h [M, H]; other [M, S, H]: the other direction's visible states."""
        m = len(h)
        pos = self.position(d, t)
        enc = np.repeat(self.enc, m, axis=0)
        src_mask = np.ones((m, self.n), dtype=bool)
        allowed = np.repeat(self.allowed[None, pos : pos + 1], m, axis=0)
        other_mask = None if other is None else np.ones((m, 1, other.shape[1]), dtype=bool)
        self.calls += 1
        aligned = np.repeat(self.enc[:, pos : pos + 1], m, axis=0)
        out = self.model.compiled_output(d, h[:, None, :], aligned, enc, src_mask, allowed, other, other_mask)
        return np.asarray(out)[:, 0]

    def visible(self, t: int) -> int:
        """How many of the other direction's states step t may attend to: min(t, n-1-t) + 1."""
        return min(t, self.n - 1 - t) + 1

    def text(self, d: str, ids: list[int] | np.ndarray) -> str:
        s = self.vocab.decode_target(ids)
        return s if d == "l2r" else s[::-1]


def _top(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best of a [M, V] score array as (row, column) index arrays, best first (ties: lower index)."""
    flat = scores.reshape(-1)
    k = min(k, int(np.isfinite(flat).sum()) or 1, flat.size)
    best = np.argpartition(-flat, k - 1)[:k]
    best = best[np.lexsort((best, -flat[best]))]
    return best // scores.shape[1], best % scores.shape[1]


def beam(model: Any, vocab: Vocab, syllables: list[str] | tuple[str, ...], d: str, k: int = 4) -> Result:
    """L2R or R2L beam search of width k on a model with direction d (k = 1: greedy)."""
    s = Sentence(model, vocab, syllables)
    hidden = model.config.decoder
    tokens = np.zeros((1, 0), dtype=np.int64)
    scores = np.zeros(1)
    state = np.zeros((1, hidden), dtype=np.float32)
    prev = np.array([BOS_ID])
    trace = []
    for t in range(s.n):
        state = s.advance(d, prev, state, t)
        logp = s.log_probs(d, state, t)
        rows, cols = _top(scores[:, None] + logp, k)
        tokens = np.concatenate([tokens[rows], cols[:, None]], axis=1)
        scores = scores[rows] + logp[rows, cols]
        state, prev = state[rows], cols
        trace.append(
            {d: [{"text": s.text(d, row), "score": float(sc)} for row, sc in zip(tokens, scores, strict=True)]}
        )
    nbest = [(s.text(d, row), float(sc)) for row, sc in zip(tokens, scores, strict=True)]
    return Result(nbest[0][0], nbest[0][1], d, s.n, s.calls, nbest, trace)


def bidirectional(model: Any, vocab: Vocab, syllables: list[str] | tuple[str, ...], k: int = 4) -> Result:
    """Su's synchronous bidirectional beam search on the bidirectional model."""
    s = Sentence(model, vocab, syllables)
    hidden = model.config.decoder
    beams = {
        d: {
            "tokens": np.zeros((1, 0), dtype=np.int64),
            "scores": np.zeros(1),
            "states": np.zeros((1, 0, hidden), dtype=np.float32),
            "prev": np.array([BOS_ID]),
            "h": np.zeros((1, hidden), dtype=np.float32),
        }
        for d in ("l2r", "r2l")
    }
    trace = []
    for t in range(s.n):
        for d, b in beams.items():
            b["h"] = s.advance(d, b["prev"], b["h"], t)
            b["states"] = np.concatenate([b["states"], b["h"][:, None, :]], axis=1)
        m = s.visible(t)
        step: dict[str, Any] = {"visible": m}
        chosen = {}
        for d, b in beams.items():
            o = beams[OTHER[d]]
            ki, kj = len(b["h"]), len(o["h"])
            h = np.repeat(b["h"], kj, axis=0)  # pair (i, j) at row i * kj + j
            other = np.tile(o["states"][:, :m], (ki, 1, 1))
            pair = s.log_probs(d, h, t, other).reshape(ki, kj, -1)
            logp = pair.mean(axis=1)
            rows, cols = _top(b["scores"][:, None] + logp, k)
            chosen[d] = (rows, cols, logp[rows, cols], pair[rows, :, cols])
            step[d + "_attended"] = [s.text(OTHER[d], row) for row in o["tokens"]]
        for d, b in beams.items():
            rows, cols, gain, per_other = chosen[d]
            b["tokens"] = np.concatenate([b["tokens"][rows], cols[:, None]], axis=1)
            b["scores"] = b["scores"][rows] + gain
            b["states"], b["h"], b["prev"] = b["states"][rows], b["h"][rows], cols
            step[d] = [
                {"text": s.text(d, row), "score": float(sc), "parent": int(p), "per_other": [float(x) for x in po]}
                for row, sc, p, po in zip(b["tokens"], b["scores"], rows, per_other, strict=True)
            ]
        trace.append(step)
    finals = [(s.text(d, b["tokens"][0]), float(b["scores"][0]), d) for d, b in beams.items()]
    out, score, won = max(finals, key=lambda f: f[1])
    nbest = sorted(
        (
            (s.text(d, row), float(sc))
            for d, b in beams.items()
            for row, sc in zip(b["tokens"], b["scores"], strict=True)
        ),
        key=lambda x: -x[1],
    )
    return Result(out, score, won, s.n, s.calls, nbest, trace)


def score_r2l(model: Any, vocab: Vocab, syllables: list[str] | tuple[str, ...], candidates: list[str]) -> np.ndarray:
    """The R2L model's log-probability of each candidate (reading order), teacher-forced, in one call."""
    n = len(syllables)
    src = np.repeat(vocab.encode_source(list(syllables))[None, :], len(candidates), axis=0)
    tgt = np.stack([vocab.encode_target(c) for c in candidates])
    rev = np.tile(np.arange(n - 1, -1, -1, dtype=np.int32), (len(candidates), 1))
    lengths = np.full(len(candidates), n, dtype=np.int32)
    out = np.asarray(model.compiled_call({"src": src, "tgt": tgt, "rev": rev, "lengths": lengths})["r2l"])
    gold = np.take_along_axis(tgt, rev, axis=1)
    return np.take_along_axis(out, gold[:, :, None], axis=2)[:, :, 0].sum(axis=1)


def rerank(
    l2r_model: Any, r2l_model: Any, vocab: Vocab, r2l_vocab: Vocab, syllables: list[str] | tuple[str, ...], k: int = 4
) -> Result:
    """L2R beam search of width k, its finished hypotheses rescored by the R2L model."""
    first = beam(l2r_model, vocab, syllables, "l2r", k)
    texts = [t for t, _ in first.nbest]
    back = score_r2l(r2l_model, r2l_vocab, syllables, texts)
    joint = [(t, (a + float(b)) / 2) for (t, a), b in zip(first.nbest, back, strict=True)]
    joint.sort(key=lambda x: -x[1])
    trace = first.trace + [
        {"rerank": [{"text": t, "l2r": a, "r2l": float(b)} for (t, a), b in zip(first.nbest, back, strict=True)]}
    ]
    return Result(joint[0][0], joint[0][1], "rerank", first.steps, first.calls + 1, joint, trace)


def beam_prefix_rerun(model: Any, vocab: Vocab, syllables: list[str] | tuple[str, ...], d: str, k: int = 4) -> Result:
    """``beam``'s search, each hypothesis's next-character distribution from a full teacher-forced pass over
    its prefix (one model call per hypothesis per step, each as long as the prefix)."""
    n = len(syllables)
    src = vocab.encode_source(list(syllables))[None, :]
    rev = np.arange(n - 1, -1, -1, dtype=np.int32)[None, :] if d == "r2l" else np.arange(n, dtype=np.int32)[None]
    hyps: list[tuple[list[int], float]] = [([], 0.0)]
    calls = 0
    for t in range(n):
        rows = []
        for ids, _ in hyps:
            own = np.full(n, PAD_ID, dtype=np.int32)
            own[: len(ids)] = ids
            tgt = own if d == "l2r" else own[::-1].copy()  # the model reads targets left to right
            arrays = {"src": src, "tgt": tgt[None], "rev": rev, "lengths": np.array([n], dtype=np.int32)}
            out = model.compiled_call(arrays)
            calls += 1
            rows.append(np.asarray(out[d])[0, t])
        logp = np.stack(rows)
        scores = np.array([sc for _, sc in hyps])
        r, c = _top(scores[:, None] + logp, k)
        hyps = [(hyps[i][0] + [int(j)], float(scores[i] + logp[i, j])) for i, j in zip(r, c, strict=True)]
    text = vocab.decode_target(hyps[0][0])
    text = text if d == "l2r" else text[::-1]
    return Result(text, hyps[0][1], d, n, calls)
