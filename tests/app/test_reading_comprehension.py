"""AppTest of the reading-comprehension page on tiny readers trained in the test session: the answer with
its heatmap, spans, attention and receptive field, the scorecard, test examples with the next button, a
share link that reopens a view, bad input, and a fresh lab where the readers are still being prepared."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.lab import jobs
from tests.helpers import open_app, save_tiny_readers, texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "reading_comprehension.py")


@pytest.fixture
def tiny_readers():
    save_tiny_readers()


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_default_view(tiny_readers):
    at = open_app(PAGE)
    shown = texts(at)
    assert at.title[0].value == "Reading comprehension with DGCNN"
    found = metrics(at)
    assert set(found) == {"Answer", "Span score", "Gate: an answer is here"}
    assert found["Gate: an answer is here"].endswith("%")
    spans = at.dataframe[0].value
    assert list(spans["rank"]) == [1, 2, 3, 4, 5]
    assert all(0 <= s <= e < s + 12 for s, e in zip(spans["start"], spans["end"], strict=True))
    assert list(spans["score"]) == sorted(spans["score"], reverse=True)
    # heatmap, attention, receptive field, scorecard chart
    assert len(at.get("plotly_chart")) == 4
    scorecard = at.dataframe[1].value
    assert list(scorecard["system"]) == [
        "DGCNN",
        "BiLSTM (baseline)",
        "most frequent entity (baseline)",
        "question words near the entity (baseline)",
    ]
    assert list(scorecard["gate_auc"][2:]) == ["—", "—"]  # the heuristics have no gate
    lesson = "\n".join(e.value for e in [*at.success, *at.warning])
    assert "DGCNN against the BiLSTM" in lesson and "Training speed, the two taking turns" in lesson
    assert "let a character see 65 characters around it" in shown
    assert "[reading-comprehension link](/reading-comprehension?reader=dgcnn&q=" in shown
    assert len(at.get("download_button")) == 7


def test_the_next_button_walks_the_test_examples(tiny_readers):
    from core.reading_comprehension.reader import examples

    at = open_app(PAGE)
    at.button(key="rc.next").click().run()
    first = examples()[0]
    assert at.text_area(key="rc.passage").value == first.passage
    assert at.text_input(key="rc.question").value == first.question
    shown = texts(at)
    assert f"Test example 1 of {len(examples())}" in shown
    verdict = [e.value for e in [*at.success, *at.error] if e.value.startswith("Gold answer")]
    assert len(verdict) == 1 and first.answer in verdict[0]
    assert "example=0" in shown and "&p=" not in shown  # the link names the example, not its text
    at.button(key="rc.next").click().run()
    assert at.text_input(key="rc.question").value == examples()[1].question
    assert "Test example 2 of" in texts(at)


def test_a_link_reopens_an_example_with_the_bilstm(tiny_readers):
    from core.reading_comprehension.reader import examples

    at = open_app(PAGE, {"example": "3", "reader": "bilstm"})
    assert at.text_area(key="rc.passage").value == examples()[3].passage
    assert at.session_state["rc.reader"] == "bilstm"
    assert "Test example 4 of" in texts(at) and "reader=bilstm" in texts(at) and "example=3" in texts(at)


@pytest.mark.parametrize(
    ("params", "says", "kind"),
    [
        ({"p": "   ", "q": "谁来了？"}, "the passage is empty", "error"),
        ({"p": "本报北京讯", "q": " "}, "the question is empty", "error"),
        ({"p": "The quick brown fox.", "q": "谁来了？"}, "the passage has no Chinese characters", "error"),
        ({"p": "中国科学院。" * 400, "q": "哪个机构？"}, "has 2,400 characters: cut to the first 2,000", "info"),
        ({"reader": "gpt"}, "reader='gpt' -> 'dgcnn'", "info"),
    ],
)
def test_bad_input_gets_a_message(tiny_readers, params, says, kind):
    at = open_app(PAGE, params)
    shown = [e.value for e in (at.error if kind == "error" else at.info)]
    assert any(says in s for s in shown), shown
    if kind == "error":
        assert not at.metric and len(at.get("plotly_chart")) == 1  # the scorecard's chart only
    elif "p" in params:
        assert "The passage is too long for a share link" in texts(at)


def test_a_fresh_lab_shows_what_is_being_prepared(tmp_path, monkeypatch):
    monkeypatch.setenv("KEXUE_LAB_HOME", str(tmp_path / "fresh"))
    monkeypatch.setattr(jobs, "start_worker", lambda: None)
    at = open_app(PAGE)
    shown = texts(at) + "\n".join(str(p.value) for p in at.get("progress"))
    assert "Preparing the reader qa-dgcnn in the background" in shown
    assert "The test examples come with the questions" in shown
    assert at.button(key="rc.next").disabled
    assert jobs.latest("train-reader", {"encoder": "dgcnn"}).status == "queued"
    assert not at.metric
