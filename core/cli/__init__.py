"""Command line: the same analyses as the pages, printed as JSON.

One JSON object per input sentence (JSON Lines for files). Input the lab
cannot use (a :class:`~core.lab.errors.LabError`) exits with status 2 and one
line on stderr; anything else is a bug and shows its traceback.

Each technique package registers its own subcommands (its ``cli.register``);
this module adds the machinery's own (``worker``) and runs them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from core.cli.common import EXIT_BAD_INPUT, CliError, Parser
from core.lab.errors import LabError
from core.lab.techniques import PACKAGES

TECHNIQUES = tuple(f"{package}.cli" for package in PACKAGES)


def cmd_worker(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.lab import jobs

    ran = jobs.run_worker()
    yield {"worker": "finished the queue" if ran else "another worker is running"}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core", description="kexue-lab analyses from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in TECHNIQUES:
        importlib.import_module(name).register(sub)
    p = sub.add_parser("worker", help="run queued background jobs (make run and the pages start it)")
    p.add_argument("--output", help=argparse.SUPPRESS)
    p.set_defaults(run=cmd_worker)
    return parser


def _open_output(path: str | None):  # noqa: ANN202 - a text file object
    if not path:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in main's finally
    except OSError as exc:
        raise CliError(f"cannot write --output {path}: {exc.strerror or exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    out = None
    try:
        args = build_parser().parse_args(argv)
        results = args.run(args)
        out = _open_output(args.output)
        for obj in results:
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            out.flush()
        return 0
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
