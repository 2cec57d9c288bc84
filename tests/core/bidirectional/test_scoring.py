"""The scorecard's arithmetic by hand, the baselines on a corpus small enough to count by hand, and the pairs."""

import math

import numpy as np
import pytest

from core.bidirectional.baselines import UNKNOWN, Bigram, Unigram
from core.bidirectional.pairs import MAX_CHARS, MIN_CHARS, Pair, load
from core.bidirectional.scorecard import char_accuracy, position_bins, verdict


def test_position_bins_by_hand():
    # 7 characters: floor(5 * i / 7) puts i = 0..6 in bins 0 0 1 2 2 3 4
    right, count = position_bins("abXdeYg", "abcdefg")
    assert count.tolist() == [2, 1, 2, 1, 1]
    assert right.tolist() == [2, 0, 2, 0, 1]
    right, count = position_bins("ab", "abcde")  # a short output: the missing characters are wrong
    assert right.tolist() == [1, 1, 0, 0, 0] and count.tolist() == [1] * 5
    assert char_accuracy("abXdeYg", "abcdefg") == pytest.approx(5 / 7)


def test_verdict_reads_the_targets_off_a_table():
    def row(d, acc, exact, last):
        return {"decoder": d, "char_accuracy": acc, "exact_match": exact, "by_position": [0, 0, 0, 0, last]}

    table = {
        "rows": [
            row("bigram", 0.8, 0.2, 0.8),
            row("l2r", 0.85, 0.3, 0.7),
            row("r2l", 0.86, 0.25, 0.9),
            row("bidi", 0.87, 0.31, 0.8),
        ]
    }
    v = verdict(table)
    assert v["best_single"] == "r2l"
    assert v["bidi_vs_best_char"] == pytest.approx(0.01) and v["bidi_vs_best_exact"] == pytest.approx(0.01)
    assert v["bidi_vs_l2r_last_fifth"] == pytest.approx(0.1)
    assert all(v["beat_bigram"].values())


TOY = [Pair(("ma", "ma"), "妈妈")] * 2 + [Pair(("ma",), "马")] * 3 + [Pair(("qi", "ma"), "骑马")] * 2


def test_unigram_takes_each_syllables_most_frequent_character():
    # "ma": 妈 4 times, 马 5 times
    assert Unigram(TOY).decode(("ma", "ma")).output == "马马"
    assert Unigram(TOY).decode(("ma", "xx")).output == "马" + UNKNOWN


def test_bigram_viterbi_by_hand():
    model = Bigram(TOY, lam=0.8)
    assert model.decode(("ma", "ma")).output == "妈妈"  # 妈 -> 妈 seen twice; 马 -> 马 never
    assert model.decode(("qi", "ma")).output == "骑马"
    # the score of 骑马: start -> 骑 (2 of 7 starts), 骑 -> 马 (2 of 2), each emission P(s | c) = 1
    uni = {"妈": 4 / 11, "马": 5 / 11, "骑": 2 / 11}  # 11 characters in all
    expected = math.log(0.8 * 2 / 7 + 0.2 * uni["骑"]) + math.log(0.8 * 1 + 0.2 * uni["马"])
    assert model.decode(("qi", "ma")).score == pytest.approx(expected)


def test_the_pairs_are_aligned_disjoint_and_fixed(session_home):
    pairs = load()
    assert len(pairs.test) == len(pairs.validation) == 1000 and len(pairs.training) > 80_000
    for p in pairs.test[:200] + pairs.training[:200]:
        assert len(p.pinyin) == len(p.chars) and MIN_CHARS <= len(p.chars) <= MAX_CHARS
    held = {p.chars for p in pairs.test + pairs.validation}
    assert not held & {p.chars for p in pairs.training}
    assert pairs.test[0].chars == "他一直想拍一部好的电影"  # the seed fixes the split (the page's example)
    assert np.mean([len(p.chars) for p in pairs.test[:300]]) == pytest.approx(14.3, abs=0.1)
