"""Autoencoder vs variational autoencoder latent geometry (kexue.fm 7725).

An autoencoder maps each image to a point; a VAE maps it to a region
N(mu(x), sigma(x)^2) and must reconstruct from any point of it, which forces
neighbouring regions to decode sensibly, while the KL term keeps the regions
near the prior and overlapping, so the gaps between training points fill in.

Keras 3 on TensorFlow. The same encoder/decoder bodies serve both models; the
VAE's encoder has two heads (mu, log variance). Losses per image, in nats:
reconstruction = binary cross-entropy summed over pixels; KL in closed form,
0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2); ELBO = -(reconstruction + KL).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.data.images import ImageData, load_images
from core.lab.artifacts import load_or_build, write_folder
from core.lab.compute import MODEL_LOCK
from core.lab.errors import BadArgument
from core.lab.messages import msg
from core.lab.paths import lab_home
from core.lab.progress import Progress
from core.lab.runtime import keras as keras_module

KINDS = ("vae", "ae")
ARCHS = ("mlp", "conv")


@dataclass(frozen=True)
class VAEConfig:
    data: str = "fashion-mnist"
    kind: str = "vae"
    latent: int = 2
    epochs: int = 10
    beta: float = 1.0
    arch: str = "mlp"
    hidden: tuple[int, ...] = (512, 256)
    batch: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    max_train: int | None = None  # use only the first N training images (tests, quick demos)

    @property
    def key(self) -> str:
        parts = [
            self.data,
            self.kind,
            self.arch,
            f"l{self.latent}",
            f"e{self.epochs}",
            f"b{self.beta:g}",
            "h" + "x".join(map(str, self.hidden)),
            f"s{self.seed}",
        ]
        if self.max_train:
            parts.append(f"n{self.max_train}")
        return "-".join(parts)

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise BadArgument("kind must be one of {kinds}, not {kind!r}", kinds=KINDS, kind=self.kind)
        if self.arch not in ARCHS:
            raise BadArgument("architecture must be one of {archs}, not {arch!r}", archs=ARCHS, arch=self.arch)
        if not 1 <= self.latent <= 64:
            raise BadArgument("the latent size must be between 1 and 64, not {latent}", latent=self.latent)
        if not 1 <= self.epochs <= 500:
            raise BadArgument("epochs must be between 1 and 500, not {epochs}", epochs=self.epochs)
        if self.beta < 0:
            raise BadArgument("the KL weight beta must be >= 0, not {beta}", beta=self.beta)


@dataclass
class TrainedModel:
    config: VAEConfig
    encoder: Any  # keras.Model: image -> [mu, logvar] (VAE) or z (AE)
    decoder: Any  # keras.Model: z -> logits
    image_shape: tuple[int, int]
    history: list[dict[str, float]] = field(default_factory=list)
    test: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def kl_terms(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(mu, sigma^2) || N(0, 1)) of each latent dimension, closed form. <float>[n, d] -> [n, d]"""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    return 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)


