"""Background jobs: a queue in the SQLite store and one worker process per machine.

A page or the command line submits a job and starts a worker (``python -m
core worker``, its own process, so it survives the browser tab closing and the
Streamlit session). The worker holds a machine-wide lock, so one training job
runs at a time and the rest wait in order. It writes progress to the job's row
every few seconds, which any session can read, and checks the row's cancel
flag between training steps. A job left ``running`` by a worker that died is
queued again on the next worker start and resumes from its checkpoint.
"""

from __future__ import annotations

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
from core.lab.paths import lab_home, try_lock

KINDS = ("train-probe",)
ACTIVE = ("queued", "running")
PROGRESS_EVERY = 3.0  # seconds between progress writes
ROOT = Path(__file__).resolve().parent.parent


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
    message: str
    result: dict[str, Any] | None
    error: str | None
    cancel: bool


COLUMNS = "id, kind, params, status, created, started, finished, progress, message, result, error, cancel"


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
        row[8],
        json.loads(row[9]) if row[9] else None,
        row[10],
        bool(row[11]),
    )


def submit(kind: str, params: dict[str, Any]) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    with store.connect() as con, con:
        cur = con.execute(
            "INSERT INTO jobs (kind, params, status, created) VALUES (?, ?, 'queued', ?)",
            (kind, json.dumps(params), time.time()),
        )
        return int(cur.lastrowid)


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
                "UPDATE jobs SET status = 'cancelled', finished = ?, message = 'cancelled before it started'"
                " WHERE id = ?",
                (time.time(), job_id),
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
            "UPDATE jobs SET status = 'running', started = ?, pid = ?, message = 'starting' WHERE id = ?",
            (time.time(), os.getpid(), row[0]),
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
                "UPDATE jobs SET status = 'queued', params = ?, message = 'requeued after its worker stopped;"
                " resumes from its checkpoint' WHERE id = ?",
                (json.dumps(p), job_id),
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


def _run_job(job: Job, echo: Callable[[float, str], None] | None = None) -> None:
    from core.perturbed_masking import probe as P

    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        if echo:
            echo(fraction, message)
        now = time.time()
        if now - last[0] >= PROGRESS_EVERY or fraction >= 1.0:
            last[0] = now
            _update(job.id, progress=float(fraction), message=message)

    checked = [0.0, False]

    def should_stop() -> bool:  # read the flag at most once a second
        now = time.time()
        if now - checked[0] >= 1.0:
            checked[0], checked[1] = now, _cancel_requested(job.id)
        return checked[1]

    params = dict(job.params)
    resume = bool(params.pop("resume", False))
    recorded = dict(job.params)

    def named(name: str) -> None:  # the job's params carry the model id, so pages can follow its run folder
        recorded["name"] = name
        _update(job.id, params=json.dumps(recorded))

    try:
        config = P.TrainConfig(**params)
        result = P.train_probe(config, resume=resume, progress=progress, should_stop=should_stop, named=named)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, the worker goes on
        _update(job.id, status="failed", finished=time.time(), error=f"{type(exc).__name__}: {exc}", message="failed")
        return
    if result.get("stopped"):
        _cancel_resumable(
            job.id,
            recorded,
            f"cancelled at step {result['step']}; its checkpoint is kept (resume it from the CLI with --resume)",
            result=json.dumps(result),
        )
        return
    _update(
        job.id,
        status="done",
        finished=time.time(),
        progress=1.0,
        result=json.dumps(result),
        message=f"done: {result['model']}",
    )


def run_worker(until: int | None = None, echo: Callable[[float, str], None] | None = None) -> bool:
    """Work through the queue (oldest first); return False at once if another worker holds the machine.

    With ``until``, stop after that job finishes instead of emptying the queue.
    """
    with try_lock("job-worker") as mine:
        if not mine:
            return False
        _requeue_orphans()
        while True:
            job = _claim_next()
            if job is None:
                return True
            if echo and until is not None and job.id != until:
                echo(0.0, f"job {job.id} was queued earlier and runs first")
            _run_job(job, echo)
            if until is not None and job.id == until:
                return True


def mark_interrupted(job_id: int) -> None:
    """A job whose process was stopped (Ctrl-C, kill): cancelled, resumable from its checkpoint."""
    job = get(job_id)
    if job is None or job.status not in ACTIVE:
        return
    _cancel_resumable(job_id, job.params, "interrupted; its checkpoint is kept (resume with --resume)")


def _cancel_resumable(job_id: int, params: dict[str, Any], message: str, **fields: Any) -> None:
    """Cancelled, with ``resume`` set in its parameters: running it again continues from its checkpoint."""
    _update(
        job_id,
        status="cancelled",
        finished=time.time(),
        params=json.dumps({**params, "resume": True}),
        message=message,
        **fields,
    )


def worker_log() -> Path:
    return lab_home() / "logs" / "worker.log"


def start_worker() -> None:
    """Launch ``python -m core worker`` in its own session (it exits at once if a worker is already running)."""
    log = worker_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KEXUE_LAB_HOME": str(lab_home()),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
    }
    with open(log, "a") as fh:
        subprocess.Popen(
            [sys.executable, "-m", "core", "worker"],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=fh,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait(job_id: int, poll: float = 2.0, echo: Callable[[float, str], None] | None = None) -> Job:
    """Follow a job run by another worker until it ends."""
    seen = ""
    while True:
        job = get(job_id)
        if job is None or job.status not in ACTIVE:
            return job
        if echo and job.message != seen:
            seen = job.message
            echo(job.progress, f"job {job_id} ({job.status}): {job.message}")
        time.sleep(poll)
