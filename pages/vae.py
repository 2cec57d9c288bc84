"""VAE geometry: an autoencoder maps an image to a point, a VAE to a region."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import streamlit as st

from core.data.images import (
    DATASETS,
    DataError,
    default_dataset,
    image_from_bytes,
)
from core.vae import figures as figs
from core.vae import jobs as vae_jobs
from core.vae import model as vae
from ui import i18n, loaders, preparing
from ui.downloads import download_panel
from ui.i18n import N_, _, error
from ui.inputs import image_upload
from ui.share import link_notes, number, seed_state, share_footer

URL_PATH = "vae"
ARCH_LABELS = {"mlp": N_("MLP"), "conv": N_("convolutional encoder")}
DATASET_LABELS = {"fashion-mnist": N_("Fashion-MNIST"), "mnist": N_("MNIST"), "digits": N_("digits (8 x 8)")}


def training_labels() -> dict[str, str]:
    return {
        "title": _("Training: reconstruction and KL per image (nats)"),
        "x": _("epoch"),
        "y": _("reconstruction"),
        "reconstruction": _("{model} reconstruction"),
        "kl": _("{model} KL"),
    }


def reopen(trained: dict[str, vae.VAEConfig]) -> None:
    """Set the sidebar to a saved model's settings (a callback, so it runs before the widgets are drawn)."""
    config = trained.get(st.session_state.get("vae.trained") or "")
    if config is not None:
        st.session_state.update(
            {
                "vae.data": config.data,
                "vae.epochs": config.epochs,
                "vae.latent": max(config.latent, 2),
                "vae.beta": config.beta,
                "vae.arch": config.arch,
            }
        )


def settings() -> vae.VAEConfig:
    seed_state("vae.data", "data", default_dataset(), lambda v: v if v in DATASETS else default_dataset())
    seed_state("vae.epochs", "epochs", 10, number(1, 200, integer=True))
    seed_state("vae.latent", "latent", 2, number(2, 32, integer=True))
    seed_state("vae.beta", "beta", 1.0, number(0.0, 20.0))
    seed_state("vae.arch", "arch", "mlp", lambda v: v if v in vae.ARCHS else "mlp")
    with st.sidebar:
        st.subheader(_("Models"))
        st.selectbox(_("Data set"), DATASETS, key="vae.data", format_func=lambda d: _(DATASET_LABELS.get(d, d)))
        st.number_input(_("Epochs"), 1, 200, key="vae.epochs")
        st.number_input(_("Latent dimensions"), 2, 32, key="vae.latent")
        st.number_input(_("KL weight beta (VAE)"), 0.0, 20.0, step=0.5, key="vae.beta")
        st.radio(
            _("Encoder / decoder"),
            vae.ARCHS,
            key="vae.arch",
            horizontal=True,
            format_func=lambda a: _(ARCH_LABELS[a]),
        )
        trained = {c.key: c for c in vae.saved_models() if c.kind == "vae"}
        if trained:
            st.selectbox(
                _("...or reopen a trained model"),
                [""] + sorted(trained),
                key="vae.trained",
                on_change=reopen,
                args=(trained,),
                placeholder=_("Choose a trained model"),
                help=_("Every model trained here is kept."),
            )
    s = st.session_state
    return vae.VAEConfig(
        data=s["vae.data"],
        latent=int(s["vae.latent"]),
        epochs=int(s["vae.epochs"]),
        beta=float(s["vae.beta"]),
        arch=s["vae.arch"],
    )


st.title(_("VAE geometry"))
st.markdown(
    _(
        "An autoencoder maps each image to a **point**; a VAE maps it to a **region** N(mu, sigma^2) and must "
        "reconstruct from anywhere inside it. Neighbouring regions are forced to decode sensibly, and the KL term "
        "keeps them near the prior and overlapping, so the gaps between training images fill in (kexue.fm 7725). "
        "Same data, same encoder and decoder, side by side."
    )
)
config = settings()
try:
    config.validate()
    data = loaders.image_data(config.data)
except (ValueError, DataError) as exc:
    error(exc)
    st.stop()
st.caption(
    _("Data: {name} from {source}: {n_train} training and {n_test} test images of {h} x {w}.").format(
        name=_(DATASET_LABELS.get(data.name, data.name)),
        source=data.source,
        n_train=i18n.number(len(data.x_train)),
        n_test=i18n.number(len(data.x_test)),
        h=data.image_shape[0],
        w=data.image_shape[1],
    )
)
if not preparing.ready(vae_jobs.pair(config), "vae.prepare"):
    if vae.saved_models():
        st.markdown(_("Meanwhile, any model trained here reopens from the sidebar (**...or reopen a trained model**)."))
    link_notes()
    st.stop()
