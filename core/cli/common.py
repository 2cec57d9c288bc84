"""What every technique's subcommands share: the error type, sentence input, progress on stderr."""

from __future__ import annotations

import argparse
import sys
import time
from typing import NoReturn

from core.lab.errors import LabError
from core.lab.textinput import SENTENCE, from_path, from_text

EXIT_BAD_INPUT = 2


class CliError(LabError):
    """Bad input or options; printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def sentences(args: argparse.Namespace) -> list[str]:
    if args.input and args.sentence:
        raise CliError("give a sentence or --input FILE, not both")
    if args.input:
        return list(from_path(args.input).sentences)
    if args.sentence is None:
        raise CliError("give a sentence or --input FILE")
    return list(from_text(args.sentence, source=SENTENCE).sentences)


_last_logged = [0.0]


def stderr_progress(fraction: float, message: str) -> None:
    """Progress on stderr: one line rewritten in place on a terminal; in a log file, a line every few seconds."""
    text = f"{message} ({100 * fraction:.0f}%)"
    if sys.stderr.isatty():
        print(f"\r{text}\x1b[K", end="\n" if fraction >= 1 else "", file=sys.stderr, flush=True)
        return
    now = time.monotonic()
    if fraction >= 1 or now - _last_logged[0] >= 5.0:
        _last_logged[0] = now
        print(text, file=sys.stderr, flush=True)


def add_sentence_input(p: argparse.ArgumentParser, extra: str = "") -> None:
    """The positional sentence, ``--input FILE`` and ``--output FILE`` shared by the text commands."""
    p.add_argument("sentence", nargs="?", help=f"the sentence (or use --input{extra})")
    p.add_argument("--input", help="a .txt (one sentence a line), .csv or .jsonl file")
    p.add_argument("--output", help="write JSON Lines here instead of stdout")
