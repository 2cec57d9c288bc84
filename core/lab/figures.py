"""Helpers shared by every technique's figure builders: safe text and one palette."""

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def plot_text(text: str) -> str:
    """Plotly reads a few HTML tags in labels; user text must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
