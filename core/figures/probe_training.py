"""Plotly figure for probe training: the masked-LM loss and accuracy over the steps."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go


def training_curve(history: Sequence[dict[str, float]], title: str = "Training") -> go.Figure:
    """Loss (left axis) and masked-token accuracy (right axis) against the step, from a run's history."""
    steps = [h["step"] for h in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=[h["loss"] for h in history], mode="lines", name="masked-LM loss"))
    fig.add_trace(go.Scatter(x=steps, y=[100 * h["accuracy"] for h in history], mode="lines",
                             name="masked-token accuracy (%)", yaxis="y2"))
    fig.update_layout(title=title, height=300, xaxis={"title": {"text": "step"}},
                      yaxis={"title": {"text": "loss"}},
                      yaxis2={"title": {"text": "accuracy (%)"}, "overlaying": "y", "side": "right",
                              "rangemode": "tozero", "tickmode": "linear", "dtick": 10, "showgrid": False},
                      legend={"orientation": "h", "y": -0.35}, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig
