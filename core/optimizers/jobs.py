"""Background jobs of the optimizer page: a seeded training comparison, run on request."""

from __future__ import annotations

from typing import Any

from core.lab.jobs import JobContext, register
from core.lab.messages import msg
from core.lab.prepare import Preparation


def comparison(task: str, seeds: int, epochs: int) -> Preparation:
    from core.optimizers.runs import RunConfig, cached

    config = RunConfig(task, seeds, epochs)
    return Preparation(
        "optimizer-run",
        {"task": task, "seeds": seeds, "epochs": epochs},
        msg("the {task} comparison ({seeds} seeds x {epochs} epochs)", task=task, seeds=seeds, epochs=epochs),
        lambda: cached(config.resolved()) is not None,
        order=90,
    )


def _run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.optimizers.runs import RunConfig, load_or_run

    result = load_or_run(RunConfig(params["task"], int(params["seeds"]), int(params["epochs"])), ctx.progress)
    return {"message": msg("ran the {task} comparison", task=params["task"]), "seconds": result.seconds}


def defaults() -> list[Preparation]:
    return []  # comparisons run when a visitor asks for one


register("optimizer-run", _run)