def kl_divergence(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(mu, sigma^2) || N(0, I)) per row, closed form. <float>[n, d] -> [n]"""
    return kl_terms(mu, logvar).sum(axis=-1)


def kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """The mean KL each latent dimension carries over a set of images (near 0: a dimension the VAE ignores)."""
    return kl_terms(mu, logvar).mean(axis=0)


def pca_basis(means: np.ndarray) -> np.ndarray | None:
    """Centre and two principal axes of latent means, stacked <float>[3, d]; ``None`` for a 2-d latent."""
    if means.shape[1] <= 2:
        return None
    centre = means.mean(axis=0)
    _, _, vt = np.linalg.svd(means - centre, full_matrices=False)
    return np.vstack([centre, vt[:2]])


def to_2d(means: np.ndarray, basis: np.ndarray | None) -> np.ndarray:
    """Latent means in the plane drawn: the two dimensions themselves, or the projection on ``basis``."""
    return means[:, :2] if basis is None else (means - basis[0]) @ basis[1:].T


def extent(points: np.ndarray, percentile: float = 99.5, margin: float = 1.1) -> tuple[float, float]:
    """A symmetric axis range holding all but the farthest (100 - percentile)% of points, with a margin."""
    r = float(np.percentile(np.abs(points), percentile)) * margin
    return -r, r


def kl_monte_carlo(mu: np.ndarray, logvar: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """The same KL estimated as E_q[log q(z) - log p(z)] from ``samples`` draws per row."""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    sigma = np.exp(logvar / 2)
    eps = rng.standard_normal((samples, *mu.shape))
    z = mu + sigma * eps
    log_q = -0.5 * np.sum(eps**2 + logvar + np.log(2 * np.pi), axis=-1)
    log_p = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=-1)
    return (log_q - log_p).mean(axis=0)


def build(config: VAEConfig, image_shape: tuple[int, int]) -> Any:
    """Encoder and decoder (Keras functional models) for a config."""
    keras = keras_module()
    layers = keras.layers
    h, w = image_shape
    inputs = keras.Input((h, w), name="image")
    if config.arch == "conv":
        x = layers.Reshape((h, w, 1))(inputs)
        for filters in (32, 64):
            x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
        x = layers.Flatten()(x)
        x = layers.Dense(config.hidden[-1], activation="relu")(x)
    else:
        x = layers.Flatten()(inputs)
        for units in config.hidden:
            x = layers.Dense(units, activation="relu")(x)
    if config.kind == "vae":
        outputs = [layers.Dense(config.latent, name="mu")(x), layers.Dense(config.latent, name="logvar")(x)]
    else:
        outputs = layers.Dense(config.latent, name="z")(x)
    encoder = keras.Model(inputs, outputs, name=f"{config.kind}_encoder")

    z = keras.Input((config.latent,), name="z")
    y = z
    for units in reversed(config.hidden):
        y = layers.Dense(units, activation="relu")(y)
    y = layers.Dense(h * w, name="logits")(y)
    decoder = keras.Model(z, layers.Reshape((h, w))(y), name=f"{config.kind}_decoder")
    return encoder, decoder


def _losses(tf, x, logits, mu, logvar):
    recon = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=[1, 2])
    if logvar is None:
        return recon, tf.zeros_like(recon)
    kl = 0.5 * tf.reduce_sum(tf.square(mu) + tf.exp(logvar) - 1.0 - logvar, axis=1)
    return recon, kl


def train(config: VAEConfig, data: ImageData, progress: Progress | None = None) -> TrainedModel:
    """Train one model, seeded; progress gets (fraction, "epoch e/E: reconstruction r, KL k")."""
    config.validate()
    keras = keras_module()
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    x_train = data.x_train[: config.max_train] if config.max_train else data.x_train
    encoder, decoder = build(config, data.image_shape)
    optimizer = keras.optimizers.Adam(config.learning_rate)
    variables = encoder.trainable_variables + decoder.trainable_variables
    noise = tf.random.Generator.from_seed(config.seed)
    is_vae = config.kind == "vae"

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            if is_vae:
                mu, logvar = encoder(x, training=True)
                z = mu + tf.exp(logvar / 2) * noise.normal(tf.shape(mu))
            else:
                mu, logvar = encoder(x, training=True), None
                z = mu
            recon, kl = _losses(tf, x, decoder(z, training=True), mu, logvar)
            loss = tf.reduce_mean(recon + config.beta * kl)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return tf.reduce_mean(recon), tf.reduce_mean(kl)

    rng = np.random.default_rng(config.seed)
    history = []
    start = time.perf_counter()
    n_batches = int(np.ceil(len(x_train) / config.batch))
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(len(x_train))
        sums = np.zeros(2)
        for b in range(n_batches):
            batch = x_train[order[b * config.batch : (b + 1) * config.batch]]
            r, k = step(tf.constant(batch))
            sums += np.array([float(r), float(k)]) * len(batch)
        recon, kl = sums / len(x_train)
        history.append(
            {"epoch": epoch, "reconstruction": float(recon), "kl": float(kl), "loss": float(recon + config.beta * kl)}
        )
        if progress:
            progress(
                epoch / config.epochs,
                msg(
                    "{upper} epoch {epoch}/{epochs}: reconstruction {recon:.1f}, KL {kl:.2f} nats per image",
                    upper=config.kind.upper(),
                    epoch=epoch,
                    epochs=config.epochs,
                    recon=recon,
                    kl=kl,
                ),
            )
    model = TrainedModel(config, encoder, decoder, data.image_shape, history, seconds=time.perf_counter() - start)
    model.test = evaluate(model, data.x_test)
    return model


def encode(model: TrainedModel, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Latent means and log variances (None for the AE). <float>[n, h, w] -> [n, d], [n, d]"""
    with MODEL_LOCK:  # the model is shared by every session (core.lab.compute)
        out = model.encoder.predict(np.asarray(images, np.float32), verbose=0, batch_size=1024)
    if model.config.kind == "vae":
        return np.asarray(out[0]), np.asarray(out[1])
    return np.asarray(out), None


def decode(model: TrainedModel, z: np.ndarray) -> np.ndarray:
    """Images for latent points, in one batched call. <float>[n, d] -> [n, h, w] in [0, 1]"""
    with MODEL_LOCK:
        logits = model.decoder.predict(np.asarray(z, np.float32), verbose=0, batch_size=4096)
    return 1.0 / (1.0 + np.exp(-np.asarray(logits)))


