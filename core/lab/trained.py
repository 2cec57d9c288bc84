"""Models the lab trains, on disk: one folder per model id under the lab home's ``models/``, holding the
weights and a ``card.json`` (settings, scores, curves) written last, so a card means a finished model."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from core.lab.messages import Message
from core.lab.paths import lab_home
from core.lab.progress import Progress

B = TypeVar("B")


def model_folder(name: str) -> Path:
    return lab_home() / "models" / name


def card(name: str) -> dict[str, Any] | None:
    """The model's card, or None when it is missing or unreadable."""
    try:
        return json.loads((model_folder(name) / "card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_trained(name: str, layout: int | None = None) -> bool:
    """A finished model is on disk (with ``layout``: one saved by this code's layout, its card's ``format``;
    an older layout counts as missing, so it is trained again)."""
    saved = card(name)
    return bool(saved) and (layout is None or saved.get("format") == layout)


def warmup_cosine(keras: Any, peak: float, total: int) -> Any:
    """The learning rate of the lab's seq2seq and reader training: a linear warm-up over the first 5% of the
    steps from a tenth of ``peak`` to ``peak``, then cosine decay to 5% of it."""
    return keras.optimizers.schedules.CosineDecay(
        peak * 0.1, total, alpha=0.05, warmup_target=peak, warmup_steps=max(1, total // 20)
    )


def run_steps(
    batches: Callable[[int], Iterable[B]],
    total: int,
    step: Callable[[B], float],
    report: Callable[[int, float, float], Message],
    progress: Progress,
    should_stop: Callable[[], bool],
    share: float = 0.95,
    reports: int = 10,
) -> tuple[int, float, bool]:
    """Train ``total`` steps over ``batches(epoch)``, epoch after epoch.

    About ``reports`` times (every 200 steps at most, and at the end) ``report(done, mean loss since the last
    report, minutes left)`` records what it measures and returns the progress message, shown at ``share``
    of the job's bar times the share of steps done. Returns (steps done, seconds, stopped): a request to stop
    is honoured between steps."""
    every = max(1, min(200, total // reports))
    started, done, epoch, window = time.perf_counter(), 0, 0, []
    while done < total:
        for batch in batches(epoch):
            if done >= total:
                break
            if should_stop():
                return done, time.perf_counter() - started, True
            window.append(step(batch))
            done += 1
            if done % every == 0 or done == total:
                elapsed = time.perf_counter() - started
                message = report(done, sum(window) / len(window), elapsed / done * (total - done) / 60)
                window = []
                progress(share * done / total, message)
        epoch += 1
    return done, time.perf_counter() - started, False
