"""Integrated gradients: which tokens or pixels drove a classifier's prediction, with completeness checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.attribution import explain
from core.attribution import figures as figs
from core.attribution import ig as A
from core.attribution import jobs as ig_jobs
from core.attribution.classifiers import (
    CLASSIFIERS,
    ClassifierError,
    ImageClassifier,
    TextClassifier,
    is_trained,
)
from core.attribution.targets import OUTPUTS
from core.data.images import DataError, image_from_bytes, load_images
from core.lab.textinput import MAX_SENTENCES, InputError, from_text
from ui import loaders, preparing
from ui.downloads import download_panel
from ui.inputs import image_upload, sentence_form
from ui.models import picker
from ui.share import link_notes, number, publish, seed_state, share_link
from ui.text import md_escape

URL_PATH = "integrated-gradients"
GAP_WARNING = 0.05
EXAMPLES = {"zh-sentiment": "酒店服务很周到，房间干净", "en-sentiment": "A gorgeous, witty and heartfelt film."}


def switch_model(model_id: str) -> None:
    """Pick another classifier (a button callback, so it runs before the picker is drawn)."""
    st.session_state["ig.model"] = st.session_state["ig.model.choice"] = model_id


def wait_or_offer(model_id: str) -> bool:
    """Whether a built-in classifier is ready; if not, show its preparation and offer the ready ones."""
    if model_id not in CLASSIFIERS or preparing.ready(ig_jobs.classifier(model_id), "ig.prepare"):
        return True
    ready = [k for k in CLASSIFIERS if k != model_id and is_trained(k)]
    if ready:
        st.markdown("Ready meanwhile:")
        for k, col in zip(ready, st.columns(len(ready)), strict=True):
            col.button(CLASSIFIERS[k].label, key=f"ig.switch.{k}", on_click=switch_model, args=(k,))
    return False


def classifier_or_error(model_id: str) -> TextClassifier | ImageClassifier | None:
    """The classifier, loaded once per process (built-in ones are trained by the worker, never here)."""
    try:
        with st.spinner(f"Loading {model_id}..."):
            return loaders.classifier(model_id)
    except ClassifierError as exc:
        st.error(str(exc))
        return None


@st.cache_data(show_spinner=False, max_entries=16)
def test_images(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    data = load_images(name)
    return data.x_test, data.y_test, data.class_names


def scorecard(clf) -> None:
    record = clf.record
    if record is None:
        st.caption(
            f"{md_escape(clf.id)}: labels {', '.join(md_escape(label) for label in clf.labels)}. "
            "Not trained here, so no held-out accuracy to show."
        )
        return
    name, best = record.best_baseline
    with st.expander(
        f"{clf.id}: held-out accuracy {100 * record.accuracy:.1f}% "
        f"(best baseline on the same split: {name}, {100 * best:.1f}%)"
    ):
        st.markdown(
            f"{md_escape(CLASSIFIERS[clf.id].description)} Trained on {record.n_train:,} examples, "
            f"scored on {record.n_test:,} held out, in {record.seconds:.0f} s. "
            f"Data: {md_escape(record.source)}."
        )
        st.plotly_chart(
            figs.accuracy_figure(record.accuracy, record.baselines, clf.id), key="ig.accuracy", width="stretch"
        )


def settings(kind: str, clf) -> dict:
    """Method settings in the sidebar; values live in session state (seeded from the URL)."""
    baselines = clf.baselines
    seed_state("ig.steps", "steps", A.DEFAULT_STEPS, number(2, 300, integer=True))
    seed_state("ig.rule", "rule", "gauss-legendre", lambda v: v if v in A.RULES else "gauss-legendre")
    seed_state("ig.output", "output", "probability", lambda v: v if v in OUTPUTS else "probability")
    seed_state("ig.reduction", "reduction", "sum", lambda v: v if v in A.REDUCTIONS else "sum")
    key = f"ig.baseline.{kind}"
    seed_state(key, "baseline", baselines[0], lambda v: v if v in baselines else baselines[0])
    if st.session_state[key] not in baselines:
        st.session_state[key] = baselines[0]
    with st.sidebar:
        st.subheader("Integrated gradients")
        st.slider(
            "Steps m",
            2,
            300,
            key="ig.steps",
            help="Path points for IG (all evaluated in batches). Watch the completeness gap shrink as m grows.",
        )
        st.selectbox("Integration rule", A.RULES, key="ig.rule")
        labels = {
            "zero": "zero embedding",
            "pad": "[PAD] embedding",
            "mask": "[MASK] embedding",
            "random": f"average of {8} random baselines",
            "black": "black image",
            "blurred": "blurred image (Gaussian, sigma 3 px)",
            "noise": "average of 8 uniform-noise images",
        }
        st.selectbox("Baseline x'", baselines, key=key, format_func=lambda b: labels.get(b, b))
        st.radio(
            "Explain",
            OUTPUTS,
            key="ig.output",
            horizontal=True,
            format_func={"probability": "softmax probability", "logit": "logit"}.get,
        )
        if kind == "text":
            st.radio(
                "Score per token",
                A.REDUCTIONS,
                key="ig.reduction",
                horizontal=True,
                format_func={"sum": "sum over hidden (signed)", "l2": "L2 norm"}.get,
            )
        label_options = ["predicted", *clf.labels]
        seed_state("ig.label", "label", "predicted", lambda v: v if v in label_options else "predicted")
        if st.session_state["ig.label"] not in label_options:
            st.session_state["ig.label"] = "predicted"
        st.selectbox("Label to explain", label_options, key="ig.label")
    s = st.session_state
    chosen = s["ig.label"]
    return {
        "steps": int(s["ig.steps"]),
        "rule": s["ig.rule"],
        "baseline": s[key],
        "output": s["ig.output"],
        "reduction": s["ig.reduction"],
        "label": None if chosen == "predicted" else clf.labels.index(chosen),
        "label_name": chosen,
    }


def completeness(e: explain.Explanation) -> None:
    ig = e.results["ig"]
    c = st.columns(5)
    c[0].metric(
        "Prediction", e.label_name if e.label == int(np.argmax(e.probabilities)) else f"{e.label_name} (chosen)"
    )
    c[1].metric(f"F(x) ({e.output})", f"{ig.f_input:.4f}")
    c[2].metric(f"F(x') ({e.baseline})", f"{ig.f_baseline:.4f}")
    c[3].metric("Sum of IG", f"{ig.total:.4f}")
    gap = ig.relative_gap
    c[4].metric(
        "Completeness gap",
        "n/a" if not np.isfinite(gap) else f"{100 * gap:.2f}%",
        help="|sum of IG - (F(x) - F(x'))| / |F(x) - F(x')|",
    )
    if not np.isfinite(gap) or gap > GAP_WARNING:
        st.warning(
            f"The completeness gap is above {100 * GAP_WARNING:.0f}%: the attributions do not add up to "
            f"F(x) - F(x'). Raise the steps or switch the integration rule (Gauss-Legendre converges fastest "
            "on smooth models)."
        )


def convergence_panel(clf, x: np.ndarray, baseline: np.ndarray, e: explain.Explanation, steps: int) -> None:
    if st.toggle(
        "Show how the gap shrinks with the steps (IG at m = 2 ... 128 for three rules, and the adaptive Romberg grid)",
        key="ig.converge",
    ):
        with st.spinner("Integrating at 7 step counts x 3 rules, then the Romberg grid..."):
            histories = explain.convergence(clf, x, baseline, e.label, e.output)
        st.plotly_chart(figs.gap_figure(histories, steps), key="ig.gap", width="stretch")


def text_view(clf: TextClassifier, text: str, opts: dict) -> None:
    try:
        tok = clf.tokenize(text)
        if not tok.tokens:
            st.error("The sentence has no tokens the model can read.")
            return
        with st.spinner("Integrating..."):
            e = loaders.text_explanation(
                clf.id,
                text,
                A.METHODS,
                opts["steps"],
                opts["rule"],
                opts["baseline"],
                opts["output"],
                opts["reduction"],
                opts["label"],
            )
    except (ClassifierError, ValueError) as exc:
        st.error(str(exc))
        return
    if tok.truncated:
        st.info(f"The sentence was cut to its first {clf.max_tokens} tokens.")
    if tok.unknown:
        st.info(f"{tok.unknown} token(s) are unknown to {clf.id} and read as its unknown-token embedding.")
    completeness(e)
    rows = {A.METHOD_LABELS[m]: e.scores[m] for m in A.METHODS}
    heat = figs.token_heatmap(
        e.tokens, rows, f"Why {e.label_name} ({100 * e.probability:.1f}%)? Red pushes towards it, blue away"
    )
    st.plotly_chart(heat, key="ig.heat", width="stretch")
    st.caption(
        "Each row is scaled by its own largest |score|; hover for raw values. Su's variant is an L2 norm "
        "min-max normalised to [0, 1], so it has no sign and does not add up to anything."
    )
    ig = e.results["ig"]
    path = figs.path_figure(ig.alphas, ig.path_values, ig.f_input, ig.f_baseline, f"F = {e.output}")
    st.plotly_chart(path, key="ig.path", width="stretch")
    convergence_panel(clf, tok.embeddings, clf.baseline(tok, opts["baseline"]), e, opts["steps"])
    table = pd.DataFrame({"token": e.tokens, **{A.METHOD_LABELS[m]: e.scores[m] for m in A.METHODS}})
    with st.expander("Scores as a table"):
        st.dataframe(table, hide_index=False, width="stretch")
    with st.expander("Downloads"):
        download_panel(
            [
                ("Token scores (CSV)", lambda: explain.tokens_csv(e), "ig-tokens.csv", "text/csv"),
                ("Everything (JSON)", lambda: explain.to_json(e), "ig.json", "application/json"),
                ("Heatmap (HTML)", heat, "ig-heatmap.html"),
                ("Path (HTML)", path, "ig-path.html"),
            ],
            "ig.dl",
        )


def corpus_view(clf: TextClassifier, sentences: list[str], opts: dict) -> None:
    key = ("ig.corpus.rows", clf.id, tuple(sentences), opts["steps"], opts["rule"], opts["baseline"])
    if st.session_state.get("ig.corpus.key") != key:
        bar = st.progress(0.0, text=f"Explaining {len(sentences)} sentences...")
        rows = explain.corpus_rows(
            clf,
            sentences,
            "ig",
            opts["steps"],
            opts["rule"],
            opts["baseline"],
            progress=lambda f, msg: bar.progress(f, text=msg),
        )
        bar.empty()
        st.session_state["ig.corpus.key"], st.session_state["ig.corpus.table"] = key, rows
    frame = pd.DataFrame(st.session_state["ig.corpus.table"])
    st.subheader(f"{len(frame)} sentences")
    positives = frame["label"].value_counts().to_dict()
    st.caption(
        "Labels: "
        + ", ".join(f"{md_escape(str(k))} {v}" for k, v in positives.items())
        + ". Click a row to open it below."
    )
    event = st.dataframe(
        frame,
        key="ig.corpus.table.view",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        column_config={"probability": st.column_config.ProgressColumn(min_value=0, max_value=1, format="%.3f")},
    )
    download_panel(
        [("Corpus table (CSV)", lambda: frame.to_csv(index=False), "ig-corpus.csv", "text/csv")], "ig.corpus.dl", 1
    )
    picked = event.selection.rows if event and event.selection else []
    if picked:
        st.session_state["ig.sentence"] = str(frame.iloc[picked[0]]["sentence"])


def image_view(clf: ImageClassifier, opts: dict) -> tuple[dict, bool]:
    x_test, y_test, names = test_images(clf.record.config.get("data", "fashion-mnist"))
    seed_state("ig.image", "image", 0, number(0, len(x_test) - 1, integer=True))
    left, right = st.columns([1, 2])
    index = left.number_input(f"Test image (0-{len(x_test) - 1})", 0, len(x_test) - 1, key="ig.image")
    with right:
        upload = image_upload(
            "...or upload an image (converted to grayscale 28 x 28, light backgrounds inverted)", "ig.upload"
        )
    if upload is not None:
        try:
            image = image_from_bytes(upload.name, upload.getvalue(), clf.image_shape)
        except DataError as exc:
            st.error(str(exc))
            return {}, False
        caption = f"your image {upload.name}"
    else:
        image = x_test[int(index)]
        caption = f"test image #{index} (true class: {names[y_test[int(index)]]})"
    try:
        with st.spinner("Integrating..."):
            e = loaders.image_explanation(
                clf.id, image, A.METHODS, opts["steps"], opts["rule"], opts["baseline"], opts["output"], opts["label"]
            )
    except (ClassifierError, ValueError) as exc:
        st.error(str(exc))
        return {}, False
    completeness(e)
    fig = figs.image_figure(
        image,
        {A.METHOD_LABELS[m]: e.scores[m] for m in A.METHODS},
        f"{caption}: predicted {e.label_name} ({100 * e.probability:.1f}%)",
    )
    st.plotly_chart(fig, key="ig.image.fig", width="stretch")
    ig = e.results["ig"]
    path = figs.path_figure(ig.alphas, ig.path_values, ig.f_input, ig.f_baseline, f"F = {e.output}")
    st.plotly_chart(path, key="ig.image.path", width="stretch")
    base = clf.baseline(image, opts["baseline"])
    convergence_panel(clf, image, base, e, opts["steps"])
    with st.expander("Downloads"):
        download_panel(
            [
                ("IG map (CSV)", lambda: explain.pixels_csv(e, "ig"), "ig-pixels.csv", "text/csv"),
                ("Everything (JSON)", lambda: explain.to_json(e), "ig-image.json", "application/json"),
                ("Maps (HTML)", fig, "ig-image.html"),
                ("Path (HTML)", path, "ig-path.html"),
            ],
            "ig.image.dl",
        )
    return {"image": int(index)} if upload is None else {}, True


st.title("Integrated gradients")
st.markdown(
    "Which tokens or pixels drove the prediction? Integrated gradients (Sundararajan et al. 2017; kexue.fm 7533) "
    "integrates the gradient along a straight path from a baseline x' to the input x, so the attributions add up "
    "to F(x) - F(x'): the **completeness gap** below says how well they do. Su's variant from the blog, the plain "
    "gradient and gradient x input are shown beside it. Text is attributed over its token embeddings "
    "(positions and segments stay)."
)

choices = {k: c.label for k, c in CLASSIFIERS.items()}
seed_state("ig.model", "model", "zh-sentiment", str)
with st.sidebar:
    st.subheader("Classifier")
    model_id = picker(
        "ig.model", choices, "zh-sentiment", "Classifier", "a sequence-classification id or /path/to/model"
    )
if not wait_or_offer(model_id):
    link_notes()
    st.stop()
clf = classifier_or_error(model_id)
if clf is None:
    st.stop()
kind = "image" if isinstance(clf, ImageClassifier) else "text"
scorecard(clf)
opts = settings(kind, clf)
params = {
    "model": model_id,
    "steps": opts["steps"],
    "rule": opts["rule"],
    "baseline": opts["baseline"],
    "output": opts["output"],
    "label": None if opts["label"] is None else opts["label_name"],
}

if kind == "image":
    extra, ok = image_view(clf, opts)
    params.update(extra)
else:
    params["reduction"] = opts["reduction"]
    seed_state("ig.sentence", "text", EXAMPLES.get(model_id, ""), str)
    if st.session_state["ig.sentence"] in EXAMPLES.values():  # an example of another model: swap it
        st.session_state["ig.sentence"] = EXAMPLES.get(model_id, st.session_state["ig.sentence"])
    if "ig.text" not in st.session_state:
        st.session_state["ig.text"] = st.session_state["ig.sentence"]
    submitted = sentence_form(
        "ig",
        EXAMPLES.get(model_id, "Type a sentence"),
        f"One sentence, or up to {MAX_SENTENCES} (one per line) for a corpus table.",
    )
    if submitted is not None:
        if len(submitted.sentences) == 1:
            st.session_state["ig.sentence"] = submitted.sentences[0]
            st.session_state.pop("ig.corpus", None)
        else:
            st.session_state["ig.corpus"] = list(submitted.sentences)
    corpus = st.session_state.get("ig.corpus")
    if corpus:
        corpus_view(clf, corpus, opts)
    sentence = st.session_state.get("ig.sentence", "")
    if sentence:
        try:
            sentence = from_text(sentence, source="The sentence").sentences[0]
        except InputError as exc:
            st.error(str(exc))
            sentence = ""
    if sentence:
        st.subheader("Sentence")
        st.markdown(f"> {md_escape(sentence)}")
        text_view(clf, sentence, opts)
        params["text"] = sentence

link_notes()
publish(params)
st.caption(f"Share this view: [{URL_PATH} link]({share_link(URL_PATH, params)}), or copy the address bar.")
