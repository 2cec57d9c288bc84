"""The reading-comprehension page's pieces: the scorecard's metrics and targets by hand, and the figures'
structure (a heatmap that wraps the passage with the characters as escaped text, answer marks, the
receptive field clipped to the passage)."""

import numpy as np
import pytest

from core.reading_comprehension import figures as figs
from core.reading_comprehension.baselines import score_answers
from core.reading_comprehension.data import Question
from core.reading_comprehension.scorecard import verdict


def q(answer: str, spans=((0, 1),)) -> Question:
    return Question("passage", "谁？", answer, "person", spans if answer else (), 0)


def test_score_answers_by_hand():
    questions = [q("江泽民"), q("北京"), q("")]
    found = [
        {"answer": "江泽民", "gate": 0.9},
        {"answer": "北京市", "gate": 0.4},  # F1: 2 shared of 3 and 2 -> 2 * (2/3 * 1) / (2/3 + 1) = 0.8
        {"answer": "上海", "gate": 0.2},  # a negative: not in EM or F1, right for the gate
    ]
    scores = score_answers(found, questions)
    assert scores["em"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx((1.0 + 0.8) / 2)
    assert scores["gate_accuracy"] == pytest.approx(2 / 3)  # 0.4 says "no answer" to an answerable one
    assert scores["gate_auc"] == pytest.approx(1.0)  # both answerable ones above the negative
    assert set(score_answers([{"answer": "x"}], [q("x")])) == {"em", "f1"}  # a baseline: no gate


def test_verdict_by_hand():
    table = {
        "rows": [
            {"system": "dgcnn", "kind": "reader", "em": 0.55},
            {"system": "bilstm", "kind": "reader", "em": 0.50},
            {"system": "frequent", "kind": "baseline", "em": 0.33},
            {"system": "lexical", "kind": "baseline", "em": 0.40},
        ],
        "train_chars_per_second": {"dgcnn": 3000.0, "bilstm": 1000.0},
    }
    v = verdict(table)
    assert v["best_baseline"] == "lexical" and v["over_baseline"] == pytest.approx(0.15) and v["beats_baselines"]
    assert v["vs_bilstm"] == pytest.approx(0.05) and v["speedup"] == pytest.approx(3.0)
    table["rows"][0]["em"] = 0.45
    assert not verdict(table)["beats_baselines"]
    assert verdict({"rows": table["rows"][1:]}) == {}  # no DGCNN, no verdict


def test_marks_by_hand():
    # gold 2..3, answer 1..2: 0 outside, 2 answer only, 3 both, 1 gold only
    assert figs.marks(6, (1, 2), [(2, 3)]).tolist() == [0, 2, 3, 1, 0, 0]
    assert figs.marks(3, None).tolist() == [0, 0, 0]


LABELS = {
    "title": "t",
    "start": "start",
    "end": "end",
    "probability": "p",
    "hover_char": "{i} {char}",
    "hover_prob": "{i} {char} {row} {p}",
}


def test_the_heatmap_wraps_the_passage_and_keeps_it_text():
    passage = "<b>江泽民</b>在北京" + "。" * 40  # 53 characters: lines of 40 and 13
    n = len(passage)
    start = np.linspace(0, 1, n)
    fig = figs.passage_heatmap(passage, start, start[::-1], (3, 5), LABELS, gold=[(3, 5)], line=40)
    chars, probs = fig.data
    assert np.asarray(chars.z).shape == (2 * figs.ROWS, 40)
    text = np.asarray(chars.text)
    # the characters, in order, on the first row of each line; markup escaped, never read as tags
    shown = [t for row in text[:: figs.ROWS] for t in row if t]
    assert shown[:3] == ["&lt;", "b", "&gt;"] and len(shown) == n
    assert np.asarray(chars.z)[0, 3:6].tolist() == [3, 3, 3]  # the answer, also gold
    z = np.asarray(probs.z, dtype=float)
    assert z[1, 0] == pytest.approx(0.0) and z[2, 0] == pytest.approx(1.0)  # start row, end row
    assert z[figs.ROWS + 1, 9] == pytest.approx(start[49])  # character 49: line 2, column 9
    assert n == 53 and np.isnan(z[figs.ROWS + 1, 13])  # past the passage's end


def test_the_receptive_field_is_clipped_to_the_passage():
    labels = {"title": "t", "x": "x", "block": "{k}:{d}", "hover": "{k} {d} {seen} {lo} {hi}"}
    fig = figs.receptive_field_figure(100, 10, labels)
    bar = fig.data[0]
    # fields 3, 7, 15, 31, 63, 65 centred on 10: clipped at 0 from block 4 on
    assert list(bar.x) == [3, 7, 15, 26, 42, 43]
    assert [c[3] for c in bar.customdata] == [9, 7, 3, 0, 0, 0]
    assert list(bar.y) == ["1:1", "2:2", "3:4", "4:8", "5:16", "6:1"]


def test_attention_bars_label_every_character():
    fig = figs.attention_bars("谁<i>", [0.5, 0.2, 0.2, 0.1], {"title": "t", "y": "w", "hover": "{i} {char} {w}"})
    assert list(fig.layout.xaxis.ticktext) == ["谁", "&lt;", "i", "&gt;"]
    assert sum(fig.data[0].y) == pytest.approx(1.0)
