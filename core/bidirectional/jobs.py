"""Background jobs of the bidirectional page: training the three seq2seq models, the held-out scorecard."""

from __future__ import annotations

from typing import Any

from core.lab.jobs import JobContext, register
from core.lab.messages import msg
from core.lab.prepare import Preparation, training_job

KINDS = ("l2r", "r2l", "bidi")


def model_preparation(kind: str, preset: str = "default") -> Preparation:
    from core.bidirectional import training

    name = training.model_name(kind, preset)
    params: dict[str, Any] = {"kind": kind}
    if preset != "default":
        params["preset"] = preset
    return Preparation(
        "train-pinyin",
        params,
        msg("the pinyin model {name}", name=name),
        lambda: training.is_trained(name),
        order=100 + KINDS.index(kind),
    )


def scorecard_preparation(spec: Any = None) -> Preparation:
    from core.bidirectional.scorecard import ScorecardSpec, load_scorecard

    spec = spec or ScorecardSpec()
    return Preparation(
        "bidi-scorecard",
        spec.params(),
        msg("the held-out scorecard of the pinyin decoders"),
        lambda: load_scorecard(spec) is not None,
        order=105,
    )


def _trained(result: dict[str, Any]) -> Any:
    accuracy = [v for k, v in result.items() if k.endswith("_accuracy")]
    return msg(
        "trained {model}: teacher-forced accuracy {accuracy:.1%} on the validation clauses",
        model=result["model"],
        accuracy=sum(accuracy) / len(accuracy),
    )


def _scorecard(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.bidirectional.scorecard import ScorecardSpec, compute_scorecard

    table = compute_scorecard(ScorecardSpec.from_params(params), progress=ctx.progress, should_stop=ctx.should_stop)
    if table is None:
        return {"stopped": True, "message": msg("cancelled")}
    return {
        "message": msg("decoded {n} held-out clauses with {k} decoders", n=len(table["clauses"]), k=len(table["rows"])),
        "char_accuracy": {r["decoder"]: r["char_accuracy"] for r in table["rows"]},
    }


def defaults() -> list[Preparation]:
    return [*(model_preparation(kind) for kind in KINDS), scorecard_preparation()]


register("train-pinyin", training_job("core.bidirectional.training", "kind", _trained))
register("bidi-scorecard", _scorecard)
