"""The decoders on tiny trained models: step-by-step scores are the teacher-forced model's, batched beams
find what re-running every prefix finds, the bidirectional model never sees the character it writes, and
the synchronous beam search's bookkeeping (averages over the other direction's beams) adds up."""

import numpy as np
import pytest

from core.bidirectional import decoders
from core.bidirectional.model import PAD_ID
from core.bidirectional.pairs import load
from core.bidirectional.scorecard import DecoderError
from core.bidirectional.training import batch_arrays, targets


@pytest.fixture(scope="module")
def clause():
    return load().test[3]


def teacher_forced_score(model, vocab, pair, d):
    arrays = batch_arrays(vocab, [pair])
    out = np.asarray(model(arrays)[d])
    gold = targets(arrays, d)
    return float(np.take_along_axis(out, gold[:, :, None], axis=2).sum())


@pytest.mark.parametrize("d", ["l2r", "r2l"])
def test_greedy_scores_are_the_teacher_forced_log_probabilities(tiny_pinyin, clause, d):
    model, vocab = tiny_pinyin.model(d)
    result = decoders.beam(model, vocab, clause.pinyin, d, k=1)
    assert len(result.output) == len(clause.chars)
    decoded = type(clause)(clause.pinyin, result.output)
    assert result.score == pytest.approx(teacher_forced_score(model, vocab, decoded, d), abs=1e-3)


@pytest.mark.parametrize("d", ["l2r", "r2l"])
def test_batched_beams_find_what_rerunning_every_prefix_finds(tiny_pinyin, clause, d):
    model, vocab = tiny_pinyin.model(d)
    batched = decoders.beam(model, vocab, clause.pinyin, d, k=3)
    rerun = decoders.beam_prefix_rerun(model, vocab, clause.pinyin, d, k=3)
    assert batched.output == rerun.output
    assert batched.score == pytest.approx(rerun.score, abs=1e-3)
    n = len(clause.pinyin)
    assert batched.calls == 1 + 2 * n  # the encoder, then one GRU step and one read-out per step
    assert rerun.calls > 2 * n  # one full pass per hypothesis per step
    scores = [s for _, s in batched.nbest]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3


def test_the_bidirectional_model_never_sees_the_character_it_writes(tiny_pinyin, clause):
    """Teacher-forced, L2R writing position t sees its own prefix (positions < t) and the R2L states
    s <= min(t, n-1-t), which have read positions >= n-s: so characters t .. max(n-t, t+1)-1 are invisible
    to it, the one it writes included. R2L writing position t sees positions > t and the L2R states
    s <= min(t, n-1-t), which have read positions < s: characters min(t, n-1-t) .. t are invisible to it."""
    model, vocab = tiny_pinyin.model("bidi")
    arrays = batch_arrays(vocab, [clause])
    base = {d: np.asarray(v)[0] for d, v in model(arrays).items()}
    n = len(clause.chars)
    rng = np.random.default_rng(0)

    def changed(lo, hi):
        out = {**arrays, "tgt": arrays["tgt"].copy()}
        out["tgt"][0, lo:hi] = rng.integers(3, len(vocab.characters), hi - lo)
        return {d: np.asarray(v)[0] for d, v in model(out).items()}

    for t in range(n):
        hidden = changed(t, max(n - t, t + 1))
        assert np.allclose(hidden["l2r"][t], base["l2r"][t], atol=1e-5), t
        hidden = changed(min(t, n - 1 - t), t + 1)
        assert np.allclose(hidden["r2l"][n - 1 - t], base["r2l"][n - 1 - t], atol=1e-5), t
    # and it does read the other direction: L2R writing the first character moves with the last one
    moved = changed(n - 1, n)
    assert not np.allclose(moved["l2r"][1], base["l2r"][1], atol=1e-7)


def test_the_synchronous_beam_search_adds_up(tiny_pinyin, clause):
    model, vocab = tiny_pinyin.model("bidi")
    k = 3
    result = decoders.bidirectional(model, vocab, clause.pinyin, k=k)
    n = len(clause.pinyin)
    assert len(result.output) == n and len(result.trace) == n and result.direction in ("l2r", "r2l")
    assert result.calls == 1 + 4 * n  # per step: a GRU step and one read-out per direction, for every beam
    previous = {"l2r": [0.0], "r2l": [0.0]}
    for t, step in enumerate(result.trace):
        assert step["visible"] == min(t, n - 1 - t) + 1
        for d in ("l2r", "r2l"):
            beams = step[d]
            assert len(beams) == min(k, len(vocab.characters))
            assert [len(b["text"]) for b in beams] == [t + 1] * len(beams)
            for b in beams:
                assert len(b["per_other"]) == len(step[d + "_attended"])
                # the score is the parent's plus the mean over the other direction's beams
                assert b["score"] == pytest.approx(previous[d][b["parent"]] + np.mean(b["per_other"]), abs=1e-4)
            assert [b["score"] for b in beams] == sorted((b["score"] for b in beams), reverse=True)
            previous[d] = [b["score"] for b in beams]
    last = result.trace[-1]
    best = max((last[d][0]["score"], last[d][0]["text"]) for d in ("l2r", "r2l"))
    assert (result.score, result.output) == pytest.approx(best) or result.output == best[1]


def test_rerank_picks_from_the_l2r_list_by_the_mean_of_both_models(tiny_pinyin, clause):
    result = tiny_pinyin.decode("rerank", clause.pinyin, 4)
    l2r = tiny_pinyin.decode("l2r", clause.pinyin, 4)
    assert {t for t, _ in result.nbest} == {t for t, _ in l2r.nbest}
    r2l_model, r2l_vocab = tiny_pinyin.model("r2l")
    back = decoders.score_r2l(r2l_model, r2l_vocab, clause.pinyin, [result.output])[0]
    forward = dict(l2r.nbest)[result.output]
    assert result.score == pytest.approx((forward + back) / 2, abs=1e-4)
    assert result.score == max(s for _, s in result.nbest)


def test_bad_decoder_settings(tiny_pinyin, clause):
    with pytest.raises(DecoderError, match="beam width must be 1 to 16"):
        tiny_pinyin.decode("bidi", clause.pinyin, 0)
    with pytest.raises(DecoderError, match="unknown decoder"):
        tiny_pinyin.decode("sideways", clause.pinyin, 2)


def test_an_untrained_model_is_named(session_home, clause):
    from core.bidirectional.decoding import Decoders

    with pytest.raises(DecoderError, match="pinyin-l2r-quick is not trained yet"):
        Decoders("quick").decode("l2r", clause.pinyin, 2)
    assert PAD_ID == 0


def test_a_scorecard_decoded_by_models_since_retrained_is_stale(tiny_pinyin, monkeypatch):
    from core.bidirectional import jobs as bd_jobs
    from core.bidirectional.decoding import Decoders
    from core.bidirectional.scorecard import ScorecardSpec, load_scorecard

    spec = ScorecardSpec()
    assert load_scorecard(spec) is not None and bd_jobs.scorecard_preparation(spec).ready()
    cards = Decoders().cards()
    retrained = {**cards, "l2r": {**cards["l2r"], "steps": cards["l2r"]["steps"] + 1}}
    monkeypatch.setattr(Decoders, "cards", lambda self: retrained)
    assert load_scorecard(spec) is None and not bd_jobs.scorecard_preparation(spec).ready()
