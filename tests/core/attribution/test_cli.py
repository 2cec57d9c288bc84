"""python -m core ig: the JSON contract and one-line errors."""

import json

import pytest
from PIL import Image

from tests.helpers import run_cli

KEYS = {"model", "tokens", "attributions", "label", "probability", "method", "steps", "completeness_gap"}


def test_ig_prints_the_contract(trained_classifiers):
    out = run_cli("ig", "--model", "zh-sentiment", "这本书写得真好", home=trained_classifiers)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # TensorFlow's start-up chatter is kept off stderr
    obj = json.loads(out.stdout)
    assert KEYS <= set(obj)
    assert obj["tokens"] == list("这本书写得真好") and len(obj["attributions"]) == 7
    assert obj["label"] in ("positive", "negative") and obj["method"] == "ig" and obj["steps"] == 50
    assert obj["completeness_gap"] < 0.01
    assert sum(obj["attributions"]) == pytest.approx(obj["f_input"] - obj["f_baseline"], rel=0.01, abs=1e-5)


def test_ig_methods_and_files(trained_classifiers, tmp_path):
    f = tmp_path / "s.txt"
    f.write_text("a gorgeous film\nutterly boring\n")
    out = run_cli("ig", "--model", "en-sentiment", "--input", str(f), "--method", "blog", home=trained_classifiers)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["tokens"] for r in rows] == [["a", "gorgeous", "film"], ["utterly", "boring"]]
    assert all(r["method"] == "blog" and r["steps"] == 20 and max(r["attributions"]) == 1.0 for r in rows)
    out = run_cli(
        "ig",
        "--model",
        "en-sentiment",
        "fine",
        "--method",
        "grad-x-input",
        "--baseline",
        "mask",
        "--label",
        "negative",
        home=trained_classifiers,
    )
    obj = json.loads(out.stdout)
    assert obj["label"] == "negative" and obj["baseline"] == "mask" and obj["steps"] == 1


def test_ig_on_an_image(trained_classifiers, tmp_path):
    path = tmp_path / "shirt.png"
    img = Image.new("L", (56, 56), color=0)
    img.paste(255, (14, 10, 42, 50))
    img.save(path)
    out = run_cli("ig", "--image", str(path), "--steps", "16", "--baseline", "blurred", home=trained_classifiers)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert obj["model"] == "fashion-mnist-cnn" and obj["steps"] == 16 and obj["baseline"] == "blurred"
    assert len(obj["attributions"]) == 28 and len(obj["attributions"][0]) == 28


@pytest.mark.parametrize(
    "args, message",
    [
        (("ig", ""), "empty"),
        (("ig", "很好", "--steps", "0"), "--steps"),
        (("ig", "很好", "--method", "lime"), "invalid choice"),
        (("ig", "很好", "--baseline", "mask"), "baselines"),
        (("ig", "很好", "--label", "neutral"), "--label"),
        (("ig", "--model", "fashion-mnist-cnn", "很好"), "image"),
        (("ig", "--image", "/no/such.png"), "no such file"),
        (("ig", "--model", "/no/such/folder", "hi"), "No model folder"),
    ],
)
def test_ig_bad_input_exits_2_with_one_line(trained_classifiers, args, message):
    out = run_cli(*args, home=trained_classifiers)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_ig_rejects_a_file_that_is_not_an_image(trained_classifiers, tmp_path):
    bad = tmp_path / "fake.png"
    bad.write_bytes(b"plain text")
    out = run_cli("ig", "--image", str(bad), home=trained_classifiers)
    assert out.returncode == 2 and "not an image" in out.stderr and len(out.stderr.strip().splitlines()) == 1
