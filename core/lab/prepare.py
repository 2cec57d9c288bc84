"""Preparing the built-in defaults in the background, so no visitor waits on training.

Each technique's ``jobs`` module lists what its pages need before they can
show their default view (a trained classifier, the VAE pair, the Chinese
segmentation's statistics and calibration) as :class:`Preparation` entries:
a job kind with its parameters, a check that the artifact is on disk, and an
order (lower first: what a visitor is most likely to need first). ``make run``
queues every default that is not ready (:func:`queue_defaults`); a page asks
:func:`ensure` for the one it needs and shows the job's progress meanwhile.
The checks only look at files, so a fully prepared lab starts as fast as an
empty one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.lab import jobs
from core.lab.messages import Message, msg
from core.lab.techniques import PACKAGES


@dataclass(frozen=True)
class Preparation:
    kind: str  # the job kind that builds it
    params: dict[str, Any]
    label: Message  # what is being prepared, as a person reads it ("the zh-sentiment classifier")
    ready: Callable[[], bool] = field(compare=False)
    order: int = 100  # lower: queued earlier


def defaults() -> list[Preparation]:
    """Every technique's built-in defaults, in the order they are queued."""
    found: list[Preparation] = []
    for package in PACKAGES:
        found += importlib.import_module(f"{package}.jobs").defaults()
    return sorted(found, key=lambda p: p.order)


def queue_defaults() -> list[int]:
    """Queue a job for every default that is not on disk yet (once: a queued or running one is reused)."""
    return [jobs.submit_once(p.kind, p.params) for p in defaults() if not p.ready()]


def ensure(prep: Preparation, start_worker: bool = True) -> jobs.Job | None:
    """``None`` when the artifact is ready; else the job preparing it (queued now if there was none).

    A failed job is returned as it is, not queued again: the page shows its error and offers to retry
    (:func:`retry`), so a broken default does not loop.
    """
    if prep.ready():
        return None
    job = jobs.latest(prep.kind, prep.params)
    if job is None or job.status in ("cancelled", "done"):  # done but gone: the home was cleared meanwhile
        job = jobs.get(jobs.submit(prep.kind, prep.params))
    if start_worker and job.status in jobs.ACTIVE and not jobs.worker_running():
        jobs.start_worker()  # nobody works the queue (a restart, a killed worker): a new one requeues and resumes
    return job


def retry(prep: Preparation) -> int:
    job_id = jobs.submit(prep.kind, prep.params)
    jobs.start_worker()
    return job_id


def conversion_job(module: str, function: str) -> Callable[[dict[str, Any], jobs.JobContext], dict[str, Any]]:
    """A job that converts a packaged model once into the lab home: ``module.function(progress)`` builds the
    folder (imported when the job runs, so registering it costs nothing); the job's message names
    ``params["model"]``."""

    def run(params: dict[str, Any], ctx: jobs.JobContext) -> dict[str, Any]:
        getattr(importlib.import_module(module), function)(ctx.progress)
        return {"message": msg("converted {model}", model=params["model"])}

    return run


def training_job(
    module: str, key: str, done: Callable[[dict[str, Any]], Message]
) -> Callable[[dict[str, Any], jobs.JobContext], dict[str, Any]]:
    """A job that trains one model with ``module.train(params[key], preset, seed=, progress=, should_stop=,
    max_steps=)`` (imported when the job runs); its message is ``done(result)``, or says where it was
    cancelled."""

    def run(params: dict[str, Any], ctx: jobs.JobContext) -> dict[str, Any]:
        result = importlib.import_module(module).train(
            params[key],
            params.get("preset", "default"),
            seed=int(params.get("seed", 0)),
            progress=ctx.progress,
            should_stop=ctx.should_stop,
            max_steps=params.get("max_steps"),
        )
        if result.get("stopped"):
            return {**result, "message": msg("cancelled at step {step}", step=result["step"])}
        return {**result, "message": done(result)}

    return run
