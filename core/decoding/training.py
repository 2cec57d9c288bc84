"""Training the decoding page's LSTM language models: presets, the loop, checkpoints that resume, the saved model.

The softmax LM and the self-terminating one are trained by the same loop on the same batches (same seed,
same vocabulary, same number of steps), so their held-out perplexities differ by the output layer alone.
A run checkpoints every few minutes (model, optimiser, data position, random state, written atomically)
and a restarted worker resumes it; the finished model is a folder in the lab home with its card (held-out
perplexity, curve, settings).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.decoding.corpus import BUILTIN, EOS_ID, PAD_ID, Corpus, CorpusError, Vocabulary, load
from core.lab.artifacts import atomic_write
from core.lab.messages import msg
from core.lab.paths import lab_home
from core.lab.progress import Progress
from core.lab.trained import card, is_trained, model_folder  # noqa: F401 - the page, jobs and loaders read them here

OUTPUTS = ("softmax", "self-terminating")
DEFAULT_EPSILON = 1e-3  # Welleck et al. try 1e-5 .. 1e-2; greedy must stop within 693 steps at 1e-3
# The self-terminating head starts with beta = (1 - eps) sigmoid(6) = 0.9965 per step, not sigmoid(0) = 1/2:
# at 1/2 every token pays log 2 for each step before it, and in 800 quick steps the layer never recovered
# (held-out perplexity 676 against 498 for softmax; 560 from a bias of 6, and 9 or eps 1e-4 did no better).
EOS_BIAS = 6.0


@dataclass(frozen=True)
class Preset:
    name: str
    hidden: int
    layers: int
    dropout: float
    steps: int
    batch: int = 32
    learning_rate: float = 2e-3
    warmup: int = 200  # steps of linear warm-up, then cosine decay to a tenth


PRESETS = {
    "tiny": Preset("tiny", 32, 2, 0.0, 40, batch=16, learning_rate=5e-3, warmup=5),  # seconds: tests
    "quick": Preset("quick", 128, 2, 0.1, 800, learning_rate=4e-3, warmup=50),  # about two minutes
    "default": Preset("default", 512, 2, 0.25, 3600),  # Welleck's size (2 layers of 512, tied): one epoch, ~35 min
}


@dataclass
class LMTrainConfig:
    corpus: str = BUILTIN  # or the path of a .txt file
    output: str = "softmax"  # or "self-terminating"
    preset: str = "default"
    epsilon: float = DEFAULT_EPSILON
    seed: int = 0
    max_steps: int | None = None  # instead of the preset's step count
    checkpoint_minutes: float = 3.0
    threads: int | None = None

    def check(self) -> Preset:
        if self.preset not in PRESETS:
            raise CorpusError(
                "preset must be one of {presets}, not {preset!r}", presets=", ".join(PRESETS), preset=self.preset
            )
        if self.output not in OUTPUTS:
            raise CorpusError(
                "the output layer must be one of {outputs}, not {output!r}",
                outputs=", ".join(OUTPUTS),
                output=self.output,
            )
        if self.output == "self-terminating" and not 0.0 < self.epsilon < 1.0:
            raise CorpusError("epsilon must be between 0 and 1 (exclusive), not {epsilon}", epsilon=self.epsilon)
        return PRESETS[self.preset]


def corpus_stem(spec: str) -> str:
    stem = BUILTIN if spec == BUILTIN else Path(spec).stem
    return "".join(c if c.isalnum() or c == "-" else "-" for c in stem.lower()).strip("-") or "corpus"


def lm_name(corpus: str, output: str, preset: str = "default") -> str:
    """The model id: ``lstm-<corpus>-<output>``, with the preset's name unless it is the default."""
    base = f"lstm-{corpus_stem(corpus)}-{output}"
    return base if preset == "default" else f"{base}-{preset}"


def run_folder(name: str) -> Path:
    return lab_home() / "lm-runs" / name


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    position: int = 0  # batches taken from this epoch's order
    elapsed: float = 0.0  # seconds of training, across resumes
    history: list[dict[str, float]] = field(default_factory=list)


def pad(group: list[list[int]]) -> np.ndarray:
    """Sequences as a [len(group), longest] array padded with <pad>."""
    arr = np.full((len(group), max(map(len, group))), PAD_ID, dtype=np.int64)
    for row, seq in enumerate(group):
        arr[row, : len(seq)] = seq
    return arr


