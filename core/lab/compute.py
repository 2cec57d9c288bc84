"""One model computation at a time per process, served in arrival order.

Every model the lab holds (torch encoders and classifiers, Keras classifiers
and VAEs) is one object shared by every visitor's session. Each forward (or
forward + backward) batch runs under :data:`MODEL_LOCK`, a first-come,
first-served lock created once, when this module is first imported: two
sessions never call a model at once, the CPU's threads go to one batch at a
time instead of being oversubscribed, and sessions waiting with several
batches take turns batch by batch, so N visitors each finish within about N
times the time they take alone.

The lock is re-entrant: a computation that holds it may call another that
takes it.

Work nobody wants any more stops at the next batch: a thread may install a
stop check (:func:`set_stop_check`; the dashboard installs one per script run
that is true once the visitor's inputs changed or the tab closed), and taking
the lock raises :class:`Cancelled` when it is true, before the batch or while
waiting for a turn (the abandoned turn is skipped, so nobody waits on it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Cancelled(BaseException):  # noqa: N818 - it is not an error: the result is no longer wanted
    """The session that asked for this computation no longer wants it (its inputs changed, its tab closed).

    A BaseException, so that ``except Exception`` around a computation does not swallow it.
    """


_local = threading.local()


def set_stop_check(check: Callable[[], bool] | None) -> None:
    """Install (or remove, with ``None``) this thread's stop check, consulted each time it takes the lock."""
    _local.check = check


def stop_requested() -> bool:
    check = getattr(_local, "check", None)
    return bool(check is not None and check())


class FairLock:
    """A re-entrant lock granted in the order threads asked for it (a ticket lock)."""

    POLL = 0.25  # seconds between stop checks of a waiting thread

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next = 0
        self._serving = 0
        self._abandoned: set[int] = set()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> FairLock:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return self
            if stop_requested():
                raise Cancelled
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait(self.POLL)
                if ticket != self._serving and stop_requested():
                    self._abandoned.add(ticket)
                    raise Cancelled
            self._owner, self._depth = me, 1
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._serving += 1
                while self._serving in self._abandoned:  # turns given up while waiting
                    self._abandoned.discard(self._serving)
                    self._serving += 1
                self._cond.notify_all()


MODEL_LOCK = FairLock()
