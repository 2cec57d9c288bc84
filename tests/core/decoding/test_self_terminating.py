"""The self-terminating layer's invariants: a distribution at every step, p(EOS) monotone and above its bound."""

from __future__ import annotations

import math

import pytest
import torch

from core.decoding.self_terminating import (
    eos_lower_bound,
    greedy_horizon,
    log1mexp,
    self_terminating_log_probs,
)
from core.lab.errors import BadArgument

EOS = 2


def random_layer(steps: int, eps: float, seed: int = 0, eos_bias: float = 0.0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(3, steps, 11, generator=g, dtype=torch.float64) * 4
    eos_logit = torch.randn(3, steps, generator=g, dtype=torch.float64) * 3 + eos_bias
    return self_terminating_log_probs(logits, eos_logit, EOS, eps)


def test_every_step_is_a_distribution_and_eos_never_falls():
    lp = random_layer(40, 0.01)
    assert torch.allclose(torch.logsumexp(lp, -1), torch.zeros(3, 40, dtype=torch.float64), atol=1e-10)
    p_eos = lp[..., EOS].exp()
    assert (p_eos[:, 1:] >= p_eos[:, :-1] - 1e-12).all()


@pytest.mark.parametrize("eps", [1e-5, 1e-3, 1e-2, 0.2])
def test_eos_stays_above_the_bound_even_when_the_model_votes_against_it(eps):
    lp = random_layer(300, eps, eos_bias=60.0)  # sigmoid ~ 1: beta ~ 1 - eps, the worst case
    bound = eos_lower_bound(eps, 300)
    assert (lp[..., EOS].exp() >= bound - 1e-9).all()
    assert torch.allclose(lp[0, :, EOS].exp(), bound, rtol=1e-6, atol=1e-12)  # and meets it there


def test_hand_computed_two_steps():
    # beta = (1 - eps) * sigmoid(0) = 0.45 at each step: p(EOS) = 0.55, then 1 - 0.45^2 = 0.7975.
    logits = torch.zeros(1, 2, 4, dtype=torch.float64)
    lp = self_terminating_log_probs(logits, torch.zeros(1, 2, dtype=torch.float64), EOS, 0.1)
    assert lp[0, :, EOS].exp().tolist() == pytest.approx([0.55, 0.7975])
    assert lp[0, 0, 0].exp().item() == pytest.approx(0.45 / 3)  # the rest shared by the three other tokens


def test_greedy_stops_within_the_horizon():
    eps = 1e-2
    horizon = greedy_horizon(eps)
    assert horizon == 69 and 1 - (1 - eps) ** horizon > 0.5 >= 1 - (1 - eps) ** (horizon - 1)
    lp = random_layer(horizon, eps, eos_bias=60.0)
    assert (lp[:, -1].argmax(-1) == EOS).all()  # greedy picks EOS by the horizon at the latest


def test_long_sequences_stay_finite():
    lp = random_layer(5000, 1e-5, eos_bias=60.0)
    assert torch.isfinite(lp[..., EOS]).all() and (lp[..., EOS] <= 0).all()
    assert lp[0, -1, EOS].exp().item() == pytest.approx(1 - (1 - 1e-5) ** 5000, rel=1e-9)
    assert log1mexp(torch.tensor([-1e-20, -50.0], dtype=torch.float64)).tolist() == pytest.approx(
        [math.log(1e-20), -math.exp(-50.0)], rel=1e-9
    )


def test_bad_epsilon():
    with pytest.raises(BadArgument):
        random_layer(3, 0.0)
