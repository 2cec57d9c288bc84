"""python -m core bidirectional / train-pinyin: JSON out, a Chinese line scored, bad input exits 2 with one line."""

import json

import pytest

from tests.helpers import run_cli


def test_the_bigram_baseline_from_the_command_line(session_home):
    out = run_cli("bidirectional", "bei jing da xue de xue sheng", "--decoder", "bigram", home=session_home)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert set(row) == {"input", "decoder", "output", "score", "steps"}
    assert row["output"] == "北京大学的学生" and row["steps"] == 7 and row["score"] < 0


def test_a_file_of_lines_with_a_neural_decoder(tiny_pinyin, session_home, tmp_path):
    lines = tmp_path / "lines.txt"
    lines.write_text("bei jing da xue\n\n北京大学的学生\n", encoding="utf-8")
    out = run_cli("bidirectional", "--input", str(lines), "--decoder", "bidi", "--beam", "2", home=session_home)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 2 and "reference" not in rows[0]
    assert rows[1]["reference"] == "北京大学的学生" and 0 <= rows[1]["char_accuracy"] <= 1
    assert len(rows[1]["output"]) == 7 and rows[1]["input"] == "bei jing da xue de xue sheng"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["   ", "--decoder", "bigram"], "the input is empty"),
        (["bei jing qqq", "--decoder", "bigram"], "'qqq' is not a pinyin syllable"),
        ([" ".join(["ma"] * 81), "--decoder", "bigram"], "81 syllables is over the limit of 80"),
        (["bei", "--beam", "0"], "--beam must be 1 to 16"),
        (["bei", "--decoder", "sideways"], "invalid choice"),
        (["--decoder", "bigram"], "give pinyin"),
    ],
)
def test_bad_input_exits_2_with_one_line(session_home, args, says):
    out = run_cli("bidirectional", *args, home=session_home)
    assert out.returncode == 2
    assert says in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_a_bad_line_in_a_file_is_named(session_home, tmp_path):
    lines = tmp_path / "bad.txt"
    lines.write_text("bei jing\nni3 hao xyz\n", encoding="utf-8")
    out = run_cli("bidirectional", "--input", str(lines), "--decoder", "bigram", home=session_home)
    assert out.returncode == 2 and "line 2: 'xyz' is not a pinyin syllable" in out.stderr


def test_train_pinyin_refuses_an_unknown_model(session_home):
    out = run_cli("train-pinyin", "--model", "sideways", home=session_home)
    assert out.returncode == 2 and "the model must be one of l2r, r2l, bidi" in out.stderr
