"""A saved corpus on a page: its table with one row to open, its downloads, and deleting it."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.lab import store
from ui.downloads import download
from ui.i18n import _, headers
from ui.share import number, seed_state


def pick_row(table: pd.DataFrame, key: str, caption: str, columns: dict[str, str] | None = None) -> int:
    """The table, one row selectable; returns the chosen row (from a click, else the link's ``row=``).

    ``columns`` names the table's columns for the reader (source strings, translated here).
    """
    st.markdown(caption)
    event = st.dataframe(
        table,
        key=f"{key}.table",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        column_config=headers(columns or {}),
    )
    seed_state(f"{key}.row", "row", 0, number(0, 10_000, integer=True))
    if event.selection.rows:
        st.session_state[f"{key}.row"] = int(event.selection.rows[0])
    return min(max(st.session_state[f"{key}.row"], 0), len(table) - 1)


def corpus_actions(
    corpus_id: str,
    table: pd.DataFrame,
    records: tuple[str, Callable[[], str], str],
    key: str,
    forget: Callable[[], None],
) -> None:
    """Table (CSV), the per-line records (label, JSON Lines, file name) and a delete button (then ``forget``)."""
    label, jsonl, file_name = records
    c1, c2, c3 = st.columns([1, 1, 2])
    with c1:
        download(_("Table (CSV)"), lambda: table.to_csv(index=False), f"{file_name}.csv", "text/csv", f"{key}.dl.csv")
    with c2:
        download(label, jsonl, f"{file_name}.jsonl", "application/json", f"{key}.dl.jsonl")
    with c3:
        if st.button(_("Delete this saved analysis"), key=f"{key}.delete"):
            store.delete(corpus_id)
            forget()
            st.rerun()
