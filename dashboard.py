"""kexue-lab: the router. Every page lives in pages/; this file only wires them."""

import streamlit as st

st.set_page_config(page_title="kexue-lab", page_icon=":material/science:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", url_path="home", default=True),
    st.Page("pages/perturbed_masking.py", title="Perturbed masking", icon=":material/account_tree:",
            url_path="perturbed-masking"),
    st.Page("pages/integrated_gradients.py", title="Integrated gradients", icon=":material/gradient:",
            url_path="integrated-gradients"),
    st.Page("pages/optimizers.py", title="Optimizers", icon=":material/trending_down:", url_path="optimizers"),
    st.Page("pages/vae.py", title="VAE geometry", icon=":material/scatter_plot:", url_path="vae"),
]

st.navigation(PAGES).run()
