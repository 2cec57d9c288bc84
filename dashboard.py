"""kexue-lab: the router. The pages are listed once, in ui/catalog.py; this file only wires them."""

import streamlit as st

from ui import i18n
from ui.catalog import HOME, PAGES
from ui.i18n import _
from ui.interrupt import cancellable

st.set_page_config(page_title="kexue-lab", page_icon=":material/science:", layout="wide")
i18n.setup()  # the interface language, before any title is drawn

entries = [st.Page(HOME.script, title=_(HOME.title), icon=HOME.icon, url_path=HOME.url_path, default=True)]
entries += [st.Page(p.script, title=_(p.title), icon=p.icon, url_path=p.url_path) for p in PAGES]
with cancellable():  # a page's model work stops once its inputs change or its tab closes
    st.navigation(entries).run()
