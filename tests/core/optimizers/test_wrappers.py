"""Lookahead and LazyOptimizer against NumPy references, on test functions, and through save / load."""

from __future__ import annotations

import numpy as np
import pytest

from core.optimizers import functions as F
from core.optimizers import wrappers as O
from core.optimizers.trajectory import trajectory

keras, tf = O.keras, O.tf
# The step-by-step checks run Keras in float64 (its optimizers compute in the variable's dtype), so they compare the
# algorithms, not float32 rounding (which alone moves Adam's steps by a few 1e-6 after a dozen steps).
TOL = 1e-6


# NumPy references (Keras 3's update formulas) ---------------------------------------------


class NumpySGD:
    def __init__(self, lr, momentum=0.0, nesterov=False):
        lr, momentum = float(np.float32(lr)), float(np.float32(momentum))  # as Keras holds them
        self.lr, self.momentum, self.nesterov, self.m = lr, momentum, nesterov, {}

    def step(self, key, w, g, t, rows=None):
        sel = slice(None) if rows is None else rows
        if not self.momentum:
            w[sel] -= self.lr * g[sel]
            return
        m = self.m.setdefault(key, np.zeros_like(w))
        m[sel] = self.momentum * m[sel] - self.lr * g[sel]
        w[sel] += self.momentum * m[sel] - self.lr * g[sel] if self.nesterov else m[sel]


class NumpyAdam:
    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-7):
        self.lr, self.b1, self.b2, self.eps, self.m, self.v = lr, b1, b2, eps, {}, {}

    def step(self, key, w, g, t, rows=None):
        sel = slice(None) if rows is None else rows
        m = self.m.setdefault(key, np.zeros_like(w))
        v = self.v.setdefault(key, np.zeros_like(w))
        m[sel] += (g[sel] - m[sel]) * (1 - self.b1)
        v[sel] += (g[sel] ** 2 - v[sel]) * (1 - self.b2)
        # Keras turns the Python betas and the learning rate into float32 tensors before casting them to the
        # variable's dtype, so its bias corrections use float32(beta) ** t: the reference does the same.
        b1, b2, lr = (float(np.float32(b)) for b in (self.b1, self.b2, self.lr))
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        w[sel] -= m[sel] * alpha / (np.sqrt(v[sel]) + self.eps)


INNERS = {
    "sgd": (lambda: keras.optimizers.SGD(0.1), lambda: NumpySGD(0.1)),
    "momentum": (lambda: keras.optimizers.SGD(0.1, momentum=0.9), lambda: NumpySGD(0.1, 0.9)),
    "nesterov": (lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True), lambda: NumpySGD(0.1, 0.9, True)),
    "adam": (lambda: keras.optimizers.Adam(0.05), lambda: NumpyAdam(0.05)),
}


def problem(seed=0, steps=12):
    """An embedding table [20, 4] and a dense kernel [4, 3] (float64), with gradients touching a few rows per step."""
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(20, 4)).astype(np.float64)
    kernel = rng.normal(size=(4, 3)).astype(np.float64)
    batches = []
    for _ in range(steps):
        rows = rng.choice(20, size=5, replace=True)  # duplicates on purpose: their gradients add up
        values = rng.normal(size=(5, 4)).astype(np.float64)
        batches.append((rows, values, rng.normal(size=(4, 3)).astype(np.float64)))
    return table, kernel, batches


def dense_rows(rows, values, n=20):
    g = np.zeros((n, values.shape[1]), values.dtype)
    np.add.at(g, rows, values)
    return g


def run_keras(opt, table, kernel, batches, sparse=True):
    emb = keras.Variable(table.copy(), name="embeddings")
    ker = keras.Variable(kernel.copy(), name="kernel")
    out = []
    for rows, values, gk in batches:
        ge = (
            tf.IndexedSlices(tf.constant(values), tf.constant(rows), dense_shape=tf.constant(table.shape, tf.int64))
            if sparse
            else tf.constant(dense_rows(rows, values))
        )
        opt.apply([ge, tf.constant(gk)], [emb, ker])
        out.append((np.array(emb.numpy()), np.array(ker.numpy())))
    return out


