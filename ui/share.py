"""Share links: a page's defining settings live in the URL query string."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import streamlit as st


def seed_state(key: str, param: str, default: Any, cast: Callable[[str], Any] = str) -> None:
    """Before a widget is drawn the first time, take its value from the URL (else ``default``)."""
    if key in st.session_state:
        return
    raw = st.query_params.get(param)
    if raw is None:
        st.session_state[key] = default
        return
    try:
        st.session_state[key] = cast(raw)
    except (TypeError, ValueError):
        st.session_state[key] = default


def publish(params: Mapping[str, Any]) -> None:
    """Write the settings into the URL (dropping empty ones), only where they changed."""
    wanted = {k: str(v) for k, v in params.items() if v not in (None, "")}
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    if current != wanted:
        st.query_params.from_dict(wanted)


def share_link(url_path: str, params: Mapping[str, Any]) -> str:
    """A relative link that reopens the view."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"/{url_path}?{query}" if query else f"/{url_path}"
