"""Lookahead and LazyOptimizer for Keras 3 (TensorFlow back end).

Lookahead (Zhang, Lucas, Hinton, Ba 2019; kexue.fm, 2019-07-30) wraps any
inner optimizer: it keeps slow weights phi (the weights when training starts);
every k inner steps, phi <- phi + alpha (theta - phi) and theta <- phi. The
inner optimizer's state carries on across syncs. The slow weights and the step
counter are optimizer variables, so ``model.save`` / ``keras.models.load_model``
(and anything else that saves ``optimizer.variables``) resume mid-cycle exactly.

LazyOptimizer moves only the embedding rows present in the batch. Two modes:

* ``"blog"`` (Su's LazyOptimizer): the inner optimizer runs its ordinary dense
  step on every row (its moments decay everywhere, since it is handed a dense
  gradient), then the rows whose gradient is zero are put back where they were.
* ``"sparse"`` (like TF Addons' LazyAdam): the moments too are read and written
  only at the rows present, with scattered updates; no dense work on the table.
  Implemented for SGD (with or without momentum, Nesterov) and Adam inner
  optimizers, which is what the sparse formula is defined for.

Which variables are lazy is said by ``lazy_variables``: substrings of variable
paths (default ``("embeddings",)``, the weight of every ``keras.layers.Embedding``).
Other variables get the inner optimizer's dense update in both modes.

Both classes follow ``keras.optimizers.LossScaleOptimizer``: their own
variables first, then the inner optimizer's; ``learning_rate`` is the inner
one's; ``get_config`` / ``from_config`` nest the inner optimizer's config.
"""

from __future__ import annotations

from typing import Any

from core.lab.errors import BadArgument
from core.lab.runtime import keras as _keras
from core.optimizers.functions import INNER

keras = _keras()
import tensorflow as tf  # noqa: E402  (after the quiet import above)

tf.get_logger().setLevel("ERROR")  # one traced loop per trajectory is intended, not a retracing bug
ops = keras.ops
LAZY_MODES = ("blog", "sparse")


def _row_mask(gradient: Any, rows: int):
    """Bool [rows]: which rows of an embedding table the gradient touches."""
    if isinstance(gradient, tf.IndexedSlices):
        hit = tf.scatter_nd(
            tf.expand_dims(tf.cast(gradient.indices, tf.int64), 1),
            tf.ones_like(gradient.indices, dtype=tf.int32),
            [rows],
        )
        return hit > 0
    return tf.reduce_any(tf.not_equal(tf.reshape(gradient, [rows, -1]), 0), axis=1)


def _rows_and_values(gradient: Any, rows: int):
    """Unique row indices and their summed gradient rows, from sparse or dense gradients."""
    if isinstance(gradient, tf.IndexedSlices):
        unique, position = tf.unique(tf.cast(gradient.indices, tf.int64))
        values = tf.math.unsorted_segment_sum(gradient.values, position, tf.shape(unique)[0])
        return unique, values
    index = tf.where(_row_mask(gradient, rows))[:, 0]
    return index, tf.gather(gradient, index)


