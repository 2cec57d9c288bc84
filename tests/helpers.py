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
