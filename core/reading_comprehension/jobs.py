"""Background jobs of reading comprehension: training a reader (DGCNN or the BiLSTM baseline), the test
scorecard."""

from __future__ import annotations

from typing import Any

from core.lab.jobs import JobContext, register
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


def scorecard_preparation() -> Preparation:
    from core.reading_comprehension.scorecard import load_scorecard

    return Preparation(
        "rc-scorecard",
        {},
        msg("the test scorecard of the readers and the baselines"),
        lambda: load_scorecard() is not None,
        order=112,
    )


def _trained(result: dict[str, Any]) -> Any:
    return msg(
        "trained {model}: exact match {em:.1%} on the validation questions", model=result["model"], em=result["em"]
    )


def _scorecard(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.reading_comprehension.scorecard import compute_scorecard

    table = compute_scorecard(progress=ctx.progress, should_stop=ctx.should_stop)
    if table is None:
        return {"stopped": True, "message": msg("cancelled")}
    return {
        "message": msg("scored {k} systems on the test questions", k=len(table["rows"])),
        "em": {r["system"]: r["em"] for r in table["rows"]},
    }


def defaults() -> list[Preparation]:
    """Both readers (DGCNN first: the page answers with it), then their scorecard."""
    return [reader_preparation("dgcnn"), reader_preparation("bilstm"), scorecard_preparation()]


register("train-reader", training_job("core.reading_comprehension.training", "encoder", _trained))
register("rc-scorecard", _scorecard)
