"""The interface language: 中文 or English, from the link, the browser or the sidebar switch.

Every string a person reads goes through :func:`_` (gettext's name): the
English source string is the message's key, and the Chinese catalogue
``ui/locales/zh/LC_MESSAGES/messages.po`` gives its translation. The catalogue
is read once per process (Babel's ``.po`` reader) into a dictionary, so a
lookup costs one dict access. ``make messages`` extracts every marked string
(``_``, ``ngettext``, ``N_``, core's ``msg`` and error classes, listed in
``babel.cfg``) into ``ui/locales/messages.pot`` and merges it into the
catalogue; ``tests/app/test_i18n.py`` fails on any message without a Chinese
translation and on any page literal that bypasses the catalogue.

The language of a session is, in order: the sidebar switch once touched, the
link's ``hl=`` (``zh`` / ``en``; ``lang`` keeps its meaning on the
perturbed-masking page, the analysis language), the browser's
``navigator.language`` (``zh*`` gives Chinese), else English. The router
(``dashboard.py``) settles it before the navigation is built and keeps
``hl=`` in the address bar, so every share link carries it.

Core's messages (errors, progress, job states) are keys with fields
(:class:`core.lab.messages.Message`); :func:`text` renders them here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from core.lab.errors import LabError
from core.lab.messages import N_, Message, render

LANGUAGES = {"zh": "中文", "en": "English"}
KEY = "lab.hl"  # the sidebar switch's session key
PARAM = "hl"  # the link parameter
LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
BABEL_LOCALES = {"zh": "zh_Hans_CN", "en": "en_US"}

__all__ = ["N_", "_", "current", "describe", "error", "headers", "ngettext", "number", "setup", "text", "when"]


@functools.cache
def catalogue(lang: str) -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    """The translations of one language (msgid -> text; plural msgids -> forms), read once per process.

    Untranslated and fuzzy entries are left out, so they fall back to the English source.
    """
    path = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == "en" or not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        cat = read_po(fh, locale=BABEL_LOCALES.get(lang, lang))
    table: dict[str | tuple[str, str], str | tuple[str, ...]] = {}
    for message in cat:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(message.string)
            if all(forms):
                table[tuple(message.id)] = forms
        elif message.string:
            table[message.id] = message.string
    return table


def browser_language() -> str | None:
    """``zh`` or ``en`` from the browser's language, or None outside a browser session."""
    try:
        locale = st.context.locale
    except Exception:  # noqa: BLE001 - no session (a bare script, a thread)
        return None
    if not locale:
        return None
    return "zh" if locale.lower().startswith("zh") else "en"


def _valid(value: object) -> str | None:
    return value if isinstance(value, str) and value in LANGUAGES else None


def current() -> str:
    """The session's language (see the module's note); English outside a session."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return "en"
    return _valid(st.session_state.get(KEY)) or _valid(st.query_params.get(PARAM)) or browser_language() or "en"


def _(message: str) -> str:
    """``message`` (an English source string) in the session's language."""
    lang = current()
    if lang == "en":
        return message
    found = catalogue(lang).get(message)
    return found if isinstance(found, str) else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` (English: singular for 1; Chinese has one form)."""
    lang = current()
    forms = catalogue(lang).get((singular, plural)) if lang != "en" else None
    if forms:
        return forms[0] if len(forms) == 1 else forms[0 if n == 1 else 1]
    return singular if n == 1 else plural


def text(value: Message | str | None) -> str:
    """A core message (key and fields) in the session's language; plain text (data) as it is."""
    return render(value, _)


def describe(exc: BaseException) -> str:
    """An error's message for the person: a lab error's key translated, anything else as it is."""
    return text(exc.message) if isinstance(exc, LabError) else str(exc)


def error(exc: BaseException) -> None:
    """Show an error in the page, in the session's language."""
    st.error(describe(exc))


def when(timestamp: float) -> str:
    """A date and time as the language writes them: ``Dec 3, 2026, 11:35`` / ``2026年12月3日 11:35``."""
    from babel.dates import format_date, format_time

    moment = dt.datetime.fromtimestamp(timestamp)
    locale = BABEL_LOCALES[current()]
    return f"{format_date(moment, 'medium', locale=locale)} {format_time(moment, 'HH:mm', locale=locale)}"


def number(value: float, digits: int = 0) -> str:
    """A number with the language's grouping and ``digits`` decimals."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=BABEL_LOCALES[current()])


# Streamlit's frontend writes a few words of its own in English, with no setting to change them (1.67): the file
# uploader's button and size line, the Stop button while a page runs. In Chinese they are replaced here, by CSS
# (the element's own text hidden, the translation drawn after it). This is the one place that knows their
# test ids; tests/e2e/test_browser.py checks the Chinese pages show none of them. The size line says what
# every uploader's help text says too (the lab's limits), so hiding it loses nothing.
CHROME = {  # not-ui-text: CSS
    "zh": """
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { font-size: 0; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "上传"; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
[data-testid="stStatusWidget"] button[data-testid="stBaseButton-header"] { font-size: 0; }
[data-testid="stStatusWidget"] button[data-testid="stBaseButton-header"]::after {
  content: "停止"; font-size: 0.875rem; }
"""
}


def _chrome(lang: str) -> None:
    css = CHROME.get(lang)
    if css:
        st.html(f"<style>{css}</style>")


def setup() -> str:
    """Settle the session's language, draw the switch in the sidebar, keep ``hl=`` in the address bar.

    Called once per run by the router, before the navigation is built. The switch is keyed, and every
    widget of the pages is keyed with language-free options, so switching keeps the page's inputs and
    results: only the words change.
    """
    if KEY not in st.session_state:
        st.session_state[KEY] = _valid(st.query_params.get(PARAM)) or browser_language() or "en"
    st.sidebar.segmented_control(
        _("Interface language"),
        list(LANGUAGES),
        key=KEY,
        format_func=LANGUAGES.get,
        required=True,
        label_visibility="collapsed",
    )
    lang = current()
    _chrome(lang)
    if st.query_params.get(PARAM) != lang:
        st.query_params[PARAM] = lang
    return lang


def headers(columns: Mapping[str, str]) -> dict[str, Any]:
    """``st.dataframe``'s column_config naming each column for the reader: the data keeps its keys (CSV
    downloads and links stay language-free), the header shows the translated source string."""
    return {key: st.column_config.Column(_(label)) for key, label in columns.items()}
