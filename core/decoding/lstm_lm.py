"""The two LSTM language models the decoding page trains: the ordinary softmax and Welleck's self-terminating
output layer, otherwise identical (Welleck et al. 2020: 2 layers, tied input and output embeddings).

Both are small ``transformers`` models (``PreTrainedModel`` with ``GenerationMixin``), so greedy, beam,
sampling and every logits processor come from ``generate`` exactly as for SmolLM2. Their ``logits`` are
log-probabilities (the self-terminating layer's are not a softmax of anything): ``generate``'s softmax and
log-softmax leave normalised log-probabilities unchanged, so every decoder sees the model's distribution.

The recurrent state travels through ``generate`` as its ``cache``: an :class:`LSTMState` (the LSTM's h
and c, and for the self-terminating layer the running sum of log beta) with the two methods ``generate``
calls on a cache, ``reorder_cache`` (beam search) and ``get_seq_length``; the model tells ``generate`` not
to build a key-value cache for it (``_supports_default_dynamic_cache``), as Mamba and RWKV do. Prompts of different
lengths are left-padded by the caller; the model reads them packed, so padding never enters the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from core.decoding.self_terminating import log_survival, self_terminating_log_probs

OUTPUT_LAYERS = ("softmax", "self-terminating")


class LSTMLMConfig(PretrainedConfig):
    model_type = "kexue-lstm-lm"

    def __init__(
        self,
        vocab_size: int = 8,
        hidden_size: int = 512,
        num_layers: int = 2,
        dropout: float = 0.3,
        output_layer: str = "softmax",
        epsilon: float = 1e-3,
        eos_bias: float = 0.0,
        pad_token_id: int = 0,
        bos_token_id: int = 1,
        eos_token_id: int = 2,
        tie_word_embeddings: bool = True,
        **kwargs: Any,
    ) -> None:
        if output_layer not in OUTPUT_LAYERS:
            raise ValueError(f"output_layer must be one of {OUTPUT_LAYERS}, not {output_layer!r}")
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.output_layer = output_layer
        self.epsilon = epsilon
        self.eos_bias = eos_bias  # the self-terminating head's initial bias: beta starts at (1 - eps) sigmoid(b)
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
            **kwargs,
        )


@dataclass
class LSTMState:
    """The recurrent state between ``generate`` steps: [layers, batch, hidden] h and c, [batch] log survival
    (sum of log beta so far; zeros for the softmax layer) and the number of positions read."""

    h: torch.Tensor
    c: torch.Tensor
    log_survive: torch.Tensor
    length: int

    def reorder_cache(self, beam_idx: torch.Tensor) -> None:
        self.h = self.h.index_select(1, beam_idx)
        self.c = self.c.index_select(1, beam_idx)
        self.log_survive = self.log_survive.index_select(0, beam_idx)

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.length


class LSTMLM(PreTrainedModel, GenerationMixin):
    config_class = LSTMLMConfig
    base_model_prefix = "lstm_lm"
    main_input_name = "input_ids"
    _tied_weights_keys = {"head.weight": "embed.weight"}
    _is_stateful = True  # no assisted generation: a recurrent state cannot be rolled back

    @classmethod
    def _supports_default_dynamic_cache(cls) -> bool:
        return False

    def __init__(self, config: LSTMLMConfig) -> None:
        super().__init__(config)
        h = config.hidden_size
        self.embed = nn.Embedding(config.vocab_size, h, padding_idx=config.pad_token_id)
        self.drop = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            h, h, config.num_layers, batch_first=True, dropout=config.dropout if config.num_layers > 1 else 0.0
        )
        self.head = nn.Linear(h, config.vocab_size)
        self.eos_head = nn.Linear(h, 1) if config.output_layer == "self-terminating" else None
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Embedding):
            nn.init.uniform_(module.weight, -0.1, 0.1)
        elif isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)
            if module is self.eos_head:
                nn.init.uniform_(module.weight, -0.1, 0.1)
                nn.init.constant_(module.bias, self.config.eos_bias)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed = value

    def get_output_embeddings(self) -> nn.Linear:
        return self.head

    @property
    def self_terminating(self) -> bool:
        return self.eos_head is not None

    def _run(
        self, input_ids: torch.Tensor, mask: torch.Tensor | None, state: LSTMState | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """LSTM outputs [batch, time, hidden] at the input positions, and the final (h, c).

        A mask with padding (rows left- or right-padded, their tokens contiguous) is read packed: each
        row's tokens are moved to the front, run for its own length, and put back in place.
        """
        x = self.drop(self.embed(input_ids))
        hc = None if state is None else (state.h, state.c)
        if mask is None or bool(mask.all()):
            out, (h, c) = self.lstm(x, hc)
            return out, h, c
        lengths = mask.sum(dim=1)
        if bool((lengths == 0).any()):
            raise ValueError("every row needs at least one token")
        first = mask.float().argmax(dim=1)  # where each row's tokens start
        t = input_ids.shape[1]
        steps = torch.arange(t, device=input_ids.device)
        gather = (first[:, None] + steps[None, :]).clamp(max=t - 1)  # row tokens to the front
        front = x.gather(1, gather[:, :, None].expand(-1, -1, x.shape[2]))
        packed = pack_padded_sequence(front, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out_packed, (h, c) = self.lstm(packed, hc)
        out_front, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=t)
        # back in place: position p of a row holds its output for token p - first
        back = (steps[None, :] - first[:, None]).clamp(min=0)
        out = out_front.gather(1, back[:, :, None].expand(-1, -1, out_front.shape[2]))
        return out, h, c

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        cache: LSTMState | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> CausalLMOutputWithPast:
        state = cache if isinstance(cache, LSTMState) else None
        new_mask = None
        if attention_mask is not None:
            new_mask = attention_mask[:, -input_ids.shape[1] :].bool()
        out, h, c = self._run(input_ids, new_mask, state)
        hidden = self.drop(out)
        token_logits = self.head(hidden)
        batch = input_ids.shape[0]
        log_survive0 = state.log_survive if state is not None else hidden.new_zeros(batch)
        if self.self_terminating:
            eos_logit = self.eos_head(hidden).squeeze(-1)
            running = log_survival(eos_logit, self.config.epsilon, start=log_survive0, mask=new_mask)
            log_probs = self_terminating_log_probs(
                token_logits, eos_logit, self.config.eos_token_id, self.config.epsilon, log_survive=running
            )
            log_survive = running[:, -1]
        else:
            log_probs = torch.log_softmax(token_logits, dim=-1)
            log_survive = log_survive0
        loss = None
        if labels is not None:
            loss = F.nll_loss(
                log_probs[:, :-1].reshape(-1, log_probs.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100
            )
        length = (state.length if state is not None else 0) + input_ids.shape[1]
        new_cache = LSTMState(h, c, log_survive, length) if use_cache is not False else None
        return CausalLMOutputWithPast(loss=loss, logits=log_probs, cache=new_cache)

    def prepare_inputs_for_generation(
        self,
        input_ids: torch.Tensor,
        cache: LSTMState | None = None,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        if isinstance(cache, LSTMState):
            input_ids = input_ids[:, cache.length :]
        else:
            cache = None
        return {
            "input_ids": input_ids,
            "cache": cache,
            "attention_mask": attention_mask,
            "use_cache": True,
        }
