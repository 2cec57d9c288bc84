"""Causal LMs: the offline SmolLM2 converted once from its package, a local folder, clear errors otherwise."""

from __future__ import annotations

import json

import pytest

from core.models import causal_lm as C
from core.models.registry import ModelError


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llama")
    vocab = {w: i for i, w in enumerate(["<pad>", "<s>", "</s>", "the", "cat", "sat", "on", "mat", "."])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.save_pretrained(str(folder))
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=128, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(str(folder))
    return folder


def test_a_local_folder_loads_with_its_eos_and_context(tiny_llama):
    lm = C.load_causal_lm(str(tiny_llama))
    assert lm.eos_ids == (2,) and lm.max_positions == 128
    out = lm.model.generate(lm.tokenizer("the cat", return_tensors="pt").input_ids, max_new_tokens=3, do_sample=False)
    assert out.shape[1] <= 2 + 3


@pytest.mark.parametrize(
    "model_id, message",
    [("", "No language model given"), ("no-such-org/no-such-model-xyz", "cannot be reached")],
)
def test_bad_ids_say_what_to_do(model_id, message, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match=message):
        C.load_causal_lm(model_id)


def test_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no-such-architecture"}))
    with pytest.raises(ModelError):
        C.load_causal_lm(str(tmp_path))


def test_smollm2_is_converted_once_and_reloads_from_the_lab_home(lab_home):
    seen = []
    folder = C.smollm2_folder(lambda f, m: seen.append(str(m)))
    assert C.smollm2_converted() and (folder / "model.safetensors").exists()
    assert any("Converting SmolLM2" in s for s in seen)
    seen.clear()
    assert C.smollm2_folder(lambda f, m: seen.append(str(m))) == folder and not seen  # no second conversion
    lm = C.load_causal_lm(C.SMOLLM2)
    assert 2 in lm.eos_ids and lm.tokenizer.convert_ids_to_tokens(2) == "<|im_end|>"
    manifest = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text("{}")  # a damaged folder is not trusted: the next load rebuilds it
    assert not C.smollm2_converted()
    (folder / "manifest.json").write_text(manifest)
