"""en-sentiment: frozen all-MiniLM-L6-v2, mean pooling and a logistic head, on vaderSentiment's movie snippets."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.attribution.classifiers.base import (
    SENTIMENT_LABELS,
    Record,
    TorchTextClassifier,
    bow_accuracy,
    en_movie_split,
    folder_for,
    write_record,
)
from core.lab.artifacts import write_folder
from core.lab.messages import N_, msg
from core.lab.progress import Progress


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

    def forward(self, embeddings: Any) -> Any:
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


def sentence_embeddings(
    encoder: Any, texts: list[str], batch: int = 64, progress: Progress | None = None, label: str = "Embedding"
) -> np.ndarray:
    """Mean-pooled, normalised last-layer embeddings, batched by length. -> [n, hidden]"""
    import torch

    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), encoder.model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            idx = order[start : start + batch]
            enc = encoder.tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="pt"
            )
            hidden = encoder.model(**enc).last_hidden_state
            out[idx] = _mean_pool(hidden, enc["attention_mask"].to(hidden.dtype)).numpy()
            if progress and (start // batch) % 10 == 0:
                progress(
                    0.1 + 0.8 * start / len(texts),
                    msg("{label}: {start:,} of {n_texts:,} snippets", label=label, start=start, n_texts=len(texts)),
                )
    return out


def train_en_sentiment(
    config: HeadConfig = HeadConfig(), progress: Progress | None = None, encoder: Any = None
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
    best = max(
        (LogisticRegression(max_iter=3000, C=c).fit(emb[:a], split.y_train).score(emb[a:b], split.y_val), c)
        for c in (0.3, 1.0, 3.0, 10.0)
    )
    head = LogisticRegression(max_iter=3000, C=best[1]).fit(emb[:a], split.y_train)
    accuracy = float(head.score(emb[b:], split.y_test))
    # Two logits (negative, positive) from the binary model: [0, w.x + b].
    weight = np.stack([np.zeros_like(head.coef_[0]), head.coef_[0]]).astype(np.float32)
    bias = np.array([0.0, head.intercept_[0]], np.float32)
    baselines = {
        N_("bag of words"): bow_accuracy(split.train, split.y_train, split.test, split.y_test, "word"),
        N_("bag of words and bigrams"): bow_accuracy(
            split.train, split.y_train, split.test, split.y_test, "word", (1, 2)
        ),
    }
    record = Record(
        "en-sentiment",
        accuracy,
        baselines,
        len(split.train),
        len(split.test),
        time.perf_counter() - start,
        {**asdict(config), "C": best[1]},
        [],
        split.source,
    )

    def write(tmp: Path) -> None:
        np.savez(tmp / "head.npz", weight=weight, bias=bias)
        write_record(tmp, record)

    folder = folder_for("en-sentiment")
    write_folder(folder, write)
    return folder