class _Wrapper(keras.optimizers.Optimizer):
    """What Lookahead and LazyOptimizer share with ``LossScaleOptimizer``: an inner optimizer whose learning rate,
    variables (after the wrapper's own) and config they expose."""

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def _own_config(self) -> dict:
        raise NotImplementedError

    def get_config(self):
        return {
            "name": self.name,
            **self._own_config(),
            "inner_optimizer": keras.saving.serialize_keras_object(self.inner_optimizer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = keras.saving.deserialize_keras_object(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)


@keras.saving.register_keras_serializable(package="kexue")
class Lookahead(_Wrapper):
    """Lookahead(inner): k fast steps of ``inner``, then the slow weights move alpha of the way and reset the fast.

    Args:
        inner_optimizer: any Keras 3 optimizer (its own settings, learning rate included).
        sync_period: k, inner steps between syncs (the blog's 5; TF Addons used 6).
        slow_step_size: alpha in (0, 1].
    """

    def __init__(
        self, inner_optimizer: Any, sync_period: int = 5, slow_step_size: float = 0.5, name: str | None = None, **kwargs
    ):
        if kwargs:
            raise BadArgument(
                "Lookahead takes no arguments {sorted}; set them on the inner optimizer.", sorted=sorted(kwargs)
            )
        if int(sync_period) < 1:
            raise BadArgument("sync_period must be at least 1, not {sync_period}", sync_period=sync_period)
        if not 0.0 < float(slow_step_size) <= 1.0:
            raise BadArgument("slow_step_size must be in (0, 1], not {slow_step_size}", slow_step_size=slow_step_size)
        super().__init__(learning_rate=0.0, name=name or "lookahead")
        self.inner_optimizer = inner_optimizer
        self.sync_period = int(sync_period)
        self.slow_step_size = float(slow_step_size)

    def build(self, var_list: Any) -> None:
        if self.built:
            return
        self.inner_optimizer.build(var_list)
        self._slow = []
        for v in var_list:
            slow = self.add_variable_from_reference(v, name="slow")
            slow.assign(v)
            self._slow.append(slow)
        super().build(var_list)

    @property
    def slow_weights(self) -> list:
        return list(self._slow)

    def apply(self, grads: Any, trainable_variables: Any = None) -> None:
        if not self.built:
            self.build(list(trainable_variables))
            self.built = True
        self.inner_optimizer.apply(grads, trainable_variables)
        alpha = self.slow_step_size

        def sync():
            for fast, slow in zip(self._trainable_variables, self._slow, strict=True):
                new = slow + alpha * (fast - slow)
                slow.assign(new)
                fast.assign(new)
            return ops.convert_to_tensor(True)

        def wait():
            return ops.convert_to_tensor(False)

        ops.cond(ops.equal((self._iterations + 1) % self.sync_period, 0), sync, wait)
        self._iterations.assign_add(1)

    def _own_config(self) -> dict:
        return {"sync_period": self.sync_period, "slow_step_size": self.slow_step_size}


@keras.saving.register_keras_serializable(package="kexue")
class LazyOptimizer(_Wrapper):
    """Only the embedding rows present in a batch move; see the module docstring for the two modes.

    Args:
        inner_optimizer: SGD (momentum / Nesterov allowed) or Adam for ``sparse``; any optimizer for ``blog``.
        mode: ``"blog"`` or ``"sparse"``.
        lazy_variables: substrings of the paths of the variables to treat lazily.
    """

    def __init__(
        self,
        inner_optimizer: Any,
        mode: str = "sparse",
        lazy_variables: tuple[str, ...] | list[str] = ("embeddings",),
        name: str | None = None,
        **kwargs,
    ):
        if kwargs:
            raise BadArgument(
                "LazyOptimizer takes no arguments {sorted}; set them on the inner optimizer.", sorted=sorted(kwargs)
            )
        if mode not in LAZY_MODES:
            raise BadArgument(
                "mode must be one of {lazy_modes}, not {mode!r}", lazy_modes=", ".join(LAZY_MODES), mode=mode
            )
        if mode == "sparse" and not isinstance(inner_optimizer, (keras.optimizers.SGD, keras.optimizers.Adam)):
            raise BadArgument(
                "the sparse mode is defined for SGD (with or without momentum) and Adam; use mode='blog' with {name}",
                name=type(inner_optimizer).__name__,
            )
        if mode == "sparse" and isinstance(inner_optimizer, keras.optimizers.Adam) and inner_optimizer.amsgrad:
            raise BadArgument("the sparse mode does not implement AMSGrad")
        super().__init__(learning_rate=0.0, name=name or f"lazy_{mode}")
        self.inner_optimizer = inner_optimizer
        self.mode = mode
        self.lazy_variables = tuple(lazy_variables)

    def is_lazy(self, variable: Any) -> bool:
        path = getattr(variable, "path", "") or getattr(variable, "name", "")
        return len(variable.shape) >= 2 and any(p in path for p in self.lazy_variables)

    def build(self, var_list: Any) -> None:
        if self.built:
            return
        var_list = list(var_list)
        self._lazy_index = {id(v): i for i, v in enumerate(var_list) if self.is_lazy(v)}
        inner_vars = var_list if self.mode == "blog" else [v for v in var_list if id(v) not in self._lazy_index]
        self._inner_vars = inner_vars
        if inner_vars:
            self.inner_optimizer.build(inner_vars)
        self._slots: dict[int, list] = {}
        if self.mode == "sparse":
            inner = self.inner_optimizer
            for v in var_list:
                if id(v) not in self._lazy_index:
                    continue
                if isinstance(inner, keras.optimizers.Adam):
                    self._slots[id(v)] = [
                        self.add_variable_from_reference(v, name="momentum"),
                        self.add_variable_from_reference(v, name="velocity"),
                    ]
                elif inner.momentum:
                    self._slots[id(v)] = [self.add_variable_from_reference(v, name="momentum")]
                else:
                    self._slots[id(v)] = []
        super().build(var_list)

    def apply(self, grads: Any, trainable_variables: Any = None) -> None:
        if not self.built:
            self.build(list(trainable_variables))
            self.built = True
        variables = list(trainable_variables) if trainable_variables is not None else self._trainable_variables
        pairs = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
        if self.mode == "blog":
            lazy = [(g, v, tf.identity(v.value)) for g, v in pairs if id(v) in self._lazy_index]
            # The inner step sees a dense gradient (zero rows included), so its moments decay on every row: with
            # IndexedSlices, Keras's TF optimizers would update the moments only at the rows present.
            dense = [tf.convert_to_tensor(g) if id(v) in self._lazy_index else g for g, v in pairs]
            self.inner_optimizer.apply(dense, [v for _, v in pairs])
            for g, v, before in lazy:
                moved = _row_mask(g, v.shape[0])
                shape = [-1] + [1] * (len(v.shape) - 1)
                v.assign(tf.where(tf.reshape(moved, shape), v.value, before))
        else:
            dense = [(g, v) for g, v in pairs if id(v) not in self._lazy_index]
            if dense:
                self.inner_optimizer.apply([g for g, _ in dense], [v for _, v in dense])
            else:  # keep the inner optimizer's step counter (Adam's bias correction) in step
                self.inner_optimizer._iterations.assign_add(1)
            for g, v in pairs:
                if id(v) in self._lazy_index:  # the inner counter has already advanced: this is step t
                    self._sparse_step(g, v, tf.cast(self.inner_optimizer.iterations, v.dtype))
        self._iterations.assign_add(1)

    def _sparse_step(self, gradient, variable, t):
        inner = self.inner_optimizer
        lr = tf.cast(inner.learning_rate, variable.dtype)
        index, g = _rows_and_values(gradient, variable.shape[0])
        g = tf.cast(g, variable.dtype)
        table = variable.value
        slots = self._slots[id(variable)]
        if isinstance(inner, keras.optimizers.Adam):
            m, v = slots
            b1, b2 = inner.beta_1, inner.beta_2
            m_rows = tf.gather(m.value, index) * b1 + (1 - b1) * g
            v_rows = tf.gather(v.value, index) * b2 + (1 - b2) * tf.square(g)
            dtype = variable.dtype
            alpha = lr * tf.sqrt(1 - tf.pow(tf.cast(b2, dtype), t)) / (1 - tf.pow(tf.cast(b1, dtype), t))
            m.value.scatter_update(tf.IndexedSlices(m_rows, index))
            v.value.scatter_update(tf.IndexedSlices(v_rows, index))
            table.scatter_sub(tf.IndexedSlices(m_rows * alpha / (tf.sqrt(v_rows) + inner.epsilon), index))
            return
        if not slots:
            table.scatter_sub(tf.IndexedSlices(lr * g, index))
            return
        (m,) = slots
        momentum = tf.cast(inner.momentum, variable.dtype)
        m_rows = momentum * tf.gather(m.value, index) - lr * g
        m.value.scatter_update(tf.IndexedSlices(m_rows, index))
        step = momentum * m_rows - lr * g if inner.nesterov else m_rows
        table.scatter_add(tf.IndexedSlices(step, index))

    def _own_config(self) -> dict:
        return {"mode": self.mode, "lazy_variables": list(self.lazy_variables)}


# Optimizers by name --------------------------------------------------------------------


def make(spec: str, learning_rate: float, sync_period: int = 5, slow_step_size: float = 0.5) -> Any:
    """An optimizer from a spec: ``adam``, ``lookahead:adam``, ``lazy:adam`` (sparse), ``lazy-blog:adam``."""
    wrapper, _, name = spec.rpartition(":")
    if name not in INNER:
        raise BadArgument(
            "unknown optimizer {name!r}; choose from {inner}, optionally prefixed with lookahead:, lazy: or lazy-blog:",
            name=name,
            inner=", ".join(INNER),
        )
    if not learning_rate > 0:
        raise BadArgument("the learning rate must be positive, not {learning_rate}", learning_rate=learning_rate)
    lr = float(learning_rate)
    inner = {
        "sgd": lambda: keras.optimizers.SGD(lr),
        "momentum": lambda: keras.optimizers.SGD(lr, momentum=0.9),
        "rmsprop": lambda: keras.optimizers.RMSprop(lr),
        "adam": lambda: keras.optimizers.Adam(lr),
    }[name]()
    if wrapper == "":
        return inner
    if wrapper == "lookahead":
        return Lookahead(inner, sync_period, slow_step_size)
    if wrapper in ("lazy", "lazy-blog"):
        return LazyOptimizer(inner, "sparse" if wrapper == "lazy" else "blog")
    raise BadArgument("unknown wrapper {wrapper!r}; use lookahead:, lazy: or lazy-blog:", wrapper=wrapper)
