"""The bilingual interface: every message translated, no page text outside the catalogue, both languages served.

The catalogue checks extract the messages the way ``make messages`` does (Babel, ``babel.cfg``) and compare
them with ``ui/locales/zh/LC_MESSAGES/messages.po``. The literal scan reads the pages and ``ui/`` as Python
syntax: a string a person would read, passed to a Streamlit element, a lab helper that shows it or a figure
builder, must come through ``_()`` (or be marked ``# not-ui-text`` on its line: a brand, a code sample).
Lower-case keys without spaces and file names (``pm.zh``, ``ig-tokens.csv``, ``text/csv``) count as data.
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

import core
from core.lab.errors import LabError
from core.lab.messages import Message, msg
from tests.helpers import TIMEOUT, texts

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "ui" / "locales" / "zh" / "LC_MESSAGES" / "messages.po"
CLI_ONLY = {"CliError"}  # the command line stays English


@functools.cache
def extracted() -> dict[str | tuple[str, ...], str]:
    """msgid -> where it was found, as ``make messages`` extracts them."""
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(ROOT), method_map, options_map):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def catalogue():
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_Hans_CN")


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def test_every_message_has_a_chinese_translation():
    cat = catalogue()
    translated = {m.id: m for m in cat if m.id}
    missing = [f"{where}: {mid!r}" for mid, where in extracted().items() if mid not in translated]
    assert not missing, "not in the catalogue (run `make messages`):\n" + "\n".join(missing)
    empty = [
        repr(m.id)
        for m in translated.values()
        if m.fuzzy or not all(m.string if isinstance(m.id, tuple) else [m.string])
    ]
    assert not empty, "untranslated or fuzzy:\n" + "\n".join(empty)


def test_catalogue_holds_only_messages_the_code_uses():
    stale = sorted(repr(m.id) for m in catalogue() if m.id and m.id not in extracted())
    assert not stale, "no longer in the code (run `make messages`):\n" + "\n".join(stale)


def test_translations_keep_every_field_and_markup():
    for m in catalogue():
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        forms = m.string if isinstance(m.string, tuple | list) else (m.string,)
        for form in forms:
            assert fields(form) == fields(ids[0]) | fields(ids[-1]), (m.id, form)
            assert form.count("**") == ids[0].count("**"), (m.id, form)
            assert form.count("<br>") == ids[0].count("<br>"), (m.id, form)
            words = re.sub(r"\{[^}]*\}|<[^>]*>", "", ids[0])  # English words outside the fields and tags
            assert re.search(r"[\u4e00-\u9fff]", form) or not re.search(r"[a-z]{4}", words) or form == ids[0], (
                m.id,
                form,
            )


def test_every_lab_error_class_is_an_extraction_keyword():
    for info in pkgutil.walk_packages(core.__path__, "core."):
        if ".cli" not in info.name and not info.name.endswith("__main__"):
            importlib.import_module(info.name)

    def subclasses(cls: type) -> set[str]:
        found = set()
        for sub in cls.__subclasses__():
            found |= {sub.__name__} | subclasses(sub)
        return found

    config = (ROOT / "babel.cfg").read_text()
    keywords = set(re.search(r"^keywords = (.*)$", config, re.M).group(1).split())
    assert subclasses(LabError) - CLI_ONLY <= keywords, subclasses(LabError) - CLI_ONLY - keywords


# The literal scan.

STREAMLIT_TEXT = {
    "title", "header", "subheader", "markdown", "caption", "write", "info", "warning", "error", "success", "toast",
    "button", "radio", "selectbox", "slider", "select_slider", "multiselect", "text_input", "text_area",
    "number_input", "checkbox", "toggle", "file_uploader", "form_submit_button", "download_button", "metric",
    "expander", "spinner", "progress", "page_link", "segmented_control", "pills", "tabs", "popover", "status",
    "code", "Page", "Column", "ProgressColumn", "NumberColumn", "TextColumn",
}  # fmt: skip
LAB_HELPERS = {
    "sentence_form", "image_upload", "pick_row", "download", "download_figure", "download_panel", "picker",
    "corpus_actions", "share_footer",
}  # fmt: skip
DATA_KWARGS = {
    "key", "type", "mime", "file_name", "language", "icon", "url_path", "width", "label_visibility", "on_click",
    "selection_mode", "on_select", "format", "args", "kwargs", "scope", "border", "height", "query_params",
}  # fmt: skip
TRANSLATED = {"_", "ngettext", "N_", "msg"}
DATA_LIKE = re.compile(r"[a-z0-9_.:/+-]+|[\w.+-]+\.\w+")  # keys, ids, file names, MIME types


def figure_builders() -> set[str]:
    names = set()
    for path in (ROOT / "core").rglob("figures.py"):
        names |= {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
    return names - {"plot_text", "hover"}


def _name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _is_translated(node: ast.AST) -> bool:
    """``_("...")``, ``_("...").format(...)``, ``ngettext(...)``."""
    if isinstance(node, ast.Call):
        if _name(node) in TRANSLATED:
            return True
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            return _is_translated(node.func.value)
    return False


def _letters(text: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2}", text))


def _words(text: str) -> bool:
    """Text a person reads: letters, and not a lower-case key or a file name (``pm.zh``, ``ig-tokens.csv``)."""
    return _letters(text) and not DATA_LIKE.fullmatch(text)


def literal_text(source: str, builders: set[str]) -> list[tuple[int, str]]:
    """(line, text) of every user-facing literal in ``source`` that bypasses the catalogue."""
    lines = source.splitlines()
    found: list[tuple[int, str]] = []

    def exempt(node: ast.AST) -> bool:
        return "# not-ui-text" in lines[node.lineno - 1]

    def visit(node: ast.AST) -> None:
        if _is_translated(node) or exempt(node):
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _words(node.value):
                found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            parts = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if _words(parts):
                found.append((node.lineno, parts))
            for v in node.values:
                if isinstance(v, ast.FormattedValue):
                    visit(v.value)
        elif isinstance(node, ast.BinOp):
            visit(node.left)
            visit(node.right)
        elif isinstance(node, ast.IfExp):
            visit(node.body)
            visit(node.orelse)
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            for e in node.elts:
                visit(e)
        elif isinstance(node, ast.Dict):
            for v in node.values:
                visit(v)

    def display(call: ast.Call) -> None:
        for a in call.args:
            visit(a)
        for kw in call.keywords:
            if kw.arg not in DATA_KWARGS:
                visit(kw.value)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node) in STREAMLIT_TEXT | LAB_HELPERS | builders:
            display(node)
        # A label table (choice -> words) must mark its words for the catalogue: N_("...").
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and not exempt(node):
            for v in node.value.values:
                if isinstance(v, ast.Constant) and isinstance(v.value, str) and " " in v.value and _letters(v.value):
                    found.append((v.lineno, v.value))
    return sorted(found)


def ui_sources() -> list[Path]:
    return [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]


def test_pages_show_no_text_that_bypasses_the_catalogue():
    builders = figure_builders()
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in ui_sources()
        for line, text in literal_text(path.read_text(), builders)
    ]
    assert not problems, "wrap in _() (or mark data # not-ui-text):\n" + "\n".join(problems)


def test_the_literal_scan_finds_what_it_should():
    source = """
