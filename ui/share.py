"""Share links: a page's defining settings live in the URL query string."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from ui import i18n
from ui.i18n import _

NOTES_KEY = "share.notes"


def number(low: float, high: float, integer: bool = False) -> Callable[[str], float | int]:
    """A cast for a numeric link parameter: refuses nan, inf and text (ValueError), clamps into [low, high]."""

    def cast(raw: str) -> float | int:
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(raw)
        value = min(max(value, low), high)
        return int(round(value)) if integer else value

    return cast


def seed_state(key: str, param: str, default: Any, cast: Callable[[str], Any] = str) -> None:
    """Before a widget is drawn the first time, take its value from the URL (else ``default``).

    A value the cast refuses (``default`` is used) or changes (clamped) is noted, and
    :func:`link_notes` tells the visitor which link parameters were changed.
    """
    if key in st.session_state:
        return
    raw = st.query_params.get(param)
    if raw is None:
        st.session_state[key] = default
        return
    try:
        value, refused = cast(raw), False
    except (TypeError, ValueError, OverflowError):
        value, refused = default, True
    st.session_state[key] = value
    if refused or _changed(value, raw):
        st.session_state.setdefault(NOTES_KEY, {})[param] = (raw, value)


def _changed(value: Any, raw: str) -> bool:
    """Whether the cast replaced the link's value: a number clamped, a text choice swapped for the default."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False  # flags and lists are parsed, not compared
    if isinstance(value, str):
        return value != raw
    try:
        return float(raw) != float(value)
    except ValueError:
        return True


def link_notes() -> None:
    """Say, once, which values of the link were out of range or unreadable and what was used instead."""
    notes = st.session_state.pop(NOTES_KEY, None)
    if notes:
        changed = "; ".join(f"{k}={raw[:40]!r} -> {value!r}" for k, (raw, value) in notes.items())
        st.info(
            _("Some values in the link were out of range or unreadable and were changed: {changed}.").format(
                changed=changed
            )
        )


def _with_language(params: Mapping[str, Any]) -> dict[str, Any]:
    """The settings plus the interface language (``hl``), so a link opens in the language it was shared in."""
    return {**params, i18n.PARAM: i18n.current()}


def publish(params: Mapping[str, Any]) -> None:
    """Write the settings (and ``hl``) into the URL, dropping empty ones, only where they changed."""
    wanted = {k: str(v) for k, v in _with_language(params).items() if v not in (None, "")}
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    if current != wanted:
        st.query_params.from_dict(wanted)


def share_link(url_path: str, params: Mapping[str, Any]) -> str:
    """A relative link that reopens the view, in the current interface language."""
    query = urlencode({k: v for k, v in _with_language(params).items() if v not in (None, "")})
    return f"/{url_path}?{query}"


def share_footer(url_path: str, params: Mapping[str, Any]) -> None:
    """The end of every page: notes about the link's values, the settings in the URL, and the share link."""
    link_notes()
    publish(params)
    st.caption(
        _("Share this view: [{name} link]({link}), or copy the address bar.").format(
            name=url_path, link=share_link(url_path, params)
        )
    )
