"""Plotly figures for the optimizer page: data in, ``go.Figure`` out. Every word a figure shows comes from its
``labels`` or ``names`` (optimizer spec -> name as the page shows it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.lab.figures import PALETTE, Labels, hover, plot_text


def contour_figure(
    extent: tuple[float, float, float, float],
    values: np.ndarray,
    minima: Sequence[tuple[float, float]],
    trajectories: Sequence,
    upto: int,
    names: Mapping[str, str],
    labels: Labels,
    log_scale: bool = True,
) -> go.Figure:
    """Contours of the function with each optimizer's path up to step ``upto``; Lookahead's slow path dashed.

    ``values`` is the function on a grid spanning ``extent`` ([ny, nx]). ``labels``: title, minimum, slow
    (field {name}), hover (fields {step}, {x}, {y}).
    """
    x0, x1, y0, y1 = extent
    ny, nx = values.shape
    z = np.log10(1 + values - values.min()) if log_scale else values
    fig = go.Figure(
        go.Contour(
            x=np.linspace(x0, x1, nx),
            y=np.linspace(y0, y1, ny),
            z=z,
            colorscale="Greys",
            reversescale=True,
            ncontours=30,
            showscale=False,
            opacity=0.55,
            hoverinfo="skip",
            contours={"coloring": "heatmap"},
            line={"width": 0.5},
        )
    )
    mx, my = zip(*minima, strict=True)
    fig.add_trace(
        go.Scatter(
            x=mx,
            y=my,
            mode="markers",
            name=labels["minimum"],
            marker={"symbol": "star", "size": 14, "color": "gold", "line": {"width": 1}},
        )
    )
    for i, tr in enumerate(trajectories):
        color = PALETTE[i % len(PALETTE)]
        pts = tr.points[: upto + 1]
        fig.add_trace(
            go.Scatter(
                x=pts[:, 0],
                y=pts[:, 1],
                mode="lines",
                name=plot_text(names[tr.spec]),
                line={"color": color, "width": 2},
                hovertemplate=hover(labels["hover"], step="%{customdata}", x="%{x:.3f}", y="%{y:.3f}"),
                customdata=np.arange(len(pts)),
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[pts[-1, 0]],
                y=[pts[-1, 1]],
                mode="markers",
                showlegend=False,
                marker={"color": color, "size": 9},
                hoverinfo="skip",
            )
        )
        if tr.slow_points is not None:
            slow = tr.slow_points[: upto + 1]
            # The slow weights only change at syncs: draw those points.
            changed = np.concatenate([[True], np.any(np.diff(slow, axis=0) != 0, axis=1)])
            fig.add_trace(
                go.Scatter(
                    x=slow[changed, 0],
                    y=slow[changed, 1],
                    mode="lines+markers",
                    name=plot_text(labels["slow"].format(name=names[tr.spec])),
                    line={"color": color, "width": 2, "dash": "dash"},
                    marker={"symbol": "diamond", "size": 6, "color": color},
                )
            )
    fig.update_layout(
        title=labels["title"],
        height=560,
        xaxis={"range": [x0, x1], "title": {"text": "x"}, "constrain": "domain"},
        yaxis={"range": [y0, y1], "title": {"text": "y"}, "scaleanchor": "x", "constrain": "domain"},
        legend={"orientation": "h", "y": -0.12},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def loss_figure(trajectories: Sequence, upto: int, names: Mapping[str, str], labels: Labels) -> go.Figure:
    """f(x_t) against step t (log scale). ``labels``: title, x."""
    fig = go.Figure()
    for i, tr in enumerate(trajectories):
        losses = np.maximum(tr.losses[: upto + 1], 1e-12)
        fig.add_trace(
            go.Scatter(
                y=losses, mode="lines", name=plot_text(names[tr.spec]), line={"color": PALETTE[i % len(PALETTE)]}
            )
        )
    fig.update_layout(
        title=labels["title"],
        height=360,
        yaxis={"type": "log", "title": {"text": "f"}},
        xaxis={"title": {"text": labels["x"]}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def curves_figure(
    curves: dict[str, list[dict[str, list[float]]]], names: Mapping[str, str], metric: str, labels: Labels
) -> go.Figure:
    """Mean over seeds per epoch, with a band from the lowest to the highest seed. ``labels``: title, x, y."""
    fig = go.Figure()
    for i, (spec, runs) in enumerate(curves.items()):
        values = np.array([r[metric] for r in runs])
        epochs = np.arange(1, values.shape[1] + 1)
        color = PALETTE[i % len(PALETTE)]
        if len(runs) > 1:
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([epochs, epochs[::-1]]),
                    y=np.concatenate([values.max(0), values.min(0)[::-1]]),
                    fill="toself",
                    fillcolor=color,
                    opacity=0.18,
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=epochs, y=values.mean(0), mode="lines+markers", name=plot_text(names[spec]), line={"color": color}
            )
        )
    fig.update_layout(
        title=labels["title"],
        height=360,
        xaxis={"title": {"text": labels["x"]}, "dtick": 1},
        yaxis={"title": {"text": labels["y"]}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def step_time_figure(step_ms: dict[str, list[float]], names: Mapping[str, str], labels: Labels) -> go.Figure:
    """Median step time per optimizer. ``labels``: title, x, bar (field {ms})."""
    shown = [plot_text(names[s]) for s in step_ms]
    med = [float(np.median(v)) for v in step_ms.values()]
    fig = go.Figure(
        go.Bar(
            x=med,
            y=shown,
            orientation="h",
            text=[labels["bar"].format(ms=f"{m:.1f}") for m in med],
            textposition="auto",
            marker={"color": [PALETTE[i % len(PALETTE)] for i in range(len(med))]},
        )
    )
    fig.update_layout(
        title=labels["title"],
        height=100 + 45 * len(shown),
        xaxis={"title": {"text": labels["x"]}},
        yaxis={"autorange": "reversed"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def moved_figure(
    frequency: Sequence[int], moved: dict[str, list[int]], names: Mapping[str, str], labels: Labels
) -> go.Figure:
    """How many steps each sampled embedding row moved, against how often its word occurs in training.

    ``labels``: title, x, y.
    """
    fig = go.Figure()
    freq = np.asarray(frequency)
    for i, (spec, counts) in enumerate(moved.items()):
        fig.add_trace(
            go.Scattergl(
                x=freq,
                y=np.asarray(counts),
                mode="markers",
                name=plot_text(names[spec]),
                marker={"size": 4, "opacity": 0.5, "color": PALETTE[i % len(PALETTE)]},
            )
        )
    fig.update_layout(
        title=labels["title"],
        height=420,
        xaxis={"type": "log", "title": {"text": labels["x"]}},
        yaxis={"type": "log", "title": {"text": labels["y"]}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
