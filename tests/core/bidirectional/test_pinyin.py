"""Reading what a visitor types: syllables, run-together pinyin, tones stripped with a note, Chinese text
with its reference, the limit, and the errors that name the offending syllable."""

import pytest

from core.bidirectional.pinyin import MAX_SYLLABLES, PinyinError, parse, split_run, syllables, to_pinyin


def test_the_inventory_is_toneless_pinyin():
    inventory = syllables()
    assert 400 <= len(inventory) <= 440
    assert {"bei", "jing", "zhuang", "lv", "nv", "er", "a"} <= inventory
    assert not any(any(ch.isdigit() for ch in s) for s in inventory)


def test_plain_and_run_together_pinyin():
    assert parse("bei jing da xue de xue sheng").syllables == ["bei", "jing", "da", "xue", "de", "xue", "sheng"]
    assert parse("BeiJing  daxue").syllables == ["bei", "jing", "da", "xue"]
    assert split_run("xian") == ["xian"]  # the fewest syllables: one, not xi + an
    assert parse("xi'an").syllables == ["xi", "an"]
    assert parse("lü nü").syllables == ["lv", "nv"]
    assert parse("bei jing").notes == [] and parse("bei jing").reference is None


@pytest.mark.parametrize("typed", ["bei3 jing1", "běi jīng"])
def test_tones_are_stripped_and_said(typed):
    parsed = parse(typed)
    assert parsed.syllables == ["bei", "jing"]
    assert len(parsed.notes) == 1 and "stripped" in str(parsed.notes[0]) and typed.split()[0] in str(parsed.notes[0])


def test_chinese_text_is_converted_and_becomes_the_reference():
    parsed = parse("北京大学的学生！")
    assert parsed.syllables == ["bei", "jing", "da", "xue", "de", "xue", "sheng"]
    assert parsed.reference == "北京大学的学生"
    assert "1 characters" in str(parsed.notes[0])
    assert to_pinyin("绿色") == ["lv", "se"]


def test_over_the_limit_is_cut_and_said():
    parsed = parse(" ".join(["ma"] * (MAX_SYLLABLES + 5)))
    assert len(parsed.syllables) == MAX_SYLLABLES
    assert "cut to the first 80" in str(parsed.notes[-1])
    chinese = parse("好" * 90)
    assert len(chinese.reference) == len(chinese.syllables) == MAX_SYLLABLES


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("bei jing zzz", "'zzz' is not a pinyin syllable"),
        ("hello world", "'hello' is not a pinyin syllable"),
        ("bei ji#ng", "'ji#ng' is not pinyin"),
    ],
)
def test_bad_input_names_the_syllable(typed, says):
    with pytest.raises(PinyinError, match=says):
        parse(typed)
