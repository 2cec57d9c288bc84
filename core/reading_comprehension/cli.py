"""Reading comprehension commands: ``qa`` (answer questions about passages, or ``--eval``) and
``train-reader``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from typing import Any

from core.cli.common import CliError, add_training_options, train_as_job


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _pairs(args: argparse.Namespace) -> list[tuple[str, str]]:
    if args.input:
        if args.passage or args.question is not None:
            raise CliError("give --input FILE.jsonl, or --passage FILE with a question, not both")
        rows = []
        for number, line in enumerate(_read(args.input, "--input").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows.append((number, str(row["passage"]), str(row["question"])))
            except (ValueError, KeyError, TypeError):
                raise CliError(f'line {number}: not a JSON object with "passage" and "question"') from None
        if not rows:
            raise CliError(f"--input {args.input} has no lines")
        return [_check(n, p, q) for n, p, q in rows]
    if not args.passage or args.question is None:
        raise CliError("give --passage FILE and a question, --input FILE.jsonl or --eval")
    return [_check(0, _read(args.passage, "--passage"), args.question)]


def _check(number: int, passage: str, question: str) -> tuple[str, str]:
    import sys

    from core.reading_comprehension.reader import ReaderError, check

    where = f"line {number}: " if number else ""
    try:
        checked = check(passage, question)
    except ReaderError as exc:
        raise CliError(f"{where}{exc}") from None
    for note in checked.notes:
        print(f"note: {where}{note}", file=sys.stderr)
    return checked.passage, checked.question


def cmd_qa(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.reading_comprehension.reader import ReaderError, answer

    if args.eval:
        if args.question is not None or args.input or args.passage:
            raise CliError("--eval scores the test split; give no passage or question")
        yield from _eval(args)
        return
    pairs = _pairs(args)
    try:
        found = answer(args.model, pairs)
    except ReaderError as exc:
        raise CliError(str(exc)) from None
    for f in found:
        yield {
            "answer": f["answer"],
            "start": f["start"],
            "end": f["end"],
            "score": round(f["score"], 4),
            "has_answer": round(f["gate"], 4),
            "top_spans": [{**s, "score": round(s["score"], 4)} for s in f["top_spans"]],
        }


def _eval(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """The reader and the heuristics on the test split; for the default reader, the page's scorecard (every
    trained default reader), stored for the page."""
    from core.reading_comprehension.data import load
    from core.reading_comprehension.reader import ReaderError, reader
    from core.reading_comprehension.scorecard import compute_scorecard, score_systems
    from core.reading_comprehension.training import model_name

    try:
        reader(args.model)
    except ReaderError as exc:
        raise CliError(str(exc)) from None
    if args.model == model_name("dgcnn") and args.limit is None:
        rows = compute_scorecard()["rows"]
    else:
        rows = score_systems({args.model: args.model}, list(load()["test"][: args.limit]))
    for row in rows:
        yield {
            "system": row["system"],
            "questions": row["questions"],
            **{k: round(row[k], 4) for k in ("em", "f1", "gate_accuracy", "gate_auc") if k in row},
        }


def cmd_train(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.reading_comprehension import training

    training.check(args.encoder, args.preset)
    yield train_as_job("train-reader", {"encoder": args.encoder}, args)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this technique's subcommands to ``python -m core``."""
    p = sub.add_parser("qa", help="answer a question about a Chinese passage with the DGCNN reader")
    p.add_argument("question", nargs="?", help="the question (谁……？ 哪里……？ 哪个机构……？)")
    p.add_argument("--passage", help="a UTF-8 .txt file: the passage")
    p.add_argument("--input", help='a .jsonl file of {"passage", "question"} objects (JSON Lines out)')
    p.add_argument("--output", help="write JSON Lines here instead of stdout")
    p.add_argument("--model", default="qa-dgcnn", help="qa-dgcnn (default), qa-bilstm, or a preset's reader")
    p.add_argument("--eval", action="store_true", help="score the reader and the baselines on the test split")
    p.add_argument("--limit", type=int, help="with --eval: the first N test questions only (a quick look)")
    p.set_defaults(run=cmd_qa)

    p = sub.add_parser("train-reader", help="train a reading-comprehension reader (dgcnn or bilstm) as a job")
    p.add_argument("--encoder", default="dgcnn", help="dgcnn or bilstm")
    add_training_options(p)
    p.set_defaults(run=cmd_train)
