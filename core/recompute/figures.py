"""Plotly figures for the recompute page: a stored study in, ``go.Figure`` out; every word shown comes from
``labels``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.lab.figures import PALETTE, Labels, hover, plot_text


def _color(strategy: str) -> str:
    """One colour per strategy on every figure of the page."""
    from core.recompute.model import STRATEGIES

    i = STRATEGIES.index(strategy) if strategy in STRATEGIES else len(STRATEGIES)
    return PALETTE[i % len(PALETTE)]


def memory_vs_batch(study: Mapping[str, Any], names: Mapping[str, str], labels: Labels) -> go.Figure:
    """Training memory (weights + Adam's moments + the step's peak) against batch: each strategy's measured
    points, its fitted line up to its largest batch, its confirmation runs (hollow: did not fit), and the
    budget as a horizontal line.

    ``labels``: title, x, y, budget (field {mb}), fitted (field {name}), confirm (field {name}),
    hover (fields {batch}, {mb}).
    """
    state = study["state"]["weights_mb"] + study["state"]["optimizer_mb"]
    fig = go.Figure()
    template = hover(labels["hover"], batch="%{x}", mb="%{y:,.0f}")
    top = 1
    for row in (r for r in study["rows"] if not r.get("error") and r.get("points")):
        name = plot_text(names.get(row["strategy"], row["strategy"]))
        color = _color(row["strategy"])
        xs = [p["batch"] for p in row["points"]]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[state + p["peak_mb"] for p in row["points"]],
                mode="markers",
                name=name,
                legendgroup=row["strategy"],
                marker={"color": color, "size": 8},
                hovertemplate=template,
            )
        )
        end = max([*xs, row.get("largest_batch") or 0, *(c["batch"] for c in row.get("confirmations", []))])
        top = max(top, end)
        if row.get("slope_mb") is not None:
            line_x = np.array([0, end * 1.05])
            fig.add_trace(
                go.Scatter(
                    x=line_x,
                    y=state + row["intercept_mb"] + row["slope_mb"] * line_x,
                    mode="lines",
                    name=labels["fitted"].format(name=name),
                    legendgroup=row["strategy"],
                    showlegend=False,
                    line={"color": color, "width": 1.2, "dash": "dot"},
                    hoverinfo="skip",
                )
            )
        confirms = row.get("confirmations") or []
        if confirms:
            fig.add_trace(
                go.Scatter(
                    x=[c["batch"] for c in confirms],
                    y=[state + (c["peak_mb"] if c.get("peak_mb") is not None else study["room_mb"]) for c in confirms],
                    mode="markers",
                    name=labels["confirm"].format(name=name),
                    legendgroup=row["strategy"],
                    showlegend=False,
                    marker={
                        "color": [color if c["fits"] else "rgba(0,0,0,0)" for c in confirms],
                        "line": {"color": color, "width": 2},
                        "size": 11,
                        "symbol": "diamond",
                    },
                    hovertemplate=template,
                )
            )
    fig.add_hline(
        y=study["budget_mb"],
        line={"color": "#444", "dash": "dash", "width": 1.5},
        annotation_text=labels["budget"].format(mb=f"{study['budget_mb']:,.0f}"),
        annotation_position="top left",
    )
    fig.update_layout(
        title=labels["title"],
        xaxis_title=labels["x"],
        yaxis_title=labels["y"],
        xaxis={"range": [0, top * 1.08]},
        yaxis={"range": [0, study["budget_mb"] * 1.35]},
        height=460,
        margin={"t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.18},
    )
    return fig


def time_ratios(study: Mapping[str, Any], names: Mapping[str, str], labels: Labels) -> go.Figure:
    """Each strategy's median step time over none's of the same back end, as horizontal bars, 1 marked.

    ``labels``: title, y (the ratio's axis), hover (fields {name}, {ratio}, {seconds}).
    """
    rows = [r for r in study["rows"] if r.get("time_ratio") is not None][::-1]  # the first on top
    fig = go.Figure(
        go.Bar(
            y=[plot_text(names.get(r["strategy"], r["strategy"])) for r in rows],
            x=[r["time_ratio"] for r in rows],
            orientation="h",
            marker_color=[_color(r["strategy"]) for r in rows],
            customdata=[[r.get("step_s_interleaved") or r["step_s"]] for r in rows],
            text=[f"{r['time_ratio']:.2f}x" for r in rows],  # not-ui-text (a number)
            textposition="outside",
            hovertemplate=hover(labels["hover"], name="%{y}", ratio="%{x:.2f}", seconds="%{customdata[0]:.3f}"),
        )
    )
    fig.add_vline(x=1.0, line={"color": "#444", "width": 1})
    peak = max([r["time_ratio"] for r in rows], default=1.0)
    fig.update_layout(
        title=labels["title"],
        xaxis_title=labels["y"],
        xaxis={"range": [0, peak * 1.25]},
        height=120 + 34 * len(rows),
        margin={"t": 60, "l": 10},
        yaxis={"automargin": True},
    )
    return fig


def activation_vs_depth(study: Mapping[str, Any], names: Mapping[str, str], labels: Labels) -> go.Figure:
    """Activation memory against the number of blocks for none, per-block and sqrt(n): counted from the
    shapes at every depth (lines), measured at a few (markers).

    ``labels``: title, x, y, counted (field {name}), measured (field {name}), hover (fields {n}, {mb}).
    """
    depth = study["depth"]
    fig = go.Figure()
    template = hover(labels["hover"], n="%{x}", mb="%{y:,.0f}")
    for strategy, values in depth["counted"].items():
        name = plot_text(names.get(strategy, strategy))
        fig.add_trace(
            go.Scatter(
                x=depth["counted_depths"],
                y=values,
                mode="lines",
                name=labels["counted"].format(name=name),
                line={"color": _color(strategy), "width": 1.5},
                legendgroup=strategy,
                hovertemplate=template,
            )
        )
        measured = depth["measured"].get(strategy)
        if measured:
            keep = [(n, m) for n, m in zip(depth["depths"], measured, strict=True) if m is not None]
            fig.add_trace(
                go.Scatter(
                    x=[n for n, _ in keep],
                    y=[m for _, m in keep],
                    mode="markers",
                    name=labels["measured"].format(name=name),
                    marker={"color": _color(strategy), "size": 9},
                    legendgroup=strategy,
                    hovertemplate=template,
                )
            )
    fig.update_layout(
        title=labels["title"],
        xaxis_title=labels["x"],
        yaxis_title=labels["y"],
        height=420,
        margin={"t": 60},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
