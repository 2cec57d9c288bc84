"""Background jobs of integrated gradients: training the built-in classifiers."""

from __future__ import annotations

from typing import Any

from core.lab.jobs import JobContext, register
from core.lab.messages import msg
from core.lab.prepare import Preparation

ORDER = {"zh-sentiment": 10, "fashion-mnist-cnn": 40, "en-sentiment": 50}


def classifier(model_id: str) -> Preparation:
    from core.attribution.classifiers import is_trained

    return Preparation(
        "train-classifier",
        {"model": model_id},
        msg("the {model_id} classifier", model_id=model_id),
        lambda: is_trained(model_id),
        order=ORDER.get(model_id, 60),
    )


def _train(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.attribution.classifiers import load_classifier

    clf = load_classifier(params["model"], ctx.progress)
    record = clf.record
    return {"message": msg("trained {model}", model=params["model"]), "accuracy": record.accuracy if record else None}


def defaults() -> list[Preparation]:
    from core.attribution.classifiers import CLASSIFIERS

    return [classifier(model_id) for model_id in CLASSIFIERS]


register("train-classifier", _train)
