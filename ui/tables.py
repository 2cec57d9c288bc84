"""Scorecards as tables: the pages' held-out figures in one look (translated headers, percentages with one
decimal, rates as whole numbers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from ui.i18n import _, headers


def score_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str],
    percent: Iterable[str] = (),
    rates: Iterable[str] = (),
) -> None:
    """``rows`` as a dataframe under ``columns``' translated headers; the ``percent`` columns hold fractions
    (shown as 53.7%), the ``rates`` columns counts per second (shown as 52)."""
    percent, rates = list(percent), list(rates)
    frame = pd.DataFrame(rows)
    frame[percent] = frame[percent] * 100
    config = {**headers(columns)}
    config |= {k: st.column_config.NumberColumn(_(columns[k]), format="%.1f%%") for k in percent}
    config |= {k: st.column_config.NumberColumn(_(columns[k]), format="%.0f") for k in rates}
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)
