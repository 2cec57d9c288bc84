"""Training and scoring the reader (DGCNN or the BiLSTM baseline): seeded, saved with its card.

As the Keras release does: focal loss (gamma 2) on the gated start and end probabilities against every
gold occurrence (summed over the passage, so the one or two answer characters weigh as much as the gate),
plus the gate's own cross-entropy; Adam with an exponential moving average of the
weights (Keras' ``use_ema``), whose averaged weights are the ones saved. Training passages longer than
the preset's limit are cut to a window around the first answer (scoring reads whole passages: the
convolutions take any length). Batches hold passages of similar length.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.lab import trained
from core.lab.compute import MODEL_LOCK
from core.lab.errors import LabError
from core.lab.messages import msg
from core.lab.progress import Progress
from core.lab.trained import model_folder
from core.reading_comprehension.baselines import score_answers
from core.reading_comprehension.data import Question
from core.reading_comprehension.features import Vocab, overlap, pad
from core.reading_comprehension.model import (
    ENCODERS,
    FEATURES,
    INPUTS,
    ModelConfig,
    best_spans,
    build,
    forward,
    save,
)

FORMAT = 2  # 2: the co-occurrence features (an input of format 1's readers did not have)
MAX_ANSWER = 12
TINY_STEPS = 20


class ReaderTrainingError(LabError):
    """A reader training request the lab cannot run (an unknown encoder or preset)."""


@dataclass(frozen=True)
class Preset:
    name: str
    width: int
    epochs: float
    batch: int = 32
    learning_rate: float = 1e-3
    max_passage: int = 800
    questions: int | None = None  # the first N training questions only


PRESETS = {
    "tiny": Preset("tiny", 16, 0.0, batch=8, learning_rate=5e-3, max_passage=300, questions=200),
    "quick": Preset("quick", 64, 1.0, questions=4000),
    "default": Preset("default", 128, 3.0),
}


def model_name(encoder: str, preset: str = "default") -> str:
    return f"qa-{encoder}" if preset == "default" else f"qa-{encoder}-{preset}"


def is_trained(name: str) -> bool:
    return trained.is_trained(name, FORMAT)


def check(encoder: str, preset: str) -> Preset:
    if encoder not in ENCODERS:
        raise ReaderTrainingError(
            "the encoder must be one of {encoders}, not {encoder!r}", encoders=", ".join(ENCODERS), encoder=encoder
        )
    if preset not in PRESETS:
        raise ReaderTrainingError(
            "the preset must be one of {presets}, not {preset!r}", presets=", ".join(PRESETS), preset=preset
        )
    return PRESETS[preset]


def cut(q: Question, limit: int) -> Question:
    """The question with its passage cut to ``limit`` characters around its first answer (spans shifted;
    those cut off dropped)."""
    n = len(q.passage)
    if n <= limit:
        return q
    first = q.spans[0][0] if q.spans else 0
    lo = max(0, min(first - limit // 2, n - limit))
    spans = tuple((s - lo, e - lo) for s, e in q.spans if s >= lo and e < lo + limit)
    return replace(q, passage=q.passage[lo : lo + limit], spans=spans)


def batch_arrays(vocab: Vocab, group: Sequence[Question]) -> dict[str, np.ndarray]:
    """Inputs (pc, pw, qc, qw, pm) and targets (start, end [B, P] with a 1 at every gold occurrence; has
    [B])."""
    p = [vocab.encode(q.passage) for q in group]
    qs = [vocab.encode(q.question) for q in group]
    out = {"pc": pad([a for a, _ in p]), "pw": pad([b for _, b in p]), "qc": pad([a for a, _ in qs])}
    out["qw"] = pad([b for _, b in qs])
    out["pm"] = np.zeros((*out["pc"].shape, FEATURES), dtype=np.float32)
    for row, q in enumerate(group):
        out["pm"][row, : len(q.passage)] = overlap(q.passage, q.question)
    start = np.zeros(out["pc"].shape, dtype=np.float32)
    end = np.zeros_like(start)
    for row, q in enumerate(group):
        for s, e in q.spans:
            start[row, s], end[row, e] = 1.0, 1.0
    out.update(start=start, end=end, has=np.array([q.has_answer for q in group], dtype=np.float32))
    return out


def length_batches(questions: Sequence[Question], batch: int, seed: int) -> list[list[Question]]:
    """Shuffled batches of similar passage length (chunks of 50 batches sorted by length)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(questions))
    groups = []
    for at in range(0, len(order), batch * 50):
        part = sorted(order[at : at + batch * 50], key=lambda i: len(questions[i].passage))
        groups += [[questions[i] for i in part[j : j + batch]] for j in range(0, len(part), batch)]
    rng.shuffle(groups)
    return groups


