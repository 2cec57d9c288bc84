"""Consistent top-k / nucleus: EOS stays in the candidate set; everything else is the library's cut."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import LogitsProcessor, LogitsProcessorList, TopKLogitsWarper, TopPLogitsWarper

from core.decoding.processors import ConsistentTopKLogitsWarper, ConsistentTopPLogitsWarper
from core.lab.errors import BadArgument

INF = float("-inf")


def test_top_k_keeps_the_k_best_and_eos():
    scores = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0]])
    plain = TopKLogitsWarper(2)(None, scores.clone())
    assert plain.tolist() == [[5.0, 4.0, INF, INF, INF]]
    consistent = ConsistentTopKLogitsWarper(2, eos_token_id=4)(None, scores.clone())
    assert consistent.tolist() == [[5.0, 4.0, INF, INF, 1.0]]  # EOS back with its own score, nothing else


def test_eos_already_inside_the_cut_changes_nothing():
    scores = torch.tensor([[1.0, 4.0, 3.0, 5.0], [0.5, 0.1, 2.0, 3.0]])  # EOS 3 in the top 2 of both rows
    for eos in (3, [3]):
        assert torch.equal(ConsistentTopKLogitsWarper(2, eos)(None, scores.clone()), TopKLogitsWarper(2)(None, scores))


def test_nucleus_keeps_eos_outside_the_mass():
    probs = torch.tensor([[0.6, 0.3, 0.08, 0.02]])
    scores = probs.log()
    plain = TopPLogitsWarper(0.8)(None, scores.clone())
    assert torch.isinf(plain[0, 3]) and torch.isinf(plain[0, 2]) and torch.isfinite(plain[0, :2]).all()
    consistent = ConsistentTopPLogitsWarper(0.8, eos_token_id=3)(None, scores.clone())
    assert math.isclose(consistent[0, 3].item(), math.log(0.02), rel_tol=1e-6)
    assert torch.isinf(consistent[0, 2]) and torch.equal(consistent[0, :2], plain[0, :2])
    kept = torch.softmax(consistent, -1)[0]
    assert math.isclose(kept[3].item(), 0.02 / 0.92, rel_tol=1e-5)  # renormalised over {top mass, EOS}


def test_several_eos_ids_are_all_kept():
    scores = torch.tensor([[9.0, 1.0, 2.0, 8.0]])
    out = ConsistentTopKLogitsWarper(1, eos_token_id=[1, 2])(None, scores)
    assert out.tolist() == [[9.0, 1.0, 2.0, INF]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ConsistentTopKLogitsWarper(0, 1),
        lambda: ConsistentTopPLogitsWarper(0.0, 1),
        lambda: ConsistentTopPLogitsWarper(1.5, 1),
        lambda: ConsistentTopKLogitsWarper(2, []),
    ],
)
def test_bad_settings_are_refused(make):
    with pytest.raises(BadArgument):
        make()


class _BuryEOS(LogitsProcessor):
    """Push EOS far down the ranking without removing it (the case the consistent decoders exist for)."""

    def __init__(self, eos: int) -> None:
        self.eos = eos

    def __call__(self, input_ids, scores):
        scores = scores.clone()
        scores[:, self.eos] -= 20.0
        return scores


def test_inside_generate_eos_stays_a_candidate_at_every_step():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=64, eos_token_id=3, bos_token_id=1, pad_token_id=0,
    )  # fmt: skip
    model = LlamaForCausalLM(config).eval()
    prompt = torch.tensor([[1, 5, 6, 7]])

    def run(cut):
        torch.manual_seed(1)
        out = model.generate(
            prompt,
            do_sample=True,
            top_k=0,
            top_p=1.0,
            max_new_tokens=12,
            min_new_tokens=12,
            logits_processor=LogitsProcessorList([_BuryEOS(3), cut]),
            output_scores=True,
            return_dict_in_generate=True,
        )
        return torch.stack(out.scores)[:, 0]  # [steps, vocab], the scores the sampler saw

    consistent = run(ConsistentTopKLogitsWarper(4, eos_token_id=3))
    plain = run(TopKLogitsWarper(4))
    assert len(consistent) == 12
    # min_new_tokens masks EOS itself, so read the candidate sets of the other tokens and EOS's rank separately:
    assert (torch.isfinite(consistent).sum(-1) >= 4).all() and (torch.isfinite(plain).sum(-1) == 4).all()
    assert not torch.isfinite(plain[:, 3]).any()
