"""Plotly figures for the decoding page: data in, ``go.Figure`` out; every word shown comes from ``labels``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.lab.figures import PALETTE, Labels, hover, plot_text

FLOOR = 1e-30  # p(EOS) below this is drawn at it (a log axis has no zero)


def p_eos_figure(
    continuations: Sequence, names: Mapping[str, str], labels: Labels, bound: Sequence[float] | None = None
) -> go.Figure:
    """p(EOS) at each step per decoder on a log scale; a cross where EOS was outside the decoder's candidate
    set; optionally the self-terminating layer's lower bound 1 - (1 - eps)^t.

    ``continuations``: :class:`~core.decoding.generation.Continuation` objects; ``names``: decoder spec ->
    shown name. ``labels``: title, x, y, cut (legend of the crosses, field {name}), bound, hover (fields
    {step}, {p}, {rank}).
    """
    fig = go.Figure()
    for i, c in enumerate(continuations):
        color = PALETTE[i % len(PALETTE)]
        steps = np.arange(1, len(c.p_eos) + 1)
        p = np.maximum(np.asarray(c.p_eos, dtype=float), FLOOR)
        template = hover(labels["hover"], step="%{x}", p="%{y:.3g}", rank="%{customdata}")
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=p,
                mode="lines",
                name=plot_text(names.get(c.decoder, c.decoder)),
                line={"color": color, "width": 1.6},
                customdata=c.eos_rank,
                hovertemplate=template,
                legendgroup=c.decoder,
            )
        )
        out = [s for s, kept in enumerate(c.eos_in_candidates) if not kept]
        if out:
            fig.add_trace(
                go.Scatter(
                    x=steps[out],
                    y=p[out],
                    mode="markers",
                    name=labels["cut"].format(name=plot_text(names.get(c.decoder, c.decoder))),
                    marker={"symbol": "x-thin", "size": 5, "color": color, "line": {"width": 1, "color": color}},
                    opacity=0.6,
                    customdata=[c.eos_rank[s] for s in out],
                    hovertemplate=template,
                    legendgroup=c.decoder,
                    showlegend=i == 0 or len(continuations) <= 4,
                )
            )
    if bound is not None:
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(bound) + 1),
                y=np.maximum(np.asarray(bound, dtype=float), FLOOR),
                mode="lines",
                name=labels["bound"],
                line={"color": "black", "dash": "dot", "width": 1.2},
                hoverinfo="skip",
            )
        )
    longest = max((len(c.p_eos) for c in continuations), default=0)
    fig.update_layout(
        title=labels["title"],
        xaxis={"title": labels["x"], "type": "log" if longest > 100 else "linear"},  # short and long ones both seen
        yaxis={"title": labels["y"], "type": "log", "exponentformat": "power"},
        height=420,
        margin={"t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def still_running_figure(curves: Mapping[str, Sequence[float]], names: Mapping[str, str], labels: Labels) -> go.Figure:
    """The share of the prompt set still running after t steps, one curve per decoder: its value at L is r_L.

    ``labels``: title, x, y, hover (fields {name}, {step}, {share}).
    """
    fig = go.Figure()
    for i, (spec, values) in enumerate(curves.items()):
        name = plot_text(names.get(spec, spec))
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(values) + 1),
                y=values,
                mode="lines",
                name=name,
                line={"color": PALETTE[i % len(PALETTE)], "width": 2, "shape": "hv"},
                hovertemplate=hover(labels["hover"], name=name, step="%{x}", share="%{y:.0%}"),
            )
        )
    fig.update_layout(
        title=labels["title"],
        xaxis={"title": labels["x"], "type": "log"},
        yaxis={"title": labels["y"], "range": [0, 1.02], "tickformat": ".0%"},
        height=400,
        margin={"t": 60, "b": 50},
    )
    return fig


def candidates_figure(
    top: Sequence[tuple[str, float]], kept: int, eos: set[str], labels: Labels, eos_p: float | None = None
) -> go.Figure:
    """One step's most likely tokens as bars, the ones the decoder could choose coloured, EOS marked.

    ``top``: (token text, probability) best first; ``kept``: how many of them survive the cut (the cut keeps
    a prefix of the ranking); ``eos``: the texts of the EOS tokens; ``eos_p``: EOS's probability, drawn as
    an extra bar when EOS is not among ``top``. ``labels``: title, x, kept, cut, eos, hover (fields {token},
    {p}).
    """
    rows = list(top)
    if eos_p is not None and not any(t in eos for t, _p in rows):
        rows.append((next(iter(eos)), eos_p))
    names = [plot_text(repr(t)[1:-1] or "∅") for t, _p in rows]
    colors = ["#d62728" if t in eos else ("#1f77b4" if i < kept else "#c7c7c7") for i, (t, _p) in enumerate(rows)]
    fig = go.Figure(
        go.Bar(
            x=[p for _t, p in rows],
            y=[f"{i + 1}. {n}" for i, n in enumerate(names)],
            orientation="h",
            marker={"color": colors},
            hovertemplate=hover(labels["hover"], token="%{y}", p="%{x:.3g}"),
        )
    )
    for name, color in ((labels["kept"], "#1f77b4"), (labels["cut"], "#c7c7c7"), (labels["eos"], "#d62728")):
        fig.add_trace(go.Bar(x=[None], y=[None], name=name, marker={"color": color}, showlegend=True))
    fig.update_layout(
        title=labels["title"],
        xaxis={"title": labels["x"], "type": "log", "exponentformat": "power"},
        yaxis={"autorange": "reversed"},
        height=360,
        margin={"t": 60, "b": 40},
        barmode="overlay",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def curve_figure(history: Mapping[str, Sequence[Mapping[str, float]]], labels: Labels) -> go.Figure:
    """Held-out perplexity against training step, one line per trained LM. ``labels``: title, x, y."""
    fig = go.Figure()
    for i, (name, points) in enumerate(history.items()):
        fig.add_trace(
            go.Scatter(
                x=[p["step"] for p in points],
                y=[p["held_out_perplexity"] for p in points],
                mode="lines+markers",
                name=plot_text(name),
                line={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    fig.update_layout(
        title=labels["title"], xaxis_title=labels["x"], yaxis={"title": labels["y"], "type": "log"}, height=360
    )
    return fig
