"""python -m core qa / train-reader: JSON out from a tiny reader trained in the test session, the
per-character details the page draws, and bad input that exits 2 with one line."""

import json

import pytest

from tests.helpers import run_cli

PASSAGE = "江泽民在北京会见了客人。李鹏在上海视察工厂。新华社报道了这次视察。"


@pytest.fixture(scope="module")
def tiny_reader(session_home):
    from core.reading_comprehension import training

    if not training.is_trained("qa-dgcnn-tiny"):
        training.train("dgcnn", "tiny")
    return "qa-dgcnn-tiny"


def test_a_question_about_a_passage_file(tiny_reader, session_home, tmp_path):
    passage = tmp_path / "p.txt"
    passage.write_text(PASSAGE, encoding="utf-8")
    out = run_cli("qa", "--passage", str(passage), "谁在北京会见了客人？", "--model", tiny_reader, home=session_home)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert set(row) == {"answer", "start", "end", "score", "has_answer", "top_spans"}
    assert row["answer"] == PASSAGE[row["start"] : row["end"] + 1] and 1 <= len(row["answer"]) <= 12
    assert 0 <= row["has_answer"] <= 1 and len(row["top_spans"]) == 5
    scores = [s["score"] for s in row["top_spans"]]
    assert scores == sorted(scores, reverse=True) and row["score"] == scores[0]


def test_answers_carry_what_the_page_draws(tiny_reader):
    from core.reading_comprehension.reader import answer

    found = answer(tiny_reader, [(PASSAGE, "谁视察工厂？"), (PASSAGE[:12], "哪里？")])
    assert len(found[0]["start_probs"]) == len(PASSAGE) and len(found[1]["end_probs"]) == 12
    assert all(p <= found[0]["gate"] + 1e-6 for p in found[0]["start_probs"])  # gated
    assert sum(found[0]["attention"]) == pytest.approx(1, abs=1e-5) and len(found[0]["attention"]) == 6


@pytest.mark.parametrize(
    ("passage", "question", "says"),
    [
        ("", "谁来了？", "the passage is empty"),
        ("hello world", "谁来了？", "the passage has no Chinese characters"),
        (PASSAGE, "   ", "the question is empty"),
    ],
)
def test_bad_input_exits_2_with_one_line(session_home, tmp_path, passage, question, says):
    path = tmp_path / "p.txt"
    path.write_text(passage, encoding="utf-8")
    out = run_cli("qa", "--passage", str(path), question, home=session_home)
    assert out.returncode == 2
    assert says in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_a_bad_jsonl_line_and_an_untrained_reader_are_named(session_home, tmp_path):
    lines = tmp_path / "q.jsonl"
    lines.write_text(json.dumps({"passage": PASSAGE, "question": "谁？"}) + "\n{nope\n", encoding="utf-8")
    out = run_cli("qa", "--input", str(lines), home=session_home)
    assert out.returncode == 2 and "line 2: not a JSON object" in out.stderr
    lines.write_text(json.dumps({"passage": PASSAGE, "question": "谁？"}) + "\n", encoding="utf-8")
    out = run_cli("qa", "--input", str(lines), "--model", "qa-bilstm-quick", home=session_home)
    assert out.returncode == 2 and "the reader qa-bilstm-quick is not trained yet" in out.stderr


def test_train_reader_refuses_an_unknown_encoder(session_home):
    out = run_cli("train-reader", "--encoder", "transformer", home=session_home)
    assert out.returncode == 2 and "the encoder must be one of dgcnn, bilstm" in out.stderr


def test_eval_scores_the_reader_beside_the_heuristics(tiny_reader, session_home):
    from core.reading_comprehension.baselines import frequent
    from core.reading_comprehension.data import load

    out = run_cli("qa", "--eval", "--model", tiny_reader, "--limit", "40", home=session_home)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["system"] for r in rows] == [tiny_reader, "frequent", "lexical"]
    test = load()["test"][:40]
    answerable = [q for q in test if q.has_answer]
    assert rows[0]["questions"] == 40 and rows[1]["questions"] == len(answerable)
    assert 0 <= rows[0]["em"] <= rows[0]["f1"] <= 1 and 0 <= rows[0]["gate_auc"] <= 1
    assert "gate_auc" not in rows[1]  # a heuristic has no gate
    by_hand = sum(frequent(q.passage, q.question) == q.answer for q in answerable) / len(answerable)
    assert rows[1]["em"] == pytest.approx(by_hand, abs=1e-4)
