"""AppTest of the bidirectional page on tiny models trained in the test session: the outputs with their
outlines, the step inspector, the scorecard and its lesson, a share link that reopens a view, bad input,
and a fresh lab where the models are still being prepared."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.lab import jobs
from tests.helpers import open_app, save_tiny_pinyin_models, texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "bidirectional.py")


@pytest.fixture
def tiny_models():
    save_tiny_pinyin_models()


def open_page(params: dict | None = None) -> AppTest:
    return open_app(PAGE, params)


def test_the_default_view(tiny_models):
    at = open_page()
    shown = texts(at)
    assert at.title[0].value == "Bidirectional decoding"
    assert "Pinyin read: `ta yi zhi xiang pai yi bu hao de dian ying` (11 syllables)" in shown
    outputs = next(m.value for m in at.markdown if "<table" in m.value)
    for decoder in ("L2R beam", "R2L beam", "bidirectional beam", "L2R beam + R2L rerank", "bigram Viterbi"):
        assert decoder in outputs
    assert "他一直想拍一部好的电影" in outputs  # the reference row
    assert "Characters that differ from the reference are outlined" in shown
    # the inspector: both directions' beams at the middle step, each scored against the other's 4 beams
    assert at.slider(key="bd.step").value == 5
    l2r, r2l = at.dataframe[0].value, at.dataframe[1].value
    assert len(l2r) == len(r2l) == 4
    assert [len(t) for t in l2r["text"]] == [5] * 4 and [len(t) for t in r2l["text"]] == [5] * 4
    assert sum(c.startswith(("1: ", "2: ", "3: ", "4: ")) for c in l2r.columns) == 4
    scorecard = at.dataframe[2].value
    assert len(scorecard) == 8 and "bidirectional beam" in set(scorecard["decoder"])
    lesson = [e.value for e in at.warning] + [e.value for e in at.success]
    assert any("Bidirectional against the better single direction" in s for s in lesson), lesson
    assert len(at.get("plotly_chart")) == 2  # positions; training curves
    assert "[bidirectional link](/bidirectional?" in shown


def test_a_link_reopens_pinyin_a_width_and_a_step(tiny_models):
    at = open_page({"text": "bei jing da xue de xue sheng", "beam": "2", "step": "3"})
    assert at.text_input(key="bd.text").value == "bei jing da xue de xue sheng"
    assert at.number_input(key="bd.beam").value == 2 and at.slider(key="bd.step").value == 3
    assert len(at.dataframe[0].value) == 2
    outputs = next(m.value for m in at.markdown if "<table" in m.value)
    assert "reference" not in outputs and "outline" not in outputs  # nothing to score pinyin against
    assert "text=bei+jing" in texts(at) and "step=3" in texts(at)


@pytest.mark.parametrize(
    ("typed", "says", "kind"),
    [
        ("bei jing zzz", "'zzz' is not a pinyin syllable", "error"),
        ("   ", "the input is empty", "error"),
        ("bei3 jing1 da4 xue2", "the tones of bei3 jing1 da4 xue2 were stripped", "info"),
        (" ".join(["ma"] * 90), "90 syllables is over the limit: cut to the first 80", "info"),
    ],
)
def test_bad_input_gets_a_message(tiny_models, typed, says, kind):
    at = open_page({"text": typed})
    shown = [e.value for e in (at.error if kind == "error" else at.info)]
    assert any(says in s for s in shown), shown
    if kind == "error":
        assert not any("<table" in m.value for m in at.markdown)


def test_a_fresh_lab_shows_what_is_being_prepared(tmp_path, monkeypatch):
    monkeypatch.setenv("KEXUE_LAB_HOME", str(tmp_path / "fresh"))
    monkeypatch.setattr(jobs, "start_worker", lambda: None)
    at = open_page({"text": "bei jing"})
    shown = texts(at) + "\n".join(str(p.value) for p in at.get("progress"))
    assert "The pinyin pairs and baselines come with the first model's training" in shown
    assert "Preparing the pinyin model pinyin-l2r in the background" in shown
    assert jobs.latest("train-pinyin", {"kind": "l2r"}).status == "queued"