@pytest.mark.parametrize("inner", list(INNERS))
def test_lookahead_matches_numpy_step_by_step(inner):
    make_keras, make_np = INNERS[inner]
    table, kernel, batches = problem()
    opt = O.Lookahead(make_keras(), sync_period=5, slow_step_size=0.5)
    got = run_keras(opt, table, kernel, batches, sparse=False)
    ref, w = make_np(), [table.astype(np.float64), kernel.astype(np.float64)]
    slow = [a.copy() for a in w]
    for t, (rows, values, gk) in enumerate(batches, start=1):
        for i, g in enumerate((dense_rows(rows, values), gk)):
            ref.step(i, w[i], g.astype(np.float64), t)
        if t % 5 == 0:
            for i in range(2):
                slow[i] += 0.5 * (w[i] - slow[i])
                w[i] = slow[i].copy()
        np.testing.assert_allclose(got[t - 1][0], w[0], rtol=1e-6, atol=TOL, err_msg=f"step {t}")
        np.testing.assert_allclose(got[t - 1][1], w[1], rtol=1e-6, atol=TOL, err_msg=f"step {t}")
    np.testing.assert_allclose(opt.slow_weights[0].numpy(), slow[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("inner", list(INNERS))
@pytest.mark.parametrize("mode", O.LAZY_MODES)
def test_lazy_optimizer_matches_numpy_step_by_step(inner, mode):
    make_keras, make_np = INNERS[inner]
    table, kernel, batches = problem(1)
    got = run_keras(O.LazyOptimizer(make_keras(), mode), table, kernel, batches, sparse=True)
    ref, w = make_np(), [table.astype(np.float64), kernel.astype(np.float64)]
    for t, (rows, values, gk) in enumerate(batches, start=1):
        ge = dense_rows(rows, values).astype(np.float64)
        touched = np.unique(rows)
        before = w[0].copy()
        if mode == "blog":
            ref.step(0, w[0], ge, t)  # dense step, moments decay everywhere...
            untouched = np.setdiff1d(np.arange(20), touched)
            w[0][untouched] = before[untouched]  # ...but only touched rows move
        else:
            ref.step(0, w[0], ge, t, rows=touched)
        ref.step(1, w[1], gk.astype(np.float64), t)
        np.testing.assert_allclose(got[t - 1][0], w[0], rtol=1e-6, atol=TOL, err_msg=f"step {t}")
        np.testing.assert_allclose(got[t - 1][1], w[1], rtol=1e-6, atol=TOL, err_msg=f"step {t}")
        untouched = np.setdiff1d(np.arange(20), touched)
        prev = got[t - 2][0] if t > 1 else table
        np.testing.assert_array_equal(got[t - 1][0][untouched], prev[untouched])  # absent rows never move


def test_blog_mode_accepts_dense_gradients_and_zero_rows_stay():
    table, kernel, batches = problem(2, steps=3)
    got = run_keras(O.LazyOptimizer(keras.optimizers.Adam(0.1), "blog"), table, kernel, batches, sparse=False)
    rows = np.unique(batches[0][0])
    untouched = np.setdiff1d(np.arange(20), rows)
    np.testing.assert_array_equal(got[0][0][untouched], table[untouched])
    assert not np.allclose(got[0][0][rows], table[rows])


def test_sparse_mode_refuses_what_it_does_not_define():
    with pytest.raises(ValueError, match="sparse mode"):
        O.LazyOptimizer(keras.optimizers.RMSprop(0.1), "sparse")
    with pytest.raises(ValueError, match="mode"):
        O.LazyOptimizer(keras.optimizers.Adam(0.1), "eager")
    with pytest.raises(ValueError, match="sync_period"):
        O.Lookahead(keras.optimizers.Adam(0.1), sync_period=0)
    with pytest.raises(ValueError, match="slow_step_size"):
        O.Lookahead(keras.optimizers.Adam(0.1), slow_step_size=1.5)


# Optax-style harness: every optimizer reaches the optimum ------------------------------------

SETTINGS = {"sgd": (0.002, 6000), "momentum": (0.0005, 6000), "rmsprop": (0.002, 6000), "adam": (0.02, 6000)}
SPECS = [f"{w}{name}" for name in F.INNER for w in ("", "lookahead:")]


@pytest.mark.parametrize("spec", SPECS)
def test_every_optimizer_reaches_the_minimum_of_a_parabola(spec):
    lr = {"sgd": 0.1, "momentum": 0.05, "rmsprop": 0.01, "adam": 0.05}[spec.split(":")[-1]]
    tr = trajectory("quadratic", spec, 3000, lr / 10 if spec.endswith(("sgd", "momentum")) else lr)
    np.testing.assert_allclose(tr.final_point, [0, 0], atol=2e-2)


@pytest.mark.parametrize("spec", SPECS)
def test_every_optimizer_reaches_the_minimum_of_rosenbrock(spec):
    lr, steps = SETTINGS[spec.split(":")[-1]]
    tr = trajectory("rosenbrock", spec, steps * (2 if spec.startswith("lookahead") else 1), lr)
    np.testing.assert_allclose(tr.final_point, [1, 1], atol=5e-2)
    assert tr.final_loss < 1e-2
    assert (tr.slow_points is not None) == spec.startswith("lookahead")


def test_trajectory_records_every_step_and_refuses_bad_input():
    tr = trajectory("himmelblau", "lookahead:adam", 10, 0.1, start=(0.5, 0.5), sync_period=3)
    assert tr.points.shape == (11, 2) and tr.slow_points.shape == (11, 2)
    np.testing.assert_allclose(tr.points[0], [0.5, 0.5])
    np.testing.assert_allclose(tr.points[3], tr.slow_points[3])  # right after a sync, fast = slow
    assert tr.label == "Lookahead(Adam, k=3, alpha=0.5)"
    for bad in (
        {"function": "sphere"},
        {"steps": 0},
        {"spec": "adagrad"},
        {"spec": "fast:adam"},
        {"learning_rate": -1},
        {"start": (np.nan, 1)},
    ):
        args = {"function": "rosenbrock", "spec": "adam", "steps": 5, "learning_rate": 0.01, **bad}
        with pytest.raises(ValueError):
            trajectory(**args)


# Saving and resuming ------------------------------------------------------------------------------


def tiny_model(optimizer):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(50, 8)(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def data():
    rng = np.random.default_rng(0)
    return rng.integers(0, 50, (13 * 8, 6)), rng.integers(0, 2, 13 * 8)


@pytest.mark.parametrize(
    "make",
    [
        lambda: O.Lookahead(keras.optimizers.Adam(0.01), sync_period=5),
        lambda: O.LazyOptimizer(keras.optimizers.Adam(0.01), "sparse"),
        lambda: O.LazyOptimizer(
            O.Lookahead(keras.optimizers.Adam(0.01)) if False else keras.optimizers.Adam(0.01), "blog"
        ),
    ],
    ids=["lookahead", "lazy-sparse", "lazy-blog"],
)
def test_saving_mid_cycle_resumes_exactly(make, tmp_path):
    x, y = data()
    straight = tiny_model(make())
    for i in range(13):
        straight.train_on_batch(x[i * 8 : (i + 1) * 8], y[i * 8 : (i + 1) * 8])
    first = tiny_model(make())
    for i in range(7):  # stop mid-cycle (k = 5)
        first.train_on_batch(x[i * 8 : (i + 1) * 8], y[i * 8 : (i + 1) * 8])
    first.save(tmp_path / "m.keras")
    resumed = keras.models.load_model(tmp_path / "m.keras")
    assert type(resumed.optimizer).__name__ == type(first.optimizer).__name__
    assert int(resumed.optimizer.iterations.numpy()) == 7
    for i in range(7, 13):
        resumed.train_on_batch(x[i * 8 : (i + 1) * 8], y[i * 8 : (i + 1) * 8])
    for a, b in zip(straight.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_config_round_trip():
    opt = O.Lookahead(keras.optimizers.SGD(0.1, momentum=0.9), sync_period=7, slow_step_size=0.3)
    again = O.Lookahead.from_config(opt.get_config())
    assert (again.sync_period, again.slow_step_size) == (7, 0.3)
    assert isinstance(again.inner_optimizer, keras.optimizers.SGD) and again.inner_optimizer.momentum == 0.9
    lazy = O.LazyOptimizer(keras.optimizers.Adam(0.1), "blog", ("emb",))
    back = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(lazy))
    assert isinstance(back, O.LazyOptimizer) and back.mode == "blog" and back.lazy_variables == ("emb",)
    assert float(back.learning_rate.numpy()) == pytest.approx(0.1)


def test_fit_with_lookahead_learns():
    x, y = data()
    y = (x[:, 0] < 25).astype(int)
    model = tiny_model(O.Lookahead(keras.optimizers.Adam(0.05)))
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
