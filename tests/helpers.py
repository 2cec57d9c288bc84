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


def open_app(page: str, params: dict | None = None):  # noqa: ANN201 - an AppTest
    """Run a page script as a visitor opens it with a link's ``params``; fails on an exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(page, default_timeout=TIMEOUT)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


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


def install_tiny(training, kinds) -> None:  # noqa: ANN001 - a technique's training module
    """Each kind's tiny preset (trained here if missing, seconds each) copied under the default model's name,
    as if the worker had trained the default; a default already there is kept."""
    import shutil

    for kind in kinds:
        if not training.is_trained(training.model_name(kind)):
            if not training.is_trained(training.model_name(kind, "tiny")):
                training.train(kind, "tiny")
            folder = training.model_folder(training.model_name(kind))
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(training.model_folder(training.model_name(kind, "tiny")), folder)


def save_tiny_pinyin_models() -> None:
    """The three pinyin models under the page's names, as tiny presets (seconds each), as if the worker had
    trained them; and the page's default scorecard from 12 held-out clauses."""
    import json

    from core.bidirectional import scorecard, training

    install_tiny(training, ("l2r", "r2l", "bidi"))
    default = scorecard.ScorecardSpec()
    if scorecard.load_scorecard(default) is None:
        small = scorecard.ScorecardSpec(size=12)
        table = scorecard.load_scorecard(small) or scorecard.compute_scorecard(small)
        path = scorecard.scorecard_path(default)
        path.write_text(json.dumps({**table, "spec": {**table["spec"], "size": default.size}}, ensure_ascii=False))


def save_tiny_readers(scorecard_size: int = 60) -> None:
    """Both readers under the page's names, as tiny presets (seconds each), as if the worker had trained
    them; and the page's scorecard from the first ``scorecard_size`` test questions."""
    from core.reading_comprehension import scorecard, training

    install_tiny(training, scorecard.ENCODERS)
    if scorecard.load_scorecard() is None:
        scorecard.compute_scorecard(size=scorecard_size)
