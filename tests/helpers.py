"""Helpers shared by test modules: running the CLI in a subprocess, reading what an AppTest page shows."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 400  # seconds for one AppTest run: the first run of a page loads TensorFlow or torch


def run_cli(*args, home):
    env = {**os.environ, "KEXUE_LAB_HOME": str(home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "core", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


def texts(at) -> str:
    """Everything an AppTest page shows as text: markdown, captions, errors, warnings, infos."""
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.error]
    parts += [e.value for e in at.warning] + [e.value for e in at.info]
    return "\n".join(str(p) for p in parts)


def prepare_now(prep) -> None:
    """Run the job preparing ``prep`` (a core.lab.prepare.Preparation) here, as the worker would: the one a
    page queued, or a new one."""
    from core.lab import jobs, prepare

    job = prepare.ensure(prep, start_worker=False)
    assert job is not None and job.status == "queued", f"no queued job for {prep.label}: {job}"
    assert jobs.run_one(job.id)
    done = jobs.get(job.id)
    assert done.status == "done", done.error
    assert prep.ready()
