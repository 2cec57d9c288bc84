"""AppTest of the VAE page with small models trained in the test (scikit-learn digits, one epoch)."""

import io
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "vae.py")


def vae_app(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params.update({"data": "digits", "epochs": "1", **params})
    return at.run()


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
    options = at.selectbox(key="vae.trained").options
    first = next(o for o in options if o.startswith("digits-vae-mlp-l2-e1-"))
    at.selectbox(key="vae.trained").set_value(first).run()
    assert not at.exception
    assert at.number_input(key="vae.epochs").value == 1 and at.query_params["epochs"] == "1"