def predict(
    model: Any, vocab: Vocab, questions: Sequence[Question], batch: int = 32, details: bool = False
) -> list[dict[str, Any]]:
    """Per question: the best span (text, start, end, score), the gate, the top spans, in input order;
    with ``details`` also the per-character start and end probabilities and the question's attention."""
    order = sorted(range(len(questions)), key=lambda i: len(questions[i].passage))
    out: list[dict[str, Any]] = [{} for _ in questions]
    for at in range(0, len(order), batch):
        idx = order[at : at + batch]
        arrays = batch_arrays(vocab, [questions[i] for i in idx])
        with MODEL_LOCK:  # a reader is shared by every session (core.lab.compute)
            result = forward(model)({k: arrays[k] for k in INPUTS})
        start, end = np.asarray(result["start"]), np.asarray(result["end"])
        gate, attention = np.asarray(result["gate"]), np.asarray(result["attention"])
        for row, i in enumerate(idx):
            n = len(questions[i].passage)
            spans = best_spans(start[row, :n], end[row, :n], MAX_ANSWER)
            s, e, score = spans[0] if spans else (0, -1, 0.0)
            text = questions[i].passage
            out[i] = {
                "answer": text[s : e + 1],
                "start": s,
                "end": e,
                "score": score,
                "gate": float(gate[row]),
                "top_spans": [{"text": text[a : b + 1], "start": a, "end": b, "score": sc} for a, b, sc in spans],
            }
            if details:
                out[i]["start_probs"] = start[row, :n].tolist()
                out[i]["end_probs"] = end[row, :n].tolist()
                out[i]["attention"] = attention[row, : len(questions[i].question)].tolist()
    return out


def evaluate(model: Any, vocab: Vocab, questions: Sequence[Question]) -> dict[str, float]:
    """EM and character F1 on the answerable questions, the gate's accuracy (at 0.5) and AUC on all."""
    return score_answers(predict(model, vocab, questions), list(questions))


def step_function(model: Any, optimizer: Any) -> Callable[[dict[str, Any]], Any]:
    """One compiled training step on a batch of :func:`batch_arrays`: focal loss (gamma 2) on the gated start
    and end probabilities (summed per passage), plus the gate's cross-entropy; returns the loss."""
    import tensorflow as tf

    def focal(y: Any, prob: Any, mask: Any) -> Any:
        prob = tf.clip_by_value(prob, 1e-7, 1 - 1e-7)
        loss = -(y * (1 - prob) ** 2 * tf.math.log(prob) + (1 - y) * prob**2 * tf.math.log(1 - prob))
        # summed over the passage, averaged over the batch: a mean over positions would weigh the one or two
        # answer characters of a passage by 1/its length, and the gate's loss would drive the shared encoder
        return tf.reduce_sum(loss * mask) / tf.cast(tf.shape(y)[0], loss.dtype)

    @tf.function(reduce_retracing=True)
    def step(arrays: dict[str, Any]) -> Any:
        mask = tf.cast(tf.not_equal(arrays["pc"], 0), "float32")
        with tf.GradientTape() as tape:
            out = model({k_: arrays[k_] for k_ in INPUTS}, training=True)
            gate = tf.clip_by_value(out["gate"], 1e-7, 1 - 1e-7)
            gate_loss = -tf.reduce_mean(arrays["has"] * tf.math.log(gate) + (1 - arrays["has"]) * tf.math.log(1 - gate))
            loss = focal(arrays["start"], out["start"], mask) + focal(arrays["end"], out["end"], mask) + gate_loss
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return step


