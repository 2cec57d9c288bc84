"""Decoding through generate with the per-step records: p(EOS) is the model's own, beams are followed along
beam_indices, the candidate set is what the decoder could choose; decoder specs; bad input."""

from __future__ import annotations

import json

import pytest
import torch

from core.decoding import decoders as dec
from core.decoding.corpus import EOS_ID, PAD_ID, SPECIALS, Vocabulary
from core.decoding.generation import decode
from core.decoding.models import LanguageModel
from core.lab.errors import BadArgument
from tests.core.decoding.test_lstm_lm import tiny

CHARS = "今天我们去公园玩吧他说这本书很有意思明天会下雨吗"


def lstm_lm(output: str = "softmax", **kwargs) -> LanguageModel:
    vocab = Vocabulary([*SPECIALS, *CHARS[:26]])
    model = tiny(output, **kwargs)
    return LanguageModel("tiny-lstm", model, (EOS_ID,), PAD_ID, 4096, "lstm", vocab=vocab, card=None)


def full_p_eos(lm: LanguageModel, prompt: str, tokens: list[int]) -> list[float]:
    """p(EOS) at every generated step from one fresh pass over prompt + continuation (no cache, no processors)."""
    ids = lm.vocab.encode(prompt) + tokens
    with torch.no_grad():
        logp = lm.model(input_ids=torch.tensor([ids + [EOS_ID]]), use_cache=False).logits[0]
    start = len(lm.vocab.encode(prompt)) - 1
    return logp[start : start + len(tokens) + 1, EOS_ID].exp().tolist()


@pytest.mark.parametrize("spec", ["greedy", "beam:3", "topk:3", "nucleus:0.5", "ancestral", "consistent-topk:2"])
def test_recorded_p_eos_is_the_models_own_at_every_step(spec):
    lm = lstm_lm(eos_bias=-2.0)
    prompts = ["今天", "我们去公园", "他"]  # different lengths: left padding
    for c in decode(lm, prompts, dec.parse(spec), max_new_tokens=25, seed=3):
        expected = full_p_eos(lm, c.prompt, c.tokens)[: len(c.p_eos)]
        assert len(c.p_eos) == len(c.tokens) + int(c.stopped) == len(c.eos_rank) == len(c.eos_in_candidates)
        assert c.p_eos == pytest.approx(expected, rel=1e-4, abs=1e-7)
        row = c.row()
        assert len(row["tokens"]) == row["length"] == len(row["p_eos"])
        assert (row["tokens"][-1] == EOS_ID) == c.stopped


def test_candidate_sets():
    lm = lstm_lm(eos_bias=-6.0)
    prompts = ["今天", "明天会"]
    greedy = decode(lm, prompts, dec.parse("greedy"), 30)
    for c in greedy:  # greedy can choose EOS exactly when it is the most likely token
        assert c.eos_in_candidates == [r == 1 for r in c.eos_rank]
    top2 = decode(lm, prompts, dec.parse("topk:2"), 30)
    for c in top2:
        assert c.eos_in_candidates == [r <= 2 for r in c.eos_rank] and set(c.candidates) == {2}
    consistent = decode(lm, prompts, dec.parse("consistent-topk:2"), 30)
    for c in consistent:
        assert all(c.eos_in_candidates)
        assert all(n == (2 if r <= 2 else 3) for n, r in zip(c.candidates, c.eos_rank, strict=True))


def test_the_same_seed_gives_the_same_continuation_twice():
    lm = lstm_lm(eos_bias=-1.0)
    a = decode(lm, ["今天", "他说"], dec.parse("ancestral"), 40, seed=7)
    b = decode(lm, ["今天", "他说"], dec.parse("ancestral"), 40, seed=7)
    assert [c.tokens for c in a] == [c.tokens for c in b]
    c = decode(lm, ["今天", "他说"], dec.parse("ancestral"), 40, seed=8)
    assert [x.tokens for x in c] != [x.tokens for x in a]


def test_loops_are_found_and_located():
    lm = lstm_lm(eos_bias=-30.0)  # never stops: greedy on a peaked random LSTM cycles
    (c,) = decode(lm, ["今天"], dec.parse("greedy"), 300)
    assert not c.stopped and c.length == 300
    assert c.loop is not None and c.loop_start is not None
    p = len(c.loop)
    tail = c.tokens[c.loop_start :]
    assert all(tail[i] == tail[i + p] for i in range(len(tail) - p))
    assert c.loop_start == 0 or c.tokens[c.loop_start - 1] != c.tokens[c.loop_start - 1 + p]
    assert c.text[c.loop_char :] == lm.detokenize(tail)


