"""The decoding page's language models behind one interface: SmolLM2 or any causal LM, and the LSTMs trained here.

A :class:`LanguageModel` is what :func:`core.decoding.generation.decode` needs: a model with ``generate``,
its EOS ids, its padding id, a way to turn prompts into left-padded ids (cut from the left to the model's
context, with the number of tokens cut), and a way back to text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.decoding import training
from core.decoding.corpus import BOS_ID, EOS_ID, PAD_ID, SPECIALS, Vocabulary
from core.lab.messages import N_
from core.models.causal_lm import BUILTIN_LMS, SMOLLM2, load_causal_lm
from core.models.registry import ModelError

LSTM_PREFIX = "lstm-"
LSTM_CONTEXT = 4096  # an LSTM has no position limit; prompts are cut to this for memory's sake

BUILTIN_TRAINED = {
    training.lm_name("peoples-daily", "softmax"): N_("LSTM trained here, softmax output (People's Daily + reviews)"),
    training.lm_name("peoples-daily", "self-terminating"): N_(
        "LSTM trained here, self-terminating output (People's Daily + reviews)"
    ),
}


@dataclass
class Encoded:
    input_ids: torch.Tensor  # [batch, width], left-padded
    attention_mask: torch.Tensor
    cut: list[int]  # prompt tokens cut from the start of each prompt to fit the context


@dataclass
class LanguageModel:
    id: str
    model: Any
    eos_ids: tuple[int, ...]
    pad_id: int
    context: int  # positions the model reads: prompt and continuation together
    kind: str  # "transformers" or "lstm"
    tokenizer: Any = None
    vocab: Vocabulary | None = None
    card: dict[str, Any] | None = None

    @property
    def has_chat_template(self) -> bool:
        return self.tokenizer is not None and bool(getattr(self.tokenizer, "chat_template", None))

    def _ids(self, prompt: str, chat: bool) -> list[int]:
        if self.vocab is not None:
            return self.vocab.encode(prompt, bos=True)
        if chat and self.has_chat_template:
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            return self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return self.tokenizer(prompt)["input_ids"]

    def encode(self, prompts: list[str], chat: bool = False, room: int = 0) -> Encoded:
        """Left-padded ids of the prompts; each cut from the left to leave ``room`` positions for the
        continuation inside the model's context (an LSTM keeps its <bos>)."""
        limit = max(1, self.context - room)
        rows, cut = [], []
        for prompt in prompts:
            ids = self._ids(prompt, chat)
            over = max(0, len(ids) - limit)
            if over:
                ids = ([BOS_ID] + ids[over + 1 :]) if self.vocab is not None else ids[over:]
            rows.append(ids)
            cut.append(over)
        width = max(map(len, rows))
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, ids in enumerate(rows):
            input_ids[i, width - len(ids) :] = torch.tensor(ids)
            mask[i, width - len(ids) :] = 1
        return Encoded(input_ids, mask, cut)

    def token_text(self, token: int) -> str:
        if self.vocab is not None:  # special tokens by name (<eos>), as the tokenizers of transformers do
            return self.vocab.tokens[token] if token < len(SPECIALS) else self.vocab.decode([token])
        return self.tokenizer.decode([token])

    def detokenize(self, tokens: list[int]) -> str:
        if self.vocab is not None:
            return self.vocab.decode(tokens)
        return self.tokenizer.decode(tokens, skip_special_tokens=False)


def trained_ids() -> list[str]:
    """The LSTM LMs trained on this machine (built-in pair first, then any other), newest card last."""
    root = training.model_folder("x").parent
    found = sorted(p.name for p in root.glob(f"{LSTM_PREFIX}*") if (p / "card.json").exists()) if root.is_dir() else []
    builtin = [m for m in BUILTIN_TRAINED if m in found]
    return builtin + [m for m in found if m not in builtin]


def _lstm(model_id: str) -> LanguageModel:
    from core.decoding.lstm_lm import LSTMLM
    from core.models.registry import quiet_transformers

    quiet_transformers()
    folder = training.model_folder(model_id)
    if not (folder / "card.json").exists():
        raise ModelError(
            "{model_id} has not been trained on this machine yet; train it first (python -m core train-lm).",
            model_id=model_id,
        )
    model = LSTMLM.from_pretrained(str(folder)).eval()
    vocab = Vocabulary.load(folder / "vocab.json")
    card = json.loads((folder / "card.json").read_text())
    return LanguageModel(model_id, model, (EOS_ID,), PAD_ID, LSTM_CONTEXT, "lstm", vocab=vocab, card=card)


def load_language_model(model_id: str) -> LanguageModel:
    """SmolLM2, an LSTM trained here (``lstm-...``), a local folder or a Hugging Face causal LM id."""
    model_id = (model_id or "").strip()
    if model_id.startswith(LSTM_PREFIX) and not Path(model_id).expanduser().is_dir():
        return _lstm(model_id)
    lm = load_causal_lm(model_id)
    tok = lm.tokenizer
    tok.padding_side = "left"
    pad = tok.pad_token_id if tok.pad_token_id is not None else lm.eos_ids[0]
    return LanguageModel(lm.id, lm.model, lm.eos_ids, int(pad), lm.max_positions, "transformers", tokenizer=tok)


def builtin_ids() -> list[str]:
    return [SMOLLM2, *BUILTIN_TRAINED]


def label(model_id: str) -> str:
    """The N_-marked label of a built-in model (the interface translates it), else the id itself."""
    if model_id in BUILTIN_LMS:
        return BUILTIN_LMS[model_id].label
    return BUILTIN_TRAINED.get(model_id, model_id)