def batches(ids: list[list[int]], batch: int, seed: int) -> list[np.ndarray]:
    """One epoch's training batches: a seeded shuffle, sequences of similar length together (chunks of 50
    batches sorted by length, a chunk's last partial batch left for another epoch), the batches shuffled."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ids))
    chunk = batch * 50
    groups = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(ids[i]))
        groups += [part[i : i + batch] for i in range(0, len(part) - batch + 1, batch)]
    rng.shuffle(groups)
    return [pad([ids[i] for i in group]) for group in groups]


def perplexity(model: Any, ids: list[list[int]], batch: int = 64) -> tuple[float, float]:
    """Held-out perplexity per token (every character and the EOS after it) and EOS's mean log-probability."""
    import torch

    total, count, eos_total, eos_count = 0.0, 0, 0.0, 0
    ordered = sorted(ids, key=len)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(ordered), batch):
            x = torch.from_numpy(pad(ordered[start : start + batch]))
            logp = model(input_ids=x, use_cache=False).logits[:, :-1]
            y = x[:, 1:]
            real = y != PAD_ID
            picked = logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
            total -= float(picked[real].sum())
            count += int(real.sum())
            eos = y == EOS_ID
            eos_total += float(picked[eos].sum())
            eos_count += int(eos.sum())
    return math.exp(total / max(count, 1)), eos_total / max(eos_count, 1)


