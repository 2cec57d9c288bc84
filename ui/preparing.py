"""What a page shows while its default is being prepared by the lab's worker.

A page never trains in a visitor's script run. It asks :func:`ready` for the
artifact it needs: ``True`` when it is on disk; otherwise the job preparing it
is queued (once, shared by every session), and a small fragment shows the job's
live progress and time left, refreshing itself every three seconds and rerunning
the page when the artifact is ready. The job's messages are keys
(:mod:`core.lab.messages`), so each visitor reads them in their own language.
"""

from __future__ import annotations

import time

import streamlit as st

from core.lab import jobs, prepare
from core.lab.prepare import Preparation
from ui.i18n import N_, _, headers, ngettext, text

REFRESH_SECONDS = 3.0  # a fragment rerun greys the status box for a moment: not too often


def time_left(job: jobs.Job, now: float | None = None) -> str:
    """'about 3 min left' from the share done so far, or '' while too little is done to tell."""
    if job.status != "running" or not job.started or job.progress < 0.02:
        return ""
    elapsed = (now or time.time()) - job.started
    left = elapsed * (1 - job.progress) / job.progress
    if left < 60:
        return _("about {seconds:.0f} s left").format(seconds=max(5, round(left / 5) * 5))
    return _("about {minutes:.0f} min left").format(minutes=left / 60)


def ready(prep: Preparation, key: str) -> bool:
    """Whether ``prep`` is ready; when it is not, show its job's status (and queue the job if needed)."""
    job = prepare.ensure(prep)
    if job is None:
        return True
    _status(prep, job.id, key)
    return False


def _progress_line(job: jobs.Job) -> str:
    left = time_left(job)
    done = f"{job.progress:.0%}"
    return (
        _("{message} ({done}, {left})").format(message=text(job.message), done=done, left=left)
        if left
        else (_("{message} ({done})").format(message=text(job.message), done=done))
    )


@st.fragment(run_every=REFRESH_SECONDS)
def _status(prep: Preparation, job_id: int, key: str) -> None:
    if prep.ready():
        st.rerun(scope="app")
    job = jobs.get(job_id)
    if job is None or job.status in ("cancelled", "done"):
        job = prepare.ensure(prep)
        if job is None:
            st.rerun(scope="app")
    label = text(prep.label)
    if job.status == "failed":
        st.error(_("Preparing {label} failed: {error}").format(label=label, error=text(job.error)))
        if st.button(_("Try again"), key=f"{key}.retry"):
            prepare.retry(prep)
            st.rerun(scope="app")
        return
    if job.status == "queued":
        ahead = jobs.queue_position(job.id)
        where = (
            ngettext("queued behind {n} other job", "queued behind {n} other jobs", ahead).format(n=ahead)
            if ahead
            else _("queued, starting")
        )
        st.info(
            _(
                "Preparing {label} in the background (job {id}): {where}. It is done once for every visitor; "
                "this page updates by itself."
            ).format(label=label, id=job.id, where=where)
        )
        return
    st.progress(
        job.progress,
        text=_(
            "Preparing {label} in the background (job {id}): {progress}. Done once for every visitor; this page "
            "updates by itself."
        ).format(label=label, id=job.id, progress=_progress_line(job)),
    )


def state_of(prep: Preparation) -> str:
    """One line: ready, or its job's state (queued, running with progress and time left, failed)."""
    if prep.ready():
        return _("ready")
    job = jobs.latest(prep.kind, prep.params)
    if job is None or job.status in ("cancelled", "done"):
        return _("not queued (a page that needs it queues it)")
    if job.status == "running":
        return _("running: {progress}").format(progress=_progress_line(job))
    if job.status == "failed":
        return _("failed: {error}").format(error=text(job.error))
    return _("queued (job {id})").format(id=job.id)


def overview() -> None:
    """The built-in defaults and where each stands; refreshes itself while any is not ready."""
    defaults = prepare.defaults()
    if all(p.ready() for p in defaults):
        st.caption(_("Every built-in default is prepared ({n} models and tables).").format(n=len(defaults)))
        return
    _overview(defaults)


@st.fragment(run_every=REFRESH_SECONDS * 2)
def _overview(defaults: list[Preparation]) -> None:
    st.markdown(_("**Preparing in the background** (once, for every visitor; pages offer what is ready meanwhile)"))
    st.dataframe(
        [{"default": text(p.label), "state": state_of(p)} for p in defaults],
        hide_index=True,
        width="stretch",
        column_config=headers({"default": N_("default"), "state": N_("state")}),
    )
