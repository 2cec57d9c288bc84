"""Helpers shared by the figure builders."""


def plot_text(text: str) -> str:
    """Plotly reads a few HTML tags in labels; user text must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
