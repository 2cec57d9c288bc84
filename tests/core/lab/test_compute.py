"""The model lock: turns in arrival order, and work nobody wants stops at its next batch."""

from __future__ import annotations

import threading
import time

import pytest

from core.lab import compute
from core.lab.compute import Cancelled, FairLock


def test_a_stop_check_cancels_before_the_next_batch():
    lock = FairLock()
    batches = []
    compute.set_stop_check(lambda: len(batches) >= 3)
    try:
        with pytest.raises(Cancelled):
            for i in range(10):
                with lock:
                    batches.append(i)
    finally:
        compute.set_stop_check(None)
    assert batches == [0, 1, 2]
    with lock:  # the lock is free for everyone else
        pass


def test_a_turn_given_up_while_waiting_does_not_block_the_next_in_line():
    lock = FairLock()
    order = []
    stop = threading.Event()
    holder_in, release = threading.Event(), threading.Event()

    def holder():
        with lock:
            holder_in.set()
            release.wait(5)
            order.append("holder")

    def quitter():
        compute.set_stop_check(stop.is_set)
        try:
            with lock:
                order.append("quitter ran")
        except Cancelled:
            order.append("quitter gave up")

    def patient():
        with lock:
            order.append("patient")

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    holder_in.wait(5)
    for target in (quitter, patient):
        threads.append(threading.Thread(target=target))
        threads[-1].start()
        time.sleep(0.1)  # take tickets in this order
    stop.set()  # the quitter's session went away while it waited
    time.sleep(2 * FairLock.POLL)
    release.set()
    for t in threads:
        t.join(5)
    assert order == ["quitter gave up", "holder", "patient"]


def test_reentrant_and_without_a_check_nothing_is_cancelled():
    lock = FairLock()
    with lock, lock:
        pass
    assert not compute.stop_requested()
