import json

import pytest

from core.perturbed_masking import parsing
from tests.helpers import run_cli


def test_parse_prints_one_json_object(tiny_bert_dir, lab_home):
    out = run_cli(
        "parse", "The old man caught a huge fish .", "--model", str(tiny_bert_dir), "--layer", "1", home=lab_home
    )
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert {"model", "layer", "words", "heads", "tree", "uas_vs_spacy", "right_chain_uas"} <= set(obj)
    assert obj["layer"] == 1 and len(obj["heads"]) == len(obj["words"]) == 8
    assert parsing.is_tree(obj["heads"])
    assert obj["tree"].count("(") == 7  # a binary tree over 8 words


def test_impact_matrix_and_jsonl_input(tiny_bert_dir, lab_home, tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text('{"text": "the dog sat ."}\n{"text": "a cat ran"}\n')
    out = run_cli("impact", "--input", str(f), "--model", str(tiny_bert_dir), "--layer", "2", home=lab_home)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["words"] for r in rows] == [["the", "dog", "sat", "."], ["a", "cat", "ran"]]
    m = rows[0]["matrix"]
    assert len(m) == 4 and all(len(r) == 4 for r in m) and all(m[i][i] == 0 for i in range(4))
    assert rows[0]["layer"] == 2


def test_output_file(tiny_bert_dir, lab_home, tmp_path):
    target = tmp_path / "out.jsonl"
    out = run_cli("parse", "the dog sat", "--model", str(tiny_bert_dir), "--output", str(target), home=lab_home)
    assert out.returncode == 0 and out.stdout == ""
    assert json.loads(target.read_text())["words"] == ["the", "dog", "sat"]


@pytest.mark.parametrize(
    "args",
    [
        ("parse", ""),
        ("parse",),
        ("parse", "the dog", "--layer", "99"),
        ("parse", "the dog", "--decoder", "cky"),
        ("parse", "the dog", "--root", "verb"),
        ("impact", "--input", "/no/such/file.txt"),
        ("parse", "the dog", "--model", "/no/such/model/folder"),
        ("parse", "the dog", "--model", "nobody/no-such-model"),
        ("frobnicate",),
    ],
)
def test_bad_input_exits_2_with_one_line(args, tiny_bert_dir, lab_home):
    args = [a if a != "--layer" else a for a in args]
    if "--model" not in args and args[0] != "frobnicate":
        args = [*args, "--model", str(tiny_bert_dir)]
    out = run_cli(*args, home=lab_home)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_binary_input_file(tiny_bert_dir, lab_home, tmp_path):
    f = tmp_path / "x.txt"
    f.write_bytes(b"\x00\x01binary")
    out = run_cli("parse", "--input", str(f), "--model", str(tiny_bert_dir), home=lab_home)
    assert out.returncode == 2 and "binary" in out.stderr


def test_segment_prints_words_and_distances(tiny_bert_dir, lab_home):
    out = run_cli("segment", "我爱北京天安门。", "--model", str(tiny_bert_dir), home=lab_home)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert {"model", "layer", "words", "distances"} <= set(obj)
    assert "".join(obj["words"]) == "我爱北京天安门。"
    assert len(obj["distances"]) == 7


@pytest.mark.parametrize(
    "args",
    [
        ("segment", "  "),
        ("segment", "我爱北京", "--eval", "peoples-daily"),
        ("segment", "--eval", "peoples-daily", "--n", "0"),
        ("segment", "--eval", "somewhere-else"),
        ("segment", "我爱北京", "--rule", "magic"),
    ],
)
def test_segment_bad_input_exits_2(args, tiny_bert_dir, lab_home):
    out = run_cli(*args, "--model", str(tiny_bert_dir), home=lab_home)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_vae_train_and_encode(lab_home, tmp_path):
    out = run_cli("vae", "train", "--data", "digits", "--epochs", "2", "--latent", "2", home=lab_home)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert {"data", "epochs", "latent", "test_elbo", "test_reconstruction", "test_kl", "seconds"} <= set(obj)
    assert obj["test_elbo"] == pytest.approx(-(obj["test_reconstruction"] + obj["test_kl"]), abs=0.01)
    from PIL import Image

    img = tmp_path / "shoe.png"
    Image.new("L", (40, 40), color=30).save(img)
    enc = run_cli("vae", "encode", str(img), "--data", "digits", "--epochs", "2", home=lab_home)
    assert enc.returncode == 0, enc.stderr
    codes = json.loads(enc.stdout)
    assert len(codes["mu"]) == 2 and all(s > 0 for s in codes["sigma"])


@pytest.mark.parametrize(
    "args", [("vae", "encode"), ("vae", "train", "--latent", "0"), ("vae", "train", "--data", "cifar")]
)
def test_vae_bad_input_exits_2(args, lab_home):
    out = run_cli(*args, home=lab_home)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1


def test_vae_encode_refuses_a_non_image(lab_home, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    out = run_cli("vae", "encode", str(bad), "--data", "digits", "--epochs", "2", home=lab_home)
    assert out.returncode == 2 and "not an image" in out.stderr
