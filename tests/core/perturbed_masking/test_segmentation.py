import math

import numpy as np
import pytest

from core.perturbed_masking import char_stats as C
from core.perturbed_masking import impact as pm
from core.perturbed_masking import segmentation as S


def test_words_from_merges_and_spans():
    assert S.words_from_merges(list("我爱北京"), [False, False, True]) == ["我", "爱", "北京"]
    assert S.words_from_merges([], []) == []
    assert S.word_spans(["我", "爱", "北京"]) == {(0, 1), (1, 2), (2, 4)}


def test_score_hand_computed():
    # gold 我|爱|北京|天安门 ; predicted 我爱|北京|天安|门 -> 1 of 4 predicted spans right (北京)
    s = S.score([["我爱", "北京", "天安", "门"]], [["我", "爱", "北京", "天安门"]])
    assert s.precision == pytest.approx(25.0) and s.recall == pytest.approx(25.0) and s.f1 == pytest.approx(25.0)
    perfect = S.score([["我", "爱"]], [["我", "爱"]])
    assert perfect.f1 == 100.0


def test_sentence_z_and_best_threshold():
    z = S.sentence_z(np.array([1.0, 2.0, 3.0]))
    assert z.mean() == pytest.approx(0) and z.std() == pytest.approx(1)
    assert (S.sentence_z(np.array([2.0, 2.0])) == 0).all()
    chars = [list("我爱北京"), list("天安门")]
    gold = [["我", "爱", "北京"], ["天安门"]]
    scores = [np.array([0.1, 0.2, 0.9]), np.array([0.8, 0.95])]
    t, f1 = S.best_threshold(scores, chars, gold)
    assert 0.2 <= t < 0.8 and f1 == 100.0


def test_char_stats_hand_computed():
    stats = C.count_stats(["abab", "abc"])
    assert stats.unigrams == {"a": 3, "b": 3, "c": 1} and stats.n_chars == 7
    assert stats.bigrams == {"ab": 3, "ba": 1, "bc": 1}
    assert stats.right_entropy["a"] == pytest.approx(0.0)  # a is always followed by b
    assert stats.right_entropy["b"] == pytest.approx(math.log(2))  # b -> a or c
    assert stats.left_entropy["b"] == pytest.approx(0.0)  # b always follows a
    f = C.gap_features(stats, list("abc"))
    assert f.shape == (2, len(C.FEATURES))
    pmi_ab = math.log((3 + 0.5) / 7) - 2 * math.log((3 + 0.5) / (7 + 0.5 * 3))
    assert f[0, 0] == pytest.approx(pmi_ab)
    assert f[0, 1] == pytest.approx(0.0)  # right entropy of "a"
    assert f[1, 1] == pytest.approx(math.log(2))  # right entropy of "b" at the gap b|c


def test_stats_cache_round_trip(lab_home):
    lines = ["我爱北京", "北京天安门"]
    first = C.cached_stats(lines, "t")
    again = C.cached_stats(lines, "t")
    assert again.bigrams == first.bigrams
    assert any((lab_home / "char-stats").iterdir())


def test_neighbour_distances_are_the_impact_matrix_next_to_the_diagonal(tiny_encoder):
    text = "我爱北京天安门"
    d = S.neighbour_distances(tiny_encoder, text)
    pieces = S.char_pieces(tiny_encoder, text)
    m = pm.impact_matrices(tiny_encoder, pieces).matrices
    expected = np.stack([(m[:, i, i + 1] + m[:, i + 1, i]) / 2 for i in range(len(text) - 1)], axis=1)
    np.testing.assert_allclose(d.distances, expected, atol=1e-5)
    assert d.chars == tuple(text) and d.unknown_chars == 0


def test_unknown_characters_are_counted(tiny_encoder):
    d = S.neighbour_distances(tiny_encoder, "我爱龘")
    assert d.unknown_chars == 1 and d.distances.shape == (3, 2)


