"""Decoding the held-out clauses with every decoder: character accuracy, exact match, accuracy by relative
position (five bins from the start to the end of the clause) and characters per second.

The held-out set is the first ``SIZE`` test clauses (pairs.py). A scorecard is computed once per set of
models and settings (a background job) and kept in the lab home as JSON keyed by its parameters.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.lab.artifacts import atomic_write
from core.lab.errors import LabError
from core.lab.messages import msg
from core.lab.paths import lab_home
from core.lab.progress import Progress

SIZE = 300
BINS = 5
DECODERS = ("unigram", "bigram", "l2r-greedy", "r2l-greedy", "l2r", "r2l", "rerank", "bidi")


class DecoderError(LabError):
    """A decoder name, beam width or model the bidirectional page cannot use."""


def position_bins(output: str, reference: str, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """Per bin of relative position (character i of n falls in bin floor(bins * i / n)): right, counted."""
    right, count = np.zeros(bins), np.zeros(bins)
    n = len(reference)
    for i, gold in enumerate(reference):
        b = min(bins - 1, bins * i // n)
        count[b] += 1
        right[b] += i < len(output) and output[i] == gold
    return right, count


def char_accuracy(output: str, reference: str) -> float:
    return sum(a == b for a, b in zip(output, reference, strict=False)) / max(len(reference), 1)


@dataclass(frozen=True)
class ScorecardSpec:
    preset: str = "default"
    beam: int = 4
    size: int = SIZE
    decoders: tuple[str, ...] = DECODERS

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"beam": self.beam, "size": self.size}
        if self.preset != "default":
            out["preset"] = self.preset
        if self.decoders != DECODERS:
            out["decoders"] = list(self.decoders)
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ScorecardSpec:
        return cls(
            preset=params.get("preset", "default"),
            beam=int(params.get("beam", 4)),
            size=int(params.get("size", SIZE)),
            decoders=tuple(params.get("decoders", DECODERS)),
        )

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def scorecard_path(spec: ScorecardSpec) -> Path:
    return lab_home() / "bidirectional" / "scorecards" / f"{spec.key()}.json"


def load_scorecard(spec: ScorecardSpec) -> dict[str, Any] | None:
    """The stored scorecard of these settings, if it was decoded by the models trained now (one decoded by
    models since retrained is stale: None)."""
    from core.bidirectional.decoding import Decoders

    try:
        table = json.loads(scorecard_path(spec).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return table if table.get("models") == Decoders(spec.preset).cards() else None


def compute_scorecard(
    spec: ScorecardSpec, progress: Progress | None = None, should_stop: Callable[[], bool] | None = None
) -> dict[str, Any] | None:
    """Every decoder over the held-out clauses; written to the lab home and returned (None if stopped)."""
    from core.bidirectional.decoding import Decoders
    from core.bidirectional.pairs import load

    progress = progress or (lambda _f, _m: None)
    should_stop = should_stop or (lambda: False)
    clauses = load(progress).test[: spec.size]
    lab = Decoders(spec.preset)
    rows = []
    total = len(spec.decoders) * len(clauses)
    for di, name in enumerate(spec.decoders):
        right = np.zeros(BINS)
        count = np.zeros(BINS)
        exact, seconds, outputs = 0, 0.0, []
        for ci, pair in enumerate(clauses):
            if should_stop():
                return None
            t = time.perf_counter()
            result = lab.decode(name, pair.pinyin, spec.beam)
            seconds += time.perf_counter() - t
            r, c = position_bins(result.output, pair.chars)
            right += r
            count += c
            exact += result.output == pair.chars
            outputs.append(result.output)
            done = di * len(clauses) + ci + 1
            if done % 20 == 0:
                progress(done / total, msg("{decoder}: clause {i} of {n}", decoder=name, i=ci + 1, n=len(clauses)))
        chars = int(count.sum())
        rows.append(
            {
                "decoder": name,
                "char_accuracy": float(right.sum() / chars),
                "exact_match": exact / len(clauses),
                "by_position": [float(x) for x in right / np.maximum(count, 1)],
                "chars_per_second": chars / max(seconds, 1e-9),
                "outputs": outputs,
            }
        )
    table = {
        "spec": asdict(spec),
        "clauses": [{"pinyin": " ".join(p.pinyin), "reference": p.chars} for p in clauses],
        "mean_length": float(np.mean([len(p.chars) for p in clauses])),
        "rows": rows,
        "models": lab.cards(),
    }
    payload = json.dumps(table, ensure_ascii=False)
    atomic_write(scorecard_path(spec), lambda p: p.write_text(payload, encoding="utf-8"))
    return table


def verdict(table: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets, checked on a scorecard: which hold, with the numbers."""
    get = {r["decoder"]: r for r in table["rows"]}
    out: dict[str, Any] = {}
    if {"bigram", "l2r", "r2l", "bidi"} <= get.keys():
        bigram = get["bigram"]["char_accuracy"]
        neural = [d for d in ("l2r", "r2l", "rerank", "bidi", "l2r-greedy", "r2l-greedy") if d in get]
        out["beat_bigram"] = {d: get[d]["char_accuracy"] > bigram for d in neural}
        best_single = max(("l2r", "r2l"), key=lambda d: get[d]["char_accuracy"])
        out["best_single"] = best_single
        out["bidi_vs_best_char"] = get["bidi"]["char_accuracy"] - get[best_single]["char_accuracy"]
        out["bidi_vs_best_exact"] = get["bidi"]["exact_match"] - max(get[d]["exact_match"] for d in ("l2r", "r2l"))
        out["bidi_vs_l2r_last_fifth"] = get["bidi"]["by_position"][-1] - get["l2r"]["by_position"][-1]
    return out
