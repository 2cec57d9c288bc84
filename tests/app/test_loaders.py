"""A probe retrained under the same id must not be served from caches of its old weights."""

from __future__ import annotations

import streamlit as st

from core.perturbed_masking import probe as probe_training
from ui import models


def test_caches_cleared_once_when_a_probe_is_retrained(monkeypatch):
    revisions = {"probe-zh-x": 1, "probe-en-y": 5}
    monkeypatch.setattr(probe_training, "probe_revision", lambda pid: revisions[pid])
    monkeypatch.setattr(models, "_probe_revisions", {})
    calls = []

    @st.cache_data
    def cached(x):
        calls.append(x)
        return x

    cached(1)
    assert models.forget_retrained_probes(list(revisions)) is False  # first sight: nothing was stale
    cached(1)
    assert calls == [1]
    revisions["probe-zh-x"] = 2  # new weights under the same id
    assert models.forget_retrained_probes(list(revisions)) is True
    cached(1)
    assert calls == [1, 1]  # recomputed for the new weights
    assert models.forget_retrained_probes(list(revisions)) is False  # once only
