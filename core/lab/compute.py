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
"""

from __future__ import annotations

import threading


class FairLock:
    """A re-entrant lock granted in the order threads asked for it (a ticket lock)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next = 0
        self._serving = 0
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> FairLock:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return self
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()
            self._owner, self._depth = me, 1
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._serving += 1
                self._cond.notify_all()

    def locked(self) -> bool:
        with self._cond:
            return self._owner is not None


MODEL_LOCK = FairLock()
