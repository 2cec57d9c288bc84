"""Background jobs of the recompute page: a study (every strategy measured on one shape and budget)."""

from __future__ import annotations

from typing import Any

from core.lab.jobs import JobContext, register
from core.lab.messages import msg
from core.lab.prepare import Preparation


def study_preparation(params: dict[str, Any] | None = None) -> Preparation:
    """The study of ``params`` (the default study when ``None``: the page opens on it)."""
    from core.recompute.study import Study, load_study

    spec = Study.from_params(params or {})
    return Preparation(
        "recompute-study",
        spec.params(),
        msg(
            "the recompute measurements ({layers} blocks of {hidden}, batch {batch}, budget {budget:,.0f} MB)",
            layers=spec.layers,
            hidden=spec.hidden,
            batch=spec.batch,
            budget=spec.budget_mb,
        ),
        lambda: load_study(spec) is not None,
        order=45,  # after the small conversions, before the hour of LSTM training a fresh lab queues
    )


def _study(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.recompute.study import Study, compute_study

    result = compute_study(Study.from_params(params), progress=ctx.progress, should_stop=ctx.should_stop)
    if result is None:
        return {"stopped": True, "message": msg("cancelled")}
    return {
        "message": msg("measured {n} strategies", n=len(result["rows"])),
        "largest_batch": {r["strategy"]: r.get("largest_batch") for r in result["rows"]},
    }


def defaults() -> list[Preparation]:
    return [study_preparation()]


register("recompute-study", _study)
