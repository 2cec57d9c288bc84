"""The two non-neural anchors, counted from the training pairs.

* unigram: each syllable's most frequent character, position by position;
* bigram: a hidden Markov model over characters, P(c_t | c_t-1) interpolated with P(c_t), each
  character emitting its syllable with P(s | c), decoded exactly with Viterbi over the characters read
  with each syllable in the training pairs.

A syllable never seen in training gives ``UNKNOWN`` (always scored wrong).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from core.bidirectional.pairs import Pair, candidates

UNKNOWN = "□"
START = "^"
LAMBDA = 0.8  # weight of the bigram against the unigram (chosen on the validation set)


@dataclass
class Decoded:
    output: str
    score: float  # log-probability of the output under the baseline (0 for the unigram's argmax)


class Unigram:
    def __init__(self, training: Sequence[Pair]) -> None:
        self.best = {syl: counts.most_common(1)[0][0] for syl, counts in candidates(tuple(training)).items()}

    def decode(self, syllables: Sequence[str]) -> Decoded:
        return Decoded("".join(self.best.get(s, UNKNOWN) for s in syllables), 0.0)


class Bigram:
    def __init__(self, training: Sequence[Pair], lam: float = LAMBDA) -> None:
        self.lam = lam
        by_syl = candidates(tuple(training))
        self.cands = {syl: list(c) for syl, c in by_syl.items()}
        self.emit = {}
        chars: Counter = Counter()
        self.pairs: Counter = Counter()
        self.prev: Counter = Counter()
        for pair in training:
            seq = START + pair.chars
            chars.update(pair.chars)
            self.pairs.update(zip(seq, seq[1:], strict=False))
            self.prev.update(seq[:-1])
        for syl, counts in by_syl.items():
            for ch, n in counts.items():
                self.emit[syl, ch] = math.log(n / chars[ch])
        total = sum(chars.values())
        self.unigram = {ch: n / total for ch, n in chars.items()}

    def transition(self, prev: str, ch: str) -> float:
        p_bi = self.pairs.get((prev, ch), 0) / self.prev[prev] if self.prev.get(prev) else 0.0
        return math.log(self.lam * p_bi + (1 - self.lam) * self.unigram[ch])

    def decode(self, syllables: Sequence[str]) -> Decoded:
        # best[ch] = (score, path) of the best path ending in ch
        best: dict[str, tuple[float, str]] = {START: (0.0, "")}
        for syl in syllables:
            options = self.cands.get(syl)
            if not options:
                best = {UNKNOWN: (max(s for s, _ in best.values()), max(best.values())[1] + UNKNOWN)}
                continue
            step = {}
            for ch in options:
                e = self.emit[syl, ch]
                score, path = max(
                    (s + (self.transition(prev, ch) if prev != UNKNOWN else math.log(self.unigram[ch])), p)
                    for prev, (s, p) in best.items()
                )
                step[ch] = (score + e, path + ch)
            best = step
        score, path = max(best.values())
        return Decoded(path, score)
