"""Plotly figures for the integrated-gradients page: data in, ``go.Figure`` out. Every word a figure shows
comes from its ``labels`` (the page's catalogue)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.lab.figures import Labels, hover, plot_text

DIVERGING = "RdBu_r"  # red: pushes the prediction up; blue: pushes it down


def _scaled(scores: np.ndarray) -> np.ndarray:
    """Scores over their largest magnitude, so every method uses the whole colour range centred on zero."""
    peak = float(np.max(np.abs(scores), initial=0.0))
    return scores / peak if peak > 0 else np.zeros_like(scores)


def token_heatmap(tokens: Sequence[str], rows: Mapping[str, np.ndarray], labels: Labels) -> go.Figure:
    """One row of coloured tokens per method; colour = score over the row's largest |score|, centred on zero.

    The tokens are written on their cells as plain text; hovering shows the raw score. ``labels``: title, x,
    colorbar, hover (fields {i}, {token}, {method}, {score}).
    """
    title = labels["title"]
    names = list(rows)
    raw = np.array([np.asarray(rows[n], np.float64) for n in names]).reshape(len(names), len(tokens))
    z = np.array([_scaled(r) for r in raw])
    text = [[plot_text(t) for t in tokens] for _ in names]
    per_row = max(34, min(60, 900 // max(1, len(tokens))))
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(1, len(tokens) + 1)),
            y=[plot_text(n) for n in names],
            text=text,
            texttemplate="%{text}",
            textfont={"size": 15},
            customdata=raw,
            colorscale=DIVERGING,
            zmid=0,
            zmin=-1,
            zmax=1,
            xgap=2,
            ygap=4,
            colorbar={"title": {"text": labels["colorbar"]}, "thickness": 12},
            hovertemplate=hover(labels["hover"], i="%{x}", token="%{text}", method="%{y}", score="%{customdata:.4g}"),
        )
    )
    fig.update_layout(
        title=title,
        height=130 + per_row * len(names),
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 30},
        xaxis={"title": {"text": labels["x"]}, "dtick": 1 if len(tokens) <= 40 else None},
        yaxis={"autorange": "reversed"},
    )
    return fig


def path_figure(alphas: np.ndarray, values: np.ndarray, f_input: float, f_baseline: float, labels: Labels) -> go.Figure:
    """F along the straight path from the baseline (a = 0) to the input (a = 1): it should run from F(x') to F(x).

    ``labels``: title, x, y.
    """
    order = np.argsort(alphas)
    fig = go.Figure(
        go.Scatter(
            x=np.asarray(alphas)[order],
            y=np.asarray(values)[order],
            mode="lines+markers",
            name="F(x' + a (x - x'))",
            marker={"size": 5},
        )
    )
    for y, name, dash in ((f_input, "F(x)", "solid"), (f_baseline, "F(x')", "dot")):
        fig.add_hline(y=y, line={"dash": dash, "color": "grey"}, annotation_text=name, annotation_position="top left")
    fig.update_layout(
        title=labels["title"],
        height=320,
        showlegend=False,
        xaxis={"title": {"text": labels["x"]}, "range": [-0.02, 1.02]},
        yaxis={"title": {"text": plot_text(labels["y"])}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def gap_figure(histories: Mapping[str, Sequence[tuple[int, float]]], chosen: int | None, labels: Labels) -> go.Figure:
    """Relative completeness gap against the number of steps, one line per integration rule (log-log).

    ``labels``: title, x, y, warning (the 5% line), chosen (field {m}).
    """
    fig = go.Figure()
    top = 1.0
    for rule, history in histories.items():
        steps = [s for s, _ in history]
        gaps = [min(max(g, 1e-9), 1e3) for _, g in history]
        top = max([top, *gaps])
        fig.add_trace(go.Scatter(x=steps, y=gaps, mode="lines+markers", name=plot_text(rule)))
    all_steps = [s for h in histories.values() for s, _ in h] or [1]
    lo, hi = min(all_steps), max(all_steps)
    # Reference lines as traces: shapes on log axes take log10 coordinates, traces take data.
    for level, name, color in ((0.05, labels["warning"], "#d62728"), (0.01, "1%", "#2ca02c")):
        fig.add_trace(
            go.Scatter(
                x=[lo, hi],
                y=[level, level],
                mode="lines",
                name=name,
                hoverinfo="skip",
                line={"dash": "dot", "color": color, "width": 1.5},
            )
        )
    if chosen:
        fig.add_trace(
            go.Scatter(
                x=[chosen, chosen],
                y=[1e-9, top],
                mode="lines",
                name=labels["chosen"].format(m=chosen),
                hoverinfo="skip",
                line={"dash": "dash", "color": "grey", "width": 1},
            )
        )
    fig.update_layout(
        title=labels["title"],
        height=360,
        xaxis={"type": "log", "title": {"text": labels["x"]}},
        yaxis={"type": "log", "title": {"text": labels["y"]}, "exponentformat": "power"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def image_figure(image: np.ndarray, maps: Mapping[str, np.ndarray], labels: Labels) -> go.Figure:
    """Per method (rows): the image, its attribution map (diverging, centred on zero) and an overlay.

    ``labels``: title, attribution, overlay (column titles), colorbar, pixel (hover; fields {x}, {y}, {value}).
    """
    names = list(maps)
    fig = make_subplots(
        rows=len(names),
        cols=3,
        horizontal_spacing=0.03,
        vertical_spacing=0.06,
        subplot_titles=[t for n in names for t in (plot_text(n), labels["attribution"], labels["overlay"])],
    )
    shown = np.asarray(image, np.float64)[::-1]  # heatmaps draw row 0 at the bottom
    for r, name in enumerate(names, start=1):
        m = _scaled(np.asarray(maps[name], np.float64))[::-1]
        fig.add_trace(
            go.Heatmap(
                z=shown,
                colorscale="gray",
                showscale=False,
                zmin=0,
                zmax=1,
                hovertemplate=hover(labels["pixel"], x="%{x}", y="%{y}", value="%{z:.2f}"),
            ),
            row=r,
            col=1,
        )
        fig.add_trace(
            go.Heatmap(
                z=m,
                colorscale=DIVERGING,
                zmid=0,
                zmin=-1,
                zmax=1,
                showscale=r == 1,
                colorbar={"title": {"text": labels["colorbar"]}, "thickness": 12, "len": 0.3, "y": 0.85},
                hovertemplate=hover(labels["pixel"], x="%{x}", y="%{y}", value="%{z:.3f}"),
            ),
            row=r,
            col=2,
        )
        fig.add_trace(
            go.Heatmap(z=shown, colorscale="gray", showscale=False, zmin=0, zmax=1, hoverinfo="skip"), row=r, col=3
        )
        alpha = np.abs(m)
        fig.add_trace(
            go.Heatmap(
                z=np.where(alpha > 0.15, m, np.nan),
                colorscale=DIVERGING,
                zmid=0,
                zmin=-1,
                zmax=1,
                showscale=False,
                opacity=0.65,
                hovertemplate="%{z:.3f}<extra></extra>",
            ),
            row=r,
            col=3,
        )
    for i in range(1, 3 * len(names) + 1):
        suffix = "" if i == 1 else str(i)
        fig.layout[f"xaxis{suffix}"].update(visible=False, constrain="domain")
        fig.layout[f"yaxis{suffix}"].update(visible=False, scaleanchor=f"x{suffix}")
    fig.update_layout(title=labels["title"], height=60 + 250 * len(names), margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def accuracy_figure(accuracy: float, baselines: Mapping[str, float], model_id: str, title: str) -> go.Figure:
    """Held-out accuracy of the model beside the bag-of-words baselines (named by the page) on the same split."""
    names = [model_id, *baselines]
    values = [accuracy, *baselines.values()]
    colors = ["#1f77b4"] + ["#bbbbbb"] * len(baselines)
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[plot_text(n) for n in names],
            orientation="h",
            marker={"color": colors},
            text=[f"{100 * v:.1f}%" for v in values],
            textposition="auto",
        )
    )
    lo = max(0.0, min(values) - 0.1)
    fig.update_layout(
        title=title,
        height=80 + 40 * len(names),
        xaxis={"range": [lo, 1.0], "tickformat": ".0%"},
        yaxis={"autorange": "reversed"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig
