"""The Keras 3 (TensorFlow) training step the measurements run: our ``tf.function``, as ``model.fit``
compiles one, with Adam; and the gradient check against the same model without recompute."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from core.lab.runtime import keras as _keras
from core.recompute import data
from core.recompute.model import build
from core.recompute.shapes import Shape

BACKEND = "tensorflow"


STRATEGY_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, NotImplementedError, RuntimeError)


def threads(n: int) -> None:
    import tensorflow as tf

    _keras()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, n))
    except RuntimeError:  # TensorFlow already ran in this process (a test session): it keeps its pools
        pass


def reason(exc: BaseException) -> str:
    """The sentence of the error that says why (the page shows it instead of a result): a traced function's
    error is "in user code:", a stack, the layer's call and then the cause, with terminal colour codes."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in str(exc).splitlines()]
    lines = [ln for ln in lines if ln]
    for ln in lines:
        if "custom_gradient" in ln:
            return ln[:400]
    errors = [ln for ln in lines if re.match(r"\w*(Error|Exception)\b", ln)]
    return (errors or lines or [type(exc).__name__])[-1][:400]


def _loss(logits: Any, labels: Any) -> Any:
    keras = _keras()
    return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))


class Trainer:
    def __init__(self, shape: Shape, strategy: str, seed: int = 0) -> None:
        import tensorflow as tf

        keras = _keras()
        self.shape, self.strategy, self.seed = shape, strategy, seed
        self.encoder = build(shape, strategy, seed)
        self.variables = self.encoder.trainable_variables
        self.optimizer = keras.optimizers.Adam(1e-4)
        self.optimizer.build(self.variables)

        s = shape
        signature = [
            tf.TensorSpec([s.batch, s.seq], tf.int32),
            tf.TensorSpec([s.batch, s.masked], tf.int32),
            tf.TensorSpec([s.batch, s.masked], tf.int32),
        ]

        @tf.function(input_signature=signature)
        def step(tokens: Any, positions: Any, labels: Any) -> Any:
            with tf.GradientTape() as tape:
                loss = _loss(self.encoder(tokens, positions, training=True), labels)
            grads = tape.gradient(loss, [v.value for v in self.variables])
            self.optimizer.apply(grads, self.variables)
            return loss

        self._step = step

    def prepare(self) -> None:
        """Everything but running a step: the weights and Adam's moments exist, the step is traced, the
        corpus is read (so none of it counts in the step's peak)."""
        self._step.get_concrete_function()
        self.batch(0)

    def batch(self, i: int) -> tuple[Any, Any, Any]:
        s = self.shape
        return data.batch(s.batch, s.seq, s.masked, seed=self.seed * 1000 + i)

    def step(self, i: int) -> float:
        return float(self._step(*self.batch(i)))

    def grad_diff(self) -> float:
        """Max |gradient with this strategy - gradient without recompute| over every weight, one batch,
        dropout on, both models starting from the same weights and the same dropout seeds."""
        import tensorflow as tf

        reference = build(self.shape, "none", self.seed + 1)
        for mine, theirs in zip(self.variables, reference.trainable_variables, strict=True):
            theirs.assign(mine.value)
        seeds = [g.state.value.numpy() for g in self.encoder.seed_generators]

        def grads_of(encoder: Any) -> list[np.ndarray]:
            for g, s in zip(encoder.seed_generators, seeds, strict=True):
                g.state.assign(s)
            variables = encoder.trainable_variables

            @tf.function
            def grads(tokens: Any, positions: Any, labels: Any) -> Any:
                with tf.GradientTape() as tape:
                    loss = _loss(encoder(tokens, positions, training=True), labels)
                return tape.gradient(loss, [v.value for v in variables])

            return [np.asarray(tf.convert_to_tensor(g)) for g in grads(*self.batch(10**6))]

        ours, plain = grads_of(self.encoder), grads_of(reference)
        return float(max(np.max(np.abs(a - b)) for a, b in zip(ours, plain, strict=True)))
