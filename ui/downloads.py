"""Download buttons: data, tables and figures (figures as standalone HTML)."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

from ui.i18n import _


def figure_html(fig: go.Figure) -> str:
    """A self-contained HTML file (plotly.js inlined, so it opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True)


def download(label: str, data: Callable[[], str | bytes] | str | bytes, file_name: str, mime: str, key: str) -> None:
    """A download button whose data may be built only when clicked."""
    st.download_button(label, data=data, file_name=file_name, mime=mime, key=key, on_click="ignore")


def download_figure(fig: go.Figure, file_name: str, key: str, label: str | None = None) -> None:
    download(label or _("Figure (HTML)"), lambda: figure_html(fig), file_name, "text/html", key)


def download_panel(entries: list[tuple], prefix: str, n_cols: int = 3) -> None:
    """Download buttons laid out in columns.

    Each entry is ``(label, figure, file_name)`` for a figure (saved as HTML) or
    ``(label, data, file_name, mime)`` for data (a value or a callable building it).
    Keys are ``prefix`` plus the file name.
    """
    cols = st.columns(n_cols)
    per_col = -(-len(entries) // n_cols)
    for i, entry in enumerate(entries):
        with cols[i // per_col]:
            label, obj, file_name, *mime = entry
            key = f"{prefix}.{file_name}"
            if isinstance(obj, go.Figure):
                download_figure(obj, file_name, key, label)
            else:
                download(label, obj, file_name, mime[0], key)
