"""The one place that reads Streamlit's private request state (ui.interrupt) against the real ScriptRequests."""

from __future__ import annotations

from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from core.lab import compute
from ui.interrupt import cancellable, pending_request_check


def test_a_rerun_or_a_stop_is_pending_a_fragment_timer_is_not():
    requests = ScriptRequests()
    check = pending_request_check(requests)
    assert not check()
    requests.request_rerun(RerunData(fragment_id_queue=["status"], is_fragment_scoped_rerun=False))
    assert not check()  # a run_every fragment does not preempt the page's work
    requests.request_rerun(RerunData())  # the visitor changed an input
    assert check()
    requests.on_scriptrunner_yield()  # Streamlit took the rerun: nothing pending
    assert not check()
    requests.request_stop()  # the tab closed
    assert check()


def test_cancellable_ends_the_run_quietly_and_removes_its_check():
    compute.set_stop_check(lambda: True)
    with cancellable():  # outside a script run it installs no check of its own
        raise compute.Cancelled
    assert not compute.stop_requested()
