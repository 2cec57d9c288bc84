"""A probe retrained under the same id must not be served from caches of its old weights, and only its entries
go stale (other models and other users' results stay cached)."""

from __future__ import annotations

from core.perturbed_masking import probe as probe_training
from ui import loaders


def test_a_retrained_probe_misses_the_cache_and_other_models_keep_theirs(monkeypatch):
    revisions = {"probe-zh-x": 1, "e5-multilingual": 0}
    loads = []
    monkeypatch.setattr(probe_training, "probe_revision", lambda pid: revisions[pid])
    monkeypatch.setattr(loaders, "load_encoder", lambda model_id: loads.append(model_id) or object())
    loaders._encoder.clear()
    first_probe, first_e5 = loaders.encoder("probe-zh-x"), loaders.encoder("e5-multilingual")
    assert loaders.encoder("probe-zh-x") is first_probe and loads == ["probe-zh-x", "e5-multilingual"]
    revisions["probe-zh-x"] = 2  # new weights under the same id
    assert loaders.encoder("probe-zh-x") is not first_probe
    assert loaders.encoder("e5-multilingual") is first_e5  # untouched
    assert loads == ["probe-zh-x", "e5-multilingual", "probe-zh-x"]
    loaders._encoder.clear()


def test_results_are_keyed_by_the_revision(monkeypatch):
    revisions = {"probe-zh-x": 1}
    calls = []
    monkeypatch.setattr(probe_training, "probe_revision", lambda pid: revisions[pid])
    monkeypatch.setattr(loaders, "encoder", lambda model_id: model_id)
    monkeypatch.setattr(loaders, "analyse", lambda enc, text, **kw: calls.append((enc, text)) or len(calls))
    loaders._analysis.clear()
    assert loaders.analysis("probe-zh-x", "s", "euclidean") == loaders.analysis("probe-zh-x", "s", "euclidean") == 1
    revisions["probe-zh-x"] = 2
    assert loaders.analysis("probe-zh-x", "s", "euclidean") == 2
    loaders._analysis.clear()
