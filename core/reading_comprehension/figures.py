"""Figures of the reading-comprehension page: an answer in, plotly figures out; every word shown comes from
``labels`` and every character of a passage or question is plotly text (escaped), never markup."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.lab.figures import PALETTE, Labels, hover, plot_text
from core.reading_comprehension.model import PASSAGE_DILATIONS, receptive_field

LINE = 40  # characters per line of the passage heatmap
ROWS = 4  # per line: the characters, start, end, a gap
# The character row's marks: 0 nothing, 1 a gold answer (examples), 2 the reader's answer, 3 both.
MARK_COLORS = ((0.0, "#ffffff"), (0.33, "#c7e9c0"), (0.66, "#fdd49e"), (1.0, "#74c476"))


def marks(n: int, answer: tuple[int, int] | None, gold: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """Per character: 1 inside a gold span, 2 inside the reader's answer, 3 inside both (spans inclusive)."""
    out = np.zeros(n, dtype=int)
    for s, e in gold:
        out[s : e + 1] |= 1
    if answer is not None and answer[1] >= answer[0]:
        out[answer[0] : answer[1] + 1] |= 2
    return out


def passage_heatmap(
    passage: str,
    start: Sequence[float],
    end: Sequence[float],
    answer: tuple[int, int] | None,
    labels: Labels,
    gold: Sequence[tuple[int, int]] = (),
    line: int = LINE,
) -> go.Figure:
    """The passage in lines of ``line`` characters, each with its start and end probabilities as two heatmap
    rows under it; the reader's answer (and any gold answer) coloured in the character row.

    ``labels``: title, start, end, probability (colour bar), hover_char (fields {i}, {char}), hover_prob
    (fields {i}, {char}, {row}, {p}).
    """
    n = len(passage)
    lines = max(1, -(-n // line))
    rows = lines * ROWS
    char_z = np.full((rows, line), np.nan)
    prob_z = np.full((rows, line), np.nan)
    text = np.full((rows, line), "", dtype=object)
    custom = np.full((rows, line, 2), "", dtype=object)
    mark = marks(n, answer, gold)
    row_names = {1: labels["start"], 2: labels["end"]}
    for i, ch in enumerate(passage):
        r, c = divmod(i, line)
        top = r * ROWS
        char_z[top, c] = mark[i]
        text[top, c] = plot_text(ch) if ch.strip() else "·"
        prob_z[top + 1, c], prob_z[top + 2, c] = start[i], end[i]
        for k in range(3):
            custom[top + k, c] = (str(i), plot_text(ch))
    y = list(range(rows))
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            z=char_z,
            y=y,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 15},
            customdata=custom,
            colorscale=[list(c) for c in MARK_COLORS],
            zmin=0,
            zmax=3,
            showscale=False,
            xgap=1,
            hovertemplate=hover(labels["hover_char"], i="%{customdata[0]}", char="%{customdata[1]}"),
            name="",
        )
    )
    top_p = max(float(np.nanmax(prob_z)) if n else 0.0, 1e-3)
    fig.add_trace(
        go.Heatmap(
            z=prob_z,
            y=y,
            customdata=[[[*custom[r, c], row_names.get(r % ROWS, "")] for c in range(line)] for r in range(rows)],
            colorscale="Blues",
            zmin=0,
            zmax=top_p,
            xgap=1,
            ygap=0,
            colorbar={"title": {"text": labels["probability"]}, "len": min(1.0, 600 / (rows * 22 + 120))},
            hovertemplate=hover(
                labels["hover_prob"],
                i="%{customdata[0]}",
                char="%{customdata[1]}",
                row="%{customdata[2]}",
                p="%{z:.3f}",
            ),
            name="",
        )
    )
    ticks = [r * ROWS + k for r in range(lines) for k in (0, 1, 2)]
    tick_text = [str(r * line) if k == 0 else row_names[k] for r in range(lines) for k in (0, 1, 2)]
    fig.update_layout(
        title=labels["title"],
        height=rows * 22 + 120,
        margin={"l": 60, "r": 20, "t": 50, "b": 20},
        xaxis={"visible": False, "range": [-0.5, line - 0.5]},
        yaxis={
            "autorange": "reversed",
            "tickvals": ticks,
            "ticktext": tick_text,
            "tickfont": {"size": 10},
            "showgrid": False,
            "zeroline": False,
        },
        plot_bgcolor="#ffffff",
    )
    return fig


