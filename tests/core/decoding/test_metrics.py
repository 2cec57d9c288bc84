"""Loops, repetition and stopping, on sequences worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from core.decoding.metrics import expected_steps_to_stop, find_loop, seq_rep, still_running, summarise


def test_a_loop_is_the_shortest_block_covering_the_last_tokens():
    prefix = list(range(100, 130))
    assert find_loop(prefix + [1, 2, 3] * 40) == (1, 2, 3)
    assert find_loop([7] * 120) == (7,)
    # A repeated block of 50 tokens still counts as a loop, one of 51 does not.
    block50, block51 = list(range(50)), list(range(51))
    assert find_loop(block50 * 3) == tuple(block50)
    assert find_loop(block51 * 3) is None


def test_no_loop_when_the_tail_breaks_the_period_or_is_too_short():
    loop = [1, 2, 3] * 40
    assert find_loop(loop[:-1] + [9]) is None  # the last token breaks it
    assert find_loop([1, 2] * 49) is None  # 98 tokens: fewer than the 100 a loop must cover
    assert find_loop(list(range(200))) is None


def test_seq_rep_4_by_hand():
    assert seq_rep([1, 2, 3, 4, 1, 2, 3, 4]) == pytest.approx(1 - 4 / 5)  # 5 four-grams, 4 distinct
    assert seq_rep([1, 2, 3]) == 0.0
    assert seq_rep(list(range(10))) == 0.0
    assert seq_rep([5] * 10) == pytest.approx(1 - 1 / 7)


def test_share_still_running_at_each_step():
    # Stopped after 0 tokens (EOS at step 1), after 2 tokens (EOS at step 3), and one never stopping.
    curve = still_running([0, 2, 5], [True, True, False], limit=5)
    assert np.allclose(curve, [2 / 3, 2 / 3, 1 / 3, 1 / 3, 1 / 3])
    assert curve[-1] == pytest.approx(1 / 3)  # r_L
    assert np.array_equal(still_running([], [], 3), np.zeros(3))


def test_summary_row():
    loop = [1, 2] * 60
    row = summarise([(loop, False), ([4, 5, 6], True), ([7, 8, 9, 10, 11], True)])
    assert row.n == 3 and row.non_termination == pytest.approx(1 / 3) and row.loops == pytest.approx(1 / 3)
    assert row.mean_stopped_length == pytest.approx(4.0)
    assert row.seq_rep_4 == pytest.approx((1 - 2 / 117) / 3)
    assert summarise([]).mean_stopped_length is None


def test_expected_steps_inside_a_loop():
    assert expected_steps_to_stop(10**-7.6) == pytest.approx(10**7.6)
    assert expected_steps_to_stop(0.0) == float("inf")
