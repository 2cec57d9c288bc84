"""Perturbed masking: what syntax does a BERT encoder know about a sentence?"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.lab import store
from core.lab.textinput import Sentences, corpus_name
from core.models.registry import BUILTIN_ENCODERS, DEFAULT_ENCODER
from core.perturbed_masking import figures as figs
from core.perturbed_masking.impact import (
    DISTANCES,
    MAX_WORDS,
    SentenceAnalysis,
    analyse,
    corpus_table,
    corpus_uas_by_layer,
    decode,
    matrix_csv,
    parses_jsonl,
    to_bytes,
    uas_by_layer,
)
from core.perturbed_masking.parsing import DECODERS, NORMALISATIONS, to_conllu
from ui import loaders
from ui.corpora import corpus_actions, pick_row
from ui.downloads import download_panel
from ui.i18n import N_, _
from ui.inputs import sentence_form
from ui.models import load_or_error, model_picker
from ui.panels.probe import probe_panel
from ui.panels.segmentation import (
    EXAMPLE_ZH,
    corpus_picker,
    save_chinese_corpus,
    show_chinese_corpus,
    show_segmentation,
)
from ui.panels.trees import DISTANCE_NAMES, arc_labels, constituency_title, heat_labels, uas_labels
from ui.share import number, seed_state, share_footer
from ui.text import md_escape

URL_PATH = "perturbed-masking"
KIND = "perturbed-masking"
EXAMPLE = "The old man who lived by the sea caught a huge fish yesterday ."
DECODER_LABELS = {"eisner": N_("Eisner (projective)"), "mst": N_("Chu-Liu/Edmonds (MST)")}
NORM_LABELS = {"paper": N_("softmax as released (column j / row-j sum)"), "row": N_("row softmax")}
ROOT_LABELS = {
    "auto": N_("decoder chooses"),
    "reference": N_("spaCy's root (gold-root setting)"),
    "word": N_("a word I pick"),
}
LANGUAGES = {"en": N_("English: dependency and constituency trees"), "zh": N_("Chinese: word segmentation")}
ROOT_SERIES = {
    "auto": N_("probe, decoder's root"),
    "reference": N_("probe, spaCy's root given"),
    "word": N_("probe, your root"),
}
CORPUS_COLUMNS = {"sentence": N_("sentence"), "words": N_("number of words"), "right-chain UAS": N_("right-chain UAS")}


def corpus_root(settings: dict) -> str:
    """A picked word means nothing across sentences: corpus scores let the decoder choose."""
    return "auto" if settings["root"] == "word" else settings["root"]


def settings_sidebar(lang: str) -> dict:
    seed_state("pm.model", "model", DEFAULT_ENCODER)
    seed_state("pm.distance", "distance", "euclidean", lambda v: v if v in DISTANCES else "euclidean")
    seed_state("pm.decoder", "decoder", "eisner", lambda v: v if v in DECODERS else "eisner")
    seed_state("pm.norm", "norm", "paper", lambda v: v if v in NORMALISATIONS else "paper")
    seed_state("pm.root", "root", "auto", lambda v: v if v in ROOT_LABELS else "auto")
    with st.sidebar:
        st.subheader(_("Probe settings"))
        model_picker("pm.model")
        if lang == "zh":
            return {"model": st.session_state["pm.model"], "corpus": corpus_picker()}
        st.radio(
            _("Distance d"),
            DISTANCES,
            key="pm.distance",
            horizontal=True,
            format_func=lambda d: _(DISTANCE_NAMES[d]),
            help=_("How far the masked word's hidden state moves when the second word is masked too."),
        )
        st.selectbox(
            _("Dependency decoder"), list(DECODERS), key="pm.decoder", format_func=lambda d: _(DECODER_LABELS[d])
        )
        st.selectbox(_("Normalisation"), NORMALISATIONS, key="pm.norm", format_func=lambda n: _(NORM_LABELS[n]))
        st.selectbox(
            _("Root word"),
            list(ROOT_LABELS),
            key="pm.root",
            format_func=lambda r: _(ROOT_LABELS[r]),
            help=_("By default the decoder picks the root: the word whose masking disturbs the others most."),
        )
    return {k: st.session_state[f"pm.{k}"] for k in ("model", "distance", "decoder", "norm", "root")}


def layer_slider(n_layers: int, default: int) -> int:
    seed_state("pm.layer", "layer", default, number(0, 10_000, integer=True))
    if not 0 <= st.session_state["pm.layer"] <= n_layers:
        st.session_state["pm.layer"] = min(default, n_layers)
    return st.slider(_("Layer (0 = embeddings)"), 0, n_layers, key="pm.layer")


def run_corpus(sentences: Sentences, settings: dict) -> str | None:
    enc = load_or_error(settings["model"])
    if enc is None:
        return None
    bar = st.progress(0.0, text=_("Analysing the corpus"))
    analyses = []
    n = len(sentences.sentences)
    for i, sentence in enumerate(sentences.sentences):
        bar.progress(i / n, text=_("Sentence {i} of {n}: {text}").format(i=i + 1, n=n, text=md_escape(sentence[:60])))
        analyses.append(analyse(enc, sentence, distance=settings["distance"]))
    bar.progress(1.0, text=_("Scoring every layer"))
    per_layer, chain = corpus_uas_by_layer(analyses, settings["decoder"], settings["norm"], corpus_root(settings))
    corpus_id = store.save(
        KIND,
        corpus_name(sentences),
        {"model": settings["model"], "distance": settings["distance"], "column": sentences.column},
        [(a.text, to_bytes(a)) for a in analyses],
        {"uas_by_layer": per_layer, "right_chain_uas": chain},
    )
    bar.empty()
    return corpus_id


def show_sentence(analysis: SentenceAnalysis, settings: dict, default_layer: int, key: str) -> dict:
    """The single-sentence view; returns the parse record shown (for downloads)."""
    words = analysis.words
    if analysis.impact.dropped_words:
        st.warning(
            _(
                "The sentence was cut to its first {n} words ({dropped} dropped): the lab analyses at most {most} "
                "words, within the encoder's token limit."
            ).format(n=len(words), dropped=analysis.impact.dropped_words, most=MAX_WORDS)
        )
    if len(words) < 2:
        st.info(_("Perturbed masking needs at least two words."))
        return {}
    layer = layer_slider(analysis.n_layers, default_layer)
    root = settings["root"]
    if root == "word":
        seed_state("pm.root_word", "rootword", 1, number(1, 10_000, integer=True))
        if not 1 <= st.session_state["pm.root_word"] <= len(words):
            st.session_state["pm.root_word"] = 1
        root = st.selectbox(
            _("Root word"),
            list(range(1, len(words) + 1)),
            key="pm.root_word",
            format_func=lambda i: f"{i} {words[i - 1]}",
        )
    report = decode(analysis, layer, settings["decoder"], settings["norm"], root)
    if not analysis.impact.layer(layer).any():
        st.info(
            _(
                "At this layer masking one word cannot change another (layer 0 holds no context): the impact "
                "matrix is zero, so the trees below are an arbitrary tie-break, not structure."
            )
        )
    ref = analysis.reference
    card = BUILTIN_ENCODERS.get(analysis.impact.model)

    c1, c2, c3 = st.columns(3)
    na = _("n/a")
    c1.metric(_("Probe UAS vs spaCy"), na if report.uas is None else f"{report.uas:.1f}")
    c2.metric(_("Right-chain UAS vs spaCy"), na if report.right_chain_uas is None else f"{report.right_chain_uas:.1f}")
    c3.metric(_("spaCy en_core_web_sm (its own gold UAS)"), "91.8")
    st.caption(
        _(
            "UAS in percent, punctuation excluded, against spaCy's parse of the same words (a silver reference in "
            "spaCy's own annotation scheme). The paper: BERT-base layer 12 + Eisner, gold root, UAS 41.7 on "
            "English PUD."
        )
        + (" " + _(card.scorecard) if card else "")
    )

    left, right = st.columns([1, 1])
    heat = figs.impact_heatmap(words, analysis.impact.layer(layer), heat_labels(layer, analysis.impact.distance))
    arcs = figs.dependency_arcs(
        words,
        report.heads,
        ref.heads if ref else None,
        arc_labels(
            _("Dependency tree ({decoder}), layer {layer}").format(
                decoder=_(DECODER_LABELS[report.decoder]), layer=layer
            )
        ),
    )
    tree = figs.constituency_tree(report.constituency, words, constituency_title())
    series = {_(ROOT_SERIES[settings["root"]]): uas_by_layer(analysis, settings["decoder"], settings["norm"], root)}
    if settings["root"] == "auto" and ref is not None:
        series[_(ROOT_SERIES["reference"])] = uas_by_layer(analysis, settings["decoder"], settings["norm"], "reference")
    per_layer = figs.uas_by_layer(series, report.right_chain_uas, uas_labels())
    left.plotly_chart(heat, key=f"{key}.heat", width="stretch")
    right.plotly_chart(per_layer, key=f"{key}.layers", width="stretch")
    st.plotly_chart(arcs, key=f"{key}.arcs", width="stretch")
    st.plotly_chart(tree, key=f"{key}.tree", width="stretch")
    st.markdown(_("**Bracketed tree**"))
    st.code(report.tree, language=None)

    record = {
        "text": analysis.text,
        "model": analysis.impact.model,
        "layer": layer,
        "distance": analysis.impact.distance,
        "decoder": report.decoder,
        "normalisation": report.normalisation,
        "words": list(words),
        "heads": list(report.heads),
        "tree": report.tree,
        "uas_vs_spacy": report.uas,
        "right_chain_uas": report.right_chain_uas,
        "spacy_heads": list(ref.heads) if ref else None,
    }
    with st.expander(_("Downloads"), expanded=False):
        download_panel(
            [
                (
                    _("Matrix (CSV)"),
                    lambda: matrix_csv(words, analysis.impact.layer(layer)),
                    f"impact-layer{layer}.csv",
                    "text/csv",
                ),
                (
                    _("Analysis (JSON)"),
                    lambda: json.dumps({**record, "matrices": analysis.impact.matrices.tolist()}, ensure_ascii=False),
                    "analysis.json",
                    "application/json",
                ),
                (
                    _("Tree (CoNLL-U)"),
                    lambda: to_conllu(words, report.heads, f"{report.decoder}, layer {layer}"),
                    "tree.conllu",
                    "text/plain",
                ),
                (_("Tree (bracketed)"), report.tree + "\n", "tree.txt", "text/plain"),
                (_("Heatmap (HTML)"), heat, "impact-matrix.html"),
                (_("Dependency tree (HTML)"), arcs, "dependency-tree.html"),
                (_("Constituency tree (HTML)"), tree, "constituency-tree.html"),
                (_("UAS by layer (HTML)"), per_layer, "uas-by-layer.html"),
            ],
            f"{key}.dl",
            n_cols=4,
        )
    return record


def show_corpus(corpus_id: str, settings: dict) -> dict:
    meta = store.get(corpus_id)
    if meta is not None and meta.params.get("lang") == "zh":
        st.error(_("{name} is a Chinese corpus: choose Chinese above to open it.").format(name=md_escape(meta.name)))
        return {}
    meta, analyses = loaders.saved_corpus(corpus_id)
    if meta is None:
        st.error(_("No saved analysis {id}: it was deleted, or the link is mistyped.").format(id=repr(corpus_id)))
        return {}
    model = meta.params.get("model", "?")
    distance = meta.params.get("distance")
    st.subheader(_("Corpus: {name}").format(name=md_escape(meta.name)))
    st.caption(
        _("{n} sentences, encoder {model}, {distance} distance. Saved; this page's link reopens it.").format(
            n=meta.n_items, model=md_escape(str(model)), distance=_(DISTANCE_NAMES.get(distance, str(distance)))
        )
    )
    per_layer, chain = loaders.corpus_layers(corpus_id, settings["decoder"], settings["norm"], corpus_root(settings))
    st.plotly_chart(
        figs.uas_by_layer({_("probe (corpus)"): per_layer}, chain, uas_labels(_("Corpus UAS per layer"))),
        key="pm.corpus.layers",
        width="stretch",
    )
    default_layer = BUILTIN_ENCODERS[model].default_layer if model in BUILTIN_ENCODERS else analyses[0].n_layers
    seed_state("pm.layer", "layer", default_layer, number(0, 10_000, integer=True))
    layer = min(st.session_state["pm.layer"], analyses[0].n_layers)
    rows, reports = corpus_table(analyses, layer, settings["decoder"], settings["norm"], corpus_root(settings))
    table = pd.DataFrame(rows)
    row = pick_row(
        table,
        "pm.corpus",
        _("**Sentences** (layer {layer}; click a row to open it, click a header to sort)").format(layer=layer),
        CORPUS_COLUMNS,
    )

    def forget() -> None:
        loaders.saved_corpus.clear()
        st.session_state["pm.corpus"] = None

    corpus_actions(
        corpus_id,
        table,
        (_("Parses (JSON Lines)"), lambda: parses_jsonl(analyses, reports), "corpus"),
        "pm.corpus",
        forget,
    )
    st.divider()
    st.subheader(_("Sentence {n}").format(n=row + 1))
    return show_sentence(analyses[row], settings, default_layer, key="pm.corpus.sentence")


st.title(_("Perturbed masking"))
st.markdown(
    _(
        "Mask a word, then mask a second one too, and measure how much the first word's hidden state moves: that is "
        "the **impact** of the second word on the first (Wu et al., ACL 2020; kexue.fm 7476). The impact matrix of a "
        "sentence, decoded, gives a dependency tree and a constituency tree without any parser training."
    )
)
saved = store.get(st.query_params["corpus"]) if "corpus" in st.query_params else None
saved_lang = saved.params.get("lang", "en") if saved else "en"  # a saved corpus's link opens in its language
seed_state("pm.lang", "lang", saved_lang, lambda v: v if v in LANGUAGES else "en")
lang = st.radio(
    _("Analysis language"),
    list(LANGUAGES),
    key="pm.lang",
    format_func=lambda k: _(LANGUAGES[k]),
    horizontal=True,
    label_visibility="collapsed",
)
settings = settings_sidebar(lang)
probe_panel()
if lang == "zh":
    seed_state("pm.zh", "s", EXAMPLE_ZH)
    if st.session_state.get("pm.text_lang") != lang:
        st.session_state["pm.text"] = st.session_state["pm.zh"]
        st.session_state["pm.text_lang"] = lang
    seed_state("pm.zh.saved", "corpus", None)
    submitted = sentence_form(
        "pm", placeholder=EXAMPLE_ZH, help_text=_("Chinese text, one sentence per line: several lines are saved.")
    )
    if submitted is not None:
        if len(submitted.sentences) == 1:
            st.session_state["pm.zh"] = submitted.sentences[0]
            st.session_state["pm.zh.saved"] = None
        else:
            new_id = save_chinese_corpus(KIND, submitted, settings["model"], settings["corpus"])
            if new_id:
                st.session_state["pm.zh.saved"], st.session_state["pm.zh.row"] = new_id, 0
    params = {"lang": "zh", "model": settings["model"], "s": st.session_state["pm.zh"]}
    saved_id = st.session_state.get("pm.zh.saved")
    if saved_id:
        row = show_chinese_corpus(saved_id)
        params = {"lang": "zh", "model": settings["model"], "corpus": saved_id, "row": row}
    params.update(show_segmentation(settings["model"], st.session_state["pm.zh"], settings["corpus"]))
    share_footer(URL_PATH, params)
    st.stop()

seed_state("pm.sentence", "s", "" if "corpus" in st.query_params else EXAMPLE)
seed_state("pm.corpus", "corpus", None)
if st.session_state.get("pm.text_lang") != lang:
    st.session_state["pm.text"] = st.session_state["pm.sentence"]
    st.session_state["pm.text_lang"] = lang

submitted = sentence_form("pm", placeholder=EXAMPLE)
if submitted is not None:
    if len(submitted.sentences) == 1:
        st.session_state["pm.sentence"] = submitted.sentences[0]
        st.session_state["pm.corpus"] = None
    else:
        new_id = run_corpus(submitted, settings)
        if new_id:
            st.session_state["pm.corpus"] = new_id
            st.session_state["pm.corpus.row"] = 0

corpus_id = st.session_state.get("pm.corpus")
params = {k: settings[k] for k in ("model", "distance", "decoder", "norm", "root")}
if corpus_id:
    show_corpus(corpus_id, settings)
    params = {
        "corpus": corpus_id,
        "row": st.session_state.get("pm.corpus.row"),
        "layer": st.session_state.get("pm.layer"),
        **{k: settings[k] for k in ("decoder", "norm", "root")},
    }
elif st.session_state["pm.sentence"]:
    enc = load_or_error(settings["model"])
    if enc is not None:
        with st.spinner(_("Masking every word and every pair of words...")):
            analysis = loaders.analysis(settings["model"], st.session_state["pm.sentence"], settings["distance"])
        show_sentence(analysis, settings, enc.default_layer, key="pm.sentence")
        params = {"s": st.session_state["pm.sentence"], "layer": st.session_state.get("pm.layer"), **params}

if settings["root"] == "word":
    params["rootword"] = st.session_state.get("pm.root_word")
share_footer(URL_PATH, params)
