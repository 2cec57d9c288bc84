"""Trees from an impact matrix: Eisner, Chu-Liu/Edmonds, MART, right-chain; UAS.

Conventions. Words are numbered 1..n; index 0 is the artificial root. A head
vector ``heads`` has ``heads[d - 1]`` = the head of word d (0 for the root
word), as in CoNLL-U. Arc scores ``S`` are <float>[n + 1, n + 1] with
``S[h, d]`` the score of the arc h -> d; column 0 is unused.

Impact to arc scores (Wu et al. 2020): word i's head should be the word with
the largest impact on i, so ``S[h, d] = P[d - 1, h - 1]`` with ``P`` the
normalised impact matrix (``M[i, j]`` = impact of word j on word i).

The root. Every decoder here returns a tree with exactly one root word. When
the user names the root word, only that word may hang from 0. Otherwise the
decoders choose it: the root arc 0 -> d is scored with the mean normalised
impact of word d on the other words (the word whose masking disturbs the rest
of the sentence most), and the decoder picks the root and the tree together.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.lab.errors import BadArgument

NORMALISATIONS = ("paper", "row")


def normalise_impact(matrix: np.ndarray, mode: str = "paper") -> np.ndarray:
    """Turn an impact matrix <float>[n, n] into head preferences <float>[n, n].

    ``row``: a softmax over each row, so row i is a distribution over i's heads.
    ``paper``: the released code's ``exp(x - max) / exp(x - max).sum(axis=1)``,
    whose numpy broadcasting divides column j by the sum of row j.
    The diagonal (a word is not its own head) is excluded in both.
    """
    m = np.asarray(matrix, dtype=np.float64)
    n = len(m)
    off = ~np.eye(n, dtype=bool)
    if mode not in NORMALISATIONS:
        raise BadArgument(
            "unknown normalisation {mode!r}; choose one of {normalisations}", mode=mode, normalisations=NORMALISATIONS
        )
    if mode == "row":
        shifted = np.where(off, m - np.max(m, axis=1, keepdims=True, where=off, initial=-np.inf), -np.inf)
        e = np.exp(shifted)
        sums = e.sum(axis=1, keepdims=True)
        return np.divide(e, sums, out=np.zeros_like(e), where=sums > 0)
    e = np.where(off, np.exp(m - m.max(initial=-np.inf, where=off)), 0.0) if n > 1 else np.zeros_like(m)
    row_sums = e.sum(axis=1)
    return np.divide(e, row_sums[None, :], out=np.zeros_like(e), where=row_sums[None, :] > 0)


def arc_scores(preferences: np.ndarray, root: int | None = None) -> np.ndarray:
    """Arc scores <float>[n + 1, n + 1] from normalised impacts <float>[n, n].

    ``root`` (1-based) forces that word to be the root; ``None`` lets the decoder
    choose (see the module docstring). Forbidden arcs score ``-inf``.
    """
    p = np.asarray(preferences, dtype=np.float64)
    n = len(p)
    s = np.full((n + 1, n + 1), -np.inf)
    s[1:, 1:] = p.T
    np.fill_diagonal(s, -np.inf)
    if root is None:
        s[0, 1:] = p.sum(axis=0) / max(n - 1, 1)
    else:
        if not 1 <= root <= n:
            raise BadArgument("root must be a word number between 1 and {n}, not {root}", n=n, root=root)
        s[0, root] = 0.0
    return s


def eisner(scores: np.ndarray) -> list[int]:
    """Best projective tree with one root word (Eisner 1996), O(n^3).

    Args:
        scores: <float>[n + 1, n + 1], ``scores[h, d]`` for the arc h -> d.
    Returns:
        heads, 1-based, 0 for the root word.
    """
    s = np.asarray(scores, dtype=np.float64)
    n = len(s) - 1
    if n == 1:
        return [0]
    w = s[1:, 1:]  # word-to-word arcs, 0-based
    neg = -np.inf
    # complete[i, j, 0]: span i..j headed at j (left-facing); [.., 1]: headed at i.
    comp = np.full((n, n, 2), neg)
    inc = np.full((n, n, 2), neg)
    comp_k = np.zeros((n, n, 2), dtype=int)
    inc_k = np.zeros((n, n, 2), dtype=int)
    for i in range(n):
        comp[i, i, :] = 0.0
    # One diagonal (all spans of one length) at a time, vectorised over spans.
    for length in range(1, n):
        i = np.arange(n - length)
        j = i + length
        k = i[:, None] + np.arange(length)[None, :]  # <int>[spans, length]: split points i..j-1
        ii, jj = i[:, None], j[:, None]
        joined = comp[ii, k, 1] + comp[k + 1, jj, 0]
        best = joined.argmax(axis=1)
        top = joined[np.arange(len(i)), best]
        inc[i, j, 0], inc_k[i, j, 0] = top + w[j, i], i + best
        inc[i, j, 1], inc_k[i, j, 1] = top + w[i, j], i + best
        left = comp[ii, k, 0] + inc[k, jj, 0]
        best = left.argmax(axis=1)
        comp[i, j, 0], comp_k[i, j, 0] = left[np.arange(len(i)), best], i + best
        k1 = k + 1  # split points i+1..j
        right = inc[ii, k1, 1] + comp[k1, jj, 1]
        best = right.argmax(axis=1)
        comp[i, j, 1], comp_k[i, j, 1] = right[np.arange(len(i)), best], i + 1 + best
    totals = s[0, 1:] + comp[0, :, 0] + comp[:, n - 1, 1]
    r = int(np.argmax(totals))
    if not np.isfinite(totals[r]):
        raise ValueError("no tree satisfies the arc constraints")
    heads = [0] * n

    def complete(i: int, j: int, d: int) -> None:
        if i == j:
            return
        k = int(comp_k[i, j, d])
        if d == 0:
            complete(i, k, 0)
            incomplete(k, j, 0)
        else:
            incomplete(i, k, 1)
            complete(k, j, 1)

    def incomplete(i: int, j: int, d: int) -> None:
        if d == 0:
            heads[i] = j + 1
        else:
            heads[j] = i + 1
        k = int(inc_k[i, j, d])
        complete(i, k, 1)
        complete(k + 1, j, 0)

    complete(0, r, 0)
    complete(r, n - 1, 1)
    heads[r] = 0
    return [int(h) for h in heads]


def _find_cycle(heads: np.ndarray) -> list[int] | None:
    """A cycle in a head vector (node 0 is the root, heads[0] unused), or None."""
    n = len(heads)
    state = np.zeros(n, dtype=np.int8)  # 0 unseen, 1 on the current walk, 2 done
    state[0] = 2
    for start in range(1, n):
        walk = []
        node = start
        while state[node] == 0:
            state[node] = 1
            walk.append(node)
            node = int(heads[node])
        if state[node] == 1:
            return walk[walk.index(node) :]
        for v in walk:
            state[v] = 2
    return None


def _max_arborescence(s: np.ndarray) -> np.ndarray:
    """Chu-Liu/Edmonds: best arborescence rooted at node 0 of <float>[N, N] arc scores s[h, d].

    Greedy best head per node; a cycle is contracted into one node (arcs into
    it scored by what they gain over the cycle arc they replace), solved
    recursively, and expanded.
    """
    n = len(s)
    heads = np.argmax(s, axis=0)
    heads[0] = 0
    cycle = _find_cycle(heads)
    if cycle is None:
        return heads
    in_cycle = np.zeros(n, dtype=bool)
    in_cycle[cycle] = True
    rest = np.flatnonzero(~in_cycle)  # includes the root 0
    c = len(rest)  # the contracted node's index
    cyc = np.array(cycle)
    sub = np.full((c + 1, c + 1), -np.inf)
    sub[:c, :c] = s[np.ix_(rest, rest)]
    gain = s[np.ix_(rest, cyc)] - s[heads[cyc], cyc][None, :]  # [rest, cycle]
    enter = cyc[np.argmax(gain, axis=1)]
    sub[:c, c] = gain.max(axis=1)
    out = s[np.ix_(cyc, rest)]  # [cycle, rest]
    leave = cyc[np.argmax(out, axis=0)]
    sub[c, :c] = out.max(axis=0)
    sub_heads = _max_arborescence(sub)
    result = heads.copy()
    for i, v in enumerate(rest):
        if v == 0:
            continue
        h = sub_heads[i]
        result[v] = leave[i] if h == c else rest[h]
    u = sub_heads[c]
    result[enter[u]] = rest[u]
    return result


def chu_liu_edmonds(scores: np.ndarray) -> list[int]:
    """Best tree (projective or not) with one root word: Chu-Liu/Edmonds MST.

    The single-root constraint is imposed by lowering every root arc by a
    constant larger than any tree's score range, so the best arborescence has
    exactly one root arc.
    """
    s = np.array(scores, dtype=np.float64)
    n = len(s) - 1
    if n == 1:
        return [0]
    finite = s[np.isfinite(s)]
    s[0, 1:] -= (n + 1) * (float(np.ptp(finite)) + 1.0) + 1.0
    s[:, 0] = -np.inf
    np.fill_diagonal(s, -np.inf)
    return [int(h) for h in _max_arborescence(s)[1:]]


DECODERS = {"eisner": eisner, "mst": chu_liu_edmonds}


def right_chain(n: int, root: int | None = None) -> list[int]:
    """The right-chain baseline: each word's head is the next word.

    The last word is the root, or ``root`` (1-based) when given: that word then
    hangs from 0, every other word still points right, and the last word, with
    no word on its right, hangs from the root.
    """
    heads = [i + 2 for i in range(n)]
    heads[-1] = 0
    if root is not None:
        heads[-1] = 0 if root == n else root
        heads[root - 1] = 0
    return heads


def tree_score(scores: np.ndarray, heads: Sequence[int]) -> float:
    return float(sum(scores[h, d + 1] for d, h in enumerate(heads)))


def is_tree(heads: Sequence[int]) -> bool:
    """True for a single-rooted tree over words 1..n (no cycles, one root word)."""
    n = len(heads)
    if sum(1 for h in heads if h == 0) != 1 or any(not 0 <= h <= n for h in heads):
        return False
    for start in range(1, n + 1):
        seen, node = set(), start
        while node != 0:
            if node in seen:
                return False
            seen.add(node)
            node = heads[node - 1]
    return True


def is_projective(heads: Sequence[int]) -> bool:
    """True when no two arcs cross (the root arc spans the whole sentence)."""
    arcs = [(min(h, d), max(h, d)) for d, h in enumerate(heads, start=1) if h != 0]
    root = heads.index(0) + 1 if 0 in heads else None
    for (a, b), (c, d) in itertools.combinations(arcs, 2):
        if a < c < b < d or c < a < d < b:
            return False
    if root is not None:
        return all(not (a < root < b) for a, b in arcs)
    return True


def uas(predicted: Sequence[int], gold: Sequence[int], keep: Sequence[bool] | None = None) -> float:
    """Unlabelled attachment score in percent over the words where ``keep`` is true."""
    keep = [True] * len(gold) if keep is None else list(keep)
    total = sum(keep)
    if total == 0:
        return float("nan")
    return 100.0 * sum(k and p == g for p, g, k in zip(predicted, gold, keep, strict=True)) / total


# Constituency: MART ---------------------------------------------------------

MART_VARIANTS = ("paper", "blocks")


@dataclass(frozen=True)
class Split:
    """A binary constituency tree over words [start, end) split at ``at``."""

    start: int
    end: int
    at: int | None
    left: Split | None = None
    right: Split | None = None


class _BlockSums:
    """O(1) sums of rectangular blocks of a matrix, from 2-D prefix sums."""

    def __init__(self, d: np.ndarray) -> None:
        self.p = np.zeros((len(d) + 1, len(d) + 1))
        self.p[1:, 1:] = np.asarray(d, dtype=np.float64).cumsum(0).cumsum(1)

    def sum(self, rows: range, cols: range) -> float:
        if not len(rows) or not len(cols):
            return 0.0
        a, b, c, d = rows.start, rows.stop, cols.start, cols.stop
        return float(self.p[b, d] - self.p[a, d] - self.p[b, c] + self.p[a, c])


def _block_cost(sums: _BlockSums, left: range, right: range) -> float:
    cost = 0.0
    if len(left):
        cost += sums.sum(left, left) / (2 * len(left))
    if len(right):
        cost += sums.sum(right, right) / (2 * len(right))
    if len(left) and len(right):
        cost -= sums.sum(left, right) / (len(left) * len(right))
    return cost


def mart_split_costs(
    distance: np.ndarray, start: int, end: int, variant: str = "paper", sums: _BlockSums | None = None
) -> list[float]:
    """Cost of splitting words [start, end) before each word k in (start, end).

    ``blocks``: left = [start, k), right = [k, end).
    ``paper``: as the paper's code, the split word k is left out of both blocks:
    left = [start, k), right = (k, end).
    """
    sums = sums or _BlockSums(distance)
    costs = []
    for k in range(start + 1, end):
        right = range(k + 1, end) if variant == "paper" else range(k, end)
        costs.append(_block_cost(sums, range(start, k), right))
    return costs


def mart(distance: np.ndarray, variant: str = "paper") -> Split:
    """Top-down binary tree minimising the MART split cost at every span.

    Args:
        distance: <float>[n, n], small within a constituent (``1 - P``).
    """
    if variant not in MART_VARIANTS:
        raise BadArgument(
            "unknown MART variant {variant!r}; choose one of {mart_variants}",
            variant=variant,
            mart_variants=MART_VARIANTS,
        )
    sums = _BlockSums(distance)

    def build(start: int, end: int) -> Split:
        if end - start == 1:
            return Split(start, end, None)
        costs = mart_split_costs(distance, start, end, variant, sums)
        k = start + 1 + int(np.argmin(costs))
        return Split(start, end, k, build(start, k), build(k, end))

    return build(0, len(distance))


def su_split_scores(impact: np.ndarray, start: int, end: int) -> list[float]:
    """Su's split score of words [start, end) before each k: mean impact within blocks minus across them.

    Within: the mean of f(i, j) over ordered pairs i != j in the same block
    (both blocks pooled; 0 when both blocks are single words). Across: the
    mean over ordered pairs in different blocks.
    """
    m = np.asarray(impact, dtype=np.float64)
    scores = []
    for k in range(start + 1, end):
        left, right = np.arange(start, k), np.arange(k, end)
        inside = [m[np.ix_(b, b)][~np.eye(len(b), dtype=bool)] for b in (left, right) if len(b) > 1]
        within = float(np.concatenate(inside).mean()) if inside else 0.0
        across = float(np.concatenate([m[np.ix_(left, right)].ravel(), m[np.ix_(right, left)].ravel()]).mean())
        scores.append(within - across)
    return scores


def su_tree(impact: np.ndarray) -> Split:
    """Su's constituency tree: split each span where the blocks hold together most and apart most."""

    def build(start: int, end: int) -> Split:
        if end - start == 1:
            return Split(start, end, None)
        k = start + 1 + int(np.argmax(su_split_scores(impact, start, end)))
        return Split(start, end, k, build(start, k), build(k, end))

    return build(0, len(impact))


_PTB_ESCAPES = {"(": "-LRB-", ")": "-RRB-"}


def bracketed(tree: Split, words: Sequence[str]) -> str:
    """The tree as unlabelled brackets: ``((The dog) (barked loudly))``."""
    if tree.at is None:
        return _PTB_ESCAPES.get(words[tree.start], words[tree.start])
    return f"({bracketed(tree.left, words)} {bracketed(tree.right, words)})"


def spans(tree: Split) -> set[tuple[int, int]]:
    """Constituent spans of more than one word."""
    if tree.at is None:
        return set()
    return {(tree.start, tree.end)} | spans(tree.left) | spans(tree.right)


def to_conllu(words: Sequence[str], heads: Sequence[int], comment: str = "") -> str:
    """Words and heads as CoNLL-U lines (unlabelled: DEPREL is ``root`` or ``dep``)."""
    lines = [f"# text = {' '.join(words)}"]
    if comment:
        lines.insert(0, f"# {comment}")
    for i, (w, h) in enumerate(zip(words, heads, strict=True), start=1):
        lines.append(f"{i}\t{w}\t_\t_\t_\t_\t{h}\t{'root' if h == 0 else 'dep'}\t_\t_")
    return "\n".join(lines) + "\n"
