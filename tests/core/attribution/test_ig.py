"""Integrated gradients: axioms on functions with known integrals, rules, batching, both back ends."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.attribution import ig as A
from core.attribution import targets as T


def square_target(batch_size: int = 32) -> T.FunctionTarget:
    return T.FunctionTarget(lambda q: float(np.sum(q**2)), lambda q: 2 * q, batch_size)


X = np.array([1.0, 2.0, -3.0, 0.5])


@pytest.mark.parametrize("rule", ["gauss-legendre", "trapezoid", "midpoint"])
def test_sum_of_squares_gives_each_square(rule):
    # dF/dx_i along the path is 2 a x_i; integral of 2 a da = 1, so IG_i = x_i^2 exactly for rules exact on lines.
    result = A.integrated_gradients(square_target(), X, np.zeros(4), 50, rule)
    np.testing.assert_allclose(result.scores, X**2, rtol=1e-6)
    assert result.f_input == pytest.approx(14.25) and result.f_baseline == 0
    assert result.relative_gap < 1e-6


def test_left_and_right_riemann_miss_by_one_over_m():
    # Left sum of 2a over a = k/m, k < m: (m - 1)/m; right sum: (m + 1)/m.
    left = A.integrated_gradients(square_target(), X, np.zeros(4), 50, "left")
    right = A.integrated_gradients(square_target(), X, np.zeros(4), 50, "right")
    np.testing.assert_allclose(left.scores, X**2 * 49 / 50, rtol=1e-6)
    np.testing.assert_allclose(right.scores, X**2 * 51 / 50, rtol=1e-6)
    assert left.relative_gap == pytest.approx(0.02, rel=1e-5)


def test_nonzero_baseline_on_a_quadratic():
    # F = sum x^2 from x' to x: IG_i = (x_i - x'_i)(x_i + x'_i) = x_i^2 - x'_i^2.
    base = np.array([0.5, -1.0, 1.0, 2.0])
    result = A.integrated_gradients(square_target(), X, base, 8, "gauss-legendre")
    np.testing.assert_allclose(result.scores, X**2 - base**2, rtol=1e-6, atol=1e-6)


def test_symmetry_and_dummy_features():
    # F = tanh(x0 + x1) * x0 * x1 + sin(x2); x3 is ignored.
    def f(q):
        return math.tanh(q[0] + q[1]) * q[0] * q[1] + math.sin(q[2])

    def grad(q):
        t = math.tanh(q[0] + q[1])
        d = 1 - t**2
        return np.array([d * q[0] * q[1] + t * q[1], d * q[0] * q[1] + t * q[0], math.cos(q[2]), 0.0])

    x = np.array([0.7, 0.7, 1.2, 5.0])
    result = A.integrated_gradients(T.FunctionTarget(f, grad), x, np.zeros(4), 50)
    assert result.scores[0] == pytest.approx(result.scores[1], abs=1e-12)
    assert result.scores[3] == 0.0
    assert result.scores[2] == pytest.approx(math.sin(1.2), rel=1e-6)
    assert result.relative_gap < 1e-6


@pytest.mark.parametrize("rule", A.RULES)
def test_every_rule_has_weights_summing_to_one_inside_the_path(rule):
    alphas, weights = A.path_alphas(10, rule)
    assert len(alphas) == 10 and weights.sum() == pytest.approx(1.0)
    assert alphas.min() >= 0 and alphas.max() <= 1


def test_rules_nodes_and_weights():
    # Gauss-Legendre with m nodes integrates a^(2m-1) exactly: integral of a^7 over [0, 1] is 1/8.
    alphas, weights = A.path_alphas(4, "gauss-legendre")
    assert np.dot(weights, alphas**7) == pytest.approx(1 / 8, rel=1e-12)
    np.testing.assert_allclose(A.path_alphas(4, "midpoint")[0], [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(A.path_alphas(3, "trapezoid")[1], [0.25, 0.5, 0.25])


@pytest.mark.parametrize("bad", [{"steps": 0}, {"steps": 5000}, {"rule": "simpson"}])
def test_bad_options_raise(bad):
    with pytest.raises(ValueError):
        A.integrated_gradients(square_target(), X, np.zeros(4), **{"steps": 10, **bad})


def test_baseline_shape_must_fit():
    with pytest.raises(ValueError, match="baseline shape"):
        A.integrated_gradients(square_target(), X, np.zeros(3), 10)


def test_points_go_through_in_ceil_m_over_b_batches():
    target = square_target(batch_size=16)
    one = A.integrated_gradients(target, X, np.zeros(4), 50)
    assert target.calls == math.ceil(50 / 16) + math.ceil(2 / 16)  # path points, then F(x) and F(x')
    loop = A.integrated_gradients(square_target(batch_size=1), X, np.zeros(4), 50)
    np.testing.assert_allclose(one.scores, loop.scores, rtol=1e-12)


def test_several_random_baselines_keep_completeness():
    rng = np.random.default_rng(0)
    bases = rng.normal(size=(5, 4))
    result = A.integrated_gradients(square_target(), X, bases, 20)
    assert result.f_baseline == pytest.approx(np.mean(np.sum(bases**2, axis=1)))
    np.testing.assert_allclose(result.scores, X**2 - np.mean(bases**2, axis=0), rtol=1e-6, atol=1e-9)


def test_converge_reuses_points_and_stops_at_the_tolerance():
    def f(q):
        return float(np.sum(np.sin(3 * q)))

    target = T.FunctionTarget(f, lambda q: 3 * np.cos(3 * q))
    result, history = A.converge(target, X, np.zeros(4), tolerance=1e-4)
    used = [n for n, _ in history]
    assert used == [2**k + 1 for k in range(2, 2 + len(used))]  # each level adds only the new midpoints
    assert history[-1][1] < 1e-4 <= history[-2][1]
    assert target.calls == len(used) + 2  # one batched pass per level, levels 0 and 1 included
    np.testing.assert_allclose(result.scores, np.sin(3 * X), rtol=1e-5, atol=1e-6)  # IG_i = sin(3 x_i) exactly
    assert sorted(result.alphas.tolist()) == result.alphas.tolist() and len(result.alphas) == used[-1]


def test_converge_is_exact_on_a_quadratic_at_once():
    result, history = A.converge(square_target(), X, np.zeros(4))
    assert history == [(5, pytest.approx(0.0, abs=1e-9))]
    np.testing.assert_allclose(result.scores, X**2, rtol=1e-6)


def test_blog_variant_on_a_linear_function():
    # F = w.x: every gradient is w, the mean of a over 20 evenly spaced a in [0, 1] is 1/2, so scores = w x / 2.
    w = np.array([1.0, -2.0, 0.5, 3.0])
    target = T.FunctionTarget(lambda q: float(w @ q), lambda q: w)
    result = A.blog_variant(target, X, 20)
    np.testing.assert_allclose(result.scores, w * X / 2, rtol=1e-6)
    tokens = A.Attribution("blog", np.stack([w * X, 2 * w * X, np.zeros(4)]), 0, 0)
    np.testing.assert_allclose(A.token_scores(tokens), [0.5, 1.0, 0.0])  # L2 norms, min-max normalised


def test_gradient_and_gradient_times_input():
    g = A.gradient(square_target(), X)
    np.testing.assert_allclose(g.scores, 2 * X)
    gx = A.gradient(square_target(), X, times_input=True)
    np.testing.assert_allclose(gx.scores, 2 * X**2)
    assert gx.f_input == pytest.approx(14.25) and not gx.complete
    with pytest.raises(ValueError):
        A.attribute("saliency", square_target(), X, np.zeros(4))


def test_token_scores_sum_keeps_completeness_and_respects_keep():
    scores = np.arange(12, dtype=float).reshape(4, 3)
    r = A.Attribution("ig", scores, 1.0, 0.0)
    np.testing.assert_allclose(A.token_scores(r), [3, 12, 21, 30])
    np.testing.assert_allclose(A.token_scores(r, "l2", slice(1, 3)), np.linalg.norm(scores[1:3], axis=1))
    with pytest.raises(ValueError):
        A.token_scores(r, "max")


# The two back ends on one tiny network --------------------------------------------------


def _weights():
    rng = np.random.default_rng(1)
    return (
        rng.normal(size=(6, 8)).astype(np.float32) * 0.6,
        rng.normal(size=8).astype(np.float32) * 0.1,
        rng.normal(size=(8, 3)).astype(np.float32) * 0.6,
        rng.normal(size=3).astype(np.float32) * 0.1,
    )


def _torch_target(label: int, output: str):
    import torch

    w1, b1, w2, b2 = (torch.from_numpy(a) for a in _weights())

    def forward(x):  # points [B, 4, 6]: tokens of 6 features, mean-pooled
        return torch.tanh(x @ w1 + b1).mean(dim=1) @ w2 + b2

    return T.TorchTarget(forward, label, output, batch_size=7)


def _keras_target(label: int, output: str):
    from core.lab.runtime import keras

    k = keras()
    w1, b1, w2, b2 = _weights()
    inputs = k.Input((None, 6))
    h = k.layers.Dense(8, activation="tanh")(inputs)
    pooled = k.layers.GlobalAveragePooling1D()(h)
    logits = k.layers.Dense(3)(pooled)
    model = k.Model(inputs, logits)
    model.layers[1].set_weights([w1, b1])
    model.layers[3].set_weights([w2, b2])
    return T.KerasTarget(lambda x: model(x, training=False), label, output, batch_size=7)


@pytest.mark.parametrize("method", A.METHODS)
@pytest.mark.parametrize("output", ["probability", "logit"])
def test_torch_and_keras_back_ends_agree(output, method):
    x = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)
    base = np.zeros_like(x)
    a = A.attribute(method, _torch_target(2, output), x, base, 30)
    b = A.attribute(method, _keras_target(2, output), x, base, 30)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)
    assert a.f_input == pytest.approx(b.f_input, abs=1e-5)


@pytest.mark.parametrize("output", ["probability", "logit"])
def test_completeness_on_a_smooth_network_in_batched_passes(output):
    x = np.random.default_rng(2).normal(size=(4, 6)).astype(np.float32)
    base = np.zeros_like(x)
    torch_t = _torch_target(2, output)
    ig = A.integrated_gradients(torch_t, x, base, 50)
    assert ig.relative_gap < 0.01  # completeness within 1% on a smooth network at m = 50
    assert torch_t.calls >= math.ceil(50 / 7)


def test_unknown_output_is_refused():
    with pytest.raises(ValueError, match="output"):
        T.TorchTarget(lambda x: x, 0, "softmax")
