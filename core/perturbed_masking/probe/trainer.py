"""The probe's model and training loop: presets, the masked-LM step, checkpoints that resume, the saved model."""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.lab.artifacts import atomic_write
from core.lab.messages import msg
from core.lab.paths import lab_home
from core.lab.progress import Progress
from core.perturbed_masking.probe.corpus import Corpus, CorpusError, load_corpus
from core.perturbed_masking.probe.tokenizer import SPECIALS, build_tokenizer, encode_corpus, mask_batch


@dataclass(frozen=True)
class Preset:
    name: str
    layers: int
    hidden: int
    heads: int
    intermediate: int
    minutes: float  # the time budget it is meant for on this 2-core machine
    max_len: int = 64
    batch: int = 64
    learning_rate: float = 5e-4
    warmup: float = 0.06  # share of the steps
    dropout: float = 0.1  # hidden and attention dropout


PRESETS = {
    "tiny": Preset("tiny", 1, 32, 2, 64, 1, max_len=32, batch=16),  # seconds: smoke tests of the mechanics
    # batch 32 and no dropout: on this CPU a 45-minute run is bounded by the number of updates (the masked LM
    # sits near the unigram loss until attention learns to read the neighbours), so twice the updates of
    # batch 64 leave that plateau in half the minutes; an under-fitted model gains nothing from dropout.
    "quick": Preset("quick", 2, 128, 2, 512, 10, batch=32, dropout=0.0),
    "default": Preset("default", 4, 256, 4, 1024, 45, batch=32, dropout=0.0),
    "large": Preset("large", 6, 384, 6, 1536, 120),
}


@dataclass
class TrainConfig:
    corpus: str = "peoples-daily"  # or a path to a .txt file
    preset: str = "default"
    minutes: float | None = None  # time budget (default: the preset's)
    max_steps: int | None = None  # a fixed step count instead of a time budget (tests)
    seed: int = 0
    name: str | None = None  # model id; default probe-<language>-<corpus>
    checkpoint_minutes: float = 3.0
    threads: int | None = None
    bf16: bool = True

    def resolved_preset(self) -> Preset:
        if self.preset not in PRESETS:
            raise CorpusError(
                "preset must be one of {presets}, not {preset!r}", presets=", ".join(PRESETS), preset=self.preset
            )
        return PRESETS[self.preset]


def default_name(corpus: Corpus, spec: str) -> str:
    stem = "peoples-daily" if spec == "peoples-daily" else Path(spec).stem
    safe = "".join(c if c.isalnum() or c == "-" else "-" for c in stem.lower()).strip("-") or "corpus"
    return f"probe-{corpus.language}-{safe}"


def model_folder(name: str) -> Path:
    return lab_home() / "models" / name


def run_folder(name: str) -> Path:
    return lab_home() / "probe-runs" / name


@dataclass
class TrainState:
    step: int = 0
    total_steps: int = 0  # the schedule's length when it is a step count
    budget: float = 0.0  # the schedule's length in seconds of training when it is a time budget
    elapsed: float = 0.0  # seconds of training so far, across resumes
    epoch: int = 0
    position: int = 0  # batches taken from this epoch's order
    history: list[dict[str, float]] = field(default_factory=list)


def _flops_per_token(preset: Preset, vocab: int, rate: float = 0.15) -> float:
    """Training FLOPs per token: 6 x the matmul parameters, the MLM head (transform and decoder) counted only
    at the ``rate`` of tokens it predicts (:func:`mlm_step` runs it there alone)."""
    h, f, n = preset.hidden, preset.intermediate, preset.layers
    per_layer = 4 * h * h + 2 * h * f
    attention = 2 * preset.max_len * h  # scores and weighted sum, per token per layer
    return 6.0 * (n * (per_layer + attention) + rate * (h * h + h * vocab))


