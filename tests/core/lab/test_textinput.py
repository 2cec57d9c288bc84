import json

import pytest

from core.lab import textinput as ti


def test_typed_text_one_sentence_per_line():
    s = ti.from_text("  The dog sat .  \n\n   A   cat ran .\n")
    assert s.sentences == ("The dog sat .", "A cat ran .")


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_or_whitespace_text_is_refused(text):
    with pytest.raises(ti.InputError, match="empty or only whitespace"):
        ti.from_text(text)


def test_too_many_sentences():
    with pytest.raises(ti.InputError, match="at most 500"):
        ti.from_text("\n".join(f"sentence {i}" for i in range(501)))


def test_txt_csv_jsonl_uploads():
    assert ti.from_upload("a.txt", b"one\ntwo\n").sentences == ("one", "two")
    csv_data = b'id,text\n1,"Hello, world"\n2,Second one\n'
    s = ti.from_upload("a.csv", csv_data)
    assert s.sentences == ("Hello, world", "Second one") and s.columns == ("id", "text") and s.column == "text"
    assert ti.from_upload("a.csv", csv_data, column="id").sentences == ("1", "2")
    lines = "\n".join(json.dumps({"text": t, "n": i}) for i, t in enumerate(["x y", "z"]))
    assert ti.from_upload("a.jsonl", lines.encode()).sentences == ("x y", "z")
    assert ti.from_upload("bom.txt", "\ufeffhello".encode()).sentences == ("hello",)


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("a.bin", b"abc", "upload a .txt, .csv or .jsonl"),
        ("a.txt", b"\x00\x01\x02binary", "binary"),
        ("a.txt", "caf\u00e9".encode("latin-1"), "not UTF-8"),
        ("a.txt", b"x" * (ti.MAX_FILE_BYTES + 1), "MB"),
        ("a.txt", b"  \n \n", "empty or only whitespace"),
        ("a.csv", b"id,text\n1,hello\n", None),
        ("a.csv", b"id,body\n1,hello\n", "no text column found"),
        ("a.jsonl", b'{"text": "ok"}\n{"body": "no"}\n', "line 2"),
        ("a.jsonl", b'{"text": "ok"}\nnot json\n', "not valid JSON"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(name, data, message):
    if message is None:
        ti.from_upload(name, data)  # well-formed: must not raise
        return
    with pytest.raises(ti.InputError, match=message):
        ti.from_upload(name, data)


def test_csv_missing_column_names_the_columns():
    with pytest.raises(ti.InputError, match="its columns are id, body"):
        ti.from_upload("a.csv", b"id,body\n1,hello\n", column="text")


def test_raw_corpus_upload():
    text = ("我爱北京天安门。" * 3000).encode()
    lines, source = ti.raw_corpus_from_upload("my corpus.txt", text)
    assert sum(map(len, lines)) == 24000 and source.startswith("upload-my-corpus-")
    assert ti.raw_corpus_from_upload("other.txt", text)[1] != source  # the name is part of the label
    with pytest.raises(ti.InputError, match="needs at least 20,000"):
        ti.raw_corpus_from_upload("small.txt", "我爱北京".encode())
    with pytest.raises(ti.InputError, match="binary"):
        ti.raw_corpus_from_upload("b.txt", b"\x00" * 30000)


def test_csv_without_a_text_column_names_its_columns():
    with pytest.raises(ti.InputError, match="no text column found.*id, label"):
        ti.from_upload("labels.csv", b"id,label\n1,pos\n2,neg\n")


def test_csv_with_one_column_reads_it():
    assert ti.from_upload("one.csv", b"words\nthe cat sat\n").sentences == ("the cat sat",)


def test_typed_corpus_is_named_from_its_first_words_and_time():
    typed = ti.from_text("The old man caught a huge fish yesterday .\nSecond line .")
    name = ti.corpus_name(typed, when=0)
    assert name.startswith("The old man caught a huge...") and "(19" in name
    assert ti.corpus_name(ti.from_upload("mine.txt", b"a b\nc d\n")) == "mine.txt"
    assert ti.corpus_name(ti.from_text("北京大学的学生在图书馆里认真地学习自然语言处理。\n第二句")).startswith(
        "北京大学的学生在图书馆里认真地学..."
    )
