"""What a page shows while its default is being prepared by the lab's worker.

A page never trains in a visitor's script run. It asks :func:`ready` for the
artifact it needs: ``True`` when it is on disk; otherwise the job preparing it
is queued (once, shared by every session), and a small fragment shows the job's
live progress and time left, refreshing itself every three seconds and rerunning
the page when the artifact is ready.
"""

from __future__ import annotations

import time

import streamlit as st

from core.lab import jobs, prepare
from core.lab.prepare import Preparation

REFRESH_SECONDS = 3.0  # a fragment rerun greys the status box for a moment: not too often


def time_left(job: jobs.Job, now: float | None = None) -> str:
    """'about 3 min left' from the share done so far, or '' while too little is done to tell."""
    if job.status != "running" or not job.started or job.progress < 0.02:
        return ""
    elapsed = (now or time.time()) - job.started
    left = elapsed * (1 - job.progress) / job.progress
    if left < 60:
        return f"about {max(5, round(left / 5) * 5):.0f} s left"
    return f"about {left / 60:.0f} min left"


def ready(prep: Preparation, key: str) -> bool:
    """Whether ``prep`` is ready; when it is not, show its job's status (and queue the job if needed)."""
    job = prepare.ensure(prep)
    if job is None:
        return True
    _status(prep, job.id, key)
    return False


@st.fragment(run_every=REFRESH_SECONDS)
def _status(prep: Preparation, job_id: int, key: str) -> None:
    if prep.ready():
        st.rerun(scope="app")
    job = jobs.get(job_id)
    if job is None or job.status in ("cancelled", "done"):
        job = prepare.ensure(prep)
        if job is None:
            st.rerun(scope="app")
    if job.status == "failed":
        st.error(f"Preparing {prep.label} failed: {job.error}")
        if st.button("Try again", key=f"{key}.retry"):
            prepare.retry(prep)
            st.rerun(scope="app")
        return
    if job.status == "queued":
        ahead = jobs.queue_position(job.id)
        st.info(
            f"Preparing {prep.label} in the background (job {job.id}): queued"
            + (f" behind {ahead} other job{'s' * (ahead != 1)}." if ahead else ", starting.")
            + " It is done once for every visitor; this page updates by itself."
        )
        return
    left = time_left(job)
    st.progress(
        job.progress,
        text=f"Preparing {prep.label} in the background (job {job.id}): {job.message}"
        f" ({job.progress:.0%}{', ' + left if left else ''}). Done once for every visitor; this page updates by "
        "itself.",
    )


def state_of(prep: Preparation) -> str:
    """One line: ready, or its job's state (queued, running with progress and time left, failed)."""
    if prep.ready():
        return "ready"
    job = jobs.latest(prep.kind, prep.params)
    if job is None or job.status in ("cancelled", "done"):
        return "not queued (a page that needs it queues it)"
    if job.status == "running":
        left = time_left(job)
        return f"running, {job.progress:.0%}{', ' + left if left else ''}: {job.message}"
    if job.status == "failed":
        return f"failed: {job.error}"
    return f"queued (job {job.id})"


def overview() -> None:
    """The built-in defaults and where each stands; refreshes itself while any is not ready."""
    defaults = prepare.defaults()
    if all(p.ready() for p in defaults):
        st.caption(f"Every built-in default is prepared ({len(defaults)} models and tables).")
        return
    _overview(defaults)


@st.fragment(run_every=REFRESH_SECONDS * 2)
def _overview(defaults: list[Preparation]) -> None:
    st.markdown("**Preparing in the background** (once, for every visitor; pages offer what is ready meanwhile)")
    st.dataframe(
        [{"default": p.label, "state": state_of(p)} for p in defaults],
        hide_index=True,
        width="stretch",
    )
