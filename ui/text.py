"""User text shown through Streamlit's markdown must stay text."""

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """Backslash-escape every markdown (and Streamlit directive) character."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def md_code(text: str) -> str:
    """``text`` as an inline code span: shown verbatim (escapes would show), backticks cannot end it early."""
    return "`" + text.replace("`", "'") + "`"
