"""AppTest of the recompute page on a study measured by a stand-in for the measuring process (exactly
linear memory): the table, the three figures and the warnings; a share link that reopens a configuration
not measured yet, queued as a job on request; bad input (heads that do not divide, a budget too small,
values out of range clamped and said)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.lab import jobs
from core.recompute import measure, study
from tests.core.recompute.test_study import fake_interleaved, fake_run
from tests.helpers import open_app, texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "recompute.py")


def store_default_study(monkeypatch) -> dict:
    """The page's default study in the lab home, as the worker leaves it (measured by the stand-in)."""
    monkeypatch.setattr(measure, "run", fake_run)
    monkeypatch.setattr(measure, "interleaved", fake_interleaved)
    monkeypatch.setattr(study, "free_mb", lambda: 100_000.0)
    return study.load_study(study.Study()) or study.compute_study(study.Study())


@pytest.fixture
def default_study(monkeypatch):
    return store_default_study(monkeypatch)


def open_page(params: dict | None = None) -> AppTest:
    return open_app(PAGE, params)


def test_the_page_opens_on_the_default_study(default_study):
    at = open_page()
    shown = texts(at)
    assert at.title[0].value == "Recompute"
    table = at.dataframe[0].value
    assert len(table) == len(default_study["rows"]) == 10
    row = table.set_index("API").loc["core.recompute.remat.remat(block, [block])"]
    assert row["largest"] > table.set_index("strategy").loc["none", "largest"]
    assert "keywords arguments" not in shown  # the reasons are in the table; the warning explains them
    assert "keras-team/keras#21207" in shown and "new dropout seeds" in shown
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) == 3
    assert [m.label for m in at.metric] == ["Weights + Adam", "Batch, none", "Batch, per block", "Time, per block"]


def test_a_link_to_an_unmeasured_configuration_offers_a_job(default_study, monkeypatch):
    started = []
    monkeypatch.setattr(jobs, "start_worker", lambda: started.append(True))
    at = open_page({"layers": "4", "hidden": "64", "heads": "2", "seq": "32", "batch": "8", "budget": "900"})
    assert at.number_input(key="rc.layers").value == 4 and at.number_input(key="rc.budget").value == 900.0
    assert "has not been measured on this machine yet" in texts(at)
    assert "Counted for this shape at batch 8" in texts(at)  # what the shapes predict, meanwhile
    at.button(key="rc.measure").click().run()
    spec = study.Study(layers=4, hidden=64, heads=2, seq=32, batch=8, budget_mb=900.0)
    job = jobs.latest("recompute-study", spec.params())
    assert job is not None and job.status == "queued" and started
    assert not at.exception


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"hidden": "250", "heads": "4"}, "does not divide into 4 heads"),
        ({"hidden": "1024", "heads": "16", "layers": "24", "budget": "300"}, "cannot hold this model"),
    ],
)
def test_bad_settings_get_a_message(params, says):
    at = open_page(params)
    assert says in "\n".join(e.value for e in at.error)
    assert not at.dataframe or len(at.dataframe) == 1  # the "why" table only


def test_values_out_of_range_are_clamped_and_said(default_study):
    at = open_page({"layers": "500"})
    assert at.number_input(key="rc.layers").value == 48
    assert "layers='500' -> 48" in texts(at)
