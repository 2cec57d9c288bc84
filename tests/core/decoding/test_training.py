"""The LM pair's corpus, training (quick preset), checkpoint and resume, and the prompt-set table job."""

from __future__ import annotations

import json

import pytest

from core.decoding import corpus as C
from core.decoding import training
from core.decoding.table import TableSpec, compute_table, default_prompts, load_table, stored

LINES = ["今天天气很好。", "我们去公园玩吧！", "他说这本书很有意思。", "明天会下雨吗？", "这家店的菜很好吃。"]
TEXT = "\n".join(f"{line[:-1]}{i}{line[-1]}" for i in range(60) for line in LINES)


def test_sentences_and_vocabulary():
    assert C.sentences_of(["他来了。你好吗？ok", "短", "Hello there. How are you?"]) == [
        "他来了。",
        "你好吗？",
        "Hello there.",
        "How are you?",
    ]
    vocab = C.Vocabulary.build(["aab", "abc"], min_count=2)
    assert vocab.tokens[:4] == list(C.SPECIALS) and vocab.tokens[4:] == ["a", "b"]
    ids = vocab.encode("abz", eos=True)
    assert ids == [C.BOS_ID, 4, 5, C.UNK_ID, C.EOS_ID] and vocab.decode(ids) == "ab\ufffd"


def test_an_uploaded_corpus_holds_out_a_tenth_and_refuses_too_little(tmp_path):
    corpus = C.from_text(TEXT)
    assert len(corpus.held_out) == 30 and not set(corpus.held_out) & set(corpus.training)
    with pytest.raises(C.CorpusError, match="at least 20"):
        C.from_text("一句话。")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(C.CorpusError, match="UTF-8"):
        C.load(str(bad))


def test_the_builtin_corpus_keeps_the_evaluation_sentences_out():
    corpus = C.builtin()
    assert 2900 < len(corpus.held_out) <= 3000 and corpus.characters > 3_000_000
    assert not set(corpus.held_out) & set(corpus.training)
    prefixes = C.prompts(corpus, n=20)
    assert len(prefixes) == 20 and all(len(p) == 5 for p in prefixes)


def test_quick_training_learns_saves_and_resumes():
    corpus = C.from_text(TEXT)
    config = training.LMTrainConfig(corpus="tiny-corpus", output="self-terminating", preset="tiny", epsilon=0.01)
    trainer = training.LMTrainer(config, corpus=corpus)
    trainer.prepare()
    untrained, _ = training.perplexity(trainer.model, trainer.held_ids)
    stops = iter([False] * 20 + [True])
    trainer.should_stop = lambda: next(stops)
    assert trainer.train() == {"stopped": True, "step": 20}
    again = training.LMTrainer(config, corpus=corpus)
    again.prepare(resume=True)
    assert again.state.step == 20
    summary = again.train()
    assert (
        summary["step"] == training.PRESETS["tiny"].steps and summary["perplexity"] < 0.8 * untrained
    )  # the head starts near beta = 1, so untrained is no strawman
    folder = again.save(summary)
    card = json.loads((folder / "card.json").read_text())
    assert card["output"] == "self-terminating" and card["epsilon"] == 0.01 and card["history"]
    assert training.is_trained("lstm-tiny-corpus-self-terminating-tiny")
    with pytest.raises(C.CorpusError):
        training.LMTrainConfig(preset="enormous").check()


def test_the_prompt_set_table(monkeypatch):
    from core.decoding.decoders import parse
    from core.decoding.generation import decode
    from tests.core.decoding.test_generation import lstm_lm

    lm = lstm_lm(eos_bias=-8.0)
    spec = TableSpec(
        model="lstm-tiny-table",
        decoders=("greedy", "topk:2", "consistent-topk:2"),
        max_new_tokens=40,
        prompts=("今天", "他说", "我们去"),
    )
    table = compute_table(spec, lm=lm)
    assert load_table(spec) == json.loads(json.dumps(table))
    for row in table["rows"]:
        assert len(row["still_running"]) == 40 and row["still_running"][-1] == row["non_termination"]
        again = decode(lm, list(spec.prompts), parse(row["decoder"]), 40)
        assert [c["stopped"] for c in row["continuations"]] == [c.stopped for c in again]
    shown = stored(table, 1)
    assert [s.decoder for s in shown] == ["greedy", "topk:2", "consistent-topk:2"] and shown[0].prompt == "他说"
    assert len(default_prompts("smollm2-135m")) == 32
    assert TableSpec.from_params(spec.params()) == spec and TableSpec().params() == {"model": "smollm2-135m"}


def test_an_uploaded_corpus_is_kept_for_the_jobs_and_names_its_models():
    path = C.save_upload(TEXT.encode("utf-8"))
    assert path.read_text(encoding="utf-8") == TEXT and path.name.startswith("upload-")
    assert C.load(str(path)).held_out == C.from_text(TEXT).held_out
    assert training.lm_name(str(path), "softmax", "quick") == f"lstm-{path.stem}-softmax-quick"
    for bad, words in [(b"\xff\xfe", "UTF-8"), ("一句。".encode(), "at least 20")]:
        with pytest.raises(C.CorpusError, match=words):
            C.save_upload(bad)
