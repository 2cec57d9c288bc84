"""Recompute (rematerialization) for Keras 3 on TensorFlow that works in a compiled train step and replays
dropout.

With the TensorFlow back end ``keras.remat(f)`` is ``tf.recompute_grad(f)``, and two things go wrong with
it in a real training step:

1. In graph mode (``model.fit``, or any ``tf.function`` train step) ``tf.recompute_grad`` rejects keyword
   arguments ("The custom_gradient decorator currently supports keywords arguments only when eager
   execution is enabled"; tensorflow#56692). A layer's ``__call__`` passes ``training=`` as a keyword, so
   ``keras.RematScope(mode="full")`` and ``mode="larger_than"`` fail (keras-team/keras#21207, open), while
   ``mode="activations"`` (it wraps the keyword-free activation function) and ``keras.remat`` on a
   keyword-free function work.
2. The recomputed forward pass draws new random numbers. Every Keras random op (``Dropout`` among them)
   takes its seed from a ``SeedGenerator`` whose state advances at each call, so the backward pass's
   recomputation drops other units than the forward pass did and the gradients are wrong.

:func:`remat` mends both in one place: keyword arguments are closed over (tensor-valued ones move to
positional arguments), and the seed generators of the layers the function runs are read before the
forward pass and handed to it as inputs, which it writes back into the generators before it runs, so the
recomputation starts from the same seeds and draws the same dropout masks. The tests check gradients
equal to those of the same model without recompute, with dropout on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core.lab.runtime import keras as _keras


def seed_generators(layers: Iterable[Any]) -> list[Any]:
    """Every ``SeedGenerator`` the layers (and the layers inside them) draw from, each once, in a fixed order."""
    found: list[Any] = []
    seen: set[int] = set()
    for layer in layers:
        for sub in layer._flatten_layers(include_self=True, recursive=True):
            for generator in getattr(sub, "_seed_generators", []):
                if id(generator) not in seen:
                    seen.add(id(generator))
                    found.append(generator)
    return found


def remat(fn: Callable[..., Any], layers: Iterable[Any] = ()) -> Callable[..., Any]:
    """``fn`` recomputed in the backward pass instead of keeping its intermediate tensors.

    ``layers``: the Keras layers ``fn`` calls, whose random seeds are replayed (a layer without dropout
    may be left out; one left out that has dropout gets other masks in the recomputation). The result
    takes any arguments: tensors (positional or keyword) are the recomputed function's inputs, everything
    else (``training=True``, Python numbers) is fixed for the call.
    """
    keras = _keras()
    generators = seed_generators(layers)

    def call(*args: Any, **kwargs: Any) -> Any:
        import tensorflow as tf

        names = [k for k, v in kwargs.items() if tf.is_tensor(v) or isinstance(v, keras.KerasTensor)]
        fixed = {k: v for k, v in kwargs.items() if k not in names}
        seeds = [g.state.value * 1 for g in generators]  # a copy: the forward pass advances the state
        n_seeds, n_args = len(seeds), len(args)

        def inner(*flat: Any) -> Any:
            for generator, seed in zip(generators, flat[:n_seeds], strict=True):
                generator.state.assign(seed)
            positional = flat[n_seeds : n_seeds + n_args]
            named = dict(zip(names, flat[n_seeds + n_args :], strict=True))
            return fn(*positional, **named, **fixed)

        return keras.remat(inner)(*seeds, *args, *(kwargs[k] for k in names))

    return call