def evaluate(model: TrainedModel, images: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Mean reconstruction, KL and ELBO per image (nats); the VAE decodes one seeded sample of q(z|x)."""
    mu, logvar = encode(model, images)
    z = mu
    if logvar is not None:
        z = mu + np.exp(logvar / 2) * np.random.default_rng(seed).standard_normal(mu.shape).astype(np.float32)
    with MODEL_LOCK:
        logits = np.asarray(model.decoder.predict(z.astype(np.float32), verbose=0, batch_size=1024), np.float64)
    x = np.asarray(images, np.float64)
    # Binary cross-entropy with logits, stable form.
    recon = np.sum(np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits))), axis=(1, 2))
    kl = kl_divergence(mu, logvar) if logvar is not None else np.zeros(len(x))
    return {"reconstruction": float(recon.mean()), "kl": float(kl.mean()), "elbo": float(-(recon + kl).mean())}


def prior_grid(n: int = 15, latent: int = 2, low: float = 0.05, high: float = 0.95) -> np.ndarray:
    """Latent points on an n x n grid of the standard normal prior's quantiles (first two dims). -> [n*n, latent]"""
    from scipy.stats import norm

    q = norm.ppf(np.linspace(low, high, n))
    zz = np.zeros((n * n, latent), np.float32)
    gy, gx = np.meshgrid(q[::-1], q, indexing="ij")
    zz[:, 0], zz[:, 1 % latent] = gx.ravel(), gy.ravel()
    return zz


def decode_grid(model: TrainedModel, n: int = 15, z: np.ndarray | None = None) -> np.ndarray:
    """An n x n grid of decoded images in one batch. -> [n, n, h, w]"""
    points = prior_grid(n, model.config.latent) if z is None else z
    return decode(model, points).reshape(n, n, *model.image_shape)


def interpolate(model: TrainedModel, a: np.ndarray, b: np.ndarray, steps: int = 10) -> np.ndarray:
    """Decode evenly spaced points between the latent means of two images. -> [steps, h, w]"""
    mu, _ = encode(model, np.stack([a, b]))
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    return decode(model, (1 - t) * mu[0] + t * mu[1])


def noise_ball(model: TrainedModel, image: np.ndarray, n: int = 10, seed: int = 0) -> np.ndarray:
    """Decode n samples of N(mu(x), sigma(x)^2) (the AE has no noise: n copies of its point). -> [n, h, w]"""
    mu, logvar = encode(model, image[None])
    eps = np.random.default_rng(seed).standard_normal((n, mu.shape[1])).astype(np.float32)
    sigma = np.exp(logvar / 2) if logvar is not None else np.zeros_like(mu)
    return decode(model, mu + sigma * eps)


# Storage ---------------------------------------------------------------------


def model_dir(config: VAEConfig) -> Path:
    return lab_home() / "vae" / config.key


def save(model: TrainedModel, folder: Path) -> Path:
    """Write the models and their record to a temporary folder, then rename it into place."""

    def write(tmp: Path) -> None:
        model.encoder.save(tmp / "encoder.keras")
        model.decoder.save(tmp / "decoder.keras")
        record = {
            "config": asdict(model.config),
            "image_shape": list(model.image_shape),
            "history": model.history,
            "test": model.test,
            "seconds": model.seconds,
        }
        (tmp / "record.json").write_text(json.dumps(record, indent=1))

    return write_folder(folder, write)


def load(folder: Path) -> TrainedModel:
    keras = keras_module()
    record = json.loads((folder / "record.json").read_text())
    cfg = record["config"]
    cfg["hidden"] = tuple(cfg["hidden"])
    return TrainedModel(
        VAEConfig(**cfg),
        keras.models.load_model(folder / "encoder.keras"),
        keras.models.load_model(folder / "decoder.keras"),
        tuple(record["image_shape"]),
        record["history"],
        record["test"],
        record["seconds"],
    )


def saved_models() -> list[VAEConfig]:
    """Configs of every trained model in the lab's home."""
    out = []
    for record in sorted((lab_home() / "vae").glob("*/record.json")):
        try:
            cfg = json.loads(record.read_text())["config"]
            cfg["hidden"] = tuple(cfg["hidden"])
            out.append(VAEConfig(**cfg))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def is_trained(config: VAEConfig) -> bool:
    return (model_dir(config) / "record.json").exists()


def load_or_train(config: VAEConfig, data: ImageData | None = None, progress: Progress | None = None) -> TrainedModel:
    """The trained model for this config: from disk if a complete copy is there, else trained (once) and saved."""
    folder = model_dir(config)

    def build() -> None:
        save(train(config, data if data is not None else load_images(config.data), progress), folder)

    return load_or_build(f"vae-{config.key}", lambda: is_trained(config), build, lambda: load(folder))
