"""The LSTM LMs as transformers models: cached steps equal a full pass, padding never enters the state, generate
decodes what a hand-written loop decodes, and the self-terminating one stops within its bound's horizon."""

from __future__ import annotations

import math

import pytest
import torch

from core.decoding.corpus import EOS_ID, PAD_ID
from core.decoding.lstm_lm import LSTMLM, LSTMLMConfig, LSTMState
from core.decoding.self_terminating import eos_lower_bound, greedy_horizon

V = 30


def tiny(output: str = "softmax", eps: float = 1e-3, seed: int = 0, eos_bias: float = -4.0) -> LSTMLM:
    torch.manual_seed(seed)
    model = LSTMLM(
        LSTMLMConfig(vocab_size=V, hidden_size=16, num_layers=2, dropout=0.0, output_layer=output, epsilon=eps)
    )
    with torch.no_grad():  # a random LM that rarely ends by itself: EOS's own score pushed down
        model.head.bias[EOS_ID] = eos_bias
        model.head.weight.mul_(8.0)  # peaked distributions: greedy loops
    return model.eval()


@pytest.mark.parametrize("output", ["softmax", "self-terminating"])
def test_cached_steps_equal_one_full_pass(output):
    model = tiny(output)
    ids = torch.tensor([[1, 5, 9, 7, 4, 11, 6]])
    full = model(input_ids=ids, use_cache=False).logits
    out = model(input_ids=ids[:, :3])
    steps = [out.logits]
    cache = out.cache
    for t in range(3, ids.shape[1]):
        out = model(input_ids=ids[:, t : t + 1], cache=cache)
        cache = out.cache
        steps.append(out.logits)
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)
    assert cache.get_seq_length() == ids.shape[1]


@pytest.mark.parametrize("output", ["softmax", "self-terminating"])
def test_left_padding_never_enters_the_state(output):
    model = tiny(output)
    short, long = [1, 8, 9], [1, 4, 6, 7, 5]
    alone = model(input_ids=torch.tensor([short])).logits[0, -1]
    batch = torch.tensor([[PAD_ID, PAD_ID, *short], long])
    mask = (batch != PAD_ID).long()
    out = model(input_ids=batch, attention_mask=mask)
    assert torch.allclose(out.logits[0, -1], alone, atol=1e-5)
    assert torch.allclose(out.logits[1, -1], model(input_ids=torch.tensor([long])).logits[0, -1], atol=1e-5)
    if output == "self-terminating":  # the running product counts the prompt's own steps only
        single = model(input_ids=torch.tensor([short])).cache.log_survive
        assert torch.allclose(out.cache.log_survive[0], single[0], atol=1e-6)


def test_logits_are_normalised_log_probabilities():
    for output in ("softmax", "self-terminating"):
        logp = tiny(output)(input_ids=torch.tensor([[1, 2, 3, 4]])).logits
        assert torch.allclose(logp.exp().sum(-1), torch.ones(1, 4), atol=1e-5)


def test_greedy_generate_is_the_hand_written_argmax_loop():
    model = tiny()
    prompt = torch.tensor([[1, 5, 6]])
    got = model.generate(prompt, max_new_tokens=12, do_sample=False, eos_token_id=EOS_ID, pad_token_id=PAD_ID)
    seq = prompt[0].tolist()
    for _ in range(12):
        nxt = int(model(input_ids=torch.tensor([seq]), use_cache=False).logits[0, -1].argmax())
        seq.append(nxt)
        if nxt == EOS_ID:
            break
    assert got[0].tolist() == seq


def test_beam_search_reorders_the_state():
    model = tiny()
    prompt = torch.tensor([[1, 5, 6], [1, 7, 8]])
    got = model.generate(
        prompt,
        max_new_tokens=8,
        num_beams=3,
        do_sample=False,
        eos_token_id=EOS_ID,
        pad_token_id=PAD_ID,
        return_dict_in_generate=True,
        output_scores=True,
    )
    # the returned score of each sequence is its log-probability under a fresh full pass (length penalty 1)
    for b in range(2):
        seq = got.sequences[b][got.sequences[b] != PAD_ID] if EOS_ID in got.sequences[b] else got.sequences[b]
        logp = model(input_ids=seq[None], use_cache=False).logits[0]
        total = sum(float(logp[t - 1, seq[t]]) for t in range(3, len(seq)))
        assert math.isclose(total / (len(seq) - 3), float(got.sequences_scores[b]), rel_tol=1e-4, abs_tol=1e-4)
    state = LSTMState(torch.arange(6.0).view(1, 6, 1), torch.zeros(1, 6, 1), torch.arange(6.0), 3)
    state.reorder_cache(torch.tensor([2, 2, 0, 5, 4, 1]))
    assert state.h.flatten().tolist() == [2, 2, 0, 5, 4, 1] and state.log_survive.tolist() == [2, 2, 0, 5, 4, 1]


def test_the_self_terminating_model_stops_within_its_horizon_and_the_softmax_one_need_not():
    eps, limit = 0.2, 60
    horizon = greedy_horizon(eps)  # 4 steps
    prompts = torch.tensor([[1, i, i + 1] for i in range(4, 20)])
    st_model = tiny("self-terminating", eps=eps, eos_bias=-20.0)
    softmax_model = tiny("softmax", eos_bias=-20.0)
    for kwargs in ({"do_sample": False}, {"num_beams": 3, "do_sample": False}):
        out = st_model.generate(prompts, max_new_tokens=limit, eos_token_id=EOS_ID, pad_token_id=PAD_ID, **kwargs)
        new = out[:, 3:]
        for row in new.tolist():
            assert EOS_ID in row and row.index(EOS_ID) < horizon + 3 * ("num_beams" in kwargs)
        plain = softmax_model.generate(
            prompts, max_new_tokens=limit, eos_token_id=EOS_ID, pad_token_id=PAD_ID, **kwargs
        )
        assert any(EOS_ID not in row for row in plain[:, 3:].tolist())  # r_L > 0 without the layer
    # p(EOS) never decreases along a sequence, and never falls below 1 - (1 - eps)^t
    seq = torch.tensor([[1] + list(range(4, 24))])
    p_eos = st_model(input_ids=seq, use_cache=False).logits[0, :, EOS_ID].exp()
    assert torch.all(p_eos[1:] >= p_eos[:-1] - 1e-6)
    assert torch.all(p_eos >= eos_lower_bound(eps, seq.shape[1]).float() - 1e-6)


def test_save_and_load_keep_the_tied_weights(tmp_path):
    model = tiny("self-terminating")
    assert model.head.weight.data_ptr() == model.embed.weight.data_ptr()
    model.save_pretrained(str(tmp_path))
    again = LSTMLM.from_pretrained(str(tmp_path)).eval()
    ids = torch.tensor([[1, 3, 5, 7]])
    assert torch.allclose(again(input_ids=ids).logits, model(input_ids=ids).logits, atol=1e-6)
    assert again.head.weight.data_ptr() == again.embed.weight.data_ptr()
    with pytest.raises(ValueError):
        LSTMLMConfig(output_layer="sparsemax")
