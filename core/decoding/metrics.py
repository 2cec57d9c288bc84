"""What the decoding page measures about continuations: loops, repetition, who stops and when.

Pure Python over token id sequences (no model): a continuation is its new tokens (EOS not included) and
whether the decoder emitted EOS after them (``stopped``) or ran into the length limit L.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LOOP_PERIOD = 50  # longest repeated block that counts as a loop
LOOP_COVER = 100  # a loop must cover the continuation's last 100 tokens


def find_loop(tokens: Sequence[int], max_period: int = LOOP_PERIOD, cover: int = LOOP_COVER) -> tuple[int, ...] | None:
    """The repeating block the continuation ends in, or None.

    A loop: the last ``cover`` tokens are periodic with a period of at most ``max_period`` (token i equals
    token i + p throughout them). The shortest such period is returned, as the block of the last p tokens.
    A continuation shorter than ``cover`` has no loop by this definition.
    """
    n = len(tokens)
    if n < cover:
        return None
    tail = np.asarray(tokens[n - cover :])
    for p in range(1, min(max_period, cover - 1) + 1):
        if np.array_equal(tail[p:], tail[:-p]):
            return tuple(int(t) for t in tokens[n - p :])
    return None


def loop_start(tokens: Sequence[int], period: int) -> int:
    """Where the periodic tail of period ``period`` begins: the first index i from which every token equals
    the one ``period`` later, up to the end (the page highlights from there)."""
    i = len(tokens) - period
    while i > 0 and tokens[i - 1] == tokens[i - 1 + period]:
        i -= 1
    return max(i, 0)


def seq_rep(tokens: Sequence[int], n: int = 4) -> float:
    """seq-rep-n (Welleck et al. 2020, unlikelihood training): 1 - unique n-grams / n-grams; 0 below n tokens."""
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def still_running(lengths: Sequence[int], stopped: Sequence[bool], limit: int) -> np.ndarray:
    """Share of continuations with no EOS within the first t steps, for t = 1 .. ``limit``.

    A stopped continuation of ``length`` tokens emitted EOS at step length + 1; the last value is r_L.
    """
    lengths_a = np.asarray(lengths, dtype=np.int64)
    stopped_a = np.asarray(stopped, dtype=bool)
    if lengths_a.size == 0:
        return np.zeros(limit)
    eos_step = np.where(stopped_a, lengths_a + 1, np.iinfo(np.int64).max)
    steps = np.arange(1, limit + 1)
    return (eos_step[None, :] > steps[:, None]).mean(axis=1)


@dataclass(frozen=True)
class Summary:
    n: int
    non_termination: float  # r_L: share that reached the limit without EOS
    loops: float  # share that ends in a loop
    seq_rep_4: float  # mean over continuations
    mean_stopped_length: float | None  # mean length of those that stopped (None when none did)


def summarise(continuations: Sequence[tuple[Sequence[int], bool]]) -> Summary:
    """The prompt-set table's row for one decoder: ``continuations`` as (tokens, stopped) pairs."""
    n = len(continuations)
    if n == 0:
        return Summary(0, 0.0, 0.0, 0.0, None)
    stopped_lengths = [len(t) for t, s in continuations if s]
    return Summary(
        n=n,
        non_termination=sum(not s for _t, s in continuations) / n,
        loops=sum(find_loop(t) is not None for t, _s in continuations) / n,
        seq_rep_4=float(np.mean([seq_rep(t, 4) for t, _s in continuations])),
        mean_stopped_length=float(np.mean(stopped_lengths)) if stopped_lengths else None,
    )


def expected_steps_to_stop(p_eos: float) -> float:
    """Under a decoder that keeps EOS with probability ``p_eos`` at every step, the mean steps until it stops
    (geometric: 1 / p); inf for p = 0. The page's arithmetic for consistent sampling inside a loop."""
    return float("inf") if p_eos <= 0 else 1.0 / p_eos
