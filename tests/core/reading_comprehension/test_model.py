"""The DGCNN reader's pieces: the receptive field by hand, the span decoder by hand, padding that changes
nothing, gated probabilities, the training passages' cut, and the targets of a batch."""

import numpy as np
import pytest

from core.reading_comprehension.data import Question
from core.reading_comprehension.features import Vocab
from core.reading_comprehension.model import ModelConfig, best_spans, build, receptive_field
from core.reading_comprehension.training import batch_arrays, cut


def test_receptive_field_by_hand():
    # kernel 3: each block adds 2 * dilation characters: 1+2=3, +4=7, +8=15, +16=31, +32=63, +2=65
    assert receptive_field() == [3, 7, 15, 31, 63, 65]
    assert receptive_field((1, 2, 1)) == [3, 7, 9]


def test_best_spans_by_hand():
    start = np.array([0.9, 0.1, 0.0, 0.5])
    end = np.array([0.2, 0.8, 0.0, 0.6])
    spans = best_spans(start, end, max_length=2, top=3)
    # (0,1): 0.72, (3,3): 0.30, (0,0): 0.18; (0,3) is longer than 2; (3,1) ends before it starts
    assert [(s, e) for s, e, _ in spans] == [(0, 1), (3, 3), (0, 0)]
    assert spans[0][2] == pytest.approx(0.72)


@pytest.mark.parametrize("encoder", ["dgcnn", "bilstm"])
def test_padding_changes_nothing_and_probabilities_are_gated(encoder):
    model = build(ModelConfig(encoder, characters=30, words=20, width=8, word_width=8))
    rng = np.random.default_rng(0)
    pc, pw = rng.integers(2, 30, (1, 11)), rng.integers(2, 20, (1, 11))
    qc, qw = rng.integers(2, 30, (1, 5)), rng.integers(2, 20, (1, 5))
    pm = rng.integers(0, 2, (1, 11, 2)).astype("float32")
    plain = model({"pc": pc, "pw": pw, "qc": qc, "qw": qw, "pm": pm})

    def padded(x, n):
        return np.concatenate([x, np.zeros((1, n, *x.shape[2:]), dtype=x.dtype)], axis=1)

    more = model(
        {"pc": padded(pc, 6), "pw": padded(pw, 6), "qc": padded(qc, 3), "qw": padded(qw, 3), "pm": padded(pm, 6)}
    )
    for key in ("start", "end"):
        assert np.allclose(np.asarray(more[key])[0, :11], np.asarray(plain[key])[0], atol=1e-5)
        assert np.all(np.asarray(more[key])[0, 11:] == 0)
        assert np.all(np.asarray(plain[key]) <= np.asarray(plain["gate"])[:, None] + 1e-7)
    assert np.allclose(np.asarray(more["attention"])[0, :5], np.asarray(plain["attention"])[0], atol=1e-5)
    assert np.asarray(more["attention"])[0, 5:].max() < 1e-6 and np.asarray(plain["attention"]).sum() == pytest.approx(
        1
    )


def test_a_long_training_passage_is_cut_around_its_answer():
    passage = "甲" * 100 + "北京" + "乙" * 100 + "北京"
    q = Question(passage, "哪里？", "北京", "place", ((100, 101), (202, 203)), 0)
    short = cut(q, 50)
    assert len(short.passage) == 50 and short.spans == ((25, 26),)
    assert short.passage[25:27] == "北京"
    assert cut(q, 500) is q


def test_batch_targets_mark_every_gold_occurrence():
    vocab = Vocab.build(["北京是首都。北京很大。", "谁来了？", "北京。"])  # 北京 three times: a word
    qs = [
        Question("北京是首都。北京很大。", "哪里很大？", "北京", "place", ((0, 1), (6, 7)), 0),
        Question("他来了。", "谁来了？", "", "person", (), 1),
    ]
    arrays = batch_arrays(vocab, qs)
    assert arrays["pc"].shape == (2, 11) and arrays["pc"][1, 4:].tolist() == [0] * 7
    assert np.flatnonzero(arrays["start"][0]).tolist() == [0, 6] and np.flatnonzero(arrays["end"][0]).tolist() == [1, 7]
    assert arrays["start"][1].sum() == 0 and arrays["has"].tolist() == [1.0, 0.0]
    chars, words = vocab.encode("北京很大")
    assert chars[0] != chars[1] and words[0] == words[1] == vocab.word_id["北京"]  # 北 and 京 share 北京


def test_overlap_features_by_hand():
    from core.reading_comprehension.features import overlap, segment

    passage, question = "北京很大。上海很大。", "哪里很大？"
    feats = overlap(passage, question)
    assert feats.shape == (10, 2)
    # 很 and 大 occur in the question (哪, 里, ？ never count, 。 is punctuation)
    assert feats[:, 0].tolist() == [0, 0, 1, 1, 0, 0, 0, 1, 1, 0]
    words = segment(passage)
    shared = {w for w in segment(question)} - {"哪里", "？"}
    expected = [float(w in shared) for w in words for _ in w]
    assert feats[:, 1].tolist() == expected
    assert overlap("他来了。", "谁来了？")[:, 0].tolist() == [0, 1, 0, 0]  # 了 is a function character


def test_batches_carry_the_overlap_padded():
    vocab = Vocab.build(["北京很大。", "哪里很大？"])
    qs = [
        Question("北京很大。", "哪里很大？", "北京", "place", ((0, 1),), 0),
        Question("他来了。北京很大。", "谁来了？", "", "person", (), 1),
    ]
    arrays = batch_arrays(vocab, qs)
    assert arrays["pm"].shape == (2, 9, 2)
    assert arrays["pm"][0, 5:].sum() == 0  # padding has no features
    assert arrays["pm"][0, :, 0].tolist()[:5] == [0, 0, 1, 1, 0]
