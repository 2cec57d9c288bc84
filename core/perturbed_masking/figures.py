"""Plotly figures for the perturbed-masking page (impact, trees, segmentation, probe training): data in,
``go.Figure`` out. Every word a figure shows comes from its ``labels`` (the page's catalogue)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from core.lab.figures import Labels, hover, plot_text
from core.perturbed_masking.parsing import Split
from core.perturbed_masking.segmentation import word_spans

AGREE = "#1b9e77"
DISAGREE = "#d95f02"
NEUTRAL = "#4c72b0"
MISSED = "#9a9a9a"


def numbered(words: Sequence[str]) -> list[str]:
    """Axis labels that keep repeated words apart: ``3 the``."""
    return [f"{i} {plot_text(w)}" for i, w in enumerate(words, start=1)]


def word_positions(words: Sequence[str]) -> list[float]:
    """x of each word's centre, spaced by word length so long words never overlap."""
    xs, cursor = [], 0.0
    for w in words:
        width = max(len(w), 2) * 0.8 + 1.5
        xs.append(cursor + width / 2)
        cursor += width
    return xs


def impact_heatmap(words: Sequence[str], matrix: np.ndarray, labels: Labels) -> go.Figure:
    """Heatmap of f(i, j): row i = the word whose representation is read, column j = the word also masked.

    ``labels``: title, x, y, colorbar (the distance), hover (fields {masked}, {read}, {value}).
    """
    ticks = numbered(words)
    n = len(words)
    fig = go.Figure(
        go.Heatmap(
            z=np.asarray(matrix),
            x=list(range(n)),
            y=list(range(n)),
            customdata=[[(plot_text(words[j]), plot_text(words[i])) for j in range(n)] for i in range(n)],
            colorscale="Blues",
            colorbar={"title": {"text": labels["colorbar"]}},
            hovertemplate=hover(
                labels["hover"], masked="<b>%{customdata[0]}</b>", read="<b>%{customdata[1]}</b>", value="%{z:.3f}"
            ),
        )
    )
    axis = {"tickmode": "array", "tickvals": list(range(n)), "ticktext": ticks, "showgrid": False}
    fig.update_layout(
        title=labels["title"],
        xaxis={**axis, "title": {"text": labels["x"]}, "tickangle": -60},
        yaxis={**axis, "title": {"text": labels["y"]}, "autorange": "reversed", "scaleanchor": "x"},
        height=max(420, 28 * n + 160),
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )
    return fig


def _arc(x0: float, x1: float, above: bool, base: float = 0.25) -> tuple[list[float], list[float]]:
    t = np.linspace(0, np.pi, 30)
    mid, half = (x0 + x1) / 2, abs(x1 - x0) / 2
    height = 0.6 + 0.35 * half
    ys = base + np.sin(t) * height if above else -base - np.sin(t) * height
    xs = mid - np.cos(t) * half * np.sign(x1 - x0 or 1)
    return list(xs), list(ys)


