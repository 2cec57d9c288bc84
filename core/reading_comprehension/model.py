"""Su's DGCNN for span extraction (kexue.fm 5409, 6906), and the BiLSTM it was built to replace, in Keras 3.

Shapes: B questions, P passage characters, Q question characters, d the model width.

* Input: each character's embedding plus the embedding of the jieba word it belongs to, projected to d
  and added (字词混合 embedding).
* A dilated gated residual block (``DilatedGatedConv``): one Conv1D to 2d channels, split into h and a
  gate g; out = x * (1 - sigmoid(g)) + h * sigmoid(g); padding zeroed before and after.
* Question: blocks with dilations 1, 2, 1, then attention pooling (a softmax over positions of
  v^T tanh(W h), masked) to one vector [B, d].
* Passage: the question vector and Su's two co-occurrence features (does the character, does its jieba
  word, occur in the question: ``features.overlap``) concatenated at every position and projected back to
  d, blocks with dilations 1, 2, 4, 8, 16, 1, the question vector concatenated again. Without the
  features a DGCNN trained here for 8 epochs stayed at 21% validation EM, below both heuristics: one
  pooled question vector cannot say where in the passage the question's other words are.
* Output: per character the start and end probabilities (sigmoids), each multiplied by the passage's
  "has an answer" gate, a sigmoid on an attention pooling of the passage.

``encoder="bilstm"`` swaps every stack of conv blocks for a bidirectional LSTM of the same width (d / 2
units each way), everything else equal: the recurrent baseline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.lab.runtime import keras

PAD_ID, UNK_ID = 0, 1
QUESTION_DILATIONS = (1, 2, 1)
PASSAGE_DILATIONS = (1, 2, 4, 8, 16, 1)
ENCODERS = ("dgcnn", "bilstm")
INPUTS = ("pc", "pw", "qc", "qw", "pm")
FEATURES = 2  # the co-occurrence features per passage character (features.overlap)


@dataclass(frozen=True)
class ModelConfig:
    encoder: str  # dgcnn or bilstm
    characters: int  # vocabulary sizes, the padding and unknown ids included
    words: int
    width: int = 128
    word_width: int = 128
    kernel: int = 3
    dropout: float = 0.1


def receptive_field(dilations: tuple[int, ...] = PASSAGE_DILATIONS, kernel: int = 3) -> list[int]:
    """How many characters a position sees after each block: 1 + (kernel - 1) * (sum of dilations so far)."""
    seen, out = 1, []
    for d in dilations:
        seen += (kernel - 1) * d
        out.append(seen)
    return out


def build(config: ModelConfig) -> Any:
    """The model: inputs ``pc``, ``pw`` [B, P] and ``qc``, ``qw`` [B, Q] (character and word ids, 0 = padding)
    and ``pm`` [B, P, FEATURES] (the passage's co-occurrence features, joined to the question vector);
    outputs ``start``, ``end`` [B, P] (gated probabilities), ``gate`` [B], ``attention`` [B, Q] (the
    question's pooling weights)."""
    k = keras()
    ops = k.ops
    c = config

    class DilatedGatedConv(k.layers.Layer):
        def __init__(self, dilation: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.conv = k.layers.Conv1D(2 * c.width, c.kernel, padding="same", dilation_rate=dilation)
            self.drop = k.layers.Dropout(c.dropout)

        def call(self, x: Any, mask: Any, training: bool = False) -> Any:
            m = ops.cast(mask, x.dtype)[:, :, None]
            h, g = ops.split(self.conv(self.drop(x * m, training=training)), 2, axis=-1)
            g = ops.sigmoid(g)
            return (x * (1 - g) + h * g) * m

    class AttentionPool(k.layers.Layer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.hidden = k.layers.Dense(c.width, activation="tanh")
            self.score = k.layers.Dense(1, use_bias=False)

        def call(self, x: Any, mask: Any) -> tuple[Any, Any]:
            s = ops.squeeze(self.score(self.hidden(x)), -1)
            weights = ops.softmax(ops.where(mask, s, -1e9), axis=-1)
            return ops.einsum("bt,btd->bd", weights, x), weights

    class Reader(k.Model):
        def __init__(self) -> None:
            super().__init__()
            self.config = c
            self.char_embed = k.layers.Embedding(c.characters, c.width)
            self.word_embed = k.layers.Embedding(c.words, c.word_width)
            self.word_project = k.layers.Dense(c.width, use_bias=False)
            if c.encoder == "dgcnn":
                self.q_blocks = [DilatedGatedConv(d) for d in QUESTION_DILATIONS]
                self.p_blocks = [DilatedGatedConv(d) for d in PASSAGE_DILATIONS]
            else:
                half = c.width // 2
                self.q_rnn = k.layers.Bidirectional(k.layers.LSTM(half, return_sequences=True))
                self.p_rnn = k.layers.Bidirectional(k.layers.LSTM(half, return_sequences=True))
            self.q_pool = AttentionPool()
            self.p_pool = AttentionPool()
            self.merge = k.layers.Dense(c.width)
            self.start = k.layers.Dense(1)
            self.end = k.layers.Dense(1)
            self.gate = k.layers.Dense(1)

        def embed(self, chars: Any, words: Any) -> Any:
            return self.char_embed(chars) + self.word_project(self.word_embed(words))

        def encode(self, x: Any, mask: Any, blocks: str, training: bool) -> Any:
            if c.encoder == "dgcnn":
                for block in getattr(self, blocks):
                    x = block(x, mask, training=training)
                return x
            rnn = self.q_rnn if blocks == "q_blocks" else self.p_rnn
            return rnn(x, mask=mask, training=training) * ops.cast(mask, x.dtype)[:, :, None]

        def call(self, inputs: dict[str, Any], training: bool = False) -> dict[str, Any]:
            q_mask = ops.not_equal(inputs["qc"], PAD_ID)
            p_mask = ops.not_equal(inputs["pc"], PAD_ID)
            q = self.encode(self.embed(inputs["qc"], inputs["qw"]), q_mask, "q_blocks", training)
            q_vec, q_weights = self.q_pool(q, q_mask)  # [B, d], [B, Q]
            p = self.embed(inputs["pc"], inputs["pw"])
            tiled = ops.broadcast_to(q_vec[:, None, :], ops.shape(p))
            features = ops.cast(inputs["pm"], p.dtype)
            p = self.merge(ops.concatenate([p, tiled, features], axis=-1)) * ops.cast(p_mask, p.dtype)[:, :, None]
            p = self.encode(p, p_mask, "p_blocks", training)
            p_vec, _ = self.p_pool(p, p_mask)
            gate = ops.sigmoid(ops.squeeze(self.gate(ops.concatenate([p_vec, q_vec], axis=-1)), -1))  # [B]
            both = ops.concatenate([p, tiled], axis=-1)
            m = ops.cast(p_mask, p.dtype)
            start = ops.sigmoid(ops.squeeze(self.start(both), -1)) * m
            end = ops.sigmoid(ops.squeeze(self.end(both), -1)) * m
            return {"start": start * gate[:, None], "end": end * gate[:, None], "gate": gate, "attention": q_weights}

    model = Reader()
    one = np.ones((1, 4), dtype=np.int32)
    model({"pc": one, "pw": one, "qc": one, "qw": one, "pm": np.zeros((1, 4, FEATURES), dtype=np.float32)})
    return model


def forward(model: Any) -> Any:
    """The model's inference call compiled once per model (a ``tf.function`` relaxed to any batch and
    length): eager Keras runs an LSTM one op per character, so the BiLSTM would answer 40x slower than it
    computes; compiled, the two readers' latencies compare their computations."""
    compiled = getattr(model, "_lab_forward", None)
    if compiled is None:
        import tensorflow as tf

        def call(inputs: Any) -> Any:
            return model(inputs, training=False)

        compiled = tf.function(call, reduce_retracing=True, autograph=False)
        model._lab_forward = compiled
    return compiled


def best_spans(start: np.ndarray, end: np.ndarray, max_length: int = 12, top: int = 5) -> list[tuple[int, int, float]]:
    """The ``top`` spans (i, j, p_start[i] * p_end[j]) with i <= j < i + max_length, best first."""
    n = len(start)
    scores = start[:, None] * end[None, :]  # [P, P]
    i, j = np.indices((n, n))
    scores = np.where((j >= i) & (j < i + max_length), scores, -1.0)
    flat = np.argsort(-scores, axis=None)[:top]
    return [(int(f // n), int(f % n), float(scores.flat[f])) for f in flat if scores.flat[f] >= 0]


def save(model: Any, folder: Path) -> None:
    (folder / "config.json").write_text(json.dumps(asdict(model.config)))
    model.save_weights(str(folder / "model.weights.h5"))


def load(folder: Path) -> Any:
    model = build(ModelConfig(**json.loads((folder / "config.json").read_text())))
    model.load_weights(str(folder / "model.weights.h5"))
    return model