@pytest.fixture(scope="module")
def small_stats():
    from core.data.peoples_daily import slices

    return C.count_stats(["".join(s) for s in slices().training[:3000]], "pd-train-3000")


@pytest.fixture(scope="module")
def tiny_calibration(tiny_encoder, small_stats):
    from core.data.peoples_daily import slices

    return S.calibrate(tiny_encoder, small_stats, slices().calibration[:40])


def test_calibration_fits_every_rule(tiny_calibration, tiny_encoder):
    cal = tiny_calibration
    assert cal.model == tiny_encoder.id and cal.layers == (1, 2)
    assert set(cal.weights) == {"combined", "probe", "stats"}
    n_stats = len(C.FEATURES)
    assert len(cal.weights["stats"]) == 3 * n_stats  # features, then their contrast with each side
    assert len(cal.weights["probe"]) == 3 * len(cal.layers)
    assert len(cal.weights["combined"]) == 3 * (n_stats + len(cal.layers))
    assert cal.thresholds["blog"] == S.BLOG_THRESHOLD
    # Statistics counted from real text beat splitting every character even on 40 sentences.
    assert cal.calibration_f1["stats"] > 45


@pytest.mark.parametrize("rule", S.RULES)
def test_segment_keeps_every_character(rule, tiny_calibration, tiny_encoder, small_stats):
    text = "我爱北京天安门，今天人民很好。"
    result = S.segment(text, rule, tiny_calibration, tiny_encoder, small_stats)
    assert "".join(result.words) == text
    assert len(result.scores) == len(text) - 1
    assert result.rule == rule


def test_evaluate_reports_rule_and_references(tiny_calibration, tiny_encoder, small_stats):
    from core.data.peoples_daily import slices

    out = S.evaluate(tiny_encoder, small_stats, tiny_calibration, slices().evaluation[:20], "stats")
    assert set(out) == {
        "n_sentences",
        "precision",
        "recall",
        "f1",
        "jieba_f1",
        "every_char_f1",
        "stats_f1",
        "rule",
        "model",
    }
    assert out["n_sentences"] == 20 and out["f1"] == out["stats_f1"]
    assert out["jieba_f1"] > out["every_char_f1"]


def test_calibration_is_stored_and_reloaded(tiny_encoder, small_stats):
    from core.data.peoples_daily import slices

    first = S.load_or_calibrate(tiny_encoder, small_stats, slices().calibration[:10])
    again = S.load_or_calibrate(tiny_encoder, small_stats)  # from the file: no sentences needed
    assert again == first
    path = S.calibration_path(tiny_encoder.id, small_stats.source)
    path.write_text("{not json")
    rebuilt = S.load_or_calibrate(tiny_encoder, small_stats, slices().calibration[:10])
    assert rebuilt.weights == first.weights


def test_merge_labels_and_contrast():
    assert S.merge_labels(["我", "北京", "天安门"]) == [False, True, False, True, True]
    c = S.contrast(np.array([0.0, 2.0, 0.0]))
    assert c.tolist() == [[0.0, -2.0], [2.0, 2.0], [-2.0, 0.0]]


def test_segment_corpus_rows_and_a_pooled_jieba_score(tiny_calibration, tiny_encoder, small_stats):
    texts = ["我爱北京天安门。", "今天人民很好。"]
    seen = []
    rows, summary = S.segment_corpus(
        tiny_encoder, texts, tiny_calibration, small_stats, progress=lambda f, m: seen.append(f)
    )
    assert [r["text"] for r in rows] == texts and seen[-1] == 1.0
    for row, text in zip(rows, texts, strict=True):
        assert "".join(row["words"]) == text and row["jieba"] == S.jieba_words(text)
        assert row["jieba_f1"] == round(S.score([row["words"]], [row["jieba"]]).f1, 1)
    pooled = S.score([r["words"] for r in rows], [r["jieba"] for r in rows]).f1
    assert summary == {"rule": "combined", "jieba_f1": round(pooled, 1)}
