"""The questions built from People's Daily: names joined, entities turned into question words, every
answer occurrence found, no answer leaked by its question, negatives without their answer, splits that
share no window."""

import random

from core.reading_comprehension.data import (
    Question,
    build_splits,
    negatives,
    occurrences,
    parse_tagged,
    window_questions,
)

TEXT = """江/nr  泽民/nr  在/p  北京/ns  会见/v  了/u  [新华/nz  通讯社/n]nt  代表/n  。/w  北京/ns  很/d  冷/a  。/w
江/nr  泽民/nr  说/v  ，/w  北京/ns  欢迎/v  朋友/n  。/w  北京/ns  和/c  北京/ns  。/w
"""


def test_tagged_lines_join_names_and_drop_brackets():
    lines = parse_tagged(TEXT)
    assert [t.text for t in lines[0][:2]] == ["江泽民", "在"] and lines[0][0].tag == "nr"
    assert ("新华通讯社", "nt") in [(t.text, t.tag) for t in lines[0]]


def test_occurrences_by_hand():
    assert occurrences("北京和北京北京", "北京") == ((0, 1), (3, 4), (5, 6))
    assert occurrences("上海", "北京") == ()


def test_questions_of_a_window_by_hand():
    questions = window_questions(parse_tagged(TEXT), 7)
    asked = {(q.question, q.answer) for q in questions}
    # sentence 1: 江泽民 recurs in sentence 3, 北京 in sentences 2-4; 新华通讯社 never recurs
    assert ("谁在北京会见了新华通讯社代表。", "江泽民") in asked
    assert ("江泽民在哪里会见了新华通讯社代表。", "北京") in asked
    assert not any(q.answer == "新华通讯社" for q in questions)
    # sentence 4 names 北京 twice: no question from it (the answer would stay in the question)
    assert not any(q.question.startswith("哪里和") for q in questions)
    for q in questions:
        assert q.window == 7 and q.kind in ("person", "place") and q.has_answer
        assert q.answer not in q.question
        assert q.spans == occurrences(q.passage, q.answer) and all(q.passage[s : e + 1] == q.answer for s, e in q.spans)
    first = next(q for q in questions if q.answer == "江泽民")
    assert first.passage == "北京很冷。江泽民说，北京欢迎朋友。北京和北京。"  # the window less the question's sentence
    assert first.spans == ((5, 7),)


def test_negatives_never_contain_their_answer():
    positives = [
        Question(f"passage {i} 北京" if i % 2 else f"passage {i}", f"q{i}", "北京", "place", ((0, 1),), i)
        for i in range(40)
    ]
    found = negatives(positives, random.Random(0))
    assert 5 <= len(found) <= 25  # about one in three positives gets a negative twin
    for q in found:
        assert not q.has_answer and q.answer == "" and "北京" not in q.passage


def test_splits_share_no_window_and_are_fixed():
    line = "张/nr  三/nr  在/p  上海/ns  工作/v  。/w  张/nr  三/nr  回到/v  上海/ns  。/w  上海/ns  很/d  大/a  。/w"
    lines = parse_tagged("\n".join([line] * 120))
    splits = build_splits(lines, seed=1)
    windows = {name: {q.window for q in qs} for name, qs in splits.items()}
    assert not windows["training"] & windows["test"] and not windows["training"] & windows["validation"]
    assert not windows["validation"] & windows["test"]
    assert len(windows["training"]) == 16 and len(windows["test"]) == 2  # 20 windows of 6 lines, 80/10/10
    again = build_splits(lines, seed=1)
    assert [q.question for q in again["test"]] == [q.question for q in splits["test"]]
