"""Five sessions on one shared model at once: one model call at a time, and each gets what it gets alone.

Streamlit re-executes a page script on every rerun, so a lock created at a page's
top level guards nothing; the lab's lock lives in core (core.lab.compute), created
once per process. The probe below counts how many threads are inside the encoder's
forward at the same moment (each call sleeps a little so that overlaps, if allowed,
happen).
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
PM_PAGE = str(ROOT / "pages" / "perturbed_masking.py")
SENTENCES = (
    "The old man caught a huge fish .",
    "She saw a big red house by the sea .",
    "The small dog ran away quickly .",
    "He lived in the old blue house .",
    "A big cat sat on the red mat .",
)


class ConcurrencyProbe:
    """Counts threads inside the forward at once. The first call of a round waits (up to RENDEZVOUS seconds) for a
    second thread to come in, so an overlap that the code allows does happen, whatever the timing of the sessions."""

    RENDEZVOUS = 10.0

    def __init__(self) -> None:
        self.active = 0
        self.most = 0
        self.calls = 0
        self._lock = threading.Lock()
        self.second_in = threading.Event()
        self.waiting = True

    def reset(self) -> None:
        self.most, self.waiting = 0, True
        self.second_in.clear()

    def wrap(self, forward):
        def probed(module, *args, **kwargs):
            with self._lock:
                self.active += 1
                self.calls += 1
                self.most = max(self.most, self.active)
                first, self.waiting = self.waiting, False
                if self.active > 1:
                    self.second_in.set()
            try:
                if first:
                    self.second_in.wait(self.RENDEZVOUS)
                time.sleep(0.02)
                return forward(module, *args, **kwargs)
            finally:
                with self._lock:
                    self.active -= 1

        return probed


def page_result(tiny_bert_dir, sentence: str) -> list[str]:
    at = AppTest.from_file(PM_PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"model": str(tiny_bert_dir), "s": sentence, "layer": "1"})
    at.run()
    assert not at.exception, at.exception
    return [c.proto.spec for c in at.get("plotly_chart")]


def run_sessions_at_once(tiny_bert_dir) -> list[list[str]]:
    """Every sentence in its own session, all started together."""
    import streamlit as st

    st.cache_data.clear()  # the analyses of the solo runs are cached: make every session compute again
    results: list[list[str] | BaseException] = [None] * len(SENTENCES)  # type: ignore[list-item]
    barrier = threading.Barrier(len(SENTENCES))

    def session(i: int) -> None:
        barrier.wait()
        try:
            results[i] = page_result(tiny_bert_dir, SENTENCES[i])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            results[i] = exc

    threads = [threading.Thread(target=session, args=(i,)) for i in range(len(SENTENCES))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


@pytest.fixture
def probe(monkeypatch) -> ConcurrencyProbe:
    from transformers.models.bert.modeling_bert import BertEmbeddings

    p = ConcurrencyProbe()
    monkeypatch.setattr(BertEmbeddings, "forward", p.wrap(BertEmbeddings.forward))
    return p


def test_five_sessions_call_the_shared_encoder_one_at_a_time(tiny_bert_dir, probe):
    probe.waiting = False  # no rendezvous for the solo runs
    alone = [page_result(tiny_bert_dir, s) for s in SENTENCES]
    probe.reset()
    together = run_sessions_at_once(tiny_bert_dir)
    assert probe.calls > 2
    assert probe.most == 1, f"{probe.most} sessions were inside the encoder at once"
    assert together == alone


def test_without_the_lock_the_probe_sees_both_sessions_at_once(tiny_bert_dir, probe, monkeypatch):
    """The guard above can fail: with the lock replaced by nothing, the sessions overlap."""
    import core.perturbed_masking.impact as impact

    monkeypatch.setattr(impact, "MODEL_LOCK", contextlib.nullcontext())
    probe.reset()
    run_sessions_at_once(tiny_bert_dir)
    assert probe.most >= 2
