"""Welleck et al.'s self-terminating output layer, in log space.

At step t the layer reads beta_t = (1 - eps) * sigmoid(u . h_t + b) and gives

    p(EOS at t)   = 1 - prod_{s <= t} beta_s
    p(v at t)     = prod_{s <= t} beta_s * softmax over the vocabulary without EOS (v != EOS)

so p(EOS) never decreases along a sequence and p(EOS at t) >= 1 - (1 - eps)^t: greedy decoding must stop
once p(EOS) passes 1/2, within ``greedy_horizon(eps)`` steps, and every decoder that keeps EOS stops with
probability one. Everything is computed from cumulative sums of log beta, never as a product of
probabilities (a product underflows long before the bound bites).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from core.lab.errors import BadArgument


def log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(x)) for x <= 0, accurate at both ends (Maechler 2012)."""
    return torch.where(x > -math.log(2.0), torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def log_survival(
    eos_logit: torch.Tensor, eps: float, start: torch.Tensor | None = None, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """log prod_{s <= t} beta_s [batch, time]: the running sum of log beta from ``start`` [batch] (the state
    after earlier steps; zeros at a sequence's first token); positions where ``mask`` is false add nothing."""
    if not 0.0 < eps < 1.0:
        raise BadArgument("the self-terminating layer needs 0 < epsilon < 1, not {eps}", eps=eps)
    log_beta = math.log1p(-eps) + F.logsigmoid(eos_logit)
    if mask is not None:
        log_beta = log_beta.masked_fill(~mask, 0.0)
    out = torch.cumsum(log_beta, dim=1)
    return out if start is None else out + start.unsqueeze(1)


def self_terminating_log_probs(
    token_logits: torch.Tensor,
    eos_logit: torch.Tensor,
    eos_id: int,
    eps: float,
    log_survive: torch.Tensor | None = None,
) -> torch.Tensor:
    """Log-probabilities [batch, time, vocab] of the self-terminating layer.

    ``token_logits`` [batch, time, vocab]: the ordinary output layer's logits (its EOS column is ignored);
    ``eos_logit`` [batch, time]: u . h_t + b; ``log_survive``: :func:`log_survival` of it when the caller
    has it already (the product runs over the sequence's steps from its first).
    """
    if log_survive is None:
        log_survive = log_survival(eos_logit, eps)
    masked = token_logits.clone()
    masked[..., eos_id] = float("-inf")
    out = log_survive.unsqueeze(-1) + torch.log_softmax(masked, dim=-1)
    out[..., eos_id] = log1mexp(log_survive)
    return out


def eos_lower_bound(eps: float, steps: int) -> torch.Tensor:
    """The guarantee 1 - (1 - eps)^t for t = 1 .. ``steps``."""
    t = torch.arange(1, steps + 1, dtype=torch.float64)
    return -torch.expm1(t * math.log1p(-eps))


def greedy_horizon(eps: float) -> int:
    """The step by which p(EOS) > 1/2 whatever the model does, so greedy decoding has stopped."""
    return math.floor(math.log(0.5) / math.log1p(-eps)) + 1
