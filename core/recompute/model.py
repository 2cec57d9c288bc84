"""A BERT-style encoder with an MLM head in Keras 3, built from a shape, run under one recompute strategy.

Memory and time of a training step do not depend on the weights' values, so the model is built from its
shape alone (no checkpoint). Every block is the usual post-LN transformer block: multi-head
self-attention with dropout on the attention probabilities and on its output, a GELU feed-forward layer of
4x the width, residual connections and layer normalisation. The MLM head reads only the masked positions
(as BERT's pre-training does), so the blocks' activations, which the strategies act on, dominate.

Every dropout layer draws from its own seeded generator, so two models of the same shape and seed drop the
same units at the same call: that is how the gradients of a strategy are compared with those of none.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from core.lab.messages import N_
from core.lab.runtime import keras as _keras
from core.recompute.remat import remat
from core.recompute.shapes import Shape

# Strategies on the Keras side, in the page's order. Each: (label, API), the label as a person reads it.
KERAS_STRATEGIES = (
    "none",
    "scope-activations",
    "scope-full",
    "scope-larger-than",
    "scope-list-of-layers",
    "keras-remat",
    "per-block",
    "sqrt",
)
TORCH_STRATEGIES = ("torch-none", "torch-checkpointing")
STRATEGIES = KERAS_STRATEGIES + TORCH_STRATEGIES
# What each strategy is called on the page (English source strings for the catalogue) and the API it uses.
LABELS = {
    "none": N_("none"),
    "scope-activations": N_("RematScope: activations"),
    "scope-full": N_("RematScope: full"),
    "scope-larger-than": N_("RematScope: larger than"),
    "scope-list-of-layers": N_("RematScope: the blocks by name"),
    "keras-remat": N_("keras.remat per block, as it is"),
    "per-block": N_("every block (the lab's remat)"),
    "sqrt": N_("every ceil(sqrt n) blocks"),
    "torch-none": N_("torch: none"),
    "torch-checkpointing": N_("torch: gradient checkpointing"),
}
APIS = {
    "none": "-",
    "scope-activations": 'keras.RematScope(mode="activations")',
    "scope-full": 'keras.RematScope(mode="full")',
    "scope-larger-than": 'keras.RematScope(mode="larger_than")',
    "scope-list-of-layers": 'keras.RematScope(mode="list_of_layers", layer_names=[...])',
    "keras-remat": "keras.remat(lambda x: block(x, training=True))",
    "per-block": "core.recompute.remat.remat(block, [block])",
    "sqrt": "remat(segment of ceil(sqrt n) blocks), each block remat",
    "torch-none": "BertForMaskedLM",
    "torch-checkpointing": "model.gradient_checkpointing_enable()",
}
SCOPE_MODES = {
    "scope-activations": "activations",
    "scope-full": "full",
    "scope-larger-than": "larger_than",
    "scope-list-of-layers": "list_of_layers",
}


def segment_length(layers: int) -> int:
    """Chen et al.'s checkpoint spacing: ceil(sqrt(n)) blocks."""
    return max(1, math.ceil(math.sqrt(layers)))


def build(shape: Shape, strategy: str, seed: int = 0) -> Encoder:
    """The encoder of ``shape`` under ``strategy`` (one of :data:`KERAS_STRATEGIES`); the weights depend
    on ``seed`` only, so two strategies built with one seed start equal."""
    keras = _keras()
    layers = keras.layers
    keras.utils.set_random_seed(seed)
    mode = SCOPE_MODES.get(strategy)
    scope = (
        keras.RematScope(
            mode=mode,
            output_size_threshold=shape.batch * shape.seq,  # a [batch, seq] tensor: every block's output
            layer_names=[f"block_{i}" for i in range(shape.layers)],
        )
        if mode
        else contextlib.nullcontext()
    )
    with scope:
        model = Encoder(shape, strategy, seed, layers)
    model.build_all()
    return model


