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
takes it. Before each batch it sets torch's thread count to the cores other
processes leave free (:class:`CoreShare`): on a loaded machine, threads that
wait for a taken core make every batch slower than one thread would.

Work nobody wants any more stops at the next batch: a thread may install a
stop check (:func:`set_stop_check`; the dashboard installs one per script run
that is true once the visitor's inputs changed or the tab closed), and taking
the lock raises :class:`Cancelled` when it is true, before the batch or while
waiting for a turn (the abandoned turn is skipped, so nobody waits on it).
"""

from __future__ import annotations

import os
import sys
import threading
import time
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


class CoreShare:
    """How many CPU cores other processes leave free, from /proc/stat, sampled at most once a second.

    torch's intra-op threads wait for each other at every parallel region, so a thread whose core is taken
    by another process stalls the rest: on 2 cores with one busy, a forward on 2 threads took 3.5 s where 1
    thread took 2.2 s (idle: 1.3 s and 2.7 s). Each batch therefore runs on as many threads as there are free
    cores (this process's own use does not count against it), at least one.
    """

    INTERVAL = 1.0

    def __init__(self) -> None:
        self.cores = os.cpu_count() or 1
        self._last: tuple[float, float, float] | None = None  # (wall, busy jiffies of all, jiffies of self)
        self.free = float(self.cores)

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat") as fh:
                fields = [float(v) for v in fh.readline().split()[1:]]
            with open("/proc/self/stat") as fh:
                own = fh.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            return None
        busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0.0)  # minus idle and iowait
        return time.monotonic(), busy, float(own[11]) + float(own[12])

    def threads(self) -> int:
        now = self._sample()
        if now is None:
            return self.cores
        if self._last is None or now[0] - self._last[0] >= self.INTERVAL:
            if self._last is not None:
                tick = os.sysconf("SC_CLK_TCK")
                others = ((now[1] - self._last[1]) - (now[2] - self._last[2])) / tick / (now[0] - self._last[0])
                self.free = min(max(self.cores - others, 1.0), float(self.cores))
            self._last = now
        return max(1, int(self.free + 0.5))


_share = CoreShare()


def fit_threads() -> None:
    """Give torch (when it is loaded) one intra-op thread per free core, before a batch."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    wanted = _share.threads()
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


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
        fit_threads()
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
