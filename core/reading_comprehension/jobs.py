"""Background jobs of reading comprehension: training a reader (DGCNN or the BiLSTM baseline)."""

from __future__ import annotations

from typing import Any

from core.lab.jobs import register
from core.lab.messages import msg
from core.lab.prepare import Preparation, training_job


def reader_preparation(encoder: str, preset: str = "default") -> Preparation:
    from core.reading_comprehension import training

    name = training.model_name(encoder, preset)
    params: dict[str, Any] = {"encoder": encoder}
    if preset != "default":
        params["preset"] = preset
    return Preparation(
        "train-reader",
        params,
        msg("the reader {name}", name=name),
        lambda: training.is_trained(name),
        order=110 + ("dgcnn", "bilstm").index(encoder),
    )


def _trained(result: dict[str, Any]) -> Any:
    return msg(
        "trained {model}: exact match {em:.1%} on the validation questions", model=result["model"], em=result["em"]
    )


def defaults() -> list[Preparation]:
    """None yet: the readers become defaults with the page that shows them (until then, ``train-reader``)."""
    return []


register("train-reader", training_job("core.reading_comprehension.training", "encoder", _trained))
