"""The same shape as a transformers ``BertForMaskedLM`` on torch: the route most users take today, with
``gradient_checkpointing_enable()`` as its recompute (torch's checkpoint keeps the random state, so
dropout replays)."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.recompute import data
from core.recompute.shapes import Shape

BACKEND = "torch"
STRATEGY_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, NotImplementedError, RuntimeError)


def threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def reason(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:400]


def bert(shape: Shape, checkpointing: bool, seed: int = 0) -> Any:
    import torch
    from transformers import BertConfig, BertForMaskedLM

    from core.models.registry import quiet_transformers

    quiet_transformers()
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=shape.vocab,
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        intermediate_size=shape.intermediate,
        max_position_embeddings=shape.seq,
        hidden_dropout_prob=shape.dropout,
        attention_probs_dropout_prob=shape.dropout,
        attn_implementation="eager",  # the attention probabilities as a tensor, as the Keras side keeps them
    )
    model = BertForMaskedLM(config)
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    return model


class Trainer:
    def __init__(self, shape: Shape, strategy: str, seed: int = 0) -> None:
        import torch

        self.shape, self.seed = shape, seed
        self.checkpointing = strategy == "torch-checkpointing"
        self.model = bert(shape, self.checkpointing, seed)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4)

    def prepare(self) -> None:
        """Everything but running a step: Adam's moments exist (torch makes them at the first step: one
        step of zero gradients at learning rate 0 makes them without moving a weight)."""
        lr = self.optimizer.param_groups[0]["lr"]
        self.optimizer.param_groups[0]["lr"] = 0.0
        for p in self.model.parameters():
            p.grad = p.detach().new_zeros(p.shape)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.optimizer.param_groups[0]["lr"] = lr
        self.batch(0)  # the corpus is read before the baseline

    def batch(self, i: int) -> tuple[Any, Any]:
        import torch

        s = self.shape
        tokens, positions, labels = data.batch(s.batch, s.seq, s.masked, seed=self.seed * 1000 + i)
        full = np.full(tokens.shape, -100, dtype=np.int64)  # transformers' "not a target"
        np.put_along_axis(full, positions, labels, axis=1)
        return torch.from_numpy(tokens.astype(np.int64)), torch.from_numpy(full)

    def _loss(self, model: Any, i: int) -> Any:
        tokens, labels = self.batch(i)
        return model(input_ids=tokens, labels=labels).loss

    def step(self, i: int) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._loss(self.model, i)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def grad_diff(self) -> float:
        """Max |gradient - gradient of the same weights without checkpointing|, the same dropout seed."""
        import torch

        reference = bert(self.shape, False, self.seed + 1)
        reference.load_state_dict(self.model.state_dict())
        grads = []
        for model in (self.model, reference):
            model.zero_grad(set_to_none=True)
            torch.manual_seed(12345)
            self._loss(model, 10**6).backward()
            grads.append([p.grad.detach().clone() for p in model.parameters() if p.grad is not None])
        return float(max((a - b).abs().max() for a, b in zip(*grads, strict=True)))