class LMTrainer:
    """One run: builds or resumes its state, trains, checkpoints, evaluates, saves the model with its card."""

    def __init__(
        self,
        config: LMTrainConfig,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        corpus: Corpus | None = None,
    ) -> None:
        self.config = config
        self.preset = config.check()
        self.progress = progress or (lambda _f, _m: None)
        self.should_stop = should_stop or (lambda: False)
        self._corpus = corpus
        self.name = lm_name(config.corpus, config.output, config.preset)

    @property
    def total_steps(self) -> int:
        return int(self.config.max_steps or self.preset.steps)

    def prepare(self, resume: bool = False) -> None:
        import torch

        from core.decoding.lstm_lm import LSTMLM, LSTMLMConfig
        from core.models.registry import quiet_transformers

        quiet_transformers()
        cfg, preset = self.config, self.preset
        torch.set_num_threads(cfg.threads or max(1, os.cpu_count() or 1))
        self.progress(0.0, msg("Reading the corpus"))
        self.corpus = self._corpus or load(cfg.corpus)
        self.vocab = Vocabulary.build(self.corpus.training)
        self.train_ids = [self.vocab.encode(s, eos=True) for s in self.corpus.training]
        self.held_ids = [self.vocab.encode(s, eos=True) for s in self.corpus.held_out]
        if len(self.train_ids) < preset.batch:
            raise CorpusError(
                "the corpus gives only {n} training sentences; a batch needs {batch}.",
                n=len(self.train_ids),
                batch=preset.batch,
            )
        folder = run_folder(self.name)
        if not resume:
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(cfg.seed)
        self.lm_config = LSTMLMConfig(
            vocab_size=len(self.vocab),
            hidden_size=preset.hidden,
            num_layers=preset.layers,
            dropout=preset.dropout,
            output_layer=cfg.output,
            epsilon=cfg.epsilon,
            eos_bias=EOS_BIAS,
        )
        self.model = LSTMLM(self.lm_config)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=preset.learning_rate)
        self.state = TrainState()
        checkpoint = folder / "checkpoint.pt"
        if resume and checkpoint.exists():
            saved = torch.load(checkpoint, weights_only=False)
            self.model.load_state_dict(saved["model"])
            self.optimizer.load_state_dict(saved["optimizer"])
            self.state = TrainState(**saved["state"])
            torch.set_rng_state(saved["torch_rng"])
            random.setstate(saved["py_rng"])
            self.progress(
                self.state.step / self.total_steps,
                msg("Resumed at step {step:,} of {total:,}", step=self.state.step, total=self.total_steps),
            )
        self._epoch_batches: list[np.ndarray] | None = None

    def checkpoint(self) -> None:
        import torch

        saved = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "state": asdict(self.state),
            "torch_rng": torch.get_rng_state(),
            "py_rng": random.getstate(),
            "config": asdict(self.config),
        }
        atomic_write(run_folder(self.name) / "checkpoint.pt", lambda p: torch.save(saved, p))

    def _lr(self) -> float:
        p, step = self.preset, self.state.step
        if step < p.warmup:
            return p.learning_rate * (step + 1) / p.warmup
        done = (step - p.warmup) / max(1, self.total_steps - p.warmup)
        return p.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(done, 1.0))))

    def _batch(self) -> np.ndarray:
        seed = self.config.seed * 1000 + self.state.epoch
        if self._epoch_batches is None:
            self._epoch_batches = batches(self.train_ids, self.preset.batch, seed)
        if self.state.position >= len(self._epoch_batches):
            self.state.epoch += 1
            self.state.position = 0
            self._epoch_batches = batches(self.train_ids, self.preset.batch, self.config.seed * 1000 + self.state.epoch)
        arr = self._epoch_batches[self.state.position]
        self.state.position += 1
        return arr

    def _step(self, arr: np.ndarray) -> tuple[float, int]:
        import torch

        self.model.train()
        x = torch.from_numpy(arr)
        labels = x.masked_fill(x == PAD_ID, -100)
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        out = self.model(input_ids=x, labels=labels, use_cache=False)
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return float(out.loss.detach()), int((labels[:, 1:] != -100).sum())

    def _write_history(self) -> None:
        payload = json.dumps({"history": self.state.history, "total_steps": self.total_steps})
        atomic_write(run_folder(self.name) / "history.json", lambda p: p.write_text(payload))

    def train(self) -> dict[str, Any]:
        """Run (or finish) the steps, checkpointing; returns the summary. Stops early, checkpointed, if asked."""
        last_save = time.perf_counter()
        window: list[float] = []
        tokens, seconds = 0, 0.0
        every = max(1, min(100, self.total_steps // 20))
        held_sample = self.held_ids[:500]
        while self.state.step < self.total_steps:
            if self.should_stop():
                self.checkpoint()
                return {"stopped": True, "step": self.state.step}
            t = time.perf_counter()
            loss, n = self._step(self._batch())
            seconds += time.perf_counter() - t
            self.state.elapsed += time.perf_counter() - t
            self.state.step += 1
            window.append(loss)
            tokens += n
            if self.state.step % every == 0 or self.state.step == self.total_steps:
                ppl, _ = perplexity(self.model, held_sample)
                train_ppl = math.exp(float(np.mean(window)))
                window = []
                left = self.state.elapsed / self.state.step * (self.total_steps - self.state.step)
                self.state.history.append(
                    {
                        "step": self.state.step,
                        "train_perplexity": train_ppl,
                        "held_out_perplexity": ppl,
                        "elapsed": self.state.elapsed,
                        "tokens_per_s": tokens / max(seconds, 1e-9),
                    }
                )
                self._write_history()
                self.progress(
                    self.state.step / self.total_steps,
                    msg(
                        "{name}: step {step:,}/{total:,}, perplexity {train:.1f} (held out {held:.1f}), "
                        "{left:.1f} min left",
                        name=self.name,
                        step=self.state.step,
                        total=self.total_steps,
                        train=train_ppl,
                        held=ppl,
                        left=left / 60,
                    ),
                )
                tokens, seconds = 0, 0.0
            if time.perf_counter() - last_save > 60 * self.config.checkpoint_minutes:
                self.checkpoint()
                last_save = time.perf_counter()
        self.checkpoint()
        self.progress(0.99, msg("Measuring the held-out perplexity"))
        ppl, eos_logp = perplexity(self.model, self.held_ids)
        return {"stopped": False, "step": self.state.step, "perplexity": ppl, "eos_log_prob": eos_logp}

    def save(self, summary: dict[str, Any]) -> Path:
        """The trained LM as a model folder with its vocabulary and card; replaces an older one of the same name."""
        from core.lab.artifacts import write_folder

        info = {
            "id": self.name,
            "corpus": self.corpus.name,
            "output": self.config.output,
            "epsilon": self.config.epsilon if self.config.output == "self-terminating" else None,
            "preset": asdict(self.preset),
            "config": asdict(self.config),
            "steps": self.state.step,
            "minutes": round(self.state.elapsed / 60, 1),
            "perplexity": summary["perplexity"],
            "eos_log_prob": summary["eos_log_prob"],
            "vocabulary": len(self.vocab),
            "training_sentences": len(self.train_ids),
            "held_out_sentences": len(self.held_ids),
            "training_characters": self.corpus.characters,
            "history": self.state.history,
        }

        def write(tmp: Path) -> None:
            self.model.save_pretrained(str(tmp))
            self.vocab.save(tmp / "vocab.json")
            (tmp / "held_out.json").write_text(json.dumps(list(self.corpus.held_out), ensure_ascii=False))
            (tmp / "card.json").write_text(json.dumps(info, ensure_ascii=False, indent=1))

        return write_folder(model_folder(self.name), write)


def train_lm(
    config: LMTrainConfig,
    resume: bool = False,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    corpus: Corpus | None = None,
) -> dict[str, Any]:
    """Prepare (or resume), train, evaluate and save; returns the summary (the model's id, its perplexity)."""
    trainer = LMTrainer(config, progress, should_stop, corpus)
    trainer.prepare(resume)
    summary = trainer.train()
    if summary.get("stopped"):
        return {**summary, "model": trainer.name}
    folder = trainer.save(summary)
    shutil.rmtree(run_folder(trainer.name), ignore_errors=True)
    return {**summary, "model": trainer.name, "folder": str(folder)}
