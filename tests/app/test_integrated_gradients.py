"""AppTest of the integrated-gradients page with the quick classifiers trained in the session."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.helpers import TIMEOUT, texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "integrated_gradients.py")


def ig_app(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"steps": "16", **params})
    return at


def specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def submit(at, text):
    at.text_area(key="ig.text").input(text)
    next(b for b in at.button if b.label == "Analyse").click()
    return at.run()


def test_default_view_explains_the_example(trained_classifiers):
    at = ig_app().run()
    assert not at.exception, at.exception
    labels = {m.label: m.value for m in at.metric}
    assert labels["Prediction"] in ("positive", "negative")
    assert "Completeness gap" in labels and labels["Completeness gap"].endswith("%")
    heat = next(s for s in specs(at) if "Red pushes" in s)
    missing = [m for m in ("Integrated gradients", "Su's variant", "Gradient x input") if m not in heat]
    assert not missing, f"methods missing from the heatmap: {missing}"
    assert any("along the integration path" in s for s in specs(at))
    assert at.query_params["model"] == "zh-sentiment" and at.query_params["steps"] == "16"
    assert "held-out accuracy" in at.expander[0].label


def test_share_link_settings_and_an_english_sentence(trained_classifiers):
    at = ig_app(
        model="en-sentiment", text="a <b>gorgeous</b> film", baseline="mask", rule="trapezoid", label="negative"
    ).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="ig.baseline.text").value == "mask"
    assert at.selectbox(key="ig.label").value == "negative"
    labels = {m.label: m.value for m in at.metric}
    predicted = {m.label: m.value for m in ig_app(model="en-sentiment", text="a <b>gorgeous</b> film").run().metric}
    expected = "negative" if predicted["Prediction"] == "negative" else "negative (chosen)"
    assert labels["Prediction"] == expected
    assert "a \\<b\\>gorgeous\\</b\\> film" in texts(at)  # shown as text, not markup
    heat = json.loads(next(s for s in specs(at) if "Red pushes" in s))
    cells = heat["data"][0]["text"][0]
    assert "&lt;" in cells and "<" not in cells and "gorgeous" in cells


def test_steps_slider_and_convergence_chart(trained_classifiers):
    at = ig_app(steps="2", rule="left").run()
    gap_low_steps = next(m.value for m in at.metric if m.label == "Completeness gap")
    at.slider(key="ig.steps").set_value(128).run()
    assert not at.exception
    gap_many = next(m.value for m in at.metric if m.label == "Completeness gap")
    assert float(gap_many.rstrip("%")) < float(gap_low_steps.rstrip("%"))
    assert at.query_params["steps"] == "128"
    at.toggle(key="ig.converge").set_value(True).run()
    assert not at.exception and any("Completeness gap |sum IG" in s for s in specs(at))


@pytest.mark.parametrize("text, message", [("   ", "empty"), ("\n \n", "empty"), ("\n".join(["好"] * 501), "500")])
def test_bad_sentences_show_a_message(trained_classifiers, text, message):
    at = submit(ig_app().run(), text)
    assert not at.exception
    assert at.error, texts(at)
    assert message in at.error[0].value


def test_a_corpus_gives_a_table_and_rows_open(trained_classifiers):
    at = submit(ig_app().run(), "很好\n太差了\n一般般吧")
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert list(frame["sentence"]) == ["很好", "太差了", "一般般吧"]
    assert set(frame["label"]) <= {"positive", "negative"} and {"top tokens", "gap"} <= set(frame.columns)


def test_too_long_input_is_cut(trained_classifiers):
    at = submit(ig_app().run(), "好" * 500)
    assert not at.exception
    assert "cut to its first 400 tokens" in texts(at)


def test_unknown_classifier_gives_a_message(trained_classifiers):
    at = ig_app(model="/no/such/classifier").run()
    assert not at.exception
    assert "No model folder" in at.error[0].value


def image_bytes() -> bytes:
    buf = io.BytesIO()
    img = Image.new("L", (40, 40), color=255)
    img.paste(0, (10, 5, 30, 35))
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_image_path_with_test_image_upload_and_bad_upload(trained_classifiers):
    at = ig_app(model="fashion-mnist-cnn", image="7", baseline="blurred").run()
    assert not at.exception, at.exception
    assert at.number_input(key="ig.image").value == 7
    assert any("test image #7" in s and "overlay" in s for s in specs(at))
    assert at.query_params["image"] == "7" and at.query_params["baseline"] == "blurred"
    at.file_uploader(key="ig.upload").upload("mine.png", image_bytes(), "image/png")
    at.run()
    assert not at.exception and any("your image mine.png" in s for s in specs(at))
    at.file_uploader(key="ig.upload").upload("fake.png", b"not an image", "image/png")
    at.run()
    assert not at.exception and any("not an image" in e.value for e in at.error)
