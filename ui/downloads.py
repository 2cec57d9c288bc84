"""Download buttons: data, tables and figures (figures as standalone HTML)."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st


def figure_html(fig: go.Figure) -> str:
    """A self-contained HTML file (plotly.js inlined, so it opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def download(label: str, data: Callable[[], str | bytes] | str | bytes, file_name: str, mime: str, key: str) -> None:
    """A download button whose data may be built only when clicked."""
    st.download_button(label, data=data, file_name=file_name, mime=mime, key=key, on_click="ignore")


def download_figure(fig: go.Figure, file_name: str, key: str, label: str = "Figure (HTML)") -> None:
    download(label, lambda: figure_html(fig), file_name, "text/html", key)