def throughput(
    questions: Sequence[Question], vocab: Vocab, steps: int, width: int, batch: int = 32
) -> dict[str, float]:
    """Training characters per second of DGCNN and the BiLSTM at equal ``width``: both built fresh, the same
    ``steps`` batches of ``questions`` (cut as the default preset cuts them) after two warm-up steps (the
    compiled step's traces), the two taking turns step by step so the machine's noise slows both alike."""
    from core.lab.runtime import keras

    k = keras()
    limit = PRESETS["default"].max_passage
    groups = length_batches([cut(q, limit) for q in questions], batch, 0)[: steps + 2]
    batches = [batch_arrays(vocab, g) for g in groups]
    chars = sum(int((b["pc"] != 0).sum() + (b["qc"] != 0).sum()) for b in batches[2:])
    runs = {}
    for encoder in ENCODERS:
        model = build(ModelConfig(encoder, len(vocab.characters), len(vocab.words), width, width))
        step = step_function(model, k.optimizers.Adam(1e-3))
        for b in batches[:2]:
            step(b)
        runs[encoder] = [step, 0.0]
    for b in batches[2:]:
        for run in runs.values():
            started = time.perf_counter()
            float(run[0](b))
            run[1] += time.perf_counter() - started
    return {encoder: chars / seconds for encoder, (_, seconds) in runs.items()}


def train(
    encoder: str,
    preset: str = "default",
    seed: int = 0,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Train, score on the validation split and save one reader; returns its summary."""
    from core.lab.runtime import keras
    from core.reading_comprehension.data import load

    p = check(encoder, preset)
    progress = progress or (lambda _f, _m: None)
    should_stop = should_stop or (lambda: False)
    k = keras()

    progress(0.0, msg("Building the questions from People's Daily"))
    splits = load()
    training = [cut(q, p.max_passage) for q in splits["training"][: p.questions]]
    validation = list(splits["validation"][: {"tiny": 50, "quick": 300}.get(preset)])
    vocab = Vocab.build(text for q in training for text in (q.passage, q.question))
    k.utils.set_random_seed(seed)
    config = ModelConfig(encoder, len(vocab.characters), len(vocab.words), p.width, p.width)
    model = build(config)
    per_epoch = max(1, -(-len(training) // p.batch))
    total = max_steps or (TINY_STEPS if p.epochs == 0 else max(1, int(per_epoch * p.epochs)))
    schedule = trained.warmup_cosine(k, p.learning_rate, total)
    optimizer = k.optimizers.Adam(schedule, clipnorm=1.0, use_ema=True, ema_momentum=0.99)

    step = step_function(model, optimizer)

    name = model_name(encoder, preset)
    history: list[dict[str, float]] = []
    chars = [0]

    def train_step(group: list[Question]) -> float:
        chars[0] += sum(len(q.passage) + len(q.question) for q in group)
        return float(step(batch_arrays(vocab, group)))

    def report(done: int, loss: float, left: float) -> Any:
        history.append({"step": done, "loss": loss, "elapsed": time.perf_counter() - started})
        return msg(
            "{name}: step {step:,}/{total:,}, loss {loss:.3f}, {left:.1f} min left",
            name=name,
            step=done,
            total=total,
            loss=loss,
            left=left,
        )

    started = time.perf_counter()
    done, seconds, stopped = trained.run_steps(
        lambda epoch: length_batches(training, p.batch, seed * 1000 + epoch),
        total,
        train_step,
        report,
        progress,
        should_stop,
        share=0.9,
        reports=8,
    )
    if stopped:
        return {"stopped": True, "step": done, "model": name}
    optimizer.finalize_variable_values(model.trainable_variables)  # the averaged weights are the model
    progress(0.92, msg("Scoring {name} on the validation questions", name=name))
    scores = evaluate(model, vocab, validation)
    info = {
        "id": name,
        "format": FORMAT,
        "encoder": encoder,
        "preset": asdict(p),
        "config": asdict(config),
        "seed": seed,
        "steps": done,
        "epochs": done / per_epoch,
        "minutes": round(seconds / 60, 1),
        "train_chars_per_second": chars[0] / seconds,
        "validation": scores,
        "validation_questions": len(validation),
        "training_questions": len(training),
        "parameters": int(model.count_params()),
        "history": history,
    }
    from core.lab.artifacts import write_folder

    def write(tmp: Path) -> None:
        save(model, tmp)
        vocab.save(tmp / "vocab.json")
        (tmp / "card.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")

    folder = write_folder(model_folder(name), write)
    return {"stopped": False, "model": name, "folder": str(folder), "steps": done, **scores}
