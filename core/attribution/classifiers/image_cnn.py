"""fashion-mnist-cnn: a small Keras 3 CNN on Fashion-MNIST, with a pixel logistic regression beside it."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.attribution.classifiers.base import (
    RANDOM_BASELINES,
    ClassifierError,
    ProgressCallback,
    Record,
    fit_history,
    folder_for,
    read_record,
    write_record,
)
from core.attribution.targets import KerasTarget, Target
from core.lab.artifacts import write_folder
from core.lab.messages import N_, msg
from core.lab.progress import Progress
from core.lab.runtime import keras as keras_module


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
    model.compile(
        keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    batches = int(np.ceil(len(x_train) / config.batch)) * config.epochs
    fit = model.fit(
        x_train,
        y_train,
        batch_size=config.batch,
        epochs=config.epochs,
        verbose=0,
        callbacks=[ProgressCallback(progress, batches, msg("Training the {data} CNN", data=config.data))],
    )
    if progress:
        progress(0.96, msg("Scoring the CNN and a pixel logistic regression on the test images"))
    accuracy = float(model.evaluate(data.x_test, data.y_test, verbose=0)[1])
    flat = x_train.reshape(len(x_train), -1)
    with warnings.catch_warnings():  # lbfgs stops at max_iter on 784 pixels; the score is what matters here
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        pixels = LogisticRegression(max_iter=200, C=1.0).fit(flat, y_train)
    baselines = {
        N_("logistic regression on pixels"): float(pixels.score(data.x_test.reshape(len(data.x_test), -1), data.y_test))
    }
    history = fit_history(fit)
    record = Record(
        "fashion-mnist-cnn",
        accuracy,
        baselines,
        len(x_train),
        len(data.x_test),
        time.perf_counter() - start,
        asdict(config),
        history,
        data.source,
    )

    def write(tmp: Path) -> None:
        model.save(tmp / "model.keras")
        (tmp / "classes.json").write_text(json.dumps(list(data.class_names)), encoding="utf-8")
        write_record(tmp, record)

    folder = folder_for("fashion-mnist-cnn")
    write_folder(folder, write)
    return folder


class ImageClassifier:
    """fashion-mnist-cnn loaded from its folder: images [h, w] in [0, 1] -> logits."""

    backend = "keras"
    baselines = IMAGE_BASELINES

    def __init__(self, folder: Path):
        keras = keras_module()
        self.id = "fashion-mnist-cnn"
        self.record = read_record(folder)
        self.labels = tuple(json.loads((folder / "classes.json").read_text(encoding="utf-8")))
        self.model = keras.models.load_model(folder / "model.keras")
        self.image_shape = tuple(int(d) for d in self.model.input_shape[1:3])

    def forward(self, images: Any) -> Any:
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
            raise ClassifierError(
                "image baselines are {image_baselines}, not {name!r}.",
                image_baselines=", ".join(IMAGE_BASELINES),
                name=name,
            )
        image = np.asarray(image, np.float32)
        if name == "black":
            return np.zeros_like(image)
        if name == "blurred":
            from scipy.ndimage import gaussian_filter

            return gaussian_filter(image, sigma=3.0).astype(np.float32)
        return np.random.default_rng(seed).uniform(0, 1, (k, *image.shape)).astype(np.float32)

    def label_name(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else str(index)
