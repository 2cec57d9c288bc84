"""AppTest of the decoding page with a tiny LSTM saved as if trained here: the stored table's view, a live prompt
with the step inspector, share links, and bad input (empty prompt, unknown model, bad link values, a failed job)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.decoding.table import default_prompts
from tests.helpers import TIMEOUT, texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "decoding.py")
MODEL = "lstm-apptest-softmax"
HELD_OUT = ["今天我们去公园玩吧他说", "他说这本书很有意思吗", "明天会下雨吗今天我们", "我们去公园玩吧他说这"]


def save_tiny_lstm(name: str, eos_bias: float = -3.0) -> None:
    """A tiny random LSTM in the lab home as the trainer leaves one (weights, vocabulary, held-out text, card)."""
    from core.decoding import training
    from tests.core.decoding.test_generation import lstm_lm

    lm = lstm_lm(eos_bias=eos_bias)
    folder = training.model_folder(name)
    folder.mkdir(parents=True, exist_ok=True)
    lm.model.save_pretrained(str(folder))
    lm.vocab.save(folder / "vocab.json")
    (folder / "held_out.json").write_text(json.dumps(HELD_OUT, ensure_ascii=False))
    card = {"id": name, "output": "softmax", "perplexity": 25.0, "steps": 1, "minutes": 0.0, "history": []}
    (folder / "card.json").write_text(json.dumps(card))


@pytest.fixture(scope="module")
def tiny_lstm(session_home):
    from core.decoding.table import TableSpec, compute_table

    save_tiny_lstm(MODEL)
    compute_table(TableSpec(model=MODEL, max_new_tokens=300))  # the page's table for L = 300
    return MODEL


def app(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"model": MODEL, "L": "300", **params})
    return at


def charts(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def test_a_prompt_of_the_set_opens_from_the_stored_table(tiny_lstm):
    at = app(p="1").run()
    assert not at.exception, at.exception
    shown = texts(at)
    prompt = default_prompts(MODEL)[1]
    assert f"**Prompt:** {prompt}" in shown and prompt[:5] in "".join(HELD_OUT)  # a held-out prefix
    for name in ("greedy", "beam 4", "nucleus 0.2", "consistent nucleus 0.2"):
        assert f"**{name}**" in shown
    assert any("p(EOS) at every step" in s for s in charts(at))
    assert any("Share still running after t steps" in s for s in charts(at))
    table = at.dataframe[0].value
    assert len(table) == 7 and list(table["decoder"])[:2] == ["greedy", "beam 4"]
    assert set(table["r_L"]) <= {0.0, 0.25, 0.5, 0.75, 1.0}  # four prompts
    assert "decoding?model=lstm-apptest-softmax" in shown and "p=1" in shown


def test_your_own_prompt_is_decoded_live_with_the_step_inspector(tiny_lstm):
    at = app(p="own", decoders="greedy,topk:2,consistent-topk:2").run()
    assert not at.exception, at.exception
    at.text_area(key="dec.prompt.text").set_value("明天会下雨")
    at.button(key="FormSubmitter:dec.form-Decode").click().run()
    assert not at.exception, at.exception
    assert "**consistent top-k 2**" in texts(at)
    assert any("the model's most likely tokens" in s for s in charts(at))
    at.selectbox(key="dec.inspect.decoder").set_value("topk:2").run()
    at.number_input(key="dec.step").set_value(2).run()
    assert not at.exception, at.exception
    assert any("Step 2: the model's most likely tokens" in s for s in charts(at))
    assert at.query_params["prompt"] == "明天会下雨" and at.query_params["p"] == "own"


def test_an_empty_prompt_says_so_and_keeps_the_page(tiny_lstm):
    at = app(p="own").run()
    at.text_area(key="dec.prompt.text").set_value("   ")
    at.button(key="FormSubmitter:dec.form-Decode").click().run()
    assert not at.exception, at.exception
    assert any("The prompt is empty" in e.value for e in at.error)
    assert at.dataframe  # the prompt-set table is still there


def test_bad_link_values_fall_back_and_an_unknown_model_is_a_message(tiny_lstm):
    at = app(p="9", L="99999", decoders="greedy,beam:1,wat", seed="-4").run()
    assert not at.exception, at.exception
    assert at.number_input(key="dec.limit").value == 2048
    assert at.multiselect(key="dec.decoders").value == ["greedy"]
    assert at.selectbox(key="dec.prompt.pick").value == 3  # the last of the four prompts
    at = app(model="lstm-not-trained-anywhere").run()
    assert not at.exception, at.exception
    assert any("has not been trained on this machine" in e.value for e in at.error)
    at = app(model="/no/such/folder/or-model").run()
    assert not at.exception and at.error


def test_a_failed_table_job_shows_its_reason(tiny_lstm, monkeypatch):
    from core.decoding import table as tables
    from core.lab import jobs
    from core.lab.errors import BadArgument

    at = app(p="0", decoders="greedy,ancestral").run()
    at.toggle(key="dec.custom").set_value(True).run()
    assert not at.exception, at.exception
    assert any("Preparing the prompt-set table of lstm-apptest-softmax" in i.value for i in at.info)
    job = next(j for j in jobs.list_jobs(5) if j.kind == "decode-table" and j.status == "queued")

    def broken(*_a, **_k):
        raise BadArgument("the model ran out of patience")

    monkeypatch.setattr(tables, "compute_table", broken)
    jobs.run_one(job.id)
    at.run()
    assert any("failed: the model ran out of patience" in e.value for e in at.error)
