"""The lab's remat against the same model without recompute, dropout on; Keras's own modes as they behave
with the pinned Keras (a mode that starts working in a compiled step fails this test, so the page's list
is re-checked)."""

from __future__ import annotations

import numpy as np
import pytest

from core.recompute import keras_side
from core.recompute.shapes import Shape

SHAPE = Shape(layers=4, hidden=32, heads=2, seq=16, batch=4, dropout=0.3)


@pytest.fixture(scope="module", autouse=True)
def two_threads():
    keras_side.threads(2)


def test_recompute_gives_the_gradients_of_none_with_dropout_on():
    for strategy in ("per-block", "sqrt", "scope-activations"):
        trainer = keras_side.Trainer(SHAPE, strategy)
        assert trainer.grad_diff() <= 1e-5, strategy  # the same weights and dropout seeds as none
    assert sum(int(np.prod(v.shape)) for v in trainer.variables) == SHAPE.parameters  # the count the budget uses


def test_keras_remat_as_it_is_draws_new_dropout_masks_in_the_recomputation():
    assert keras_side.Trainer(SHAPE, "keras-remat").grad_diff() > 1e-3
    # without dropout it is right: the masks are all the difference
    calm = Shape(layers=2, hidden=32, heads=2, seq=16, batch=4, dropout=0.0)
    assert keras_side.Trainer(calm, "keras-remat").grad_diff() <= 1e-5


def test_the_lab_remat_replays_the_seeds_it_was_given():
    from core.lab.runtime import keras
    from core.recompute.remat import remat, seed_generators

    k = keras()
    drop = k.layers.Dropout(0.5, seed=3)
    dense = k.layers.Dense(8)
    x = np.ones((4, 8), dtype="float32")
    dense.build(x.shape)
    assert seed_generators([dense]) == [] and len(seed_generators([drop])) == 1
    import tensorflow as tf

    @tf.function
    def grads(inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            y = remat(lambda t, training: drop(dense(t), training=training), [drop])(inputs, training=True)
            loss = tf.reduce_sum(y * y)
        return y, tape.gradient(loss, inputs)

    y, g = grads(tf.constant(x))
    # y = mask * dense(x) / 0.5, so d/dx sum(y^2) = 2 y (mask / 0.5) W^T = 4 y W^T: the forward pass's mask
    # (y is zero where it dropped); a recomputation with another mask would give something else
    expected = 4 * y.numpy() @ dense.kernel.numpy().T
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert 0 < np.mean(y.numpy() == 0) < 1  # dropout did drop


@pytest.mark.parametrize("strategy", ["scope-full", "scope-larger-than", "scope-list-of-layers"])
def test_keras_rematscope_modes_that_pass_keywords_fail_in_a_compiled_step(strategy):
    trainer = keras_side.Trainer(SHAPE, strategy)
    with pytest.raises(keras_side.STRATEGY_ERRORS) as caught:
        trainer.prepare()
    assert "keywords arguments only when eager execution" in keras_side.reason(caught.value)