m_vae, m_ae = (loaders.vae_model(dataclasses.replace(config, kind=kind)) for kind in vae.KINDS)

n_test = len(data.x_test)
seed_state(
    "vae.images",
    "images",
    [0, 1, 2],
    lambda v: [number(0, 10**9, integer=True)(i) for i in v.split(",") if i.strip()][:8],
)
clicked = st.session_state.pop("vae.clicked", None)
images = [i for i in st.session_state["vae.images"] if 0 <= i < n_test] or [0]
if clicked is not None and clicked not in images:
    images = (images + [clicked])[-8:]
st.session_state["vae.images"] = images
class_names = [_(name) for name in data.class_names]
chosen = st.multiselect(
    _("Test images to follow (by index, or click a point in the VAE plot)"),
    list(range(n_test)),
    key="vae.images",
    max_selections=8,
    placeholder=_("Choose test images"),
    format_func=lambda i: f"{i}: {class_names[data.y_test[i]]}",
)
chosen = chosen or [0]

x_test = data.x_test
mu_v, logvar_v = loaders.vae_codes(m_vae, m_vae.config.key, x_test)
mu_a = loaders.vae_codes(m_ae, m_ae.config.key, x_test)[0]
basis_v, basis_a = vae.pca_basis(mu_v), vae.pca_basis(mu_a)
if basis_v is not None:
    st.info(
        _(
            "The latent space has {n} dimensions: the plots show its first two principal components (ellipses use "
            "the standard deviations of the first two latent dimensions)."
        ).format(n=config.latent)
    )
pv, pa = vae.to_2d(mu_v, basis_v), vae.to_2d(mu_a, basis_a)
seed_state("vae.same_axes", "same", True, lambda v: v != "0")
same_axes = st.toggle(
    _("Same axes for both (the AE spreads its points far wider than the VAE's prior allows)"), key="vae.same_axes"
)


lim_a = lim_v = vae.extent(np.vstack([pv, pa]))
if not same_axes:
    lim_a, lim_v = vae.extent(pa), vae.extent(pv)
sigma_v = np.exp(logvar_v / 2)

m1, m2, m3, m4 = st.columns(4)
m1.metric(_("VAE test ELBO (nats/image)"), f"{m_vae.test['elbo']:.1f}")
m2.metric(_("VAE reconstruction / KL"), f"{m_vae.test['reconstruction']:.1f} / {m_vae.test['kl']:.2f}")
m3.metric(_("AE test reconstruction"), f"{m_ae.test['reconstruction']:.1f}")
m4.metric(_("Training time (VAE + AE)"), _("{seconds:.0f} s").format(seconds=m_vae.seconds + m_ae.seconds))

names = [f"#{i}" for i in chosen]
left, right = st.columns(2)
fig_a = figs.latent_scatter(
    pa, data.y_test, class_names, _("Autoencoder: each image is a point"), lim_a, pa[chosen], None, names
)
fig_v = figs.latent_scatter(
    pv,
    data.y_test,
    class_names,
    _("VAE: each image is a region (1 and 2 sigma)"),
    lim_v,
    pv[chosen],
    sigma_v[chosen][:, :2],
    names,
)
left.plotly_chart(fig_a, key="vae.scatter.ae", width="stretch")
event = right.plotly_chart(fig_v, key="vae.scatter.vae", width="stretch", on_select="rerun", selection_mode="points")
points = event.selection.points if event and event.selection else []
if points and points != st.session_state.get("vae.last_click"):
    st.session_state["vae.last_click"] = points
    hit = points[0]
    index = figs.scatter_point_index(data.y_test, hit.get("curve_number", -1), hit.get("point_index", -1))
    if index is not None:
        st.session_state["vae.clicked"] = index
        st.rerun()

st.subheader(_("The noise ball"))
first = chosen[0]
ball_v = vae.noise_ball(m_vae, x_test[first], n=10, seed=0)
ball_a = vae.noise_ball(m_ae, x_test[first], n=10, seed=0)
original = x_test[first][None]
st.plotly_chart(
    figs.image_strip(
        np.concatenate([original, ball_v]),
        _("Test image #{i}, then 10 decodes of samples from its VAE region").format(i=first),
    ),
    key="vae.ball",
    width="stretch",
)
st.plotly_chart(
    figs.image_strip(
        np.concatenate([original, ball_a]),
        _("The same for the autoencoder: it has no region, so all ten decodes are one image"),
    ),
    key="vae.ball.ae",
    width="stretch",
)

