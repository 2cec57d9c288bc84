"""The encoder's shape, its checks, and what a training step holds, counted from the shape.

Counting is in float32 elements. A block (post-LN: attention, dropout, add, LN, GELU feed-forward,
dropout, add, LN) keeps these for its backward pass, per example, with S the sequence length, H the
hidden width, I = 4H the feed-forward width and A the heads:

- the block input (read by the query, key and value projections): S H
- queries, keys and values (read by the two attention products): 3 S H
- the attention probabilities (softmax output), their dropout mask and the dropped probabilities: 3 A S^2
- the attention context (read by the output projection), the output's dropout mask, the first LN's
  input and the feed-forward input (the first LN's output): 4 S H
- the GELU's input, its two inner terms (x / sqrt 2 through erf, and x / 2) and its output: 4 S I
- the feed-forward output's dropout mask and the second LN's input: 2 S H

so 10 S H + 4 S I + 3 A S^2 per example and block. A recomputed block keeps only its input (S H) until
the backward pass reaches it, then holds its whole set once more while its gradient is taken; the last
block is never recomputed (the backward pass starts there), so per-block keeps n - 1 inputs and one set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from core.lab.errors import BadArgument
from core.lab.messages import N_, Message, msg

BYTES = 4  # float32
MB = 1024 * 1024
LIMITS = {  # name: (lowest, highest)
    "layers": (1, 48),
    "hidden": (16, 1024),
    "heads": (1, 16),
    "seq": (8, 512),
    "batch": (1, 2048),
}
MASK_RATE = 0.15
VOCAB = 6000  # the built-in corpus's characters and [MASK] fit (data.py)


class ShapeError(BadArgument):
    """A shape the encoder cannot have (the hidden width does not divide into the heads)."""


@dataclass(frozen=True)
class Shape:
    layers: int = 12
    hidden: int = 256
    heads: int = 4
    seq: int = 128
    batch: int = 32
    vocab: int = VOCAB
    dropout: float = 0.1
    notes: tuple[Message, ...] = field(default=(), compare=False)  # what was clamped, as a person reads it

    @property
    def intermediate(self) -> int:
        return 4 * self.hidden

    @property
    def masked(self) -> int:
        """Masked positions per sequence (the MLM head reads only these)."""
        return max(1, round(MASK_RATE * self.seq))

    def with_batch(self, batch: int) -> Shape:
        return replace(self, batch=batch, notes=())

    def key(self) -> dict[str, int | float]:
        return {k: getattr(self, k) for k in ("layers", "hidden", "heads", "seq", "batch", "vocab", "dropout")}

    # -- counting -------------------------------------------------------------------------------------
    @property
    def parameters(self) -> int:
        h, i, n = self.hidden, self.intermediate, self.layers
        block = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h  # attention, feed-forward, two LNs
        embeddings = self.vocab * h + self.seq * h + 2 * h
        head = h * h + h + 2 * h + self.vocab  # transform, LN, output bias (the output matrix is tied)
        return n * block + embeddings + head

    def state_mb(self) -> dict[str, float]:
        """Weights, their gradients and Adam's two moments, in MB."""
        p = self.parameters * BYTES / MB
        return {"weights_mb": p, "gradients_mb": p, "optimizer_mb": 2 * p}

    def block_tensors(self) -> list[tuple[str, int]]:
        """What one Keras block keeps for its backward pass: (what, as an English source string for the
        catalogue; elements per example), the module's list."""
        s, h, i, a = self.seq, self.hidden, self.intermediate, self.heads
        return [
            (N_("block input (read by the query, key and value projections)"), s * h),
            (N_("queries, keys and values"), 3 * s * h),
            (N_("attention probabilities, their dropout mask, the dropped probabilities"), 3 * a * s * s),
            (N_("attention context, output dropout mask, first LayerNorm input and output"), 4 * s * h),
            (N_("GELU input, its two inner terms and its output"), 4 * s * i),
            (N_("feed-forward dropout mask, second LayerNorm input"), 2 * s * h),
        ]

    def block_elements(self, torch: bool = False) -> int:
        """Elements one block keeps for its backward pass, per example (the module's list). On torch the
        GELU is one fused op (it keeps its input only) and dropout masks are bytes, a quarter of a float."""
        s, h, i, a = self.seq, self.hidden, self.intermediate, self.heads
        if torch:
            return int(8.5 * s * h + 2 * s * i + 2.25 * a * s * s)
        return sum(n for _, n in self.block_tensors())

    def outside_elements(self, torch: bool = False) -> int:
        """Embeddings (sum, LN input, dropout mask) and the MLM head (transform, GELU terms, LN, logits and
        their softmax), per example, kept by every strategy. The Keras model's head reads the masked
        positions only; transformers' ``BertForMaskedLM`` computes its head at every position."""
        s, h, m, v = self.seq, self.hidden, self.masked, self.vocab
        return 3 * s * h + (s if torch else m) * (6 * h + 2 * v)

    def predicted_activation_mb(self, strategy: str, layers: int | None = None) -> float | None:
        """Activation memory a strategy keeps at its peak, counted from the shape; ``None`` for a strategy
        whose choice of tensors is the library's (RematScope modes other than activations)."""
        n = self.layers if layers is None else layers
        torch = strategy.startswith("torch")
        block, boundary = self.block_elements(torch), self.seq * self.hidden
        gelu_inner = 2 * self.seq * self.intermediate
        if strategy in ("none", "torch-none"):
            kept = n * block
        elif strategy == "scope-activations":  # the GELU's inner terms are recomputed
            kept = n * (block - gelu_inner)
        elif strategy in ("per-block", "keras-remat"):  # the last block is not recomputed (model.py)
            kept = (n - 1) * boundary + block
        elif strategy == "torch-checkpointing":  # transformers checkpoints every layer
            kept = n * boundary + block
        elif strategy == "sqrt":  # segment inputs but the last segment's; its k block inputs; one block
            k = math.ceil(math.sqrt(n))
            kept = (math.ceil(n / k) - 1) * boundary + k * boundary + block
        else:
            return None
        return (kept + self.outside_elements(torch)) * self.batch * BYTES / MB


def clamp_shape(**given: int | float | None) -> Shape:
    """A :class:`Shape` from the given values; values out of range are clamped and said in ``notes``; a
    hidden width that the heads do not divide is an error."""
    values: dict[str, int | float] = {}
    notes: list[Message] = []
    for name, value in given.items():
        if value is None:
            continue
        if name in LIMITS:
            low, high = LIMITS[name]
            v = int(value)
            if not low <= v <= high:
                clamped = min(high, max(low, v))
                notes.append(
                    msg(
                        "{name}={value} is outside {low}..{high}: {clamped} is used",
                        name=name,
                        value=v,
                        low=low,
                        high=high,
                        clamped=clamped,
                    )
                )
                v = clamped
            values[name] = v
        else:
            values[name] = value
    shape = Shape(**values)  # type: ignore[arg-type]
    if shape.hidden % shape.heads:
        raise ShapeError(
            "the hidden size {hidden} does not divide into {heads} heads (try {fit})",
            hidden=shape.hidden,
            heads=shape.heads,
            fit=shape.hidden // shape.heads * shape.heads or shape.heads,
        )
    return replace(shape, notes=tuple(notes))
