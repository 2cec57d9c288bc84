"""The seq2seq models (Keras 3, TensorFlow back end): one encoder, a left-to-right and/or a right-to-left
decoder, and Su's bidirectional model where each decoder also attends to the other's hidden states.

* Encoder: syllable embedding, one bidirectional GRU layer, the embedding beside its output -> E [batch,
  n, 2 * enc + embed] (a second stacked GRU layer learned several times slower here).
* A decoder (one per direction): a GRU reads the previous character's embedding and the encoder state of
  the position it writes (the output is as long as the input, so step t of L2R writes position t and
  step t of R2L writes position n-1-t); its state queries E (dot attention) and, in the bidirectional
  model, the other decoder's states; a linear read-out and a softmax over the characters read with that
  position's syllable in the training pairs (what an input method offers; the bigram baseline picks
  from the same lists).
* The other direction's state s of a sentence of n characters has read the s characters at its own end.
  Step t (writing position t from its end) may attend to it when s <= min(t, n-1-t): s <= t because
  that is all the other direction has decoded when both advance together, s <= n-1-t because a later
  state has already read the character being written (with gold targets in training the decoder would
  learn to copy it, and at test time there is nothing correct to copy).

Teacher-forced training and step-by-step decoding call the same layers (:meth:`output` serves both), so
the decoders' scores are the trained model's, and a test checks that the two agree.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.lab.runtime import keras

PAD_ID, BOS_ID, UNK_ID = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<unk>")
KINDS = ("l2r", "r2l", "bidi")
NEG = -1e9


def directions(kind: str) -> tuple[str, ...]:
    return ("l2r", "r2l") if kind == "bidi" else (kind,)


@dataclass(frozen=True)
class ModelConfig:
    kind: str  # l2r, r2l or bidi
    syllables: int  # source vocabulary, specials included
    characters: int  # target vocabulary, specials included
    embed: int = 128
    encoder: int = 256  # units per direction of each encoder GRU
    decoder: int = 256
    dropout: float = 0.15


@dataclass
class Vocab:
    syllables: list[str]  # index -> syllable (specials first)
    characters: list[str]  # index -> character (specials first)
    candidates: dict[str, list[str]]  # syllable -> the characters read with it in training

    def __post_init__(self) -> None:
        self.syllable_id = {s: i for i, s in enumerate(self.syllables)}
        self.char_id = {c: i for i, c in enumerate(self.characters)}

    def encode_source(self, syllables: list[str] | tuple[str, ...]) -> np.ndarray:
        return np.array([self.syllable_id.get(s, UNK_ID) for s in syllables], dtype=np.int32)

    def encode_target(self, chars: str) -> np.ndarray:
        return np.array([self.char_id.get(c, UNK_ID) for c in chars], dtype=np.int32)

    def decode_target(self, ids: Any) -> str:
        return "".join(self.characters[int(i)] if int(i) >= len(SPECIALS) else "□" for i in ids)

    def allowed(self) -> np.ndarray:
        """[syllables, characters] 0 where a character may be written for a syllable, -1e9 elsewhere; a
        syllable with no list (unknown, or never seen in training) allows every character."""
        table = np.full((len(self.syllables), len(self.characters)), NEG, dtype=np.float32)
        for s, i in self.syllable_id.items():
            ids = [self.char_id[c] for c in self.candidates.get(s, ()) if c in self.char_id]
            if ids:
                table[i, ids] = 0.0
            else:
                table[i, len(SPECIALS) :] = 0.0
        return table

    def save(self, path: Path) -> None:
        payload = {"syllables": self.syllables, "characters": self.characters, "candidates": self.candidates}
        path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["syllables"], data["characters"], data["candidates"])

    @classmethod
    def build(cls, training: Any) -> Vocab:
        from core.bidirectional.pairs import candidates

        counts = candidates(tuple(training))
        chars = sorted({c for pair in training for c in pair.chars})
        return cls(
            list(SPECIALS) + sorted(counts),
            list(SPECIALS) + chars,
            {s: [c for c, _ in n.most_common()] for s, n in sorted(counts.items())},
        )


def build(config: ModelConfig, vocab: Vocab) -> Any:
    k = keras()

    class Seq2Seq(k.Model):
        def __init__(self) -> None:
            super().__init__()
            c = config
            self.config = c
            self.dirs = directions(c.kind)
            self.allowed_table = k.ops.convert_to_tensor(vocab.allowed())
            self.src_embed = k.layers.Embedding(c.syllables, c.embed)
            self.enc1 = k.layers.Bidirectional(k.layers.GRU(c.encoder, return_sequences=True))
            self.drop = k.layers.Dropout(c.dropout)
            self.embed, self.gru, self.query, self.cross, self.mix, self.logits = {}, {}, {}, {}, {}, {}
            for d in self.dirs:
                self.embed[d] = k.layers.Embedding(c.characters, c.embed, name=f"{d}_embed")
                self.gru[d] = k.layers.GRU(c.decoder, return_sequences=True, name=f"{d}_gru")
                self.query[d] = k.layers.Dense(2 * c.encoder + c.embed, use_bias=False, name=f"{d}_query")
                if c.kind == "bidi":
                    self.cross[d] = k.layers.Dense(c.decoder, use_bias=False, name=f"{d}_cross")
                self.mix[d] = k.layers.Dense(c.decoder, name=f"{d}_mix")  # linear: see output()
                self.logits[d] = k.layers.Dense(c.characters, name=f"{d}_logits")

        # --- the pieces, shared by training and decoding -------------------------------------------
        def encode(self, src: Any, training: bool = False) -> Any:
            mask = k.ops.not_equal(src, PAD_ID)
            x = self.drop(self.src_embed(src), training=training)
            return k.ops.concatenate([self.enc1(x, mask=mask, training=training), x], axis=-1)

        def output(
            self,
            d: str,
            h: Any,
            aligned: Any,
            enc: Any,
            src_mask: Any,
            allowed: Any,
            other: Any = None,
            other_mask: Any = None,
            training: bool = False,
        ) -> Any:
            """Log-probabilities [B, T, V] from decoder states h [B, T, H] and the encoder states of the
            positions written, aligned [B, T, 2E]: attention over enc [B, N, 2E] (src_mask [B, N]); in the
            bidirectional model over other [B, S, H] (other_mask [B, T, S]). Dot products are scaled by
            1/sqrt(width). The read-out is linear (a low-rank projection, then the logits): with a tanh
            there, training sat at the syllables' unigram prior (loss 1.52 after 400 steps against 0.92
            without it) and the decoder GRU saturated (|h| -> 1), no longer reading the characters."""
            ops = k.ops
            scale = 1.0 / float(np.sqrt(2 * self.config.encoder + self.config.embed))
            scores = ops.einsum("btd,bnd->btn", self.query[d](h), enc) * scale
            scores = ops.where(src_mask[:, None, :], scores, NEG)
            ctx = ops.einsum("btn,bnd->btd", ops.softmax(scores, axis=-1), enc)
            parts = [h, aligned, ctx]
            if self.config.kind == "bidi":
                cross = ops.einsum("btd,bsd->bts", self.cross[d](h), other) / float(np.sqrt(self.config.decoder))
                cross = ops.where(other_mask, cross, NEG)
                parts.append(ops.einsum("bts,bsd->btd", ops.softmax(cross, axis=-1), other))
            mixed = self.drop(self.mix[d](ops.concatenate(parts, axis=-1)), training=training)
            return ops.log_softmax(self.logits[d](mixed) + allowed, axis=-1)

        def step(self, d: str, prev: Any, enc_t: Any, state: Any) -> Any:
            """One GRU step of direction d for a batch of hypotheses: previous characters [M], the encoder
            state of the position written [M, 2E], the state [M, H] -> the new state [M, H]."""
            x = k.ops.concatenate([self.embed[d](prev), enc_t], axis=-1)
            new, _ = self.gru[d].cell(x, [state])
            return new

        # --- teacher forcing -------------------------------------------------------------------------
        def call(self, inputs: dict[str, Any], training: bool = False) -> dict[str, Any]:
            """inputs: src [B, N], tgt [B, N] (the characters left to right), rev [B, N] (for each step of
            R2L, the position it writes: n-1-t inside the sentence, t in the padding), lengths [B].
            Returns each direction's log-probabilities of its own step order."""
            ops = k.ops
            src, tgt, rev, lengths = inputs["src"], inputs["tgt"], inputs["rev"], inputs["lengths"]
            n = ops.shape(src)[1]
            src_mask = ops.not_equal(src, PAD_ID)
            enc = self.encode(src, training=training)
            order = {"l2r": None, "r2l": rev}
            states, outputs = {}, {}
            for d in self.dirs:
                idx = order[d]
                tg = tgt if idx is None else ops.take_along_axis(tgt, idx, axis=1)
                en = enc if idx is None else ops.take_along_axis(enc, idx[:, :, None], axis=1)
                sy = src if idx is None else ops.take_along_axis(src, idx, axis=1)
                prev = ops.concatenate([ops.full_like(tg[:, :1], BOS_ID), tg[:, :-1]], axis=1)
                x = ops.concatenate([self.drop(self.embed[d](prev), training=training), en], axis=-1)
                states[d] = self.gru[d](x, mask=src_mask, training=training)
                outputs[d] = (states[d], sy, en)
            result = {}
            t = ops.arange(n, dtype="int32")
            lengths = ops.cast(lengths, "int32")
            limit = ops.minimum(t[None, :], lengths[:, None] - 1 - t[None, :])  # [B, T]
            other_mask = t[None, None, :] <= limit[:, :, None]  # [B, T, S]
            for d in self.dirs:
                h, sy, en = outputs[d]
                other = states[{"l2r": "r2l", "r2l": "l2r"}[d]] if self.config.kind == "bidi" else None
                allowed = ops.take(self.allowed_table, sy, axis=0)
                result[d] = self.output(d, h, en, enc, src_mask, allowed, other, other_mask, training=training)
            return result

    model = Seq2Seq()
    import tensorflow as tf

    # The decoders call these once per step with a few rows: traced once per direction and shape family
    # (reduce_retracing), each call costs a fraction of the same layers run eagerly op by op.
    model.compiled_encode = tf.function(model.encode, reduce_retracing=True)
    model.compiled_step = tf.function(model.step, reduce_retracing=True)
    model.compiled_output = tf.function(model.output, reduce_retracing=True)
    model.compiled_call = tf.function(model.call, reduce_retracing=True)
    dummy = np.ones((1, 3), dtype=np.int32)
    model(
        {
            "src": dummy,
            "tgt": dummy,
            "rev": np.array([[2, 1, 0]], dtype=np.int32),
            "lengths": np.array([3], dtype=np.int32),
        }
    )
    return model


def save(model: Any, vocab: Vocab, folder: Path) -> None:
    (folder / "config.json").write_text(json.dumps(asdict(model.config)))
    vocab.save(folder / "vocab.json")
    model.save_weights(str(folder / "model.weights.h5"))


def load(folder: Path) -> tuple[Any, Vocab]:
    config = ModelConfig(**json.loads((folder / "config.json").read_text()))
    vocab = Vocab.load(folder / "vocab.json")
    model = build(config, vocab)
    model.load_weights(str(folder / "model.weights.h5"))
    return model, vocab