seed_state("vae.grid", "grid", 15, number(5, 25, integer=True))
n_grid = st.slider(_("Grid size"), 5, 25, key="vae.grid")
grid_v, grid_a = vae.decode_grid(m_vae, n_grid), vae.decode_grid(m_ae, n_grid)
g1, g2 = st.columns(2)
fig_ga = figs.image_grid(grid_a, _("AE decodes the prior's quantiles: holes between its points"))
fig_gv = figs.image_grid(grid_v, _("VAE decodes the prior's quantiles: every cell is an image"))
g1.plotly_chart(fig_ga, key="vae.grid.ae", width="stretch")
g2.plotly_chart(fig_gv, key="vae.grid.vae", width="stretch")

st.subheader(_("Interpolation"))
seed_state("vae.a", "a", chosen[0], number(0, n_test - 1, integer=True))
seed_state("vae.b", "b", chosen[-1] if len(chosen) > 1 else 1, number(0, n_test - 1, integer=True))
c1, c2 = st.columns(2)
a = c1.number_input(_("From test image"), 0, n_test - 1, key="vae.a")
b = c2.number_input(_("To test image"), 0, n_test - 1, key="vae.b")
path_v = vae.interpolate(m_vae, x_test[a], x_test[b], 10)
path_a = vae.interpolate(m_ae, x_test[a], x_test[b], 10)
st.plotly_chart(figs.image_strip(path_a, _("Through the AE's latent space")), key="vae.interp.ae", width="stretch")
st.plotly_chart(figs.image_strip(path_v, _("Through the VAE's latent space")), key="vae.interp.vae", width="stretch")

st.subheader(_("Your image"))
upload = image_upload(_("Upload an image (any size; converted to grayscale at the data set's size)"), "vae.upload")
if upload is not None:
    try:
        x_up = image_from_bytes(upload.name, upload.getvalue(), data.image_shape)
        mu_u, logvar_u = vae.encode(m_vae, x_up[None])
        z_ae = vae.encode(m_ae, x_up[None])[0]
        rec = np.concatenate([x_up[None], vae.decode(m_vae, mu_u), vae.decode(m_ae, z_ae)])
        st.plotly_chart(
            figs.image_strip(rec, _("Your image, the VAE's reconstruction, the AE's reconstruction")),
            key="vae.upload.rec",
            width="stretch",
        )
        pu = vae.to_2d(mu_u, basis_v)
        st.plotly_chart(
            figs.latent_scatter(
                pv,
                data.y_test,
                class_names,
                _("Your image's region in the VAE"),
                lim_v,
                pu,
                np.exp(logvar_u / 2)[:, :2],
                [_("yours")],
            ),
            key="vae.upload.scatter",
            width="stretch",
        )
    except DataError as exc:
        error(exc)

st.subheader(_("Training"))
k1, k2 = st.columns(2)
kl_dims = vae.kl_per_dimension(mu_v, logvar_v)
k1.plotly_chart(
    figs.kl_per_dimension(kl_dims, _("KL per latent dimension (test mean, nats)")), key="vae.kl", width="stretch"
)
curves = figs.training_curves({"VAE": m_vae.history, "AE": m_ae.history}, training_labels())
k2.plotly_chart(curves, key="vae.curves", width="stretch")

with st.expander(_("Downloads")):
    codes = pd.DataFrame(
        {
            "index": np.arange(n_test),
            "label": [data.class_names[y] for y in data.y_test],
            **{f"vae_mu{i + 1}": mu_v[:, i] for i in range(mu_v.shape[1])},
            **{f"vae_sigma{i + 1}": sigma_v[:, i] for i in range(mu_v.shape[1])},
            **{f"ae_z{i + 1}": mu_a[:, i] for i in range(mu_a.shape[1])},
        }
    )
    download_panel(
        [
            (_("Latent codes (CSV)"), lambda: codes.to_csv(index=False), "latent-codes.csv", "text/csv"),
            (_("VAE latent (HTML)"), fig_v, "vae-latent.html"),
            (_("AE latent (HTML)"), fig_a, "ae-latent.html"),
            (_("VAE grid (HTML)"), fig_gv, "vae-grid.html"),
            (_("AE grid (HTML)"), fig_ga, "ae-grid.html"),
            (_("Training curves (HTML)"), curves, "training.html"),
        ],
        "vae.dl",
    )

params = {
    "data": config.data,
    "epochs": config.epochs,
    "latent": config.latent,
    "beta": config.beta,
    "arch": config.arch,
    "images": ",".join(map(str, chosen)),
    "grid": n_grid,
    "a": a,
    "b": b,
    "same": "1" if same_axes else "0",
}
share_footer(URL_PATH, params)
