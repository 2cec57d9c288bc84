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


def run_job(kind: str, params: dict, what: str) -> dict:
    """Queue a background job and work it in this process (its progress on stderr), or wait for the
    machine's worker when another job holds it; returns the job's result. Ctrl-C (or SIGTERM) leaves the job
    interrupted with its checkpoint, to continue with ``--resume``."""
    import signal

    from core.lab import jobs

    job_id = jobs.submit(kind, params)
    print(f"job {job_id} queued", file=sys.stderr)

    def interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        if not jobs.run_worker(until=job_id, echo=stderr_progress):
            print("another job is running on this machine; this one waits its turn", file=sys.stderr)
            jobs.start_worker()
        job = jobs.get(job_id)
        if job.status in jobs.ACTIVE:
            job = jobs.wait(job_id, echo=stderr_progress)
    except KeyboardInterrupt:
        jobs.mark_interrupted(job_id)
        raise CliError(f"interrupted: job {job_id} keeps its checkpoint; continue it with --resume") from None
    if job.status == "failed":
        raise CliError(f"{what} failed: {job.error}")
    if job.status == "cancelled":
        raise CliError(f"job {job_id} was cancelled: {job.message}")
    return job.result


def add_training_options(p: argparse.ArgumentParser) -> None:
    """``--preset``, ``--steps``, ``--seed`` and ``--json`` of a command that trains a model as a job."""
    p.add_argument("--preset", default="default", help="tiny (seconds), quick (minutes) or default")
    p.add_argument("--steps", type=int, help="train exactly this many steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", dest="output", help="write JSON here instead of stdout")


def train_as_job(kind: str, params: dict, args: argparse.Namespace) -> dict:
    """Run the training job ``kind`` with ``params`` and the options of :func:`add_training_options`; its
    result, less the folder."""
    if args.steps is not None and args.steps < 1:
        raise CliError(f"--steps must be at least 1, not {args.steps}")
    if args.preset != "default":
        params["preset"] = args.preset
    if args.steps:
        params["max_steps"] = args.steps
    if args.seed:
        params["seed"] = args.seed
    result = run_job(kind, params, "training")
    return {k: v for k, v in result.items() if k != "folder"}
