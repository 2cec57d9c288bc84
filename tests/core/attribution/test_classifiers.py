"""The classifiers: training mechanics, storage, tokenization, baselines, and IG through the real models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.attribution import classifiers as C
from core.attribution import explain
from core.attribution import ig as A


@pytest.mark.parametrize("model_id", list(C.CLASSIFIERS))
def test_records_hold_accuracy_and_the_bag_of_words_baselines(trained_classifiers, model_id):
    record = C.trained_record(model_id)
    assert record is not None and 0 < record.accuracy <= 1
    assert record.baselines and all(0 < v <= 1 for v in record.baselines.values())
    assert record.n_train > 0 and record.n_test > 0


def test_the_zh_record_counts_its_split(trained_classifiers):
    assert C.trained_record("zh-sentiment").n_train == 960  # 80% of the first 1,200 deduplicated reviews


def test_zh_split_has_no_review_on_both_sides():
    split = C.zh_reviews_split()
    assert not set(split.train) & set(split.test) and not set(split.train) & set(split.val)
    assert len(split.train) + len(split.val) + len(split.test) == len(set(split.train + split.val + split.test))


def test_char_cnn_tokens_baselines_and_completeness(trained_classifiers):
    clf = C.load_classifier("zh-sentiment")
    tok = clf.tokenize("这本书写得真好\n")
    assert tok.tokens == list("这本书写得真好") and tok.embeddings.shape == (7, clf.table.shape[1])
    probs = clf.predict([tok.text, "很差"])
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    assert np.array_equal(clf.baseline(tok, "zero"), np.zeros_like(tok.embeddings))
    np.testing.assert_array_equal(clf.baseline(tok, "pad")[3], clf.table[0])
    assert clf.baseline(tok, "random").shape == (C.RANDOM_BASELINES, 7, clf.table.shape[1])
    with pytest.raises(C.ClassifierError, match="mask"):
        clf.baseline(tok, "mask")
    e = explain.explain_text(clf, tok.text, steps=64)
    assert e.results["ig"].relative_gap < 0.01
    assert e.probability == pytest.approx(float(probs[0].max()), abs=1e-5)
    assert e.results["ig"].f_input == pytest.approx(e.probability, abs=1e-5)
    assert len(e.scores["ig"]) == 7 and np.max(e.scores["blog"]) == pytest.approx(1.0)


def test_long_input_is_cut_and_counted(trained_classifiers):
    clf = C.load_classifier("zh-sentiment")
    tok = clf.tokenize("好" * (clf.max_tokens + 10) + "☃")
    assert tok.truncated and len(tok.tokens) == clf.max_tokens
    assert clf.tokenize("☃☃好").unknown == 2


@pytest.mark.parametrize("name", ["zero", "pad", "mask"])
def test_encoder_head_baselines_keep_the_special_tokens(trained_classifiers, name):
    clf = C.load_classifier("en-sentiment")
    tok = clf.tokenize("a gorgeous and witty film")
    np.testing.assert_array_equal(clf.baseline(tok, name)[[0, 6]], tok.embeddings[[0, 6]])


def test_encoder_head_keeps_special_tokens_and_adds_up(trained_classifiers):
    clf = C.load_classifier("en-sentiment")
    tok = clf.tokenize("a gorgeous and witty film")
    assert tok.tokens == ["a", "gorgeous", "and", "witty", "film"]
    assert (tok.content.start, tok.content.stop) == (1, 6) and len(tok.embeddings) == 7  # [CLS] ... [SEP]
    np.testing.assert_array_equal(clf.baseline(tok, "mask")[2], clf.table[clf.tokenizer.mask_token_id])
    e = explain.explain_text(clf, tok.text, ["ig", "gradient"], steps=50)
    ig = e.results["ig"]
    assert ig.relative_gap < 0.01
    assert np.all(ig.scores[[0, 6]] == 0)  # special tokens never move
    assert sum(e.scores["ig"]) == pytest.approx(ig.total, abs=1e-9)  # per-token sums keep completeness


def test_any_sequence_classifier_folder(tmp_path, tiny_bert_dir):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    config = BertConfig.from_pretrained(str(tiny_bert_dir), num_labels=3, id2label={0: "a", 1: "b", 2: "c"})
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(str(tmp_path))
    AutoTokenizer.from_pretrained(str(tiny_bert_dir)).save_pretrained(str(tmp_path))
    clf = C.load_classifier(str(tmp_path))
    assert clf.labels == ("a", "b", "c") and clf.baselines == ("zero", "pad", "mask", "random")
    e = explain.explain_text(clf, "the dog sat on the mat", ["ig"], steps=50, output="logit", label=2)
    assert e.label_name == "c" and e.results["ig"].relative_gap < 0.01
    summary = e.summary("ig")
    assert set(summary) >= {
        "model",
        "tokens",
        "attributions",
        "label",
        "probability",
        "method",
        "steps",
        "completeness_gap",
    }
    with pytest.raises(C.ClassifierError, match="No model folder"):
        C.load_classifier("/no/such/folder")


def test_image_cnn_baselines_and_explanation(trained_classifiers):
    clf = C.load_classifier("fashion-mnist-cnn")
    assert clf.image_shape == (28, 28) and len(clf.labels) == 10
    image = np.zeros((28, 28), np.float32)
    image[8:20, 10:18] = 1.0
    assert not clf.baseline(image, "black").any()
    blurred = clf.baseline(image, "blurred")
    assert blurred.shape == image.shape and 0 < blurred.max() < 1
    assert clf.baseline(image, "noise").shape == (C.RANDOM_BASELINES, 28, 28)
    e = explain.explain_image(clf, image, steps=50)
    assert e.results["ig"].relative_gap < 0.05
    assert e.scores["ig"].shape == (28, 28)
    ig_map = e.scores["ig"]
    assert np.abs(ig_map[image == 0]).sum() == 0  # zero input and zero baseline: x - x' = 0 there
    data = json.loads(explain.to_json(e))
    assert set(data["methods"]) == set(A.METHODS)
    assert len(explain.pixels_csv(e, "ig").splitlines()) == 28


def test_corpus_rows_and_csv(trained_classifiers):
    clf = C.load_classifier("zh-sentiment")
    rows = explain.corpus_rows(clf, ["很好", "太差了", "一般"], steps=8, top=2)
    assert [r["#"] for r in rows] == [1, 2, 3]
    assert all(r["label"] in ("positive", "negative") and len(r["top tokens"].split()) <= 2 for r in rows)
    e = explain.explain_text(clf, "很好", steps=8)
    lines = explain.tokens_csv(e).splitlines()
    assert lines[0].split(",")[:2] == ["position", "token"] and len(lines) == 3


def test_unknown_label_and_method_are_refused(trained_classifiers):
    clf = C.load_classifier("zh-sentiment")
    with pytest.raises(ValueError, match="label"):
        explain.explain_text(clf, "很好", label=5)
    with pytest.raises(ValueError, match="methods"):
        explain.explain_text(clf, "很好", ["lime"])
