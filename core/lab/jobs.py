"""Background jobs: a queue in the SQLite store and one worker process per machine.

A page or the command line submits a job and starts a worker (``python -m
core worker``, its own process, so it survives the browser tab closing and the
Streamlit session). The worker holds a machine-wide lock, so one training job
runs at a time and the rest wait in order. It writes progress to the job's row
every few seconds, which any session can read, and checks the row's cancel
flag between training steps. A job left ``running`` by a worker that died is
queued again on the next worker start and resumes from its checkpoint.

Job kinds are a registry: each technique package has a ``jobs`` module that
calls :func:`register` for its own kinds (training a probe, a classifier, a
VAE pair, calibrating the Chinese segmentation, an optimizer comparison) and
lists the defaults it wants prepared (:mod:`core.lab.prepare`). Those modules
import nothing heavy: a runner imports its trainer when it runs.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lab import store
from core.lab.errors import LabError
from core.lab.messages import Message, msg
from core.lab.paths import lab_home, try_lock
from core.lab.progress import Progress
from core.lab.techniques import PACKAGES

ACTIVE = ("queued", "running")
PROGRESS_EVERY = 3.0  # seconds between progress writes
ROOT = Path(__file__).resolve().parents[2]  # the project root: the worker runs `python -m core` from it


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    params: dict[str, Any]
    status: str  # queued | running | done | failed | cancelled
    created: float
    started: float | None
    finished: float | None
    progress: float
    message: Message | str  # a Message (rendered in each visitor's language) or plain text from older rows
    result: dict[str, Any] | None
    error: Message | str | None
    cancel: bool


@dataclass(frozen=True)
class JobContext:
    """What a runner gets besides its parameters."""

    progress: Progress  # written to the job's row every few seconds
    should_stop: Callable[[], bool]  # the cancel flag (read at most once a second)
    record: Callable[[dict[str, Any]], None]  # merge facts into the job's parameters (e.g. the model id it writes)
    resume: bool  # the job was interrupted before and may continue from a checkpoint


@dataclass(frozen=True)
class JobKind:
    """A kind of background job: ``run(params, context)`` returns the result, a JSON-able dict.

    A result with ``stopped`` true means the runner honoured a cancel request and kept a checkpoint. Its
    ``message`` (a :class:`~core.lab.messages.Message`, when given) becomes the job's last message and is
    not kept in the result.
    """

    name: str
    run: Callable[[dict[str, Any], JobContext], dict[str, Any]]


_KINDS: dict[str, JobKind] = {}


def register(name: str, run: Callable[[dict[str, Any], JobContext], dict[str, Any]]) -> None:
    """Add a job kind (each technique's ``jobs`` module calls this at import)."""
    _KINDS[name] = JobKind(name, run)


def kinds() -> dict[str, JobKind]:
    """Every registered job kind, importing each technique's ``jobs`` module the first time."""
    for package in PACKAGES:
        importlib.import_module(f"{package}.jobs")
    return dict(_KINDS)


COLUMNS = "id, kind, params, status, created, started, finished, progress, message, result, error, cancel"
_TAG = '{"$message"'


def encode(message: Message | str | None) -> str | None:
    """A job's message or error as stored: a Message as tagged JSON, so any visitor reads it in their language."""
    if isinstance(message, Message):
        return json.dumps({"$message": message.to_json()}, ensure_ascii=False)
    return message


def decode(text: str | None) -> Message | str | None:
    if text and text.startswith(_TAG):
        try:
            return Message.from_json(json.loads(text)["$message"])
        except (ValueError, KeyError, TypeError):
            return text
    return text


STARTING = encode(msg("starting"))


def _job(row: tuple) -> Job:
    return Job(
        row[0],
        row[1],
        json.loads(row[2]),
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        decode(row[8]) or "",
        json.loads(row[9]) if row[9] else None,
        decode(row[10]),
        bool(row[11]),
    )


def submit(kind: str, params: dict[str, Any]) -> int:
    if kind not in kinds():
        raise ValueError(f"unknown job kind {kind!r}")
    with store.connect() as con, con:
        cur = con.execute(
            "INSERT INTO jobs (kind, params, status, created) VALUES (?, ?, 'queued', ?)",
            (kind, json.dumps(params), time.time()),
        )
        return int(cur.lastrowid)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Parameters equal apart from what the worker adds (``resume``, ``name``)."""

    def strip(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if k not in ("resume", "name")}

    return strip(a) == strip(b)


def latest(kind: str, params: dict[str, Any]) -> Job | None:
    """The newest job of this kind with these parameters, whatever its status."""
    with store.connect() as con:
        rows = con.execute(f"SELECT {COLUMNS} FROM jobs WHERE kind = ? ORDER BY id DESC", (kind,)).fetchall()
    for row in rows:
        job = _job(row)
        if _same(job.params, params):
            return job
    return None


def submit_once(kind: str, params: dict[str, Any]) -> int:
    """Submit unless the same job is already queued or running; returns that job's id or the new one's."""
    job = latest(kind, params)
    if job is not None and job.status in ACTIVE:
        return job.id
    return submit(kind, params)


def queue_position(job_id: int) -> int:
    """How many active jobs run before this one (0: it runs now or next)."""
    with store.connect() as con:
        row = con.execute(
            "SELECT COUNT(*) FROM jobs WHERE id < ? AND status IN ('queued', 'running')", (job_id,)
        ).fetchone()
    return int(row[0])


def get(job_id: int) -> Job | None:
    with store.connect() as con:
        row = con.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return _job(row) if row else None


def list_jobs(limit: int = 20) -> list[Job]:
    with store.connect() as con:
        rows = con.execute(f"SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [_job(r) for r in rows]


def cancel(job_id: int) -> str:
    """Cancel a queued job at once; ask a running one to stop at its next step (it keeps its checkpoint)."""
    with store.connect() as con, con:
        row = con.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise ValueError(f"no job {job_id}")
        if row[0] == "queued":
            con.execute(
                "UPDATE jobs SET status = 'cancelled', finished = ?, message = ? WHERE id = ?",
                (time.time(), encode(msg("cancelled before it started")), job_id),
            )
            return "cancelled"
        if row[0] == "running":
            con.execute("UPDATE jobs SET cancel = 1 WHERE id = ?", (job_id,))
            return "stopping"
        return row[0]


def _claim_next() -> Job | None:
    with store.connect() as con:
        con.execute("BEGIN IMMEDIATE")
        row = con.execute(f"SELECT {COLUMNS} FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1").fetchone()
        if row is None:
            con.execute("COMMIT")
            return None
        con.execute(
            "UPDATE jobs SET status = 'running', started = ?, pid = ?, message = ? WHERE id = ?",
            (time.time(), os.getpid(), STARTING, row[0]),
        )
        con.execute("COMMIT")
    return get(row[0])


def _requeue_orphans() -> int:
    """Jobs marked running whose worker is gone (crash, restart) go back to the queue, to resume."""
    with store.connect() as con, con:
        rows = con.execute("SELECT id, params, pid FROM jobs WHERE status = 'running'").fetchall()
        n = 0
        for job_id, params, pid in rows:
            if pid and _alive(pid) and pid != os.getpid():
                continue
            p = json.loads(params)
            p["resume"] = True
            con.execute(
                "UPDATE jobs SET status = 'queued', params = ?, message = ? WHERE id = ?",
                (json.dumps(p), encode(msg("requeued after its worker stopped; resumes from its checkpoint")), job_id),
            )
            n += 1
    return n


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _update(job_id: int, **fields: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in fields)
    with store.connect() as con, con:
        con.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*fields.values(), job_id))


def _cancel_requested(job_id: int) -> bool:
    with store.connect() as con:
        row = con.execute("SELECT cancel FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return bool(row and row[0])


def _run_job(job: Job, echo: Callable[[float, Message | str], None] | None = None) -> None:
    last = [0.0]

    def progress(fraction: float, message: Message | str) -> None:
        if echo:
            echo(fraction, message)
        now = time.time()
        if now - last[0] >= PROGRESS_EVERY or fraction >= 1.0:
            last[0] = now
            _update(job.id, progress=float(min(max(fraction, 0.0), 1.0)), message=encode(message))

    checked = [0.0, False]

    def should_stop() -> bool:  # read the flag at most once a second
        now = time.time()
        if now - checked[0] >= 1.0:
            checked[0], checked[1] = now, _cancel_requested(job.id)
        return checked[1]

    params = dict(job.params)
    resume = bool(params.pop("resume", False))
    recorded = dict(job.params)

    def record(facts: dict[str, Any]) -> None:
        recorded.update(facts)
        _update(job.id, params=json.dumps(recorded))

    kind = kinds().get(job.kind)
    try:
        if kind is None:
            raise ValueError(f"unknown job kind {job.kind!r}")
        result = kind.run(params, JobContext(progress, should_stop, record, resume))
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, the worker goes on
        # Input the job cannot use reads in the visitor's language; anything else is a bug, shown as it is.
        error = exc.message if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"
        _update(job.id, status="failed", finished=time.time(), error=encode(error), message=encode(msg("failed")))
        return
    message = result.pop("message", None)  # a Message: the job's last line (not part of the JSON result)
    if result.get("stopped"):
        _cancel_resumable(
            job.id, recorded, message or msg("cancelled; its checkpoint is kept"), result=json.dumps(result)
        )
        return
    _update(
        job.id,
        status="done",
        finished=time.time(),
        progress=1.0,
        result=json.dumps(result),
        message=encode(message or msg("done")),
    )


def run_worker(until: int | None = None, echo: Callable[[float, Message | str], None] | None = None) -> bool:
    """Work through the queue (oldest first); return False at once if another worker holds the machine.

    With ``until``, stop after that job finishes instead of emptying the queue. A job submitted while this
    worker was releasing the lock is not stranded: after letting go, the worker looks once more and takes the
    lock again if anything is queued (a worker started for that job found the lock held and left).
    """
    while True:
        with try_lock("job-worker") as mine:
            if not mine:
                return False
            _requeue_orphans()
            while True:
                job = _claim_next()
                if job is None:
                    break
                if echo and until is not None and job.id != until:
                    echo(0.0, msg("job {id} was queued earlier and runs first", id=job.id))
                _run_job(job, echo)
                if until is not None and job.id == until:
                    return True
        if not _has_queued():
            return True


def run_one(job_id: int, echo: Callable[[float, Message | str], None] | None = None) -> bool:
    """Run this queued job now, ahead of the queue, under the worker lock; False if another worker holds it."""
    with try_lock("job-worker") as mine:
        if not mine:
            return False
        with store.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            claimed = con.execute(
                "UPDATE jobs SET status = 'running', started = ?, pid = ?, message = ?"
                " WHERE id = ? AND status = 'queued'",
                (time.time(), os.getpid(), STARTING, job_id),
            ).rowcount
            con.execute("COMMIT")
        if claimed:
            _run_job(get(job_id), echo)
        return bool(claimed)


def _has_queued() -> bool:
    with store.connect() as con:
        return con.execute("SELECT 1 FROM jobs WHERE status = 'queued' LIMIT 1").fetchone() is not None


def worker_running() -> bool:
    """Whether some process holds the worker lock now."""
    with try_lock("job-worker") as free:
        return not free


def mark_interrupted(job_id: int) -> None:
    """A job whose process was stopped (Ctrl-C, kill): cancelled, resumable from its checkpoint."""
    job = get(job_id)
    if job is None or job.status not in ACTIVE:
        return
    _cancel_resumable(job_id, job.params, msg("interrupted; its checkpoint is kept (resume with --resume)"))


def _cancel_resumable(job_id: int, params: dict[str, Any], message: Message, **fields: Any) -> None:
    """Cancelled, with ``resume`` set in its parameters: running it again continues from its checkpoint."""
    _update(
        job_id,
        status="cancelled",
        finished=time.time(),
        params=json.dumps({**params, "resume": True}),
        message=encode(message),
        **fields,
    )


def worker_log() -> Path:
    return lab_home() / "logs" / "worker.log"


def start_worker() -> subprocess.Popen | None:
    """Launch ``python -m core worker`` in its own session (it exits at once if a worker is already running).

    ``KEXUE_LAB_WORKER=off`` leaves queued jobs queued (the tests run them in their own process) and returns
    ``None``.
    """
    if os.environ.get("KEXUE_LAB_WORKER") == "off":
        return None
    log = worker_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KEXUE_LAB_HOME": str(lab_home()),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    }
    with open(log, "a") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "core", "worker"],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=fh,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait(job_id: int, poll: float = 2.0, echo: Callable[[float, Message | str], None] | None = None) -> Job:
    """Follow a job run by another worker until it ends."""
    seen = ""
    while True:
        job = get(job_id)
        if job is None or job.status not in ACTIVE:
            return job
        if echo and job.message != seen:
            seen = job.message
            echo(job.progress, f"job {job_id} ({job.status}): {job.message}")  # the command line's English
        time.sleep(poll)
