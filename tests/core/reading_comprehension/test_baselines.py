"""The heuristic baselines on a passage small enough to check by hand, and the metrics' arithmetic."""

import math

import pytest

from core.reading_comprehension.baselines import auc, char_f1, exact_match, frequent, lexical, question_kind

PASSAGE = "江泽民在北京会见了客人。李鹏在上海视察工厂。李鹏说，上海的工厂很好。新华社报道了这次视察。"


def test_the_question_word_gives_the_type():
    assert question_kind("谁在北京会见了客人？") == "person"
    assert question_kind("哪个机构报道了这次视察？") == "organisation"
    assert question_kind("李鹏在哪里视察工厂？") == "place"
    assert question_kind("今天天气好吗？") is None


def test_frequent_takes_the_most_named_entity_of_the_type():
    assert frequent(PASSAGE, "谁来了？") == "李鹏"  # 李鹏 twice, 江泽民 once
    assert frequent(PASSAGE, "他去了哪里？") == "上海"
    assert frequent("今天天气很好。", "谁来了？") == ""


def test_lexical_takes_the_entity_whose_surroundings_match_the_question():
    # 会见 and 客人 stand next to 江泽民, not 李鹏 (who is named more often)
    assert lexical(PASSAGE, "谁会见了客人？") == "江泽民"
    assert lexical(PASSAGE, "谁视察工厂？") == "李鹏"
    assert lexical(PASSAGE, "江泽民在哪里会见客人？") == "北京"


def test_metrics_by_hand():
    assert exact_match("北京", "北京") == 1.0 and exact_match("北京市", "北京") == 0.0
    # 北京市 vs 北京: 2 shared characters, precision 2/3, recall 1 -> F1 0.8
    assert char_f1("北京市", "北京") == pytest.approx(0.8)
    assert char_f1("", "北京") == 0.0 and char_f1("上海", "北京") == 0.0
    assert auc([0.9, 0.8, 0.3, 0.1], [True, False, True, False]) == pytest.approx(0.75)
    assert auc([0.5, 0.5], [True, False]) == pytest.approx(0.5)
    assert math.isnan(auc([0.5], [True]))
