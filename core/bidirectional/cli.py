"""Bidirectional decoding commands: ``bidirectional`` (decode pinyin or Chinese lines, or ``--eval``) and
``train-pinyin``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from core.cli.common import CliError, add_training_options, stderr_progress, train_as_job


def _lines(args: argparse.Namespace) -> list[tuple[int, str]]:
    if args.input and args.text is not None:
        raise CliError("give pinyin or --input FILE, not both")
    if args.input:
        try:
            with open(args.input, encoding="utf-8") as fh:
                lines = [(i, line.strip()) for i, line in enumerate(fh, 1) if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read --input {args.input}: {getattr(exc, 'strerror', None) or exc}") from None
        if not lines:
            raise CliError(f"--input {args.input} has no lines")
        return lines
    if args.text is None:
        raise CliError("give pinyin (or Chinese text), --input FILE or --eval")
    return [(0, args.text)]


def _parse(number: int, text: str) -> Any:
    from core.bidirectional.pinyin import MAX_SYLLABLES, PinyinError, parse

    where = f"line {number}: " if number else ""
    try:
        parsed = parse(text, limit=10**9)
    except PinyinError as exc:
        raise CliError(f"{where}{exc}") from None
    if len(parsed.syllables) > MAX_SYLLABLES:
        raise CliError(f"{where}{len(parsed.syllables)} syllables is over the limit of {MAX_SYLLABLES}")
    return parsed


def cmd_bidirectional(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.bidirectional.decoding import Decoders, missing
    from core.bidirectional.scorecard import char_accuracy

    if not 1 <= args.beam <= 16:
        raise CliError(f"--beam must be 1 to 16, not {args.beam}")
    if args.eval:
        if args.text is not None or args.input:
            raise CliError("--eval decodes the held-out clauses; give no pinyin")
        yield from _eval(args)
        return
    parsed = [(n, _parse(n, text)) for n, text in _lines(args)]  # every line checked before decoding starts
    missing(args.decoder)
    lab = Decoders()
    for _n, p in parsed:
        result = lab.decode(args.decoder, p.syllables, args.beam)
        row: dict[str, Any] = {
            "input": p.text,
            "decoder": args.decoder,
            "output": result.output,
            "score": round(result.score, 4),
            "steps": result.steps,
        }
        if p.reference is not None:
            row["reference"] = p.reference
            row["char_accuracy"] = round(char_accuracy(result.output, p.reference), 4)
        yield row


def _eval(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.bidirectional.scorecard import DECODERS, ScorecardSpec, compute_scorecard, load_scorecard

    spec = ScorecardSpec(beam=args.beam, size=args.size, decoders=DECODERS)
    table = load_scorecard(spec) or compute_scorecard(spec, progress=stderr_progress)
    for row in table["rows"]:
        yield {
            "decoder": row["decoder"],
            "beam": spec.beam,
            "clauses": spec.size,
            "char_accuracy": round(row["char_accuracy"], 4),
            "exact_match": round(row["exact_match"], 4),
            "by_position": [round(x, 4) for x in row["by_position"]],
            "chars_per_second": round(row["chars_per_second"], 1),
        }


def cmd_train(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.bidirectional import training

    training.check(args.model, args.preset)
    yield train_as_job("train-pinyin", {"kind": args.model}, args)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this technique's subcommands to ``python -m core``."""
    p = sub.add_parser("bidirectional", help="pinyin -> characters with L2R, R2L, bidirectional or baseline decoders")
    p.add_argument("text", nargs="?", help='toneless pinyin ("bei jing da xue") or Chinese text (scored)')
    p.add_argument("--input", help="a UTF-8 file, one pinyin or Chinese line each (JSON Lines out)")
    p.add_argument("--output", help="write JSON Lines here instead of stdout")
    p.add_argument(
        "--decoder",
        default="bidi",
        choices=("l2r", "r2l", "bidi", "rerank", "bigram", "unigram"),
        help="bidi (default): synchronous bidirectional beam; rerank: L2R beam rescored by R2L",
    )
    p.add_argument("--beam", type=int, default=4, help="beam width (1 is greedy), 1..16")
    p.add_argument("--eval", action="store_true", help="score every decoder on the held-out clauses")
    p.add_argument("--size", type=int, default=300, help=argparse.SUPPRESS)
    p.set_defaults(run=cmd_bidirectional)

    p = sub.add_parser("train-pinyin", help="train a pinyin seq2seq model (l2r, r2l or bidi) as a job")
    p.add_argument("--model", default="l2r", help="l2r, r2l or bidi")
    add_training_options(p)
    p.set_defaults(run=cmd_train)
