"""Models the lab trains, on disk: one folder per model id under the lab home's ``models/``, holding the
weights and a ``card.json`` (settings, scores, curves) written last, so a card means a finished model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.lab.paths import lab_home


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
