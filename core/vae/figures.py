"""Plotly figures for the VAE geometry page: data in, ``go.Figure`` out. Titles and names come from the page."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.lab.figures import PALETTE, Labels, plot_text


def ellipse(center: np.ndarray, radii: np.ndarray, k: float, points: int = 60) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * np.pi, points)
    return center[0] + k * radii[0] * np.cos(t), center[1] + k * radii[1] * np.sin(t)


def latent_scatter(
    means: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    title: str,
    axis_range: tuple[float, float],
    chosen: np.ndarray | None = None,
    chosen_sigma: np.ndarray | None = None,
    chosen_names: Sequence[str] = (),
) -> go.Figure:
    """Latent means coloured by class (``class_names`` as the page shows them); chosen points, named by
    ``chosen_names``, with their 1- and 2-sigma ellipses (VAE) or as stars (AE)."""
    fig = go.Figure()
    for c, name in enumerate(class_names):
        pts = means[labels == c]
        fig.add_trace(
            go.Scattergl(
                x=pts[:, 0],
                y=pts[:, 1],
                mode="markers",
                name=plot_text(name),
                marker={"size": 3, "color": PALETTE[c % len(PALETTE)], "opacity": 0.55},
            )
        )
    if chosen is not None:
        for i, point in enumerate(chosen):
            label = plot_text(chosen_names[i]) if i < len(chosen_names) else f"#{i + 1}"
            if chosen_sigma is not None:
                for k, dash in ((1, "solid"), (2, "dot")):
                    ex, ey = ellipse(point, chosen_sigma[i], k)
                    fig.add_trace(
                        go.Scatter(
                            x=ex,
                            y=ey,
                            mode="lines",
                            showlegend=False,
                            hoverinfo="skip",
                            line={"color": "black", "width": 1.5, "dash": dash},
                        )
                    )
            fig.add_trace(
                go.Scatter(
                    x=[point[0]],
                    y=[point[1]],
                    mode="markers+text",
                    text=[label],
                    textposition="top center",
                    showlegend=False,
                    marker={"symbol": "star", "size": 14, "color": "black"},
                )
            )
    fig.update_layout(
        title=title,
        height=520,
        legend={"itemsizing": "constant"},
        xaxis={"range": list(axis_range), "title": {"text": "z1"}},
        yaxis={"range": list(axis_range), "title": {"text": "z2"}, "scaleanchor": "x"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def image_grid(grid: np.ndarray, title: str, gap: int = 1) -> go.Figure:
    """An [rows, cols, h, w] array of images as one picture with thin gaps."""
    rows, cols, h, w = grid.shape
    canvas = np.ones((rows * (h + gap) - gap, cols * (w + gap) - gap))
    for r in range(rows):
        for c in range(cols):
            canvas[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = grid[r, c]
    fig = go.Figure(go.Heatmap(z=canvas, colorscale="gray", showscale=False, zmin=0, zmax=1, hoverinfo="skip"))
    fig.update_layout(
        title=title,
        height=max(160, min(620, 22 * rows * h // 8 + 80)),
        xaxis={"visible": False, "constrain": "domain"},
        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def image_strip(images: np.ndarray, title: str) -> go.Figure:
    """A row of images. <float>[k, h, w]"""
    return image_grid(np.asarray(images)[None], title)


def kl_per_dimension(kl: np.ndarray, title: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=[f"z{i + 1}" for i in range(len(kl))], y=kl))
    fig.update_layout(title=title, height=300, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def training_curves(histories: dict[str, list[dict[str, float]]], labels: Labels) -> go.Figure:
    """Reconstruction (left axis) and KL (right axis) per epoch for each named model.

    ``labels``: title, x, y, reconstruction and kl (legend names; field {model}).
    """
    fig = go.Figure()
    for name, history in histories.items():
        epochs = [h["epoch"] for h in history]
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[h["reconstruction"] for h in history],
                mode="lines+markers",
                name=labels["reconstruction"].format(model=name),
            )
        )
        if any(h["kl"] for h in history):
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=[h["kl"] for h in history],
                    mode="lines+markers",
                    name=labels["kl"].format(model=name),
                    yaxis="y2",
                )
            )
    fig.update_layout(
        title=labels["title"],
        height=320,
        xaxis={"title": {"text": labels["x"]}},
        yaxis={"title": {"text": labels["y"]}},
        yaxis2={"title": {"text": "KL"}, "overlaying": "y", "side": "right"},
        legend={"orientation": "h", "y": -0.3},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def scatter_point_index(labels: np.ndarray, curve: int, point: int) -> int | None:
    """The data index of a clicked point of ``latent_scatter`` (one trace per class, in class order)."""
    members = np.flatnonzero(np.asarray(labels) == curve)
    return int(members[point]) if 0 <= point < len(members) else None
