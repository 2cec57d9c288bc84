"""User text shown through Streamlit's markdown must stay text."""

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """Backslash-escape every markdown (and Streamlit directive) character."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)
