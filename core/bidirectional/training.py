"""Training the three seq2seq models as background jobs: seeded, the same batches for each, a saved folder
with its card (teacher-forced accuracy on the validation clauses, the loss curve, the settings).

L2R, R2L and the bidirectional model see the same batches in the same order (one seed); the bidirectional
loss is the mean of its two directions' cross-entropies (Zhou et al.; Su). Batches hold clauses of
similar length (chunks of 50 batches sorted by length), so little of a batch is padding.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.bidirectional import pairs as pairs_module
from core.bidirectional.model import KINDS, PAD_ID, ModelConfig, Vocab, build, directions, save
from core.lab import trained
from core.lab.errors import LabError
from core.lab.messages import msg
from core.lab.progress import Progress
from core.lab.trained import card, model_folder  # noqa: F401 - the page and decoders read card here


class TrainingError(LabError):
    """A training request the lab cannot run (an unknown model kind or preset)."""


@dataclass(frozen=True)
class Preset:
    name: str
    embed: int
    encoder: int
    decoder: int
    epochs: float
    batch: int = 128
    learning_rate: float = 2e-3
    dropout: float = 0.15
    training_pairs: int | None = None  # the first N training pairs only


PRESETS = {
    "tiny": Preset("tiny", 16, 16, 16, 0.0, batch=16, learning_rate=1e-2, dropout=0.0, training_pairs=2000),
    "quick": Preset("quick", 64, 64, 96, 1.0, batch=64, learning_rate=4e-3, training_pairs=12000),
    "default": Preset("default", 128, 256, 256, 5.0),  # 3,295 steps of 128 clauses each
}
TINY_STEPS = 30
FORMAT = 1  # the saved model's layout (model.py); raise it when the layers change


def model_name(kind: str, preset: str = "default") -> str:
    return f"pinyin-{kind}" if preset == "default" else f"pinyin-{kind}-{preset}"


def is_trained(name: str) -> bool:
    """A finished model of this code's format is on disk (one saved by an older layout counts as missing)."""
    return trained.is_trained(name, FORMAT)


def check(kind: str, preset: str) -> Preset:
    if kind not in KINDS:
        raise TrainingError("the model must be one of {kinds}, not {kind!r}", kinds=", ".join(KINDS), kind=kind)
    if preset not in PRESETS:
        raise TrainingError(
            "the preset must be one of {presets}, not {preset!r}", presets=", ".join(PRESETS), preset=preset
        )
    return PRESETS[preset]


def batch_arrays(vocab: Vocab, group: list[pairs_module.Pair]) -> dict[str, np.ndarray]:
    """A batch as the model's inputs: src, tgt, rev (R2L's positions) and lengths, padded with 0."""
    width = max(len(p.chars) for p in group)
    src = np.zeros((len(group), width), dtype=np.int32)
    tgt = np.zeros((len(group), width), dtype=np.int32)
    rev = np.tile(np.arange(width, dtype=np.int32), (len(group), 1))
    lengths = np.array([len(p.chars) for p in group], dtype=np.int32)
    for row, pair in enumerate(group):
        n = len(pair.chars)
        src[row, :n] = vocab.encode_source(pair.pinyin)
        tgt[row, :n] = vocab.encode_target(pair.chars)
        rev[row, :n] = np.arange(n - 1, -1, -1)
    return {"src": src, "tgt": tgt, "rev": rev, "lengths": lengths}


def epoch_batches(training: list[pairs_module.Pair], batch: int, seed: int) -> list[list[pairs_module.Pair]]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(training))
    groups = []
    for start in range(0, len(order), batch * 50):
        part = sorted(order[start : start + batch * 50], key=lambda i: len(training[i].chars))
        groups += [[training[i] for i in part[j : j + batch]] for j in range(0, len(part) - batch + 1, batch)]
    rng.shuffle(groups)
    return groups


def targets(arrays: dict[str, np.ndarray], d: str) -> np.ndarray:
    """The gold characters in direction d's step order."""
    return arrays["tgt"] if d == "l2r" else np.take_along_axis(arrays["tgt"], arrays["rev"], axis=1)


def teacher_forced(model: Any, vocab: Vocab, held: list[pairs_module.Pair], batch: int = 128) -> dict[str, float]:
    """Per direction: the share of characters whose gold predecessor(s) give the gold character as argmax,
    and the mean cross-entropy."""
    right = {d: 0 for d in model.dirs}
    loss = {d: 0.0 for d in model.dirs}
    count = 0
    ordered = sorted(held, key=lambda p: len(p.chars))
    for start in range(0, len(ordered), batch):
        arrays = batch_arrays(vocab, ordered[start : start + batch])
        out = model(arrays, training=False)
        real = arrays["tgt"] != PAD_ID
        count += int(real.sum())
        for d in model.dirs:
            logp = np.asarray(out[d])
            gold = targets(arrays, d)
            right[d] += int(((logp.argmax(-1) == gold) & real).sum())
            picked = np.take_along_axis(logp, gold[:, :, None], axis=2)[:, :, 0]
            loss[d] -= float(np.where(real, np.maximum(picked, -30.0), 0.0).sum())
    return {
        **{f"{d}_accuracy": right[d] / max(count, 1) for d in model.dirs},
        **{f"{d}_loss": loss[d] / max(count, 1) for d in model.dirs},
    }


def train(
    kind: str,
    preset: str = "default",
    seed: int = 0,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Train, evaluate and save one model; returns its summary (``stopped`` if asked to stop)."""
    from core.lab.runtime import keras

    p = check(kind, preset)
    progress = progress or (lambda _f, _m: None)
    should_stop = should_stop or (lambda: False)
    k = keras()
    import tensorflow as tf

    progress(0.0, msg("Reading the pinyin pairs"))
    data = pairs_module.load(progress)
    training = list(data.training[: p.training_pairs] if p.training_pairs else data.training)
    validation = list(data.validation[: {"tiny": 50, "quick": 300}.get(preset)])
    vocab = Vocab.build(training)
    k.utils.set_random_seed(seed)
    config = ModelConfig(kind, len(vocab.syllables), len(vocab.characters), p.embed, p.encoder, p.decoder, p.dropout)
    model = build(config, vocab)
    per_epoch = len(training) // p.batch
    total = max_steps or (TINY_STEPS if p.epochs == 0 else max(1, int(per_epoch * p.epochs)))
    optimizer = k.optimizers.Adam(trained.warmup_cosine(k, p.learning_rate, total), clipnorm=1.0)
    dirs = directions(kind)

    @tf.function(reduce_retracing=True)
    def step(arrays: dict[str, Any], gold: dict[str, Any]) -> Any:
        real = tf.cast(tf.not_equal(arrays["tgt"], PAD_ID), "float32")
        with tf.GradientTape() as tape:
            out = model(arrays, training=True)
            losses = []
            for d in dirs:
                picked = tf.gather(out[d], gold[d], axis=2, batch_dims=2)
                losses.append(-tf.reduce_sum(picked * real) / tf.reduce_sum(real))
            loss = tf.add_n(losses) / len(losses)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    name = model_name(kind, preset)
    history: list[dict[str, float]] = []

    def train_step(group: list[pairs_module.Pair]) -> float:
        arrays = batch_arrays(vocab, group)
        return float(step(arrays, {d: targets(arrays, d) for d in dirs}))

    def report(done: int, loss: float, left: float) -> Any:
        scores = teacher_forced(model, vocab, validation[:300])
        history.append({"step": done, "loss": loss, **scores, "elapsed": time.perf_counter() - started})
        return msg(
            "{name}: step {step:,}/{total:,}, teacher-forced accuracy {acc:.1%}, {left:.1f} min left",
            name=name,
            step=done,
            total=total,
            acc=np.mean([scores[f"{d}_accuracy"] for d in dirs]),
            left=left,
        )

    started = time.perf_counter()
    done, seconds, stopped = trained.run_steps(
        lambda epoch: epoch_batches(training, p.batch, seed * 1000 + epoch),
        total,
        train_step,
        report,
        progress,
        should_stop,
    )
    if stopped:
        return {"stopped": True, "step": done, "model": name}
    progress(0.96, msg("Measuring the teacher-forced accuracy"))
    final = teacher_forced(model, vocab, validation)
    info = {
        "id": name,
        "format": FORMAT,
        "kind": kind,
        "preset": asdict(p),
        "config": asdict(config),
        "seed": seed,
        "steps": done,
        "epochs": done / max(per_epoch, 1),
        "minutes": round(seconds / 60, 1),
        "validation": final,
        "validation_clauses": len(validation),
        "training_pairs": len(training),
        "parameters": int(model.count_params()),
        "history": history,
    }
    from core.lab.artifacts import write_folder

    def write(tmp: Path) -> None:
        save(model, vocab, tmp)
        (tmp / "card.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")

    folder = write_folder(model_folder(name), write)
    return {"stopped": False, "model": name, "folder": str(folder), "steps": done, **final}
