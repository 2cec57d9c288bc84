"""Share links with values no widget accepts: every page clamps or replaces them, says so, and shows no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.perturbed_masking import jobs as pm_jobs
from core.vae import jobs as vae_jobs
from core.vae.model import VAEConfig
from tests.helpers import TIMEOUT, prepare_now, texts

ROOT = Path(__file__).resolve().parents[2]
BAD = ("999", "-5", "nan", "inf", "1e309", "banana")


def page(name: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=TIMEOUT)
    at.query_params.update(params)
    return at.run()


@pytest.mark.parametrize("value", BAD)
def test_optimizer_page_numbers(value):
    at = page("optimizers", alpha=value, k=value, steps=value, lr=value, seeds=value, epochs=value)
    assert not at.exception, at.exception
    assert 0.05 <= at.number_input(key="opt.alpha").value <= 1.0
    assert 1 <= at.number_input(key="opt.k").value <= 50
    assert any(c.proto.spec for c in at.get("plotly_chart")), "the paths must still be drawn"
    assert "values in the link were out of range or unreadable" in texts(at)


@pytest.mark.parametrize("value", BAD)
def test_vae_page_numbers(value):
    at = page("vae", data="digits", epochs="1", grid=value, latent=value, beta=value, a=value, b=value)
    assert not at.exception, at.exception
    config = VAEConfig(
        data="digits",
        epochs=1,
        latent=int(at.number_input(key="vae.latent").value),
        beta=float(at.number_input(key="vae.beta").value),
    )
    prep = vae_jobs.pair(config)
    if not prep.ready():
        assert "values in the link were out of range or unreadable" in texts(at)  # said while it prepares too
        prepare_now(prep)
        at.run()
        assert not at.exception, at.exception
    assert 5 <= at.slider(key="vae.grid").value <= 25
    assert "values in the link were out of range or unreadable" in texts(at)


@pytest.mark.parametrize("value", ("nan", "inf", "1e309", "banana"))
def test_segmentation_threshold_that_is_not_a_number_keeps_the_calibrated_one(tiny_bert_dir, value):
    at = page("perturbed_masking", lang="zh", model=str(tiny_bert_dir), s="我爱北京天安门", threshold=value)
    assert not at.exception, at.exception
    prep = pm_jobs.calibration(str(tiny_bert_dir))
    if not prep.ready():
        prepare_now(prep)
        at = page("perturbed_masking", lang="zh", model=str(tiny_bert_dir), s="我爱北京天安门", threshold=value)
    threshold = at.slider(key="pm.threshold.combined").value
    assert threshold == threshold and abs(threshold) < 1e6  # finite: the calibrated value, not nan
    assert "values in the link were out of range or unreadable" in texts(at)


def test_a_valid_link_is_restored_without_a_note_and_the_chips_show_its_k_and_alpha():
    at = page("optimizers", opts="adam,lookahead:adam", k="9", alpha="0.3", function="quadratic")
    assert not at.exception, at.exception
    assert "values in the link were out of range" not in texts(at)
    assert "Lookahead(Adam, k=9, alpha=0.3)" in at.multiselect(key="opt.specs").options
