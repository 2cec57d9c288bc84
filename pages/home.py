"""Home: what the lab is, the pages that exist (from ui/catalog.py), and the saved analyses."""

from __future__ import annotations

import streamlit as st

from core.lab import store
from ui import i18n, preparing
from ui.catalog import PAGES
from ui.i18n import _, ngettext
from ui.text import md_escape

st.title("kexue-lab")  # not-ui-text: the name
st.markdown(
    _(
        "An interactive lab for techniques from the Scientific Spaces blog ([kexue.fm](https://kexue.fm)): each page "
        "computes one technique on your own sentences, shows it, measures it, and gives you a link that reopens the "
        "view."
    )
)

preparing.overview()

st.subheader(_("Pages"))
for page in PAGES:
    title = _(page.title)
    if title != page.title:  # the English term beside the Chinese one: what a reader searches for
        title = f"{title} · {page.title}"
    st.page_link(page.script, label=title, icon=page.icon, query_params={i18n.PARAM: i18n.current()})
    st.caption(f"{_(page.summary)} {page.source}.")

st.subheader(_("Saved analyses"))
saved = store.list_analyses()
if not saved:
    st.info(
        _(
            "Nothing saved yet. Upload a file of sentences on a page, or type several lines: the analysed corpus is "
            "saved here and reopens from its link."
        )
    )
for item in saved:
    c1, c2 = st.columns([5, 1])
    lang = "&lang=zh" if item.params.get("lang") == "zh" else ""
    link = f"/{item.kind}?corpus={item.id}{lang}&{i18n.PARAM}={i18n.current()}"
    sentences = ngettext("{n} sentence", "{n} sentences", item.n_items).format(n=item.n_items)
    c1.markdown(
        f"[{md_escape(item.name)}]({link}) · {sentences} · "
        f"{md_escape(str(item.params.get('model', '')))} · {i18n.when(item.created)}"
    )
    if c2.button(_("Delete"), key=f"home.delete.{item.id}"):
        store.delete(item.id)
        st.rerun()
