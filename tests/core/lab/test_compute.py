"""The model lock: turns in arrival order, and work nobody wants stops at its next batch."""

from __future__ import annotations

import os
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


def test_core_share_counts_other_processes_not_this_one(monkeypatch):
    share = compute.CoreShare()
    share.cores = 2
    tick = os.sysconf("SC_CLK_TCK")
    samples = iter(
        [
            (0.0, 0.0, 0.0),
            (1.0, 2.0 * tick, 2.0 * tick),  # both cores busy, all of it this process: nothing else runs
            (2.0, 4.0 * tick, 3.0 * tick),  # both busy, one of them another process
            (2.5, 5.0 * tick, 3.5 * tick),  # within a second of the last sample: the last answer stands
            (3.0, 6.0 * tick, 3.0 * tick + 0.5 * tick),  # 1.5 cores of others: at least one thread
        ]
    )
    monkeypatch.setattr(share, "_sample", lambda: next(samples))
    assert [share.threads() for _ in range(5)] == [2, 2, 1, 1, 1]


def test_core_share_reads_this_machine():
    share = compute.CoreShare()
    assert share.threads() == share.cores  # the first sample has nothing to compare with
    time.sleep(1.05)
    assert 1 <= share.threads() <= share.cores
