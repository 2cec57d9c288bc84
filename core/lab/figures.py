"""Helpers shared by every technique's figure builders: safe text, one palette, labels passed in."""

from collections.abc import Mapping

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def plot_text(text: str) -> str:
    """Plotly reads a few HTML tags in labels; user text must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


Labels = Mapping[str, str]
"""The words a figure shows (title, axis titles, legend names, hover lines), passed in by the page in the
reader's language: figure builders hold no display text of their own. Each builder lists the keys it reads."""


def hover(template: str, **fields: str) -> str:
    """A hover line from a translated template with named fields, as plotly's ``hovertemplate``.

    ``hover("word {i}: {word}", i="%{customdata[0]}", word="%{text}")``: the template (from the page's
    catalogue) sets the word order, the builder supplies plotly's placeholders.
    """
    return template.format(**fields) + "<extra></extra>"