def test_the_fixes_of_transformers_users_change_what_is_chosen():
    lm = lstm_lm(eos_bias=-30.0)
    (plain,) = decode(lm, ["今天"], dec.parse("greedy"), 200)
    (no_repeat,) = decode(lm, ["今天"], dec.parse("greedy+no-repeat:2"), 200)
    grams = [tuple(no_repeat.tokens[i : i + 2]) for i in range(len(no_repeat.tokens) - 1)]
    assert len(grams) == len(set(grams)) and plain.loop is not None
    (decayed,) = decode(lm, ["今天"], dec.parse("greedy+length-decay:5:3"), 200)
    assert decayed.stopped and decayed.length < 200  # the penalty lifts EOS exponentially after step 5


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("greedy", dec.Decoder("greedy")),
        ("beam:4", dec.Decoder("beam", k=4)),
        ("Nucleus:0.90", dec.Decoder("nucleus", p=0.9)),
        ("ancestral:0.7", dec.Decoder("ancestral", temperature=0.7)),
        ("consistent-topk:4+no-repeat:3", dec.Decoder("consistent-topk", k=4, no_repeat=3)),
        ("greedy+length-decay:64:1.05", dec.Decoder("greedy", length_decay=(64, 1.05))),
    ],
)
def test_decoder_specs(spec, expected):
    d = dec.parse(spec)
    assert d == expected and dec.parse(d.spec) == d


@pytest.mark.parametrize(
    "spec", ["", "sampling", "beam", "beam:1", "beam:x", "topk:0", "nucleus:0", "nucleus:1.5", "greedy:2", "greedy+x:1"]
)
def test_bad_decoder_specs_say_what_is_wrong(spec):
    with pytest.raises(BadArgument):
        dec.parse(spec)


def test_bad_input():
    lm = lstm_lm()
    with pytest.raises(BadArgument, match="between 1 and 2048"):
        decode(lm, ["今天"], dec.parse("greedy"), 0)
    with pytest.raises(BadArgument, match="between 1 and 2048"):
        decode(lm, ["今天"], dec.parse("greedy"), 2049)
    with pytest.raises(BadArgument, match="empty"):
        decode(lm, ["今天", "  "], dec.parse("greedy"), 5)


def test_a_prompt_over_the_context_is_cut_from_the_left_and_says_so():
    lm = lstm_lm()
    lm.context = 12
    (c,) = decode(lm, ["今天我们去公园玩吧他说这本书"], dec.parse("greedy"), 5)
    assert c.prompt_cut == 14 + 1 - (12 - 5)
    encoded = lm.encode(["今天我们去公园玩吧他说这本书"], room=5)
    assert encoded.input_ids.shape[1] == 7 and int(encoded.input_ids[0, 0]) == 1  # <bos> kept


def test_the_command_line_decodes_and_refuses_bad_input(tmp_path, capsys):
    from core.cli import main
    from core.decoding import training

    lm = lstm_lm()
    folder = training.model_folder("lstm-test-cli")
    folder.mkdir(parents=True, exist_ok=True)
    lm.model.save_pretrained(str(folder))
    lm.vocab.save(folder / "vocab.json")
    (folder / "card.json").write_text(json.dumps({"id": "lstm-test-cli", "output": "softmax"}))
    assert main(["decode", "--model", "lstm-test-cli", "--decoder", "topk:3", "--max-new-tokens", "8", "今天"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert set(row) >= {"model", "decoder", "text", "tokens", "stopped", "length", "loop", "p_eos"}
    assert row["decoder"] == "topk:3" and len(row["p_eos"]) == row["length"] <= 8
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("今天\n他说\n", encoding="utf-8")
    assert main(["decode", "--model", "lstm-test-cli", "--input", str(prompts), "--max-new-tokens", "4"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    for argv, words in [
        (["decode", "--model", "lstm-test-cli", "--max-new-tokens", "0", "x"], "between 1 and 2048"),
        (["decode", "--model", "lstm-test-cli", "--decoder", "beam:1", "x"], "between 2 and 16"),
        (["decode", "--model", "lstm-test-cli", " "], "empty"),
        (["decode", "--model", "lstm-nothing", "x"], "not been trained"),
        (["train-lm", "--preset", "huge"], "--preset"),
        (["train-lm", "--corpus", str(tmp_path / "missing.txt")], "neither the built-in corpus"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
