import numpy as np
import pytest

from core.data.images import image_from_bytes, load_images
from core.vae import model as vae


@pytest.fixture(scope="module")
def digits():
    return load_images("digits")


@pytest.fixture(scope="module")
def small_vae(digits):
    return vae.train(vae.VAEConfig(data="digits", epochs=4, hidden=(64,), batch=64), digits)


def test_closed_form_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(5, 3))
    logvar = rng.normal(scale=0.5, size=(5, 3))
    exact = vae.kl_divergence(mu, logvar)
    estimate = vae.kl_monte_carlo(mu, logvar, samples=200_000, rng=rng)
    # The estimator's standard error at 200k samples is well under 0.02 nats for these rows.
    np.testing.assert_allclose(estimate, exact, atol=0.03)
    assert vae.kl_divergence(np.zeros((1, 2)), np.zeros((1, 2)))[0] == 0.0


def test_training_improves_the_elbo(small_vae):
    losses = [h["loss"] for h in small_vae.history]
    assert losses[-1] < losses[0]
    assert small_vae.test["elbo"] == pytest.approx(-(small_vae.test["reconstruction"] + small_vae.test["kl"]))
    assert small_vae.test["kl"] > 0


def test_grid_interpolation_and_noise_shapes(small_vae, digits):
    grid = vae.decode_grid(small_vae, n=5)
    assert grid.shape == (5, 5, 8, 8) and (grid >= 0).all() and (grid <= 1).all()
    z = vae.prior_grid(5)
    assert z.shape == (25, 2) and np.allclose(z[:, 0].reshape(5, 5)[0], z[:, 0].reshape(5, 5)[-1])
    path = vae.interpolate(small_vae, digits.x_test[0], digits.x_test[1], steps=7)
    assert path.shape == (7, 8, 8)
    ball = vae.noise_ball(small_vae, digits.x_test[0], n=6)
    assert ball.shape == (6, 8, 8) and not np.allclose(ball[0], ball[1])


def test_checkpoint_round_trip(small_vae, digits, tmp_path):
    folder = vae.save(small_vae, tmp_path / "m")
    back = vae.load(folder)
    assert back.config == small_vae.config and back.history == small_vae.history
    np.testing.assert_allclose(
        vae.encode(back, digits.x_test[:4])[0], vae.encode(small_vae, digits.x_test[:4])[0], atol=1e-6
    )


def test_autoencoder_has_no_noise(digits):
    ae = vae.train(vae.VAEConfig(data="digits", kind="ae", epochs=1, hidden=(32,)), digits)
    assert ae.test["kl"] == 0.0
    ball = vae.noise_ball(ae, digits.x_test[0], n=3)
    np.testing.assert_allclose(ball[0], ball[2])


@pytest.mark.parametrize("bad", [{"kind": "gan"}, {"latent": 0}, {"beta": -1}, {"arch": "rnn"}, {"epochs": 0}])
def test_bad_configs_are_refused(bad):
    with pytest.raises(ValueError):
        vae.VAEConfig(**bad).validate()


def test_uploaded_images_are_read_or_refused():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (100, 60), color=255).save(buf, format="PNG")  # white background: inverted
    x = image_from_bytes("white.png", buf.getvalue(), (28, 28))
    assert x.shape == (28, 28) and x.max() == pytest.approx(0.0)
    from core.data.images import DataError

    with pytest.raises(DataError, match="not an image"):
        image_from_bytes("notes.txt", b"hello", (28, 28))


def test_clicked_point_maps_back_to_its_test_image():
    from core.vae.figures import latent_scatter, scatter_point_index

    labels = np.array([1, 0, 1, 2, 1])
    means = np.arange(10.0).reshape(5, 2)
    fig = latent_scatter(means, labels, ["a", "b", "c"], "t", (-1, 1))
    # Trace 1 holds class "b": the images 0, 2 and 4, in that order.
    assert list(fig.data[1].x) == [0.0, 4.0, 8.0]
    assert scatter_point_index(labels, 1, 2) == 4 and scatter_point_index(labels, 2, 0) == 3
    assert scatter_point_index(labels, 1, 9) is None


def test_kl_per_dimension_pca_plane_and_extent_by_hand():
    mu = np.array([[0.0, 2.0], [0.0, -2.0]])
    logvar = np.zeros((2, 2))
    # KL of N(mu, 1) against N(0, 1) is mu^2 / 2: dimension 0 carries nothing, dimension 1 carries 2 nats.
    np.testing.assert_allclose(vae.kl_per_dimension(mu, logvar), [0.0, 2.0])
    np.testing.assert_allclose(vae.kl_divergence(mu, logvar), [2.0, 2.0])
    assert vae.pca_basis(mu) is None  # two dimensions are drawn as they are
    np.testing.assert_array_equal(vae.to_2d(mu, None), mu)
    rng = np.random.default_rng(0)
    line = np.outer(rng.normal(size=200), [1.0, 2.0, 2.0]) / 3 + 5.0  # points on one axis through (5, 5, 5)
    basis = vae.pca_basis(line)
    np.testing.assert_allclose(basis[0], line.mean(axis=0))
    np.testing.assert_allclose(np.abs(basis[1]), [1 / 3, 2 / 3, 2 / 3], atol=1e-9)
    plane = vae.to_2d(line, basis)
    assert plane.shape == (200, 2) and np.abs(plane[:, 1]).max() < 1e-9  # all spread on the first axis
    low, high = vae.extent(np.array([[-1.0, 0.5], [2.0, -4.0]]), percentile=100, margin=1.0)
    assert (low, high) == (-4.0, 4.0)
