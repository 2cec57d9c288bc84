"""AppTest of the VAE page with small models trained in the test (scikit-learn digits, one epoch)."""

import io
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

from core.vae import jobs as vae_jobs
from core.vae.model import VAEConfig
from tests.helpers import prepare_now, texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "vae.py")


def shown_config(at: AppTest) -> VAEConfig:
    """The config the sidebar holds (after the page clamped the link's values)."""
    return VAEConfig(
        data="digits",
        epochs=int(at.number_input(key="vae.epochs").value),
        latent=int(at.number_input(key="vae.latent").value),
        beta=float(at.number_input(key="vae.beta").value),
    )


def vae_app(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params.update({"data": "digits", "epochs": "1", **params})
    at.run()
    prep = vae_jobs.pair(shown_config(at))
    if not prep.ready():  # the page queued the pair for the worker: run it here, as the worker would
        assert "Preparing the VAE and its autoencoder twin" in texts(at), texts(at)
        assert not at.get("plotly_chart")  # nothing drawn from a model that is not there
        prepare_now(prep)
        at.run()
    return at


def test_page_never_trains_in_the_visitors_run_and_shows_the_job():
    from core.lab import jobs

    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params.update({"data": "digits", "epochs": "3"})
    at.run()
    assert not at.exception, at.exception
    prep = vae_jobs.pair(VAEConfig(data="digits", epochs=3))
    job = jobs.latest(prep.kind, prep.params)
    assert job is not None and job.status == "queued" and not prep.ready()
    assert f"(job {job.id}): queued" in texts(at) and not at.get("plotly_chart")
    at.run()  # a rerun does not queue it twice
    assert jobs.latest(prep.kind, prep.params).id == job.id
    jobs.cancel(job.id)


def test_page_trains_and_shows_both_latent_spaces():
    at = vae_app(images="3,4", grid="6")
    assert not at.exception, at.exception
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    titles = [
        "Autoencoder: each image is a point",
        "VAE: each image is a region",
        "The noise ball",
        "AE decodes the prior",
        "VAE decodes the prior",
        "Through the VAE",
        "KL per latent dimension",
        "Training: reconstruction",
    ]
    for title in titles[:2] + titles[3:]:
        assert any(title in s for s in specs), title
    assert any("all ten decodes are one image" in s for s in specs)
    assert at.multiselect(key="vae.images").value == [3, 4]
    labels = [m.label for m in at.metric]
    assert "VAE test ELBO (nats/image)" in labels
    assert at.query_params["data"] == "digits" and at.query_params["grid"] == "6"
    at.toggle(key="vae.same_axes").set_value(False).run()
    assert not at.exception and at.query_params["same"] == "0"


def test_uploaded_image_and_bad_upload():
    at = vae_app()
    buf = io.BytesIO()
    Image.new("L", (64, 64), color=10).save(buf, format="PNG")
    at.file_uploader(key="vae.upload").upload("mine.png", buf.getvalue(), "image/png")
    at.run()
    assert not at.exception
    assert any("Your image's region" in c.proto.spec for c in at.get("plotly_chart"))
    at.file_uploader(key="vae.upload").upload("fake.png", b"not an image at all", "image/png")
    at.run()
    assert not at.exception and any("not an image" in e.value for e in at.error)


def test_out_of_range_settings_in_a_link_are_clamped():
    at = vae_app(latent="0", epochs="-3", beta="-1", images="999999")
    assert not at.exception, at.exception
    assert at.number_input(key="vae.latent").value == 2 and at.number_input(key="vae.epochs").value == 1
    assert at.number_input(key="vae.beta").value == 0.0
    assert at.multiselect(key="vae.images").value == [0]


def test_a_trained_model_can_be_reopened():
    at = vae_app()
    at.number_input(key="vae.epochs").set_value(2).run()
    assert not at.exception
    prepare_now(vae_jobs.pair(VAEConfig(data="digits", epochs=2)))
    at.run()
    options = at.selectbox(key="vae.trained").options
    first = next(o for o in options if o.startswith("digits-vae-mlp-l2-e1-"))
    at.selectbox(key="vae.trained").set_value(first).run()
    assert not at.exception
    assert at.number_input(key="vae.epochs").value == 1 and at.query_params["epochs"] == "1"
