"""2-D test functions for watching optimizers, optimizer names and labels, and path summaries (NumPy only).

Listing the functions or labelling an optimizer must not import TensorFlow:
the Keras optimizers are in :mod:`core.optimizers.wrappers`, the compiled
path runner in :mod:`core.optimizers.trajectory`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.lab.messages import N_, Message, msg

INNER = ("sgd", "momentum", "rmsprop", "adam")
INNER_LABELS = {"sgd": "SGD", "momentum": N_("SGD + momentum 0.9"), "rmsprop": "RMSprop", "adam": "Adam"}


def label_message(spec: str, sync_period: int = 5, slow_step_size: float = 0.5) -> Message:
    """An optimizer's name as a message (the page shows it in the reader's language)."""
    wrapper, _, name = spec.rpartition(":")
    inner = msg(INNER_LABELS.get(name, name))
    if wrapper == "lookahead":
        return msg("Lookahead({inner}, k={k}, alpha={alpha:g})", inner=inner, k=sync_period, alpha=slow_step_size)
    if wrapper == "lazy":
        return msg("Lazy({inner}, sparse)", inner=inner)
    if wrapper == "lazy-blog":
        return msg("Lazy({inner}, blog)", inner=inner)
    return inner


def label(spec: str, sync_period: int = 5, slow_step_size: float = 0.5) -> str:
    """The English name (the command line's JSON, a trajectory's label)."""
    return str(label_message(spec, sync_period, slow_step_size))


@dataclass(frozen=True)
class TestFunction:
    name: str
    label: str
    f: Callable  # keras.ops / NumPy expression of x, y
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 for plots
    log_scale: bool = True  # contour on log(1 + f)

    def value(self, x: Any, y: Any) -> Any:
        return self.f(x, y)


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _rastrigin(x, y, cos=np.cos):
    return 20 + x**2 - 10 * cos(2 * np.pi * x) + y**2 - 10 * cos(2 * np.pi * y)


def _saddle(x, y):
    return x**2 + y**4 / 4 - y**2 / 2


def _ill(x, y):
    return 0.5 * (x**2 + 100 * y**2)


FUNCTIONS: dict[str, TestFunction] = {
    "rosenbrock": TestFunction(
        "rosenbrock",
        N_("Rosenbrock (a curved valley)"),
        _rosenbrock,
        (-1.5, 2.0),
        ((1.0, 1.0),),
        (-2.0, 2.0, -1.0, 3.0),
    ),
    "beale": TestFunction(
        "beale", N_("Beale (flat plateaus, sharp ridges)"), _beale, (1.0, 1.5), ((3.0, 0.5),), (-4.5, 4.5, -4.5, 4.5)
    ),
    "himmelblau": TestFunction(
        "himmelblau",
        N_("Himmelblau (four minima)"),
        _himmelblau,
        (0.0, -4.0),
        ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
        (-5.0, 5.0, -5.0, 5.0),
    ),
    "rastrigin": TestFunction(
        "rastrigin",
        N_("Rastrigin (many local minima)"),
        _rastrigin,
        (2.2, 2.7),
        ((0.0, 0.0),),
        (-3.0, 3.0, -3.0, 3.0),
        False,
    ),
    "saddle": TestFunction(
        "saddle",
        N_("Saddle x^2 + y^4/4 - y^2/2 (minima at y = +-1)"),
        _saddle,
        (1.5, 1e-3),
        ((0.0, 1.0), (0.0, -1.0)),
        (-2.0, 2.0, -2.0, 2.0),
        False,
    ),
    "quadratic": TestFunction(
        "quadratic",
        N_("Ill-conditioned quadratic (x^2 + 100 y^2) / 2"),
        _ill,
        (-2.0, 1.0),
        ((0.0, 0.0),),
        (-2.5, 2.5, -1.5, 1.5),
    ),
}


def function_value(name: str, x: Any, y: Any, cos: Callable = np.cos) -> Any:
    """The function on NumPy arrays (for contours) or, with ``cos=keras.ops.cos``, on tensors."""
    if name == "rastrigin":
        return _rastrigin(x, y, cos)
    return FUNCTIONS[name].f(x, y)


def value_grid(name: str, n: int = 160) -> np.ndarray:
    """The function on an n x n grid over its plot extent (rows: y, columns: x), for contours. -> [n, n]"""
    x0, x1, y0, y1 = FUNCTIONS[name].extent
    xx, yy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.asarray(function_value(name, xx, yy), np.float64)


def distances_to_minimum(name: str, points: np.ndarray) -> np.ndarray:
    """Each point's distance to the function's nearest global minimum. <float>[steps, 2] -> [steps]"""
    minima = np.asarray(FUNCTIONS[name].minima, np.float64)
    points = np.asarray(points, np.float64)
    return np.min(np.linalg.norm(points[:, None, :] - minima[None], axis=-1), axis=1)


def first_step_within(name: str, points: np.ndarray, tolerance: float = 0.01) -> int | None:
    """The first step whose point lies within ``tolerance`` of a minimum (``None``: never)."""
    close = np.flatnonzero(distances_to_minimum(name, points) < tolerance)
    return int(close[0]) if close.size else None


@dataclass
class Trajectory:
    spec: str
    label: str
    points: np.ndarray  # [steps + 1, 2]: the weights after each step (fast weights for Lookahead)
    losses: np.ndarray  # [steps + 1]
    slow_points: np.ndarray | None = None  # Lookahead's slow weights after each step

    @property
    def final_point(self) -> np.ndarray:
        return self.points[-1]

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


def path_summary(name: str, path: Trajectory, tolerance: float = 0.01) -> dict:
    """What the page's table and the command line report for one path: where it ended and how close it came."""
    return {
        "final_point": [float(v) for v in path.final_point],
        "final_loss": path.final_loss,
        "distance_to_minimum": float(distances_to_minimum(name, path.points[-1:])[0]),
        "first_step_within": first_step_within(name, path.points, tolerance),
        "tolerance": tolerance,
    }


def first_divergence(path: Trajectory) -> int | None:
    """The first step whose loss is not finite (the optimizer diverged), or ``None``."""
    bad = np.flatnonzero(~np.isfinite(path.losses))
    return int(bad[0]) if bad.size else None
