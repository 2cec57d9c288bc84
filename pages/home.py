"""Home: what the lab is, the pages that exist (from ui/catalog.py), and the saved analyses."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core.lab import store
from ui import preparing
from ui.catalog import PAGES
from ui.text import md_escape

st.title("kexue-lab")
st.markdown(
    "An interactive lab for techniques from the Scientific Spaces blog ([kexue.fm](https://kexue.fm)): each page "
    "computes one technique on your own sentences, shows it, measures it, and gives you a link that reopens the view."
)

preparing.overview()

st.subheader("Pages")
for page in PAGES:
    st.page_link(page.script, label=page.title, icon=page.icon)
    st.caption(f"{page.summary} {page.source}.")

st.subheader("Saved analyses")
saved = store.list_analyses()
if not saved:
    st.info(
        "Nothing saved yet. Upload a file of sentences on a page, or type several lines: the analysed corpus is "
        "saved here and reopens from its link."
    )
for item in saved:
    when = dt.datetime.fromtimestamp(item.created).strftime("%Y-%m-%d %H:%M")
    c1, c2 = st.columns([5, 1])
    c1.markdown(
        f"[{md_escape(item.name)}](/{item.kind}?corpus={item.id}{'&lang=zh' * (item.params.get('lang') == 'zh')})"
        f" · {item.n_items} sentences · "
        f"{md_escape(str(item.params.get('model', '')))} · {when}"
    )
    if c2.button("Delete", key=f"home.delete.{item.id}"):
        store.delete(item.id)
        st.rerun()
