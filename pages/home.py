"""Home: what the lab is, the pages that exist, and the saved analyses."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core import store
from ui.text import md_escape

st.title("kexue-lab")
st.markdown(
    "An interactive lab for techniques from the Scientific Spaces blog ([kexue.fm](https://kexue.fm)): each page "
    "computes one technique on your own sentences, shows it, measures it, and gives you a link that reopens the view."
)

st.subheader("Pages")
st.page_link("pages/perturbed_masking.py", label="Perturbed masking", icon=":material/account_tree:")
st.caption(
    "What syntax does a BERT encoder know? The impact matrix of every layer, dependency and constituency trees "
    "decoded from it without training, compared with spaCy's parser and the right-chain baseline. "
    "Wu et al., ACL 2020; kexue.fm 7476."
)

st.page_link("pages/integrated_gradients.py", label="Integrated gradients", icon=":material/gradient:")
st.caption(
    "Which tokens or pixels drove a prediction? Integrated gradients with the completeness gap on every result, "
    "Su's variant, gradients and gradient x input side by side, for Chinese and English sentiment classifiers and a "
    "Fashion-MNIST CNN trained here. Sundararajan et al. 2017; kexue.fm 7533."
)

st.page_link("pages/optimizers.py", label="Optimizers: Lookahead and LazyOptimizer",
             icon=":material/trending_down:")
st.caption(
    "Lookahead and LazyOptimizer for Keras 3: paths on Rosenbrock, Beale, Himmelblau, Rastrigin, a saddle and an "
    "ill-conditioned quadratic with the slow weights drawn apart, and seeded training runs (Fashion-MNIST CNN, a "
    "review classifier with a large embedding table). Zhang et al. 2019; kexue.fm."
)

st.page_link("pages/vae.py", label="VAE geometry", icon=":material/scatter_plot:")
st.caption(
    "Why does a VAE's noise make its latent space usable? Autoencoder and VAE side by side on Fashion-MNIST: latent "
    "means, posterior ellipses, the noise ball, decoded grids over the prior and interpolations. kexue.fm 7725."
)

st.subheader("Saved analyses")
saved = store.list_analyses()
if not saved:
    st.info("Nothing saved yet. Upload a file of sentences on a page, or type several lines: the analysed corpus is "
            "saved here and reopens from its link.")
for item in saved:
    when = dt.datetime.fromtimestamp(item.created).strftime("%Y-%m-%d %H:%M")
    c1, c2 = st.columns([5, 1])
    c1.markdown(
        f"[{md_escape(item.name)}](/{item.kind}?corpus={item.id}) · {item.n_items} sentences · "
        f"{md_escape(str(item.params.get('model', '')))} · {when}"
    )
    if c2.button("Delete", key=f"home.delete.{item.id}"):
        store.delete(item.id)
        st.rerun()
