"""Headless page tests (Streamlit AppTest) with a tiny random BERT."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.lab import store
from core.perturbed_masking.figures import word_positions
from tests.conftest import build_tiny_bert
from tests.helpers import TIMEOUT, prepare_now, texts

ROOT = Path(__file__).resolve().parents[2]
PM_PAGE = str(ROOT / "pages" / "perturbed_masking.py")


def pm_app(tiny_bert_dir, **params) -> AppTest:
    at = AppTest.from_file(PM_PAGE, default_timeout=TIMEOUT)
    at.query_params["model"] = str(tiny_bert_dir)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def submit(at, text):
    at.text_area(key="pm.text").input(text)
    next(b for b in at.button if b.label == "Analyse").click()
    return at.run()


def test_router_home_lists_pages_and_saved_analyses():
    saved = store.save("perturbed-masking", "my-corpus.txt", {"model": "minilm-en"}, [("a", b"")])
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "kexue-lab"
    body = texts(at)
    assert "my\\-corpus\\.txt" in body and f"corpus={saved}" in body
    store.delete(saved)


def test_sentence_view_from_a_share_link(tiny_bert_dir):
    at = pm_app(tiny_bert_dir, s="The old man caught a huge fish .", layer="1", decoder="mst").run()
    assert not at.exception, at.exception
    assert at.slider(key="pm.layer").value == 1
    assert at.selectbox(key="pm.decoder").value == "mst"
    labels = [m.label for m in at.metric]
    assert "Probe UAS vs spaCy" in labels and "Right-chain UAS vs spaCy" in labels
    assert len(at.get("plotly_chart")) == 4  # heatmap, arcs, constituency tree, UAS by layer
    assert at.query_params["s"] == "The old man caught a huge fish ."
    assert at.query_params["layer"] == "1"
    code = at.get("code")[0].value
    assert code.startswith("(") and code.count("(") == 7
    assert len(at.get("download_button")) == 8  # matrix, analysis, 2 trees, 4 figures


def test_changing_settings_reruns_without_error(tiny_bert_dir):
    at = pm_app(tiny_bert_dir, s="The dog sat on the mat .").run()
    at.slider(key="pm.layer").set_value(0).run()
    at.selectbox(key="pm.norm").set_value("row").run()
    at.selectbox(key="pm.root").set_value("reference").run()
    at.radio(key="pm.distance").set_value("cosine").run()
    assert not at.exception
    assert at.query_params["distance"] == "cosine" and at.query_params["root"] == "reference"


@pytest.mark.parametrize("text", ["", "    \n  "])
def test_empty_input_shows_a_message(tiny_bert_dir, text):
    at = pm_app(tiny_bert_dir, s="The dog sat .").run()
    at = submit(at, text)
    assert not at.exception
    assert any("empty or only whitespace" in e.value for e in at.error)


def test_long_sentence_is_cut_and_says_so(tiny_bert_dir):
    at = pm_app(tiny_bert_dir).run()
    at = submit(at, " ".join(["the dog sat on the mat"] * 11))  # 66 words
    assert not at.exception
    assert any("cut to its first" in w.value for w in at.warning)


def test_several_lines_make_a_saved_corpus_that_reopens_and_deletes(tiny_bert_dir):
    at = pm_app(tiny_bert_dir).run()
    at = submit(at, "The dog sat on the mat .\nA big cat ran away .\nShe saw the red house .")
    assert not at.exception, at.exception
    corpus_id = at.query_params["corpus"]
    saved = store.get(corpus_id)
    assert saved.n_items == 3 and saved.params["model"] == str(tiny_bert_dir)
    table = at.dataframe(key="pm.corpus.table").value
    assert list(table["sentence"]) == ["The dog sat on the mat .", "A big cat ran away .", "She saw the red house ."]

    again = AppTest.from_file(PM_PAGE, default_timeout=TIMEOUT)
    again.query_params["corpus"] = corpus_id
    again.query_params["row"] = "1"
    again.run()
    assert not again.exception
    assert any("Sentence 2" == h.value for h in again.subheader)
    next(b for b in again.button if b.label == "Delete this saved analysis").click()
    again.run()
    assert store.get(corpus_id) is None


def test_unknown_corpus_and_unknown_model_give_messages(tiny_bert_dir):
    at = AppTest.from_file(PM_PAGE, default_timeout=TIMEOUT)
    at.query_params["corpus"] = "doesnotexist"
    at.run()
    assert not at.exception and any("No saved analysis" in e.value for e in at.error)
    at = AppTest.from_file(PM_PAGE, default_timeout=TIMEOUT)
    at.query_params["model"] = "/no/such/model/folder"
    at.run()
    assert not at.exception and any("No model folder" in e.value for e in at.error)


def test_user_text_is_shown_as_text_not_markup():
    saved = store.save("perturbed-masking", "**bold** <b>x</b> :red[alarm].txt", {"model": "m"}, [("a", b"")])
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    shown = next(m.value for m in at.markdown if "corpus=" + saved in m.value)
    assert "\\*\\*bold\\*\\*" in shown and "\\<b\\>" in shown and "\\:red\\[alarm\\]" in shown
    store.delete(saved)


def test_the_user_can_pick_the_root_word(tiny_bert_dir):
    at = pm_app(tiny_bert_dir, s="The old man caught a huge fish .", root="word", rootword="4").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="pm.root_word").value == 4
    words = ["The", "old", "man", "caught", "a", "huge", "fish", "."]
    arcs = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "Dependency tree" in c.proto.spec)
    root_marker = next(t for t in arcs["data"] if t.get("text") == ["ROOT"])
    assert root_marker["x"] == [word_positions(words)[3]]
    at.selectbox(key="pm.root_word").set_value(3).run()
    assert not at.exception and at.query_params["rootword"] == "3"


def upload(at, name, data, column=""):
    at.file_uploader(key="pm.upload").upload(name, data, "application/octet-stream")
    at.text_input(key="pm.column").input(column)
    next(b for b in at.button if b.label == "Analyse").click()
    return at.run()


@pytest.mark.parametrize(
    "name,data,column,message",
    [
        ("bad.txt", "caf\u00e9 au lait".encode("latin-1"), "", "is not UTF-8 text"),
        ("bad.txt", b"\x00\x01\x02\x03binary", "", "looks like a binary file"),
        ("big.txt", b"word " * 500_000, "", "files up to 2 MB"),
        ("many.txt", "\n".join(f"sentence {i}" for i in range(501)).encode(), "", "at most 500"),
        ("blank.txt", b"   \n\n  ", "", "empty or only whitespace"),
        ("table.csv", b"id,body\n1,the dog sat\n", "text", "its columns are id, body"),
        ("rows.jsonl", b'{"body": "x"}\n', "", 'object with a "text" string'),
    ],
)
def test_bad_uploads_show_a_message(tiny_bert_dir, name, data, column, message):
    at = pm_app(tiny_bert_dir, s="The dog sat .").run()
    at = upload(at, name, data, column)
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_csv_upload_with_a_chosen_column_becomes_a_corpus(tiny_bert_dir):
    at = pm_app(tiny_bert_dir).run()
    at = upload(at, "reviews.csv", b"id,body\n1,The dog sat on the mat .\n2,She saw the red house .\n", "body")
    assert not at.exception, at.exception
    saved = store.get(at.query_params["corpus"])
    assert saved.name == "reviews.csv" and saved.n_items == 2 and saved.params["column"] == "body"


def zh_ready(tiny_bert_dir, corpus=None) -> None:
    """Run the calibration the Chinese view queued, as the worker would (once per encoder and corpus)."""
    from core.perturbed_masking import jobs as pm_jobs

    prep = pm_jobs.calibration(str(tiny_bert_dir), corpus)
    if not prep.ready():
        prepare_now(prep)


def test_chinese_view_waits_for_its_calibration_job(tiny_bert_dir, tmp_path):
    from core.lab import jobs
    from core.perturbed_masking import jobs as pm_jobs

    other = build_tiny_bert(tmp_path / "never-calibrated", seed=3)
    at = pm_app(other, lang="zh", s="我爱北京天安门。").run()
    assert not at.exception, at.exception
    prep = pm_jobs.calibration(str(other))
    job = jobs.latest(prep.kind, prep.params)
    assert job.status == "queued" and f"(job {job.id}): queued" in texts(at)
    assert not at.metric and not at.get("plotly_chart")  # nothing computed in the visitor's run
    jobs.cancel(job.id)


def test_chinese_segmentation_view(tiny_bert_dir):
    pm_app(tiny_bert_dir, lang="zh", s="我爱北京天安门，今天人民很好。").run()
    zh_ready(tiny_bert_dir)
    at = pm_app(tiny_bert_dir, lang="zh", s="我爱北京天安门，今天人民很好。").run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert "Agreement with jieba (F1)" in labels and "Characters unknown to the encoder" in labels
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(specs) == 8 and any("Segmentation" in s for s in specs)  # 4 segmentation + 4 tree figures
    assert any("Su's recursive split tree" in s for s in specs)
    trees = at.get("code")[0].value.splitlines()
    assert trees[0].startswith("Su:") and trees[1].startswith("MART:")
    at.radio(key="pm.zh.words").set_value("jieba").run()
    assert not at.exception
    assert at.query_params["lang"] == "zh" and at.query_params["rule"] == "combined"
    at.radio(key="pm.rule").set_value("stats").run()
    assert not at.exception and at.query_params["rule"] == "stats"
    slider = at.slider(key="pm.threshold.stats")
    slider.set_value(slider.min).run()  # merge everything above the minimum: fewer words
    assert not at.exception and "threshold" in at.query_params
    assert at.metric[0].value == "1"  # the slider's minimum lies below every gap's score: one word


def test_chinese_statistics_from_an_uploaded_corpus(tiny_bert_dir):
    from core.data.peoples_daily import raw_training_text

    zh_ready(tiny_bert_dir)
    at = pm_app(tiny_bert_dir, lang="zh", s="我爱北京天安门。").run()
    at.file_uploader(key="pm.zh.corpus").upload("small.txt", "太少了".encode(), "text/plain")
    at.run()
    assert not at.exception and any("needs at least 20,000" in e.value for e in at.error)
    corpus = "\n".join(raw_training_text()[:1500]).encode()
    at.file_uploader(key="pm.zh.corpus").upload("news.txt", corpus, "text/plain")
    at.run()
    assert not at.exception, at.exception
    assert "(character statistics of upload-news-" in texts(at)  # its own statistics, prepared by the worker
    from core.lab.textinput import raw_corpus_from_upload

    zh_ready(tiny_bert_dir, raw_corpus_from_upload("news.txt", corpus)[1])
    at.run()
    assert not at.exception, at.exception
    assert any("Counting from news\\.txt" in c.value for c in at.caption)
    assert any(m.label == "Agreement with jieba (F1)" for m in at.metric)


def test_layer_zero_says_its_tree_is_a_tie_break(tiny_bert_dir):
    at = pm_app(tiny_bert_dir, s="The dog sat on the mat .", layer="0").run()
    assert not at.exception
    assert any("arbitrary tie-break" in i.value for i in at.info)


def test_probe_panel_queues_a_job_and_checks_the_corpus(monkeypatch):
    from core.lab import jobs

    started = []
    monkeypatch.setattr(jobs, "start_worker", lambda: started.append(True))
    at = AppTest.from_file(PM_PAGE, default_timeout=TIMEOUT)
    at.query_params["model"] = "no-such-model-for-this-test"
    at.run()
    at.radio(key="probe.source").set_value("upload").run()
    at.file_uploader(key="probe.upload").upload("tiny.txt", "太少了。".encode(), "text/plain")
    at.button(key="probe.start").click().run()
    assert not at.exception
    assert any("at least 50,000" in e.value for e in at.error)
    at.radio(key="probe.source").set_value("builtin").run()
    at.selectbox(key="probe.preset").set_value("quick").run()
    at.button(key="probe.start").click().run()
    assert not at.exception, at.exception
    assert any("queued" in s.value for s in at.success) and started
    job = jobs.list_jobs(1)[0]
    assert job.params["preset"] == "quick" and job.params["minutes"] == 10.0 and job.status == "queued"
    assert "job " + str(job.id) in texts(at)
    jobs.cancel(job.id)


def test_probe_panel_follows_a_running_job_and_shows_trained_curves(monkeypatch):
    import json

    from core.lab import jobs
    from core.perturbed_masking import probe as P

    job_id = jobs.submit("train-probe", {"corpus": "peoples-daily", "preset": "default", "minutes": 45.0})
    claimed = jobs._claim_next()
    assert claimed.id == job_id
    jobs._update(
        job_id,
        params=json.dumps({**claimed.params, "name": "probe-zh-live"}),
        message="step 100: loss 6.1",
        progress=0.1,
    )
    folder = P.run_folder("probe-zh-live")
    folder.mkdir(parents=True, exist_ok=True)
    curve = [{"step": 50 * (i + 1), "loss": 8.0 - i, "accuracy": 0.02 * i, "elapsed": 20.0 * i} for i in range(3)]
    (folder / "history.json").write_text(json.dumps({"history": curve}))
    try:
        at = AppTest.from_file(PM_PAGE, default_timeout=TIMEOUT)
        at.query_params["model"] = "no-such-model-for-this-test"
        at.run()
        assert not at.exception, at.exception
        charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        live = [c for c in charts if f"job {job_id}" in c["layout"]["title"]["text"]]
        assert live and live[0]["data"][0]["y"] == [8.0, 7.0, 6.0]
        assert live[0]["data"][1]["y"] == [0.0, 2.0, 4.0]  # accuracy in percent on the right axis
    finally:
        jobs.cancel(job_id)
        jobs._update(job_id, status="cancelled")


def test_several_chinese_lines_make_a_saved_corpus_that_reopens_from_its_link(tiny_bert_dir):
    zh_ready(tiny_bert_dir)
    lines = ["我爱北京天安门。", "今天人民很好。", "中国的人民爱北京。"]
    at = pm_app(tiny_bert_dir, lang="zh").run()
    at = submit(at, "\n".join(lines))
    assert not at.exception, at.exception
    corpus_id = at.query_params["corpus"]
    saved = store.get(corpus_id)
    assert saved.params["lang"] == "zh" and saved.n_items == 3 and saved.name.startswith("我爱北京天安门")
    table = at.dataframe[0].value
    assert list(table["sentence"]) == lines
    assert all("".join(w.split(" / ")) == line for w, line in zip(table["words"], lines, strict=True))
    assert 0 <= saved.summary["jieba_f1"] <= 100
    # The link alone (no lang=) reopens it in Chinese, on the row it names.
    again = AppTest.from_file(PM_PAGE, default_timeout=TIMEOUT)
    again.query_params.update({"corpus": corpus_id, "row": "1", "model": str(tiny_bert_dir)})
    again.run()
    assert not again.exception, again.exception
    assert again.radio(key="pm.lang").value == "zh" and "Line 2" in [s.value for s in again.subheader]
    assert any(m.label == "Agreement with jieba (F1)" for m in again.metric)
    home = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert f"corpus={corpus_id}&lang=zh" in texts(home)
    store.delete(corpus_id)