def dependency_arcs(
    words: Sequence[str],
    heads: Sequence[int],
    reference: Sequence[int] | None,
    labels: Labels,
) -> go.Figure:
    """Arcs over the sentence, head to dependent; with a reference, agreeing arcs
    are green, disagreeing orange, and the reference's missed arcs grey below.

    ``labels``: title, agree, differ, arc (no reference), missed, root, hover (fields {i}, {word}, {head}).
    """
    fig = go.Figure()
    n = len(words)
    px = word_positions(words)
    span = px[-1] - px[0] if n > 1 else 1.0
    groups: dict[str, tuple[list[float | None], list[float | None], str]] = {}

    def add(name: str, colour: str, xs: list[float], ys: list[float]) -> None:
        gx, gy, _ = groups.setdefault(name, ([], [], colour))
        gx.extend(xs + [None])
        gy.extend(ys + [None])

    tops_x, tops_y = [], []
    for d, h in enumerate(heads, start=1):
        agree = reference is not None and reference[d - 1] == h
        name = labels["agree"] if agree else (labels["differ"] if reference is not None else labels["arc"])
        colour = AGREE if agree else (DISAGREE if reference is not None else NEUTRAL)
        if h == 0:
            top = 0.85 + 0.35 * span / 2
            add(name, colour, [px[d - 1], px[d - 1]], [0.25, top])
            tops_x.append(px[d - 1])
            tops_y.append(top)
        else:
            xs, ys = _arc(px[h - 1], px[d - 1], above=True)
            add(name, colour, xs, ys)
    if reference is not None:
        for d, h in enumerate(reference, start=1):
            if heads[d - 1] != h and h != 0:
                xs, ys = _arc(px[h - 1], px[d - 1], above=False)
                add(labels["missed"], MISSED, xs, ys)
    for name, (xs, ys, colour) in groups.items():
        dash = "dot" if colour == MISSED else "solid"
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", name=name, line={"color": colour, "width": 2, "dash": dash}, hoverinfo="skip"
            )
        )
    # Arrow heads: a marker at each dependent.
    fig.add_trace(
        go.Scatter(
            x=px,
            y=[0.3] * n,
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            marker={"symbol": "triangle-down", "size": 7, "color": "#555"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=tops_x,
            y=tops_y,
            mode="text",
            text=[labels["root"]] * len(tops_x),
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=px,
            y=[0] * n,
            mode="text",
            text=[plot_text(w) for w in words],
            textfont={"size": 14},
            showlegend=False,
            customdata=[[i + 1, heads[i]] for i in range(n)],
            hovertemplate=hover(labels["hover"], i="%{customdata[0]}", word="%{text}", head="%{customdata[1]}"),
        )
    )
    low = -0.9 - 0.35 * span / 2 if reference is not None else -0.6
    fig.update_layout(
        title=labels["title"],
        height=420,
        showlegend=True,
        legend={"orientation": "h", "y": -0.02},
        xaxis={"visible": False, "range": [px[0] - 2, px[-1] + 2] if n else [0, 1]},
        yaxis={"visible": False, "range": [low, 1.6 + 0.4 * span / 2]},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        plot_bgcolor="white",
    )
    return fig


def constituency_tree(tree: Split, words: Sequence[str], title: str) -> go.Figure:
    """The binary tree drawn top-down: leaves on a line, each split above its children."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    px = word_positions(words)

    def place(node: Split) -> tuple[float, float]:
        if node.at is None:
            return px[node.start], 0.0
        lx, ly = place(node.left)
        rx, ry = place(node.right)
        x, y = (lx + rx) / 2, max(ly, ry) + 1
        xs.extend([lx, x, rx, None])
        ys.extend([ly, y, ry, None])
        return x, y

    place(tree)
    n = len(words)
    fig = go.Figure(
        go.Scatter(x=xs, y=ys, mode="lines", line={"color": NEUTRAL, "width": 2}, hoverinfo="skip", showlegend=False)
    )
    fig.add_trace(
        go.Scatter(
            x=px,
            y=[-0.3] * n,
            mode="text",
            text=[plot_text(w) for w in words],
            textfont={"size": 14},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    top = max((y for y in ys if y is not None), default=1)
    fig.update_layout(
        title=title,
        height=320 + 6 * n,
        plot_bgcolor="white",
        xaxis={"visible": False, "range": [px[0] - 2, px[-1] + 2] if n else [0, 1]},
        yaxis={"visible": False, "range": [-0.8, top + 0.5]},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def uas_by_layer(series: dict[str, Sequence[float | None]], right_chain: float | None, labels: Labels) -> go.Figure:
    """UAS against spaCy per layer, one line per series, right-chain as a dashed line.

    ``labels``: title, x, y, right_chain (field {uas}).
    """
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=list(range(len(values))), y=list(values), mode="lines+markers", name=name))
    if right_chain is not None:
        fig.add_hline(
            y=right_chain,
            line={"dash": "dash", "color": MISSED},
            annotation_text=labels["right_chain"].format(uas=f"{right_chain:.1f}"),
            annotation_position="top left",
        )
    fig.update_layout(
        title=labels["title"],
        height=380,
        xaxis={"title": {"text": labels["x"]}, "dtick": 1},
        legend={"orientation": "h", "y": -0.3},
        yaxis={"title": {"text": labels["y"]}, "rangemode": "tozero"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


# Chinese word segmentation

MERGE = "#1b9e77"
SPLIT = "#d95f02"
CHIP_COLOURS = ("#dbe9f6", "#fde2c8")
DIFFERS = "#d62728"


def gap_labels(chars: Sequence[str]) -> list[str]:
    pairs = zip(chars[:-1], chars[1:], strict=True)
    return [f"{i + 1} {plot_text(a)}|{plot_text(b)}" for i, (a, b) in enumerate(pairs)]


def gap_bars(chars: Sequence[str], scores: np.ndarray, threshold: float | None, labels: Labels) -> go.Figure:
    """One bar per gap between neighbouring characters; above the threshold = same word.

    ``labels``: title, y, threshold (field {value}; read only with a threshold).
    """
    scores = np.asarray(scores, dtype=float)
    colours = [MERGE if threshold is None or s > threshold else SPLIT for s in scores]
    fig = go.Figure(
        go.Bar(
            x=list(range(len(scores))),
            y=scores,
            marker_color=colours,
            customdata=gap_labels(chars),
            hovertemplate="%{customdata}: %{y:.3f}<extra></extra>",
        )
    )
    if threshold is not None:
        fig.add_hline(
            y=threshold,
            line={"dash": "dash", "color": "#333"},
            annotation_text=labels["threshold"].format(value=f"{threshold:.2f}"),
            annotation_position="top left",
        )
    fig.update_layout(
        title=labels["title"],
        height=300,
        showlegend=False,
        bargap=0.15,
        xaxis={
            "tickmode": "array",
            "tickvals": list(range(len(scores))),
            "ticktext": gap_labels(chars),
            "tickangle": -60,
        },
        yaxis={"title": {"text": labels["y"]}},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def word_chips(rows: Mapping[str, Sequence[str]], reference: str | None, title: str) -> go.Figure:
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
            shapes.append(
                {
                    "type": "rect",
                    "layer": "below",
                    "x0": start + 0.06,
                    "x1": end - 0.06,
                    "y0": y - 0.35,
                    "y1": y + 0.35,
                    "fillcolor": CHIP_COLOURS[k % 2],
                    "line": {"color": DIFFERS if differs else "#8aa", "width": 2.5 if differs else 1},
                }
            )
            xs.append((start + end) / 2)
            texts.append(plot_text(word))
            start = end
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[y] * len(xs),
                mode="text",
                text=texts,
                textfont={"size": 18},
                hoverinfo="text",
                showlegend=False,
            )
        )
    total = max((sum(map(len, words)) for words in rows.values()), default=1)
    fig.update_layout(
        title=title,
        shapes=shapes,
        height=90 + 70 * len(names),
        plot_bgcolor="white",
        xaxis={"visible": False, "range": [-0.2, total + 0.2]},
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(len(names)))[::-1],
            "ticktext": names,
            "range": [-0.6, len(names) - 0.4],
            "showgrid": False,
            "zeroline": False,
        },
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


# Probe training


def training_curve(history: Sequence[dict[str, float]], labels: Labels) -> go.Figure:
    """Loss (left axis) and masked-token accuracy (right axis) against the step, from a run's history.

    ``labels``: title, loss, accuracy (legend names), x, y, y2 (axis titles).
    """
    steps = [h["step"] for h in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=[h["loss"] for h in history], mode="lines", name=labels["loss"]))
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=[100 * h["accuracy"] for h in history],
            mode="lines",
            name=labels["accuracy"],
            yaxis="y2",
        )
    )
    fig.update_layout(
        title=labels["title"],
        height=300,
        xaxis={"title": {"text": labels["x"]}},
        yaxis={"title": {"text": labels["y"]}},
        yaxis2={
            "title": {"text": labels["y2"]},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "tickmode": "linear",
            "dtick": 10,
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.35},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig
