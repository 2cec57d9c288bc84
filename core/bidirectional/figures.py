"""Figures and display pieces of the bidirectional page: a scorecard or a decoding in, plotly figures,
HTML and table rows out; every word shown comes from ``labels``."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from core.bidirectional.scorecard import BINS
from core.lab.figures import PALETTE, Labels, hover, plot_text

COLORS = {
    "l2r": PALETTE[0],
    "r2l": PALETTE[1],
    "bidi": PALETTE[2],
    "rerank": PALETTE[4],
    "bigram": PALETTE[7],
    "unigram": PALETTE[8],
    "l2r-greedy": PALETTE[0],
    "r2l-greedy": PALETTE[1],
}
POSITION_DECODERS = ("l2r", "r2l", "bidi", "rerank", "bigram")


def by_position(table: Mapping[str, Any], names: Mapping[str, str], labels: Labels) -> go.Figure:
    """Character accuracy in five bins of relative position, one line per decoder (L2R, R2L, bidirectional
    solid; rerank and the bigram baseline dotted, for reference).

    ``labels``: title, x, y, bins (five bin names, separated by "|"), hover (fields {bin}, {acc}).
    """
    bins = labels["bins"].split("|")
    fig = go.Figure()
    template = hover(labels["hover"], bin="%{x}", acc="%{y:.1%}")
    for row in table["rows"]:
        if row["decoder"] not in POSITION_DECODERS:
            continue
        main = row["decoder"] in ("l2r", "r2l", "bidi")
        fig.add_trace(
            go.Scatter(
                x=bins[:BINS],
                y=row["by_position"],
                mode="lines+markers",
                name=plot_text(names.get(row["decoder"], row["decoder"])),
                line={"color": COLORS[row["decoder"]], "width": 3 if main else 1.5, "dash": None if main else "dot"},
                marker={"size": 8 if main else 5},
                hovertemplate=template,
            )
        )
    return _accuracy_layout(fig, labels, 380, legend={"orientation": "h", "y": -0.22})


def _accuracy_layout(fig: go.Figure, labels: Labels, height: int, **extra: Any) -> go.Figure:
    """The title, the axis titles (labels' title, x, y) and a percentage y axis of the page's charts."""
    fig.update_layout(
        title=labels["title"],
        xaxis_title=labels["x"],
        yaxis={"title": labels["y"], "tickformat": ".0%"},
        height=height,
        margin={"t": 50, "b": 40, "l": 60, "r": 20},
        **extra,
    )
    return fig


def training_curves(
    cards: Mapping[str, Any], models: Mapping[str, str], directions: Mapping[str, str], labels: Labels
) -> go.Figure:
    """Teacher-forced accuracy on the validation clauses during training, one line per decoder of each model
    (``models`` and ``directions``: their names).

    ``labels``: title, x, y, line (fields {model}, {direction}).
    """
    fig = go.Figure()
    for kind, c in cards.items():
        for d in ("l2r", "r2l"):
            points = [(h["step"], h[f"{d}_accuracy"]) for h in c.get("history", []) if f"{d}_accuracy" in h]
            if not points:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in points],
                    y=[p[1] for p in points],
                    mode="lines",
                    name=plot_text(labels["line"].format(model=models.get(kind, kind), direction=directions.get(d, d))),
                    line={"color": COLORS[kind], "dash": "dot" if kind == "bidi" and d == "r2l" else None},
                )
            )
    return _accuracy_layout(fig, labels, 320)


def outlined(output: str, reference: str | None) -> str:
    """The output as HTML, each character that differs from the reference outlined in red (with the
    reference character as its tooltip)."""
    if reference is None:
        return f'<span class="kx-chars">{html.escape(output)}</span>'
    parts = []
    for i, ch in enumerate(output):
        gold = reference[i] if i < len(reference) else ""
        if ch == gold:
            parts.append(html.escape(ch))
        else:
            parts.append(
                f'<span title="{html.escape(gold)}" style="outline:2px solid #d62728;outline-offset:-1px;'
                f'border-radius:3px;background:#fde8e8">{html.escape(ch)}</span>'
            )
    return f'<span class="kx-chars">{"".join(parts)}</span>'


def inspector_rows(step: Mapping[str, Any], direction: str) -> list[dict[str, Any]]:
    """One row per beam of a direction after a bidirectional step: its text so far (reading order), its
    score, the beam it extends, and its new character's log-probability under each of the other
    direction's candidates (the values that were averaged)."""
    attended: Sequence[str] = step.get(direction + "_attended", [])
    rows = []
    for rank, beam in enumerate(step.get(direction, []), 1):
        row: dict[str, Any] = {"rank": rank, "text": beam["text"], "score": beam["score"], "parent": beam["parent"] + 1}
        for j, value in enumerate(beam.get("per_other", [])):
            row[f"{j + 1}: {attended[j] if j < len(attended) else ''}"] = value
        rows.append(row)
    return rows
