"""Step time of Lookahead and LazyOptimizer against their inner optimizer, in compiled training steps.

1. Lookahead(Adam) vs Adam on a 1.07M-parameter MLP (784-1024-256-10, batch 128):
   ``lookahead_overhead`` = Lookahead's step time / Adam's (target <= 1.10).
2. A 200,000 x 128 embedding table, batches of 64 x 32 random ids (about 2,000
   distinct rows per step), mean-pooled into a linear layer: Keras's Adam vs
   LazyOptimizer(Adam) sparse and blog. ``lazy_sparse_speedup`` = Adam's step
   time / the sparse mode's (target >= 3); ``lazy_blog_speedup`` the same for the
   blog's mode (which does Adam's dense work and then some, so it is slower).

Timings are medians over interleaved rounds in one process. Last line: JSON.

    python -m benchmarks.optimizers
"""

from __future__ import annotations

import json
import time

import numpy as np

ROUNDS = 5
STEPS = 30


def _step_fn(tf, model, opt, loss_fn):
    variables = model.trainable_variables
    opt.build(variables)

    @tf.function(autograph=False)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply(tape.gradient(loss, variables), variables)
        return loss

    return step


def _time(step, batches) -> float:
    t = time.perf_counter()
    for x, y in batches:
        step(x, y)
    float(step(*batches[0]))  # wait for the last step
    return (time.perf_counter() - t) / (len(batches) + 1)


def _compare(makers: dict, build_model, batches, tf, loss_fn) -> dict[str, float]:
    steps = {}
    for name, make in makers.items():
        model = build_model()
        steps[name] = _step_fn(tf, model, make(), loss_fn)
        _time(steps[name], batches[:3])  # trace and warm up
    best = {name: [] for name in makers}
    for _ in range(ROUNDS):
        for name, step in steps.items():
            best[name].append(_time(step, batches))
    return {name: float(np.median(v)) for name, v in best.items()}


def main() -> dict:
    from core.optimizers import wrappers as O

    keras, tf = O.keras, O.tf
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    rng = np.random.default_rng(0)

    def mlp():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((784,))
        x = keras.layers.Dense(1024, activation="relu")(inputs)
        x = keras.layers.Dense(256, activation="relu")(x)
        return keras.Model(inputs, keras.layers.Dense(10)(x))

    params = int(sum(np.prod(v.shape) for v in mlp().trainable_variables))
    dense_batches = [
        (tf.constant(rng.normal(size=(128, 784)).astype(np.float32)), tf.constant(rng.integers(0, 10, 128)))
        for _ in range(STEPS)
    ]
    t_look = _compare(
        {"adam": lambda: keras.optimizers.Adam(1e-3), "lookahead": lambda: O.Lookahead(keras.optimizers.Adam(1e-3))},
        mlp,
        dense_batches,
        tf,
        loss_fn,
    )

    rows, width = 200_000, 128

    def bag():
        keras.utils.set_random_seed(0)
        ids = keras.Input((32,), dtype="int32")
        x = keras.layers.Embedding(rows, width, name="words")(ids)
        x = keras.layers.GlobalAveragePooling1D()(x)
        return keras.Model(ids, keras.layers.Dense(2)(x))

    id_batches = [
        (tf.constant(rng.integers(0, rows, (64, 32)).astype(np.int32)), tf.constant(rng.integers(0, 2, 64)))
        for _ in range(STEPS)
    ]
    touched = float(np.mean([len(np.unique(x.numpy())) for x, _ in id_batches]))
    t_lazy = _compare(
        {
            "adam": lambda: keras.optimizers.Adam(1e-3),
            "sparse": lambda: O.LazyOptimizer(keras.optimizers.Adam(1e-3), "sparse", ("words",)),
            "blog": lambda: O.LazyOptimizer(keras.optimizers.Adam(1e-3), "blog", ("words",)),
        },
        bag,
        id_batches,
        tf,
        loss_fn,
    )
    result = {
        "mlp_parameters": params,
        "adam_step_ms": round(1000 * t_look["adam"], 3),
        "lookahead_adam_step_ms": round(1000 * t_look["lookahead"], 3),
        "lookahead_overhead": round(t_look["lookahead"] / t_look["adam"], 3),
        "embedding": [rows, width],
        "rows_touched_per_step": round(touched, 1),
        "embedding_adam_step_ms": round(1000 * t_lazy["adam"], 3),
        "lazy_sparse_step_ms": round(1000 * t_lazy["sparse"], 3),
        "lazy_blog_step_ms": round(1000 * t_lazy["blog"], 3),
        "lazy_sparse_speedup": round(t_lazy["adam"] / t_lazy["sparse"], 2),
        "lazy_blog_speedup": round(t_lazy["adam"] / t_lazy["blog"], 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