def attention_bars(question: str, weights: Sequence[float], labels: Labels) -> go.Figure:
    """The question's attention-pooling weights, one bar per character (the characters as tick text).

    ``labels``: title, y, hover (fields {i}, {char}, {w}).
    """
    chars = [plot_text(ch) if ch.strip() else "·" for ch in question]
    fig = go.Figure(
        go.Bar(
            x=list(range(len(question))),
            y=list(weights),
            customdata=[[i, ch] for i, ch in enumerate(chars)],
            marker={"color": PALETTE[0]},
            hovertemplate=hover(labels["hover"], i="%{customdata[0]}", char="%{customdata[1]}", w="%{y:.3f}"),
        )
    )
    fig.update_layout(
        title=labels["title"],
        height=300,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        # one character a tick, never rotated: the font shrinks for a long question (half the page is ~380 px)
        xaxis={
            "tickvals": list(range(len(question))),
            "ticktext": chars,
            "tickfont": {"size": min(14, max(7, 380 // max(len(question), 1)))},
            "tickangle": 0,
        },
        yaxis={"title": labels["y"]},
        bargap=0.15,
    )
    return fig


def receptive_field_figure(
    n: int, center: int, labels: Labels, dilations: Sequence[int] = PASSAGE_DILATIONS
) -> go.Figure:
    """How far the passage position ``center`` sees after each conv block of the dilation schedule: one bar
    per block, from ``center - (field - 1) / 2`` to ``center + (field - 1) / 2``, clipped to the passage.

    ``labels``: title, x, block (fields {k}, {d}), hover (fields {k}, {d}, {seen}, {lo}, {hi}).
    """
    fields = receptive_field(tuple(dilations))
    names, lows, widths, custom = [], [], [], []
    for k, (d, seen) in enumerate(zip(dilations, fields, strict=True), 1):
        half = (seen - 1) // 2
        lo, hi = max(0, center - half), min(n - 1, center + half)
        names.append(labels["block"].format(k=k, d=d))
        lows.append(lo - 0.5)
        widths.append(hi - lo + 1)
        custom.append([k, d, seen, lo, hi])
    fig = go.Figure(
        go.Bar(
            y=names,
            x=widths,
            base=lows,
            orientation="h",
            customdata=custom,
            marker={"color": [PALETTE[0]] * (len(names) - 1) + [PALETTE[1]]},
            hovertemplate=hover(
                labels["hover"],
                k="%{customdata[0]}",
                d="%{customdata[1]}",
                seen="%{customdata[2]}",
                lo="%{customdata[3]}",
                hi="%{customdata[4]}",
            ),
        )
    )
    fig.add_vline(x=center, line={"color": PALETTE[3], "width": 2, "dash": "dot"})
    fig.update_layout(
        title=labels["title"],
        height=320,
        margin={"l": 140, "r": 20, "t": 50, "b": 50},
        xaxis={"title": labels["x"], "range": [-0.5, max(n, 1) - 0.5]},
        yaxis={"autorange": "reversed"},
    )
    return fig


def scorecard_bars(rows: Sequence[dict], names: dict[str, str], labels: Labels) -> go.Figure:
    """EM and character F1 of every system on the test split, grouped bars.

    ``labels``: title, em, f1, y.
    """
    fig = go.Figure()
    x = [plot_text(names.get(r["system"], r["system"])) for r in rows]
    for key, color in (("em", PALETTE[0]), ("f1", PALETTE[1])):
        fig.add_trace(
            go.Bar(
                x=x,
                y=[r[key] for r in rows],
                name=labels[key],
                marker={"color": color},
                text=[f"{r[key]:.1%}" for r in rows],
                textposition="outside",
                hovertemplate="%{x}: %{y:.1%}<extra></extra>",
            )
        )
    fig.update_layout(
        title=labels["title"],
        barmode="group",
        height=360,
        yaxis={"title": labels["y"], "tickformat": ".0%", "range": [0, 1.05]},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