def model_config(preset: Preset, vocab: int, pad_token_id: int = 0) -> Any:
    """The preset's ``BertConfig``: positions up to twice the training length (see ``Trainer._step``)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab,
        hidden_size=preset.hidden,
        num_hidden_layers=preset.layers,
        num_attention_heads=preset.heads,
        intermediate_size=preset.intermediate,
        max_position_embeddings=2 * preset.max_len,
        type_vocab_size=1,
        pad_token_id=pad_token_id,
        hidden_dropout_prob=preset.dropout,
        attention_probs_dropout_prob=preset.dropout,
    )


def make_optimizer(model: Any, learning_rate: float) -> Any:
    """AdamW (decay 0.01), fused where torch has the kernel for the device: on this CPU a third of a step."""
    import torch

    try:
        return torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01, fused=True)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)


def _long(array: np.ndarray, device: Any):
    """A NumPy array of ids, labels or mask bits as a torch int64 tensor on ``device``."""
    import torch

    return torch.from_numpy(np.asarray(array, np.int64)).to(device)


def mlm_step(
    model: Any,
    optimizer: Any,
    inputs: np.ndarray,
    labels: np.ndarray,
    attention: np.ndarray | None = None,
    positions: Any = None,
    bf16: bool = True,
) -> tuple[float, float]:
    """One training step of a ``BertForMaskedLM``: returns (masked-token loss, masked-token accuracy).

    The MLM head (transform, layer norm, vocabulary decoder) runs only at the
    masked positions, not at every token as ``model(labels=...)`` does: the
    same loss and gradients for about a third less compute at a 5,000-token
    vocabulary, and no [batch, length, vocabulary] logits tensor.
    """
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    x, y = _long(inputs, device), _long(labels, device)
    kwargs = {}
    if attention is not None:
        kwargs["attention_mask"] = _long(attention, device)
    if positions is not None:
        kwargs["position_ids"] = torch.as_tensor(positions, device=device)
    chosen = y != -100
    model.train()
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        hidden = model.bert(input_ids=x, **kwargs).last_hidden_state
        logits = model.cls(hidden[chosen])
    target = y[chosen]
    # nothing masked (possible only in tiny batches): a zero loss keeps the step well defined
    loss = F.cross_entropy(logits.float(), target) if len(target) else logits.sum() * 0.0
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    with torch.no_grad():
        acc = float((logits.argmax(-1) == target).float().mean()) if len(target) else 0.0
    return float(loss.detach()), acc


class Trainer:
    """One training run: builds or resumes its state, trains, checkpoints, saves the model."""

    def __init__(
        self, config: TrainConfig, progress: Progress | None = None, should_stop: Callable[[], bool] | None = None
    ):
        self.config = config
        self.preset = config.resolved_preset()
        self.progress = progress or (lambda _f, _m: None)
        self.should_stop = should_stop or (lambda: False)

    def prepare(self, resume: bool = False) -> None:
        import torch
        from transformers import BertForMaskedLM, BertTokenizerFast

        from core.models.registry import quiet_transformers

        quiet_transformers()
        cfg, preset = self.config, self.preset
        torch.set_num_threads(cfg.threads or max(1, os.cpu_count() or 1))
        self.progress(0.0, msg("Reading the corpus"))
        corpus = load_corpus(cfg.corpus)
        self.corpus = corpus
        self.name = cfg.name or default_name(corpus, cfg.corpus)
        folder = run_folder(self.name)
        checkpoint = folder / "checkpoint.pt"
        if not resume:
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "tokenizer.json").exists() and resume:
            tokenizer = BertTokenizerFast.from_pretrained(str(folder))
        else:
            self.progress(0.01, msg("Building the tokenizer"))
            tokenizer = build_tokenizer(corpus, folder)
        self.tokenizer = tokenizer
        data = encode_corpus(tokenizer, corpus, preset.max_len)
        rng = np.random.default_rng(cfg.seed)
        order = rng.permutation(len(data))
        held = max(64, min(2000, len(data) // 50))
        self.valid_ids, self.train_ids = data[order[:held]], data[order[held:]]
        if len(self.train_ids) < preset.batch:
            raise CorpusError(
                "the corpus gives only {n_train_ids} training sequences; it needs more text.",
                n_train_ids=len(self.train_ids),
            )
        vocab = len(tokenizer.get_vocab())
        self.bert_config = model_config(preset, vocab, tokenizer.pad_token_id)
        torch.manual_seed(cfg.seed)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = BertForMaskedLM(self.bert_config).to(self.device)
        self.optimizer = make_optimizer(self.model, preset.learning_rate)
        self.state = TrainState()
        self.rng = np.random.default_rng(cfg.seed + 1)
        if resume and checkpoint.exists():
            saved = torch.load(checkpoint, weights_only=False, map_location=self.device)
            self.model.load_state_dict(saved["model"])  # map_location: a CPU checkpoint resumes on a GPU and back
            self.optimizer.load_state_dict(saved["optimizer"])
            self.state = TrainState(**saved["state"])
            self.rng.bit_generator.state = saved["rng"]
            torch.set_rng_state(saved["torch_rng"].cpu())
            random.setstate(saved["py_rng"])
            if self.state.total_steps:
                resumed = msg(
                    "Resumed at step {step:,} of {total:,}", step=self.state.step, total=self.state.total_steps
                )
            else:
                resumed = msg(
                    "Resumed at step {step:,} with {left:.1f} of {budget:.0f} minutes left",
                    step=self.state.step,
                    left=(self.state.budget - self.state.elapsed) / 60,
                    budget=self.state.budget / 60,
                )
            self.progress(0.0, resumed)

    def checkpoint(self) -> None:
        import torch

        saved = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "state": asdict(self.state),
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "py_rng": random.getstate(),
            "config": asdict(self.config),
        }
        atomic_write(run_folder(self.name) / "checkpoint.pt", lambda p: torch.save(saved, p))

    def _write_history(self) -> None:
        """The curve so far, for any page that follows the job (small, rewritten atomically every 50 steps)."""
        payload = json.dumps({"history": self.state.history})
        atomic_write(run_folder(self.name) / "history.json", lambda p: p.write_text(payload))

    def fraction(self) -> float:
        """How far through the schedule: steps over the step count, or training seconds over the budget."""
        if self.state.total_steps:
            return self.state.step / self.state.total_steps
        return min(1.0, self.state.elapsed / max(self.state.budget, 1e-9))

    def _lr(self) -> float:
        done, warm = self.fraction(), self.preset.warmup
        if done < warm:
            return self.preset.learning_rate * max(done / warm, 1e-3)
        return self.preset.learning_rate * max(0.0, (1.0 - done) / (1.0 - warm))

    def _batch(self) -> np.ndarray:
        per_epoch = len(self.train_ids) // self.preset.batch
        if self.state.position >= per_epoch:
            self.state.epoch += 1
            self.state.position = 0
        order = np.random.default_rng(self.config.seed * 1000 + self.state.epoch).permutation(len(self.train_ids))
        take = order[self.state.position * self.preset.batch : (self.state.position + 1) * self.preset.batch]
        self.state.position += 1
        return self.train_ids[take]

    def _step(self, ids: np.ndarray) -> tuple[float, float]:
        import torch

        tok = self.tokenizer
        inputs, labels = mask_batch(ids, self.rng, tok.mask_token_id, self.bert_config.vocab_size, len(SPECIALS))
        # Mostly at position 0, as the probe reads sentences; one batch in four at a random offset, so positions
        # up to twice the training length are learnt too (held-out sentences longer than max_len).
        limit = self.bert_config.max_position_embeddings - ids.shape[1]
        offset = int(self.rng.integers(1, limit + 1)) if limit > 0 and self.rng.random() < 0.25 else 0
        positions = torch.arange(offset, offset + ids.shape[1]).expand(ids.shape[0], -1)
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        return mlm_step(
            self.model,
            self.optimizer,
            inputs,
            labels,
            attention=ids != tok.pad_token_id,
            positions=positions,
            bf16=self.config.bf16,
        )

    def evaluate_mlm(self, limit: int = 512) -> tuple[float, float]:
        """Masked-token loss and accuracy on the held-out sequences (fixed masking)."""
        import torch

        tok = self.tokenizer
        rng = np.random.default_rng(12345)
        losses, hits, count = [], 0, 0
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, min(limit, len(self.valid_ids)), 64):
                ids = self.valid_ids[start : start + 64]
                inputs, labels = mask_batch(ids, rng, tok.mask_token_id, self.bert_config.vocab_size, len(SPECIALS))
                y = _long(labels, self.device)
                out = self.model(
                    input_ids=_long(inputs, self.device),
                    attention_mask=_long(ids != tok.pad_token_id, self.device),
                    labels=y,
                )
                n = int((y != -100).sum())
                losses.append(float(out.loss) * n)
                hits += int(((out.logits.argmax(-1) == y) & (y != -100)).sum())
                count += n
        return sum(losses) / max(1, count), hits / max(1, count)

    def train(self) -> dict[str, Any]:
        """Run (or finish) the schedule, checkpointing; returns the run's summary. Stops early if asked."""
        if not self.state.total_steps and not self.state.budget:
            if self.config.max_steps:
                self.state.total_steps = int(self.config.max_steps)
            else:
                self.state.budget = 60.0 * (self.config.minutes or self.preset.minutes)
        last_save = time.perf_counter()
        window: list[tuple[float, float]] = []
        tokens_per_step = self.preset.batch * self.preset.max_len
        while self.fraction() < 1.0:
            if self.should_stop():
                self.checkpoint()
                return {"stopped": True, "step": self.state.step}
            t = time.perf_counter()
            loss, acc = self._step(self._batch())
            dt = time.perf_counter() - t
            typical = self.state.elapsed / self.state.step if self.state.step else 0.0
            if typical and dt > max(60.0, 50 * typical):  # the machine slept or the process was stopped mid-step:
                dt = typical  # that time was not training, and must not eat the budget
            self.state.step += 1
            self.state.elapsed += dt
            window.append((loss, acc))
            if self.state.step % 50 == 0 or self.fraction() >= 1.0:
                mean_loss, mean_acc = np.mean(window, axis=0)
                window = []
                rate = self.state.step / max(self.state.elapsed, 1e-9)
                done = self.fraction()
                left = self.state.elapsed * (1 - done) / max(done, 1e-9)
                self.state.history.append(
                    {
                        "step": self.state.step,
                        "loss": float(mean_loss),
                        "accuracy": float(mean_acc),
                        "elapsed": self.state.elapsed,
                    }
                )
                self._write_history()
                of = f"/{self.state.total_steps:,}" if self.state.total_steps else ""
                self.progress(
                    done,
                    msg(
                        "step {step:,}{of}: loss {mean_loss:.3f}, masked accuracy {mean_acc:.3f}, {rate:,.0f} "
                        "tokens/s, {left:.1f} min left",
                        step=self.state.step,
                        of=of,
                        mean_loss=mean_loss,
                        mean_acc=mean_acc,
                        rate=rate * tokens_per_step,
                        left=left / 60,
                    ),
                )
            if time.perf_counter() - last_save > 60 * self.config.checkpoint_minutes:
                self.checkpoint()
                last_save = time.perf_counter()
        self.checkpoint()
        loss, acc = self.evaluate_mlm()
        return {"stopped": False, "step": self.state.step, "mlm_loss": loss, "mlm_accuracy": acc}

    def save_model(self, summary: dict[str, Any]) -> Path:
        """The trained encoder as a model folder with its card; replaces an older one of the same name."""
        folder = model_folder(self.name)
        tmp = folder.with_name(folder.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        self.model.to("cpu").save_pretrained(str(tmp))
        self.tokenizer.save_pretrained(str(tmp))
        card = {
            "id": self.name,
            "corpus": self.corpus.source,
            "language": self.corpus.language,
            "preset": asdict(self.preset),
            "config": asdict(self.config),
            "steps": self.state.step,
            "minutes": round(self.state.elapsed / 60, 1),
            "mlm_accuracy": summary.get("mlm_accuracy"),
            "mlm_loss": summary.get("mlm_loss"),
            "corpus_chars": self.corpus.chars,
            "history": self.state.history,
            "evaluation": {},
        }
        write_card(tmp, card)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        forget_calibration(self.name)
        return folder


def forget_calibration(name: str) -> None:
    """Drop the segmentation calibrations stored for model ``name``: they belong to the weights it replaced."""
    from core.perturbed_masking.segmentation import calibration_path

    probe = calibration_path(name, "SOURCE")  # <folder>/<name>--SOURCE-v<format>.json: <name>-- is the model's
    for path in probe.parent.glob(probe.name[: probe.name.rindex("--SOURCE") + 2] + "*"):
        path.unlink(missing_ok=True)


def write_card(folder: Path, card: dict[str, Any]) -> None:
    text = json.dumps(card, indent=1, ensure_ascii=False)
    atomic_write(folder / "probe.json", lambda p: p.write_text(text, encoding="utf-8"))


def read_card(name: str) -> dict[str, Any] | None:
    try:
        return json.loads((model_folder(name) / "probe.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def probe_revision(name: str) -> int:
    """Changes whenever the probe's weights are replaced (0: no such probe): the key for caches of its results."""
    try:
        return (model_folder(name) / "model.safetensors").stat().st_mtime_ns
    except OSError:
        return 0


def trained_probes() -> list[str]:
    root = lab_home() / "models"
    return sorted(p.parent.name for p in root.glob("*/probe.json")) if root.exists() else []


def run_history(name: str) -> list[dict[str, float]]:
    """The loss and accuracy curve of run ``name`` so far ([] before its first 50 steps)."""
    try:
        return json.loads((run_folder(name) / "history.json").read_text(encoding="utf-8"))["history"]
    except (OSError, ValueError, KeyError):
        return []


def flops_per_token(preset: str = "default", vocab: int = 5000) -> float:
    return _flops_per_token(PRESETS[preset], vocab)