def _layer_classes(layers: Any) -> tuple[type, type]:
    keras = _keras()

    class Block(layers.Layer):
        """Post-LN transformer block: x + attention -> LN -> x + FFN -> LN."""

        def __init__(self, shape: Shape, seed: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            h, p = shape.hidden, shape.dropout
            self.attention = layers.MultiHeadAttention(
                shape.heads, h // shape.heads, dropout=p, seed=seed, name="attention"
            )
            self.drop1 = layers.Dropout(p, seed=seed + 1, name="drop1")
            self.norm1 = layers.LayerNormalization(epsilon=1e-12, name="norm1")
            self.ffn_in = layers.Dense(shape.intermediate, activation="gelu", name="ffn_in")
            self.ffn_out = layers.Dense(h, name="ffn_out")
            self.drop2 = layers.Dropout(p, seed=seed + 2, name="drop2")
            self.norm2 = layers.LayerNormalization(epsilon=1e-12, name="norm2")

        def build(self, input_shape: Any) -> None:
            self.attention.build(input_shape, input_shape)
            self.norm1.build(input_shape)
            self.ffn_in.build(input_shape)
            self.ffn_out.build((*input_shape[:-1], self.ffn_in.units))
            self.norm2.build(input_shape)

        def call(self, x: Any, training: bool = False) -> Any:
            a = self.attention(x, x, training=training)
            x = self.norm1(x + self.drop1(a, training=training))
            f = self.ffn_out(self.ffn_in(x))
            return self.norm2(x + self.drop2(f, training=training))

    class Head(layers.Layer):
        """BERT's MLM transform (dense, GELU, LN) and the output layer tied to the token embedding."""

        def __init__(self, embedding: Any, hidden: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.embedding = embedding
            self.transform = layers.Dense(hidden, activation="gelu", name="transform")
            self.norm = layers.LayerNormalization(epsilon=1e-12, name="norm")

        def build(self, input_shape: Any) -> None:
            self.transform.build(input_shape)
            self.norm.build(input_shape)
            self.bias = self.add_weight(shape=(self.embedding.input_dim,), initializer="zeros", name="bias")

        def call(self, x: Any) -> Any:
            h = self.norm(self.transform(x))
            return keras.ops.matmul(h, keras.ops.transpose(self.embedding.embeddings)) + self.bias

    return Block, Head


class Encoder:
    """Not a ``keras.Model`` subclass on purpose: the training step (:mod:`core.recompute.train`) is ours,
    and the strategy decides how the blocks are called, which a functional graph would fix at build time."""

    def __init__(self, shape: Shape, strategy: str, seed: int, layers: Any) -> None:
        Block, Head = _layer_classes(layers)
        self.shape, self.strategy = shape, strategy
        self.token = layers.Embedding(shape.vocab, shape.hidden, name="token")
        self.position = layers.Embedding(shape.seq, shape.hidden, name="position")
        self.norm = layers.LayerNormalization(epsilon=1e-12, name="embed_norm")
        self.drop = layers.Dropout(shape.dropout, seed=seed + 7, name="embed_drop")
        self.blocks = [Block(shape, seed + 100 + 10 * i, name=f"block_{i}") for i in range(shape.layers)]
        self.head = Head(self.token, shape.hidden, name="head")
        self.layers = [self.token, self.position, self.norm, self.drop, *self.blocks, self.head]

    def build_all(self) -> None:
        s = self.shape
        self.token.build((None, s.seq))
        self.position.build((None, s.seq))
        self.norm.build((None, s.seq, s.hidden))
        for block in self.blocks:
            block.build((None, s.seq, s.hidden))
        self.head.build((None, None, s.hidden))

    @property
    def trainable_variables(self) -> list[Any]:
        out: list[Any] = []
        for layer in self.layers:
            out += [v for v in layer.trainable_variables if all(v is not w for w in out)]
        return out

    @property
    def seed_generators(self) -> list[Any]:
        from core.recompute.remat import seed_generators

        return seed_generators(self.layers)

    def __call__(self, tokens: Any, masked: Any, training: bool = True) -> Any:
        """Logits [batch, masked positions, vocab] for ``tokens`` [batch, seq] at ``masked`` [batch, m]."""
        keras = _keras()
        ops = keras.ops
        positions = ops.arange(self.shape.seq)
        x = self.norm(self.token(tokens) + self.position(positions)[None])
        x = self.drop(x, training=training)
        x = self.run_blocks(x, training)
        picked = ops.take_along_axis(x, ops.expand_dims(masked, -1), axis=1)
        return self.head(picked)

    def run_blocks(self, x: Any, training: bool) -> Any:
        """The blocks under the strategy. The last block is never recomputed: the backward pass starts with
        it, so its tensors would be rebuilt at once for nothing (Chen et al. keep the last segment too); the
        peak is unchanged, since one block's full set is held during the backward pass anyway."""
        keras = _keras()
        strategy, blocks = self.strategy, self.blocks
        if strategy == "per-block":
            for block in blocks[:-1]:
                x = remat(block, [block])(x, training=training)
            return blocks[-1](x, training=training)
        if strategy == "keras-remat":  # keras.remat as it is: keyword-free, but no seed replay
            for block in blocks[:-1]:
                x = keras.remat(lambda t, b=block: b(t, training=training))(x)
            return blocks[-1](x, training=training)
        if strategy == "sqrt":
            k = segment_length(len(blocks))
            starts = list(range(0, len(blocks), k))
            for start in starts[:-1]:
                segment = blocks[start : start + k]
                x = remat(_segment(segment), segment)(x, training=training)
            return _segment(blocks[starts[-1] :], keep_last=True)(x, training=training)
        for block in blocks:  # none and the RematScope modes: the layers themselves decide
            x = block(x, training=training)
        return x


def _segment(blocks: list[Any], keep_last: bool = False) -> Any:
    """A run of blocks, each recomputed again inside the segment's recomputation, so the backward pass
    holds one block's intermediate tensors at a time (Chen et al.'s sqrt(n) schedule with blocks as its
    unit; without the inner recompute a segment's k blocks would all be held at once). ``keep_last``: the
    model's last block runs as it is."""

    def run(x: Any, training: bool = False) -> Any:
        for i, block in enumerate(blocks):
            if keep_last and i == len(blocks) - 1:
                x = block(x, training=training)
            else:
                x = remat(block, [block])(x, training=training)
        return x

    return run
