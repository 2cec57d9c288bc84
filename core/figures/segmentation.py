"""Plotly figures for Chinese word segmentation: data in, ``go.Figure`` out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures.common import plot_text
from core.segmentation import word_spans

MERGE = "#1b9e77"
SPLIT = "#d95f02"
CHIP_COLOURS = ("#dbe9f6", "#fde2c8")
DIFFERS = "#d62728"


def gap_labels(chars: Sequence[str]) -> list[str]:
    pairs = zip(chars[:-1], chars[1:], strict=True)
    return [f"{i + 1} {plot_text(a)}|{plot_text(b)}" for i, (a, b) in enumerate(pairs)]


def gap_bars(chars: Sequence[str], scores: np.ndarray, threshold: float | None, title: str,
             axis_title: str = "score") -> go.Figure:
    """One bar per gap between neighbouring characters; above the threshold = same word."""
    scores = np.asarray(scores, dtype=float)
    colours = [MERGE if threshold is None or s > threshold else SPLIT for s in scores]
    fig = go.Figure(go.Bar(
        x=list(range(len(scores))), y=scores, marker_color=colours,
        customdata=gap_labels(chars), hovertemplate="%{customdata}: %{y:.3f}<extra></extra>",
    ))
    if threshold is not None:
        fig.add_hline(y=threshold, line={"dash": "dash", "color": "#333"},
                      annotation_text=f"threshold {threshold:.2f}", annotation_position="top left")
    fig.update_layout(
        title=title, height=300, showlegend=False, bargap=0.15,
        xaxis={"tickmode": "array", "tickvals": list(range(len(scores))), "ticktext": gap_labels(chars),
               "tickangle": -60},
        yaxis={"title": {"text": axis_title}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def word_chips(rows: Mapping[str, Sequence[str]], reference: str | None = None,
               title: str = "Segmentations") -> go.Figure:
    """Each segmentation as a row of word chips; chips absent from ``reference``'s row are outlined red."""
    fig = go.Figure()
    names = list(rows)
    ref_spans = word_spans(rows[reference]) if reference in rows else set()
    shapes = []
    for r, name in enumerate(names):
        y = len(names) - 1 - r
        start = 0
        xs, texts = [], []
        for k, word in enumerate(rows[name]):
            end = start + len(word)
            differs = reference is not None and name != reference and (start, end) not in ref_spans
            shapes.append({
                "type": "rect", "layer": "below", "x0": start + 0.06, "x1": end - 0.06, "y0": y - 0.35, "y1": y + 0.35,
                "fillcolor": CHIP_COLOURS[k % 2], "line": {"color": DIFFERS if differs else "#8aa", "width":
                                                           2.5 if differs else 1},
            })
            xs.append((start + end) / 2)
            texts.append(plot_text(word))
            start = end
        fig.add_trace(go.Scatter(x=xs, y=[y] * len(xs), mode="text", text=texts, textfont={"size": 18},
                                 hoverinfo="text", showlegend=False))
    total = max((sum(map(len, words)) for words in rows.values()), default=1)
    fig.update_layout(
        title=title, shapes=shapes, height=90 + 70 * len(names), plot_bgcolor="white",
        xaxis={"visible": False, "range": [-0.2, total + 0.2]},
        yaxis={"tickmode": "array", "tickvals": list(range(len(names)))[::-1], "ticktext": names,
               "range": [-0.6, len(names) - 0.4], "showgrid": False, "zeroline": False},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig
