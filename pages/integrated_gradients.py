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
from core.lab.textinput import MAX_SENTENCES, SENTENCE, InputError, from_text
from ui import i18n, loaders, preparing
from ui.downloads import download_panel
from ui.i18n import N_, _, error, headers
from ui.inputs import image_upload, sentence_form
from ui.models import picker
from ui.share import link_notes, number, seed_state, share_footer
from ui.text import md_escape

URL_PATH = "integrated-gradients"
GAP_WARNING = 0.05
EXAMPLES = {  # not-ui-text: example sentences (data)
    "zh-sentiment": "酒店服务很周到，房间干净",
    "en-sentiment": "A gorgeous, witty and heartfelt film.",
}
METHOD_LABELS = {
    "ig": N_("Integrated gradients"),
    "blog": N_("Su's variant (blog, kexue.fm 7533)"),
    "gradient": N_("Gradient"),
    "grad-x-input": N_("Gradient x input"),
}
BASELINE_LABELS = {
    "zero": N_("zero embedding"),
    "pad": N_("[PAD] embedding"),
    "mask": N_("[MASK] embedding"),
    "random": N_("average of 8 random baselines"),
    "black": N_("black image"),
    "blurred": N_("blurred image (Gaussian, sigma 3 px)"),
    "noise": N_("average of 8 uniform-noise images"),
}
RULE_LABELS = {
    "gauss-legendre": N_("Gauss-Legendre"),
    "trapezoid": N_("trapezoid"),
    "midpoint": N_("midpoint"),
    "left": N_("left Riemann sum"),
    "right": N_("right Riemann sum"),
}
OUTPUT_LABELS = {"probability": N_("softmax probability"), "logit": N_("logit")}
REDUCTION_LABELS = {"sum": N_("sum over hidden (signed)"), "l2": N_("L2 norm")}
CORPUS_COLUMNS = {
    "sentence": N_("sentence"),
    "label": N_("label"),
    "probability": N_("probability"),
    "gap": N_("completeness gap"),
    "top tokens": N_("top tokens"),
}


def method_rows(scores: dict) -> dict:
    """The methods' scores under their names as the page shows them."""
    return {_(METHOD_LABELS[m]): scores[m] for m in A.METHODS}


def path_labels(output: str) -> dict[str, str]:
    return {
        "title": _("The prediction along the integration path"),
        "x": _("a (0 = baseline, 1 = input)"),
        "y": "F = " + _(OUTPUT_LABELS.get(output, output)),
    }


def switch_model(model_id: str) -> None:
    """Pick another classifier (a button callback, so it runs before the picker is drawn)."""
    st.session_state["ig.model"] = st.session_state["ig.model.choice"] = model_id


def wait_or_offer(model_id: str) -> bool:
    """Whether a built-in classifier is ready; if not, show its preparation and offer the ready ones."""
    if model_id not in CLASSIFIERS or preparing.ready(ig_jobs.classifier(model_id), "ig.prepare"):
        return True
    ready = [k for k in CLASSIFIERS if k != model_id and is_trained(k)]
    if ready:
        st.markdown(_("Ready meanwhile:"))
        for k, col in zip(ready, st.columns(len(ready)), strict=True):
            col.button(_(CLASSIFIERS[k].label), key=f"ig.switch.{k}", on_click=switch_model, args=(k,))
    return False


def classifier_or_error(model_id: str) -> TextClassifier | ImageClassifier | None:
    """The classifier, loaded once per process (built-in ones are trained by the worker, never here)."""
    try:
        with st.spinner(_("Loading {model}...").format(model=model_id)):
            return loaders.classifier(model_id)
    except ClassifierError as exc:
        error(exc)
        return None


@st.cache_data(show_spinner=False, max_entries=16)
def test_images(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    data = load_images(name)
    return data.x_test, data.y_test, data.class_names


def scorecard(clf) -> None:
    record = clf.record
    if record is None:
        st.caption(
            _("{model}: labels {labels}. Not trained here, so no held-out accuracy to show.").format(
                model=md_escape(clf.id), labels=", ".join(md_escape(_(label)) for label in clf.labels)
            )
        )
        return
    name, best = record.best_baseline
    with st.expander(
        _("{model}: held-out accuracy {accuracy:.1f}% (best baseline on the same split: {name}, {best:.1f}%)").format(
            model=clf.id, accuracy=100 * record.accuracy, name=_(name), best=100 * best
        )
    ):
        st.markdown(
            _(CLASSIFIERS[clf.id].description)
            + " "
            + _(
                "Trained on {n_train} examples, scored on {n_test} held out, in {seconds:.0f} s. Data: {source}."
            ).format(
                n_train=i18n.number(record.n_train),
                n_test=i18n.number(record.n_test),
                seconds=record.seconds,
                source=md_escape(record.source),
            )
        )
        baselines = {_(k): v for k, v in record.baselines.items()}
        st.plotly_chart(
            figs.accuracy_figure(record.accuracy, baselines, clf.id, _("Held-out accuracy (same split)")),
            key="ig.accuracy",
            width="stretch",
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
        st.subheader(_("Integrated gradients"))
        st.slider(
            _("Steps m"),
            2,
            300,
            key="ig.steps",
            help=_("Path points for IG (all evaluated in batches). Watch the completeness gap shrink as m grows."),
        )
        st.selectbox(_("Integration rule"), A.RULES, key="ig.rule", format_func=lambda r: _(RULE_LABELS.get(r, r)))
        st.selectbox(_("Baseline x'"), baselines, key=key, format_func=lambda b: _(BASELINE_LABELS.get(b, b)))
        st.radio(
            _("Explain"),
            OUTPUTS,
            key="ig.output",
            horizontal=True,
            format_func=lambda o: _(OUTPUT_LABELS[o]),
        )
        if kind == "text":
            st.radio(
                _("Score per token"),
                A.REDUCTIONS,
                key="ig.reduction",
                horizontal=True,
                format_func=lambda r: _(REDUCTION_LABELS[r]),
            )
        label_options = ["predicted", *clf.labels]
        seed_state("ig.label", "label", "predicted", lambda v: v if v in label_options else "predicted")
        if st.session_state["ig.label"] not in label_options:
            st.session_state["ig.label"] = "predicted"
        st.selectbox(
            _("Label to explain"),
            label_options,
            key="ig.label",
            format_func=lambda v: _("the predicted label") if v == "predicted" else _(v),
        )
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
    label = _(e.label_name)
    c[0].metric(
        _("Prediction"),
        label if e.label == int(np.argmax(e.probabilities)) else _("{label} (chosen)").format(label=label),
    )
    c[1].metric(f"F(x) ({_(OUTPUT_LABELS.get(e.output, e.output))})", f"{ig.f_input:.4f}")
    c[2].metric(f"F(x') ({_(BASELINE_LABELS.get(e.baseline, e.baseline))})", f"{ig.f_baseline:.4f}")
    c[3].metric(_("Sum of IG"), f"{ig.total:.4f}")
    gap = ig.relative_gap
    c[4].metric(
        _("Completeness gap"),
        _("n/a") if not np.isfinite(gap) else f"{100 * gap:.2f}%",
        help="|sum of IG - (F(x) - F(x'))| / |F(x) - F(x')|",  # not-ui-text: a formula
    )
    if not np.isfinite(gap) or gap > GAP_WARNING:
        st.warning(
            _(
                "The completeness gap is above {limit:.0f}%: the attributions do not add up to F(x) - F(x'). Raise "
                "the steps or switch the integration rule (Gauss-Legendre converges fastest on smooth models)."
            ).format(limit=100 * GAP_WARNING)
        )


def convergence_panel(clf, x: np.ndarray, baseline: np.ndarray, e: explain.Explanation, steps: int) -> None:
    if st.toggle(
        _(
            "Show how the gap shrinks with the steps (IG at m = 2 ... 128 for three rules, and the adaptive "
            "Romberg grid)"
        ),
        key="ig.converge",
    ):
        with st.spinner(_("Integrating at 7 step counts x 3 rules, then the Romberg grid...")):
            histories = explain.convergence(clf, x, baseline, e.label, e.output)
        named = {_(RULE_LABELS.get(rule, rule)): history for rule, history in histories.items()}
        labels = {
            "title": _("Completeness gap |sum IG - (F(x) - F(x'))| / |F(x) - F(x')| as steps grow"),
            "x": _("steps m (path points)"),
            "y": _("relative gap"),
            "warning": _("5% (warning)"),
            "chosen": _("m = {m} (slider)"),
        }
        st.plotly_chart(figs.gap_figure(named, steps, labels), key="ig.gap", width="stretch")


def text_view(clf: TextClassifier, text: str, opts: dict) -> None:
    try:
        tok = clf.tokenize(text)
        if not tok.tokens:
            st.error(_("The sentence has no tokens the model can read."))
            return
        with st.spinner(_("Integrating...")):
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
        error(exc)
        return
    if tok.truncated:
        st.info(_("The sentence was cut to its first {n} tokens.").format(n=clf.max_tokens))
    if tok.unknown:
        st.info(
            _("{n} token(s) are unknown to {model} and read as its unknown-token embedding.").format(
                n=tok.unknown, model=clf.id
            )
        )
    completeness(e)
    heat = figs.token_heatmap(
        e.tokens,
        method_rows(e.scores),
        {
            "title": _("Why {label} ({p:.1f}%)? Red pushes towards it, blue away").format(
                label=_(e.label_name), p=100 * e.probability
            ),
            "x": _("token"),
            "colorbar": _("score / max |score|"),
            "hover": _("token {i}: {token}<br>{method}<br>score {score}"),
        },
    )
    st.plotly_chart(heat, key="ig.heat", width="stretch")
    st.caption(
        _(
            "Each row is scaled by its own largest |score|; hover for raw values. Su's variant is an L2 norm "
            "min-max normalised to [0, 1], so it has no sign and does not add up to anything."
        )
    )
    ig = e.results["ig"]
    path = figs.path_figure(ig.alphas, ig.path_values, ig.f_input, ig.f_baseline, path_labels(e.output))
    st.plotly_chart(path, key="ig.path", width="stretch")
    convergence_panel(clf, tok.embeddings, clf.baseline(tok, opts["baseline"]), e, opts["steps"])
    table = pd.DataFrame({_("token"): e.tokens, **method_rows(e.scores)})
    with st.expander(_("Scores as a table")):
        st.dataframe(table, hide_index=False, width="stretch")
    with st.expander(_("Downloads")):
        download_panel(
            [
                (_("Token scores (CSV)"), lambda: explain.tokens_csv(e), "ig-tokens.csv", "text/csv"),
                (_("Everything (JSON)"), lambda: explain.to_json(e), "ig.json", "application/json"),
                (_("Heatmap (HTML)"), heat, "ig-heatmap.html"),
                (_("Path (HTML)"), path, "ig-path.html"),
            ],
            "ig.dl",
        )


def corpus_view(clf: TextClassifier, sentences: list[str], opts: dict) -> None:
    key = ("ig.corpus.rows", clf.id, tuple(sentences), opts["steps"], opts["rule"], opts["baseline"])
    if st.session_state.get("ig.corpus.key") != key:
        bar = st.progress(0.0, text=_("Explaining {n} sentences...").format(n=len(sentences)))
        rows = explain.corpus_rows(
            clf,
            sentences,
            "ig",
            opts["steps"],
            opts["rule"],
            opts["baseline"],
            progress=lambda f, m: bar.progress(f, text=i18n.text(m)),
        )
        bar.empty()
        st.session_state["ig.corpus.key"], st.session_state["ig.corpus.table"] = key, rows
    frame = pd.DataFrame(st.session_state["ig.corpus.table"])
    st.subheader(_("{n} sentences").format(n=len(frame)))
    positives = frame["label"].value_counts().to_dict()
    st.caption(
        _("Labels: {counts}. Click a row to open it below.").format(
            counts=", ".join(f"{md_escape(_(str(k)))} {v}" for k, v in positives.items())
        )
    )
    shown = frame.assign(label=frame["label"].map(lambda v: _(v) if v else v))
    event = st.dataframe(
        shown,
        key="ig.corpus.table.view",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        column_config={
            **headers(CORPUS_COLUMNS),
            "probability": st.column_config.ProgressColumn(
                _(CORPUS_COLUMNS["probability"]), min_value=0, max_value=1, format="%.3f"
            ),
        },
    )
    download_panel(
        [(_("Corpus table (CSV)"), lambda: frame.to_csv(index=False), "ig-corpus.csv", "text/csv")], "ig.corpus.dl", 1
    )
    picked = event.selection.rows if event and event.selection else []
    if picked:
        st.session_state["ig.sentence"] = str(frame.iloc[picked[0]]["sentence"])


def image_view(clf: ImageClassifier, opts: dict) -> tuple[dict, bool]:
    x_test, y_test, names = test_images(clf.record.config.get("data", "fashion-mnist"))
    seed_state("ig.image", "image", 0, number(0, len(x_test) - 1, integer=True))
    left, right = st.columns([1, 2])
    index = left.number_input(
        _("Test image (0-{last})").format(last=len(x_test) - 1), 0, len(x_test) - 1, key="ig.image"
    )
    with right:
        upload = image_upload(
            _("...or upload an image (converted to grayscale 28 x 28, light backgrounds inverted)"), "ig.upload"
        )
    if upload is not None:
        try:
            image = image_from_bytes(upload.name, upload.getvalue(), clf.image_shape)
        except DataError as exc:
            error(exc)
            return {}, False
        caption = _("your image {name}").format(name=upload.name)
    else:
        image = x_test[int(index)]
        caption = _("test image #{i} (true class: {name})").format(i=index, name=_(names[y_test[int(index)]]))
    try:
        with st.spinner(_("Integrating...")):
            e = loaders.image_explanation(
                clf.id, image, A.METHODS, opts["steps"], opts["rule"], opts["baseline"], opts["output"], opts["label"]
            )
    except (ClassifierError, ValueError) as exc:
        error(exc)
        return {}, False
    completeness(e)
    fig = figs.image_figure(
        image,
        method_rows(e.scores),
        {
            "title": _("{image}: predicted {label} ({p:.1f}%)").format(
                image=caption, label=_(e.label_name), p=100 * e.probability
            ),
            "attribution": _("attribution"),
            "overlay": _("overlay"),
            "colorbar": _("score / max"),
            "pixel": _("pixel {x},{y}: {value}"),
        },
    )
    st.plotly_chart(fig, key="ig.image.fig", width="stretch")
    ig = e.results["ig"]
    path = figs.path_figure(ig.alphas, ig.path_values, ig.f_input, ig.f_baseline, path_labels(e.output))
    st.plotly_chart(path, key="ig.image.path", width="stretch")
    base = clf.baseline(image, opts["baseline"])
    convergence_panel(clf, image, base, e, opts["steps"])
    with st.expander(_("Downloads")):
        download_panel(
            [
                (_("IG map (CSV)"), lambda: explain.pixels_csv(e, "ig"), "ig-pixels.csv", "text/csv"),
                (_("Everything (JSON)"), lambda: explain.to_json(e), "ig-image.json", "application/json"),
                (_("Maps (HTML)"), fig, "ig-image.html"),
                (_("Path (HTML)"), path, "ig-path.html"),
            ],
            "ig.image.dl",
        )
    return {"image": int(index)} if upload is None else {}, True


st.title(_("Integrated gradients"))
st.markdown(
    _(
        "Which tokens or pixels drove the prediction? Integrated gradients (Sundararajan et al. 2017; kexue.fm "
        "7533) integrates the gradient along a straight path from a baseline x' to the input x, so the attributions "
        "add up to F(x) - F(x'): the **completeness gap** below says how well they do. Su's variant from the blog, "
        "the plain gradient and gradient x input are shown beside it. Text is attributed over its token embeddings "
        "(positions and segments stay)."
    )
)

choices = {k: c.label for k, c in CLASSIFIERS.items()}
seed_state("ig.model", "model", "zh-sentiment", str)
with st.sidebar:
    st.subheader(_("Classifier"))
    model_id = picker(
        "ig.model", choices, "zh-sentiment", _("Classifier"), _("a sequence-classification id or /path/to/model")
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
        EXAMPLES.get(model_id, _("Type a sentence")),
        _("One sentence, or up to {n} (one per line) for a corpus table.").format(n=MAX_SENTENCES),
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
            sentence = from_text(sentence, source=SENTENCE).sentences[0]
        except InputError as exc:
            error(exc)
            sentence = ""
    if sentence:
        st.subheader(_("Sentence"))
        st.markdown(f"> {md_escape(sentence)}")
        text_view(clf, sentence, opts)
        params["text"] = sentence

share_footer(URL_PATH, params)