import streamlit as st
st.title("Hello")
st.caption(f"{n} sentences")
c1.metric(_("Words"), 3)
st.info(_("{n} sentences").format(n=3))
st.markdown(f"**{name}** · {when}")
bar.progress(0.5, text="Working")
fig = impact_heatmap(words, m, {"title": "Impact"})
LABELS = {"a": "a label", "b": N_("another label")}
download_panel([(_("Matrix (CSV)"), data, "matrix.csv", "text/csv")], "k")
st.code("Su: tree")  # not-ui-text
"""
    found = [text for _line, text in literal_text(source, {"impact_heatmap"})]
    assert found == ["Hello", " sentences", "Working", "Impact", "a label"]


def test_no_module_rebinds_the_translation_function():
    for path in ui_sources():
        tree = ast.parse(path.read_text())
        names = [
            t.id
            for node in ast.walk(tree)
            for t in (node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)])
            if isinstance(t, ast.Name)
        ]
        names += [
            e.id
            for node in ast.walk(tree)
            if isinstance(node, ast.For | ast.comprehension)
            for e in ast.walk(node.target)
            if isinstance(e, ast.Name)
        ]
        assert "_" not in names, f"{path.relative_to(ROOT)} assigns _, which hides the translation function"


# Rendering.


def test_a_message_renders_in_either_language_with_nested_fields():
    from core.lab.jobs import decode, encode

    inner = msg("sentence {k} of {n}", k=3, n=10)
    outer = msg("Evaluating: {m}", m=inner)
    table = {"Evaluating: {m}": "评估中：{m}", "sentence {k} of {n}": "第 {k} 句，共 {n} 句"}
    assert str(outer) == "Evaluating: sentence 3 of 10"
    assert outer.render(lambda key: table.get(key, key)) == "评估中：第 3 句，共 10 句"
    assert decode(encode(outer)) == outer
    import numpy as np

    stored = decode(encode(msg("loss {loss:.3f}", loss=np.float32(0.25))))
    assert isinstance(stored, Message) and str(stored) == "loss 0.250"


PAGES = {
    "home": "kexue-lab",
    "perturbed_masking": "Perturbed masking",
    "integrated_gradients": "Integrated gradients",
    "vae": "VAE geometry",
    "optimizers": "Optimizer lab: Lookahead and LazyOptimizer",
    "decoding": "Decoding that never stops",
    "recompute": "Recompute",
    "bidirectional": "Bidirectional decoding",
    "reading_comprehension": "Reading comprehension with DGCNN",
}


def zh(text: str) -> str:
    found = {m.id: m.string for m in catalogue() if m.id}
    return found.get(text, text)


def untranslated_on(at: AppTest) -> list[str]:
    """Static English messages (with a different Chinese translation) shown verbatim on the page."""
    shown = texts(at)
    return [
        m.id
        for m in catalogue()
        if isinstance(m.id, str) and len(m.id) > 3 and m.string != m.id and " " in m.id and m.id in shown
    ]


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_page_in_both_languages(name, lang, monkeypatch):
    """Through the router, as a visitor opens it with ``hl=``: the language holds when they move to the page."""
    if name == "recompute":  # its results, not its queued default (a worker would measure for 20 minutes)
        from tests.app.test_recompute import store_default_study

        store_default_study(monkeypatch)
    if name == "bidirectional":  # its models and scorecard, as the worker leaves them (tiny presets)
        from tests.helpers import save_tiny_pinyin_models

        save_tiny_pinyin_models()
    if name == "reading_comprehension":  # its readers and scorecard (tiny presets)
        from tests.helpers import save_tiny_readers

        save_tiny_readers()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["hl"] = lang
    at.run()
    if name != "home":
        at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, at.exception
    title = at.title[0].value
    if lang == "zh":
        assert title == zh(PAGES[name]) and (name == "home" or re.search(r"[\u4e00-\u9fff]", title)), title
        assert not untranslated_on(at)
    else:
        assert title == PAGES[name]


def test_the_browser_language_chooses_when_the_link_does_not():
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.context = {"locale": "zh-CN"}
    at.run()
    assert not at.exception, at.exception
    assert at.segmented_control(key="lab.hl").value == "zh"
    assert at.query_params["hl"] == ["zh"] or at.query_params["hl"] == "zh"
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.context = {"locale": "de-DE"}
    at.run()
    assert at.segmented_control(key="lab.hl").value == "en"
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.context = {"locale": "de-DE"}
    at.query_params["hl"] = "zh"  # the link wins over the browser
    at.run()
    assert at.segmented_control(key="lab.hl").value == "zh"


def test_switching_the_language_keeps_the_pages_inputs_and_results():
    """The switch sets ``lab.hl`` (the browser test clicks it); the page's keyed inputs and results stay."""
    at = AppTest.from_file(str(ROOT / "pages" / "optimizers.py"), default_timeout=TIMEOUT)
    at.session_state["lab.hl"] = "en"
    at.run()
    at.number_input(key="opt.steps").set_value(300).run()
    at.multiselect(key="opt.specs").set_value(["sgd", "lookahead:sgd"]).run()
    assert not at.exception, at.exception
    summary = at.dataframe[0].value.copy()
    assert at.title[0].value == PAGES["optimizers"]
    at.session_state["lab.hl"] = "zh"
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == zh(PAGES["optimizers"])
    assert at.number_input(key="opt.steps").value == 300
    assert at.multiselect(key="opt.specs").value == ["sgd", "lookahead:sgd"]
    shown = at.dataframe[0].value
    assert list(shown.columns) == list(summary.columns), "the data keeps its keys; the headers are translated"
    assert shown.drop(columns="optimizer").equals(summary.drop(columns="optimizer"))
    assert list(shown["optimizer"]) == ["SGD", "Lookahead(SGD, k=5, alpha=0.5)"]
    assert at.query_params["hl"] in (["zh"], "zh"), "the link carries the language"


def test_dates_numbers_and_lab_errors_follow_the_language():
    def script():
        import streamlit as st

        from core.lab.messages import msg
        from core.lab.textinput import TYPED, InputError
        from ui import i18n

        st.session_state.setdefault("lab.hl", "zh")
        st.markdown(i18n.when(1_764_761_700.0))
        st.markdown(i18n.number(1234567))
        i18n.error(InputError("Type a sentence first: {source} is empty or only whitespace.", source=msg(TYPED)))

    at = AppTest.from_function(script, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert re.fullmatch(r"2025年12月\d+日 \d\d:\d\d", at.markdown[0].value), at.markdown[0].value
    assert at.markdown[1].value == "1,234,567"
    assert at.error[0].value == "请先输入句子：文本框是空的，或者只有空白。"  # the nested key is translated too
    at.session_state["lab.hl"] = "en"
    at.run()
    assert re.fullmatch(r"Dec \d+, 2025 \d\d:\d\d", at.markdown[0].value), at.markdown[0].value
    assert at.error[0].value == "Type a sentence first: the text box is empty or only whitespace."
