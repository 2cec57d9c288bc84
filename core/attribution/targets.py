"""Targets: one scalar model output F over a batch of points, with its gradient.

A :class:`Target` wraps one model output (the softmax probability or the logit
of one class) behind ``values`` and ``values_and_grads`` on a batch of points;
:class:`TorchTarget` (autograd) and :class:`KerasTarget` (``tf.GradientTape``)
are the two back ends, :class:`FunctionTarget` takes NumPy functions (tests,
functions with known integrals). The attribution methods in
:mod:`core.attribution.ig` see only this interface, as Captum's see a forward
function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from core.lab.compute import MODEL_LOCK
from core.lab.errors import BadArgument

OUTPUTS = ("probability", "logit")


class Target:
    """One scalar model output F over a batch of points of one shape.

    Subclasses implement ``_values_and_grads`` on one batch (and may override
    ``_values``); this class cuts any number of points into batches.
    """

    batch_size: int = 32

    def values_and_grads(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F and dF/dx at each point. <float>[m, *shape] -> [m], [m, *shape]"""
        points = np.asarray(points, np.float32)
        values, grads = [], []
        for start in range(0, len(points), self.batch_size):
            with MODEL_LOCK:
                v, g = self._values_and_grads(points[start : start + self.batch_size])
            values.append(np.asarray(v, np.float64).reshape(-1))
            grads.append(np.asarray(g, np.float32))
        return np.concatenate(values), np.concatenate(grads)

    def values(self, points: np.ndarray) -> np.ndarray:
        """F at each point, without gradients. <float>[m, *shape] -> [m]"""
        points = np.asarray(points, np.float32)
        out = []
        for s in range(0, len(points), self.batch_size):
            with MODEL_LOCK:
                out.append(np.asarray(self._values(points[s : s + self.batch_size]), np.float64).reshape(-1))
        return np.concatenate(out)

    def _values(self, points: np.ndarray) -> np.ndarray:
        return self._values_and_grads(points)[0]

    def _values_and_grads(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class FunctionTarget(Target):
    """F and its gradient given as NumPy functions of one point."""

    def __init__(
        self, f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray], batch_size: int = 32
    ):
        self.f, self.grad, self.batch_size = f, grad, batch_size
        self.calls = 0

    def _values_and_grads(self, points):
        self.calls += 1
        p = points.astype(np.float64)
        return np.array([self.f(q) for q in p]), np.stack([self.grad(q) for q in p])


def _check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise BadArgument("output must be one of {outputs}, not {output!r}", outputs=", ".join(OUTPUTS), output=output)


class TorchTarget(Target):
    """A torch model's output for one class; ``forward`` maps a float tensor of points to logits [B, classes]."""

    def __init__(self, forward: Callable[[Any], Any], target: int, output: str = "probability", batch_size: int = 32):
        _check_output(output)
        self.forward, self.target, self.output, self.batch_size = forward, int(target), output, batch_size
        self.calls = 0

    def _score(self, logits):
        import torch

        if self.output == "probability":
            return torch.softmax(logits, dim=-1)[:, self.target]
        return logits[:, self.target]

    def _values_and_grads(self, points):
        import torch

        self.calls += 1
        x = torch.from_numpy(np.ascontiguousarray(points)).requires_grad_(True)
        with torch.enable_grad():
            f = self._score(self.forward(x))
            (g,) = torch.autograd.grad(f.sum(), x)
        return f.detach().numpy(), g.numpy()

    def _values(self, points):
        import torch

        with torch.inference_mode():
            return self._score(self.forward(torch.from_numpy(np.ascontiguousarray(points)))).numpy()


class KerasTarget(Target):
    """A Keras 3 (TensorFlow) model's output for one class, differentiated with ``tf.GradientTape``.

    ``forward`` maps a float tensor of points to logits [B, classes]; it is traced
    once per input shape.
    """

    def __init__(self, forward: Callable[[Any], Any], target: int, output: str = "probability", batch_size: int = 32):
        _check_output(output)
        from core.lab.runtime import keras

        keras()
        import tensorflow as tf

        self.target, self.output, self.batch_size = int(target), output, batch_size
        self.calls = 0

        def score(x):
            logits = forward(x)
            if output == "probability":
                logits = tf.nn.softmax(logits, axis=-1)
            return logits[:, self.target]

        @tf.function(reduce_retracing=True, autograph=False)
        def values_and_grads(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                f = score(x)
            return f, tape.gradient(f, x)

        self._tf_values_and_grads = values_and_grads
        self._tf_values = tf.function(score, reduce_retracing=True, autograph=False)

    def _values_and_grads(self, points):
        import tensorflow as tf

        self.calls += 1
        f, g = self._tf_values_and_grads(tf.constant(points))
        return f.numpy(), g.numpy()

    def _values(self, points):
        import tensorflow as tf

        return self._tf_values(tf.constant(points)).numpy()
