"""An optimizer's path on a 2-D test function, every step inside one compiled TensorFlow loop."""

from __future__ import annotations

import numpy as np

from core.lab.errors import BadArgument
from core.optimizers.functions import FUNCTIONS, Trajectory, function_value, label
from core.optimizers.wrappers import Lookahead, keras, make, ops, tf

MAX_STEPS = 20_000


def trajectory(
    function: str,
    spec: str,
    steps: int = 500,
    learning_rate: float = 0.01,
    start: tuple[float, float] | None = None,
    sync_period: int = 5,
    slow_step_size: float = 0.5,
) -> Trajectory:
    """Run one optimizer on a 2-D function from ``start`` (default: the function's), recording every step.

    All steps run inside one compiled TensorFlow loop.
    """
    if function not in FUNCTIONS:
        raise BadArgument(
            "unknown function {function!r}; choose from {functions}", function=function, functions=", ".join(FUNCTIONS)
        )
    if not 1 <= steps <= MAX_STEPS:
        raise BadArgument("steps must be between 1 and {max_steps}, not {steps}", max_steps=MAX_STEPS, steps=steps)
    start = FUNCTIONS[function].start if start is None else start
    if len(start) != 2 or not all(np.isfinite(start)):
        raise BadArgument("the start must be two finite numbers, not {start}", start=start)
    opt = make(spec, learning_rate, sync_period, slow_step_size)
    w = keras.Variable(np.asarray(start, np.float32), name="w")
    opt.build([w])
    lookahead = isinstance(opt, Lookahead)

    def loss():
        return function_value(function, w[0], w[1], ops.cos)

    @tf.function(autograph=False)
    def run(n):
        points = tf.TensorArray(tf.float32, size=n)
        slows = tf.TensorArray(tf.float32, size=n)
        losses = tf.TensorArray(tf.float32, size=n)

        def body(i, points, slows, losses):
            with tf.GradientTape() as tape:
                tape.watch(w.value)
                value = loss()
            grad = tape.gradient(value, w.value)
            opt.apply([grad], [w])
            points = points.write(i, tf.identity(w.value))
            slows = slows.write(i, tf.identity(opt.slow_weights[0].value) if lookahead else tf.identity(w.value))
            losses = losses.write(i, loss())
            return i + 1, points, slows, losses

        _, points, slows, losses = tf.while_loop(lambda i, *_: i < n, body, (tf.constant(0), points, slows, losses))
        return points.stack(), slows.stack(), losses.stack()

    first_loss = float(loss())
    pts, slows, losses = (np.asarray(t, np.float64) for t in run(tf.constant(steps)))
    start_arr = np.asarray(start, np.float64)[None]
    points = np.concatenate([start_arr, pts])
    all_losses = np.concatenate([[first_loss], losses])
    slow = np.concatenate([start_arr, slows]) if lookahead else None
    return Trajectory(spec, label(spec, sync_period, slow_step_size), points, all_losses, slow)
