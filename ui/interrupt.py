"""Stop a session's model work once nobody wants its result.

Streamlit interrupts a script run only at its next ``st`` call, and a page
inside one long computation (masking every pair of words of a sentence) makes
none for many seconds: a visitor who changes an input, or closes the tab,
would leave it running and holding the CPU. :func:`cancellable` (used once, in
the router) installs a stop check for the script thread that the lab's model
lock consults before every batch (:mod:`core.lab.compute`); the computation
raises ``Cancelled``, the run ends quietly, and Streamlit serves the pending
rerun (or the stop) right after.

The check reads the state of the run's ``ScriptRequests``, which Streamlit
keeps private (it has no public "is a rerun pending" call): this module is the
one place that knows how, and ``tests/app/test_interrupt.py`` pins it down.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from core.lab import compute


def pending_request_check(requests: object) -> Callable[[], bool]:
    """True while ``requests`` (a run's ScriptRequests) holds a stop, or a rerun that preempts this run.

    A fragment's timed rerun (``run_every``) does not preempt a full run, as in Streamlit itself.
    """
    from streamlit.runtime.scriptrunner_utils.script_requests import (
        ScriptRequestType,
        _fragment_run_should_not_preempt_script,
    )

    def check() -> bool:
        state = getattr(requests, "_state", ScriptRequestType.CONTINUE)
        if state == ScriptRequestType.STOP:
            return True
        if state == ScriptRequestType.RERUN:
            data = requests._rerun_data  # type: ignore[attr-defined]
            return not _fragment_run_should_not_preempt_script(data.fragment_id_queue, data.is_fragment_scoped_rerun)
        return False

    return check


@contextlib.contextmanager
def cancellable() -> Iterator[None]:
    """Run a page so that its model work stops at the next batch once its result is no longer wanted."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    compute.set_stop_check(pending_request_check(requests) if requests is not None else None)
    try:
        yield
    except compute.Cancelled:
        pass  # the pending rerun or stop is served as soon as this run returns
    finally:
        compute.set_stop_check(None)
