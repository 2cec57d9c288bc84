"""Decoding commands: ``decode`` (one decoder over prompts, or ``--eval``: the prompt-set table) and ``train-lm``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from core.cli.common import CliError, run_job, stderr_progress


def _prompts(args: argparse.Namespace) -> list[str]:
    from core.lab.textinput import from_path

    if args.input and args.prompt is not None:
        raise CliError("give a prompt or --input FILE, not both")
    if args.input:
        return [p for p in from_path(args.input).sentences]
    if args.prompt is None:
        raise CliError("give a prompt, --input FILE or --eval")
    if not args.prompt.strip():
        raise CliError("the prompt is empty")
    return [args.prompt]


def cmd_decode(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.decoding.decoders import parse
    from core.decoding.generation import check_limit

    check_limit(args.max_new_tokens)
    decoders = [parse(d) for d in args.decoder]
    if args.eval:
        if args.prompt is not None or args.input:
            raise CliError("--eval decodes the model's prompt set; give no prompt")
        yield from _eval(args, [d.spec for d in decoders] if args.decoder_given else None)
        return
    prompts = _prompts(args)
    from core.decoding.generation import decode
    from core.decoding.models import load_language_model

    lm = load_language_model(args.model)
    for decoder in decoders:
        for c in decode(
            lm, prompts, decoder, args.max_new_tokens, seed=args.seed, chat=args.chat, progress=stderr_progress
        ):
            if c.prompt_cut:
                print(f"note: the prompt was cut by its first {c.prompt_cut} tokens to fit the model", file=sys.stderr)
            yield {"model": lm.id, "prompt": c.prompt, **c.row()}


def _eval(args: argparse.Namespace, decoders: list[str] | None) -> Iterator[dict[str, Any]]:
    from core.decoding.decoders import TABLE_DECODERS
    from core.decoding.table import TableSpec, compute_table

    spec = TableSpec(
        model=args.model,
        decoders=tuple(decoders) if decoders else TABLE_DECODERS,
        max_new_tokens=args.max_new_tokens if args.limit_given else None,
        seed=args.seed,
        chat=args.chat,
    )
    table = compute_table(spec, progress=stderr_progress)
    for row in table["rows"]:
        yield {
            "model": args.model,
            "decoder": row["decoder"],
            "limit": table["limit"],
            "prompts": row["n"],
            "non_termination": row["non_termination"],
            "loops": row["loops"],
            "seq_rep_4": row["seq_rep_4"],
            "mean_stopped_length": row["mean_stopped_length"],
            "loop_p_eos": row["loop_p_eos"],
        }


def cmd_train_lm(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.decoding import corpus, training

    if args.preset not in training.PRESETS:
        raise CliError(f"--preset must be one of {', '.join(training.PRESETS)}, not {args.preset!r}")
    if args.steps is not None and args.steps < 1:
        raise CliError(f"--steps must be at least 1, not {args.steps}")
    if not 0.0 < args.epsilon < 1.0:
        raise CliError(f"--epsilon must be between 0 and 1, not {args.epsilon}")
    corpus.load(args.corpus)  # a bad corpus fails here, before anything is queued
    params: dict[str, Any] = {"corpus": args.corpus, "output": args.output_layer, "seed": args.seed}
    if args.preset != "default":
        params["preset"] = args.preset
    if args.steps:
        params["max_steps"] = args.steps
    if args.output_layer == "self-terminating" and args.epsilon != training.DEFAULT_EPSILON:
        params["epsilon"] = args.epsilon
    if args.resume:
        params["resume"] = True
    result = run_job("train-lm", params, "training")
    yield {k: v for k, v in result.items() if k != "folder"}


class _Given(argparse.Action):
    """Stores the value and notes that the option was given (``--eval`` keeps the model's defaults otherwise)."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, values: Any, option: str | None = None):
        if self.dest == "decoder":
            if not getattr(ns, "decoder_given", False):
                ns.decoder = []
            ns.decoder.append(values)
            ns.decoder_given = True
        else:
            setattr(ns, self.dest, values)
            ns.limit_given = True


def register(sub: argparse._SubParsersAction) -> None:
    """Add this technique's subcommands to ``python -m core``."""
    p = sub.add_parser("decode", help="continue prompts with a decoder and report who stops (p(EOS) per step)")
    p.add_argument("prompt", nargs="?", help="the prompt (or use --input, or --eval)")
    p.add_argument("--input", help="a .txt file, one prompt a line (JSON Lines out)")
    p.add_argument("--output", help="write JSON Lines here instead of stdout")
    p.add_argument(
        "--model",
        default="smollm2-135m",
        help="smollm2-135m (default), an LSTM trained here (lstm-peoples-daily-softmax, "
        "lstm-peoples-daily-self-terminating), a local folder or a Hugging Face id",
    )
    p.add_argument(
        "--decoder",
        action=_Given,
        default=["greedy"],
        help="greedy, beam:K, topk:K, nucleus:P, ancestral[:T], consistent-topk:K, consistent-nucleus:P, "
        "with +no-repeat:N or +length-decay:START:FACTOR; repeat the option for several",
    )
    p.add_argument("--max-new-tokens", type=int, default=256, action=_Given, help="the length limit L (1..2048)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chat", action="store_true", help="wrap each prompt in the model's chat template")
    p.add_argument("--eval", action="store_true", help="the prompt-set table (r_L, loops, seq-rep-4) of the model")
    p.set_defaults(run=cmd_decode, decoder_given=False, limit_given=False)

    p = sub.add_parser("train-lm", help="train an LSTM language model (softmax or self-terminating) as a job")
    p.add_argument("--corpus", default="peoples-daily", help="peoples-daily (built in) or a UTF-8 .txt file")
    p.add_argument(
        "--output",
        dest="output_layer",
        choices=("softmax", "self-terminating"),
        default="softmax",
        help="the output layer",
    )
    p.add_argument("--preset", default="default", help="tiny (seconds), quick (minutes) or default (Welleck's size)")
    p.add_argument("--steps", type=int, help="train exactly this many steps")
    p.add_argument("--epsilon", type=float, default=1e-3, help="the self-terminating layer's epsilon")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    p.add_argument("--json", dest="output", help="write JSON here instead of stdout")
    p.set_defaults(run=cmd_train_lm)
