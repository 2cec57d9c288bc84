"""Integrated gradients and its relatives (Sundararajan et al. 2017; kexue.fm 7533).

IG_i(x) = (x_i - x'_i) * integral_0^1 dF(x' + a (x - x'))/dx_i da, so that the
attributions add up to F(x) - F(x') (completeness). The algorithm is split
into small pure steps, as LIT splits it:

1. a baseline x' (zero, a special token's embedding, random, a black or
   blurred image: see the classifiers);
2. the path points x' + a_k (x - x') for the nodes a_k of an integration rule;
3. the path gradients dF/dx at every point, in ceil(m / B) batched
   forward + backward passes of a :class:`Target`;
4. the integration: (x - x') * sum_k w_k grad_k.

The model is seen only through a :class:`~core.attribution.targets.Target`.

Every result is an :class:`Attribution` carrying F(x), F(x'), the sum of the
attributions and the completeness gap. Su's variant from the blog, plain
gradients and gradient x input come out in the same form; only IG promises
completeness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.attribution.targets import Target
from core.lab.errors import BadArgument

RULES = ("gauss-legendre", "trapezoid", "midpoint", "left", "right")
METHODS = ("ig", "blog", "gradient", "grad-x-input")
DEFAULT_STEPS = 50
BLOG_STEPS = 20
MAX_STEPS = 1000


# The steps ------------------------------------------------------------------------


def path_alphas(steps: int, rule: str = "gauss-legendre") -> tuple[np.ndarray, np.ndarray]:
    """Nodes a_k in [0, 1] and weights w_k of an m-point rule for the integral over a."""
    if rule not in RULES:
        raise BadArgument(
            "the integration rule must be one of {rules}, not {rule!r}", rules=", ".join(RULES), rule=rule
        )
    if not 1 <= steps <= MAX_STEPS:
        raise BadArgument("steps must be between 1 and {max_steps}, not {steps}", max_steps=MAX_STEPS, steps=steps)
    m = steps
    if rule == "gauss-legendre":
        nodes, weights = np.polynomial.legendre.leggauss(m)
        return (nodes + 1) / 2, weights / 2
    if rule == "trapezoid":
        if m < 2:
            raise BadArgument("the trapezoid rule needs at least 2 steps")
        w = np.full(m, 1.0 / (m - 1))
        w[[0, -1]] /= 2
        return np.linspace(0.0, 1.0, m), w
    k = np.arange(m, dtype=np.float64)
    offset = {"left": 0.0, "right": 1.0, "midpoint": 0.5}[rule]
    return (k + offset) / m, np.full(m, 1.0 / m)


def path_points(x: np.ndarray, baseline: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """x' + a (x - x') for each a. -> [m, *x.shape]"""
    x, baseline = np.asarray(x, np.float32), np.asarray(baseline, np.float32)
    a = np.asarray(alphas, np.float32).reshape(-1, *([1] * x.ndim))
    return baseline[None] + a * (x - baseline)[None]


def integrate(grads: np.ndarray, weights: np.ndarray, x: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """(x - x') * sum_k w_k grad_k, in float64."""
    avg = np.tensordot(np.asarray(weights, np.float32), np.asarray(grads, np.float32), axes=1)
    return (np.asarray(x, np.float64) - np.asarray(baseline, np.float64)) * avg.astype(np.float64)


@dataclass
class Attribution:
    """Scores with the shape of the input, and what they should add up to."""

    method: str
    scores: np.ndarray
    f_input: float
    f_baseline: float
    steps: int = 0
    rule: str = ""
    baseline: str = ""
    alphas: np.ndarray = field(default_factory=lambda: np.zeros(0))
    path_values: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def total(self) -> float:
        return float(np.sum(self.scores))

    @property
    def gap(self) -> float:
        """|sum of attributions - (F(x) - F(x'))|."""
        return abs(self.total - (self.f_input - self.f_baseline))

    @property
    def relative_gap(self) -> float:
        """The gap over |F(x) - F(x')| (infinite when the two are equal and the sum is not zero)."""
        delta = abs(self.f_input - self.f_baseline)
        if delta < 1e-12:
            return 0.0 if self.gap < 1e-12 else math.inf
        return self.gap / delta

    @property
    def complete(self) -> bool:
        """Whether the method promises completeness (only integrated gradients does)."""
        return self.method == "ig"


def _as_baselines(x: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    baseline = np.asarray(baseline, np.float32)
    if baseline.shape == x.shape:
        return baseline[None]
    if baseline.shape[1:] != x.shape:
        raise BadArgument(
            "baseline shape {shape} does not fit input shape {shape2}", shape=baseline.shape, shape2=x.shape
        )
    return baseline


def integrated_gradients(
    target: Target,
    x: np.ndarray,
    baseline: np.ndarray,
    steps: int = DEFAULT_STEPS,
    rule: str = "gauss-legendre",
    baseline_name: str = "",
) -> Attribution:
    """IG of ``target`` at ``x``; ``baseline`` is one array of x's shape or k of them ([k, *shape]).

    With k baselines the attributions are averaged over them and F(x') is the
    mean of F over them, so completeness still holds. All k * m path points and
    the k + 1 end points go through the model together, in batches.
    """
    x = np.asarray(x, np.float32)
    baselines = _as_baselines(x, baseline)
    alphas, weights = path_alphas(steps, rule)
    points = np.concatenate([path_points(x, b, alphas) for b in baselines])
    values, grads = target.values_and_grads(points)
    ends = target.values(np.concatenate([x[None], baselines]))
    m = len(alphas)
    scores = np.mean([integrate(grads[i * m : (i + 1) * m], weights, x, b) for i, b in enumerate(baselines)], axis=0)
    path_values = values.reshape(len(baselines), m).mean(axis=0)
    return Attribution(
        "ig", scores, float(ends[0]), float(ends[1:].mean()), m, rule, baseline_name, alphas, path_values
    )


def converge(
    target: Target,
    x: np.ndarray,
    baseline: np.ndarray,
    tolerance: float = 0.01,
    max_points: int = 257,
    baseline_name: str = "",
    min_level: int = 2,
) -> tuple[Attribution, list[tuple[int, float]]]:
    """IG with as few path points as the completeness gap allows: Romberg integration on a doubling grid.

    Level k evaluates only the new points a = odd / 2^k (the trapezoid rule on
    2^k + 1 points reuses every earlier gradient), then Richardson
    extrapolation lifts the trapezoid sums to high order on smooth paths. It
    stops at the first level from ``min_level`` whose relative gap is under
    ``tolerance``. The end points come with level 0, so F(x) and F(x') cost
    nothing extra. Returns the attribution and (points so far, relative gap)
    per level checked.
    """
    x = np.asarray(x, np.float32)
    baselines = _as_baselines(x, baseline)
    k_b = len(baselines)
    diffs = [np.asarray(x, np.float64) - np.asarray(b, np.float64) for b in baselines]

    def evaluate(alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        points = np.concatenate([path_points(x, b, alphas) for b in baselines])
        values, grads = target.values_and_grads(points)
        return values.reshape(k_b, len(alphas)), np.asarray(grads, np.float64).reshape(k_b, len(alphas), *x.shape)

    values, grads = evaluate(np.array([0.0, 1.0]))
    f_b, f_x = float(values[:, 0].mean()), float(values[0, 1])
    all_alphas, all_values = [0.0, 1.0], [values[:, 0].mean(), values[:, 1].mean()]
    previous = [0.5 * (grads[:, 0] + grads[:, 1])]  # Romberg row: [k_b, *shape] estimates of the mean gradient
    history: list[tuple[int, float]] = []
    level, used = 0, 2
    while True:
        result = Attribution(
            "ig",
            np.mean([d * r for d, r in zip(diffs, previous[-1], strict=True)], axis=0),
            f_x,
            f_b,
            used,
            "romberg",
            baseline_name,
            np.array(all_alphas),
            np.array(all_values),
        )
        if level >= min_level:
            history.append((used, result.relative_gap))
            if result.relative_gap < tolerance or used * 2 - 1 > max_points:
                order = np.argsort(result.alphas)
                result.alphas, result.path_values = result.alphas[order], result.path_values[order]
                return result, history
        level += 1
        new = (2 * np.arange(2 ** (level - 1)) + 1) / 2**level
        values, grads = evaluate(new)
        used += len(new)
        all_alphas += new.tolist()
        all_values += values.mean(axis=0).tolist()
        row = [0.5 * previous[0] + grads.mean(axis=1) * (len(new) / 2**level)]
        for j in range(1, level + 1):
            row.append(row[j - 1] + (row[j - 1] - previous[j - 1]) / (4**j - 1))
        previous = row


def blog_variant(target: Target, x: np.ndarray, steps: int = BLOG_STEPS) -> Attribution:
    """Su's variant: the mean over a in {0, 1/(n-1), ..., 1} of grad F(a x) * (a x).

    Raw scores have x's shape; :func:`reduce_scores` turns them into the blog's
    per-token L2 norms, min-max normalised. It does not satisfy completeness.
    """
    x = np.asarray(x, np.float32)
    if steps < 2:
        raise BadArgument("the blog's variant needs at least 2 steps")
    alphas = np.linspace(0.0, 1.0, steps)
    points = path_points(x, np.zeros_like(x), alphas)
    values, grads = target.values_and_grads(points)
    scores = np.mean(np.asarray(grads, np.float64) * np.asarray(points, np.float64), axis=0)
    return Attribution("blog", scores, float(values[-1]), float(values[0]), steps, "mean", "zero", alphas, values)


def gradient(
    target: Target,
    x: np.ndarray,
    baseline: np.ndarray | None = None,
    times_input: bool = False,
    baseline_name: str = "",
) -> Attribution:
    """dF/dx at x (or dF/dx * x with ``times_input``); F(x') is reported beside it for the gap."""
    x = np.asarray(x, np.float32)
    baselines = _as_baselines(x, np.zeros_like(x) if baseline is None else baseline)
    values, grads = target.values_and_grads(x[None])
    f_b = float(target.values(baselines).mean())
    g = np.asarray(grads[0], np.float64)
    scores = g * np.asarray(x, np.float64) if times_input else g
    return Attribution(
        "grad-x-input" if times_input else "gradient", scores, float(values[0]), f_b, 1, "", baseline_name
    )


def attribute(
    method: str,
    target: Target,
    x: np.ndarray,
    baseline: np.ndarray,
    steps: int = DEFAULT_STEPS,
    rule: str = "gauss-legendre",
    baseline_name: str = "",
) -> Attribution:
    """One method by name (``METHODS``); ``steps`` applies to IG and, when given explicitly, to the blog's variant."""
    if method == "ig":
        return integrated_gradients(target, x, baseline, steps, rule, baseline_name)
    if method == "blog":
        return blog_variant(target, x, steps)
    if method in ("gradient", "grad-x-input"):
        return gradient(target, x, baseline, method == "grad-x-input", baseline_name)
    raise BadArgument("method must be one of {methods}, not {method!r}", methods=", ".join(METHODS), method=method)


# Reductions --------------------------------------------------------------------------

REDUCTIONS = ("sum", "l2")


def _min_max(v: np.ndarray) -> np.ndarray:
    lo, hi = float(v.min(initial=0.0)), float(v.max(initial=0.0))
    return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)


def token_scores(
    attribution: Attribution, reduction: str = "sum", keep: np.ndarray | slice | None = None
) -> np.ndarray:
    """One score per token from text scores [tokens, hidden].

    ``sum`` over the hidden dimension keeps signs and completeness; ``l2`` is the
    norm. The blog's variant is always its L2 norm, min-max normalised to
    [0, 1], as the blog does. ``keep`` selects the tokens shown (the content
    tokens) before normalising.
    """
    if reduction not in REDUCTIONS:
        raise BadArgument(
            "reduction must be one of {reductions}, not {reduction!r}",
            reductions=", ".join(REDUCTIONS),
            reduction=reduction,
        )
    s = np.asarray(attribution.scores, np.float64)
    if keep is not None:
        s = s[keep]
    if attribution.method == "blog":
        return _min_max(np.linalg.norm(s, axis=-1))
    return s.sum(axis=-1) if reduction == "sum" else np.linalg.norm(s, axis=-1)


def pixel_scores(attribution: Attribution) -> np.ndarray:
    """Per-pixel scores of an image [h, w]: signed, except the blog's variant (|.|, min-max normalised)."""
    s = np.asarray(attribution.scores, np.float64)
    return _min_max(np.abs(s)) if attribution.method == "blog" else s
