"""Reading comprehension: a DGCNN trained here answers questions about a Chinese passage, and shows where it
looked."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.lab.errors import LabError
from core.lab.trained import card
from core.reading_comprehension import figures as figs
from core.reading_comprehension import jobs as rc_jobs
from core.reading_comprehension.model import PASSAGE_DILATIONS, receptive_field
from core.reading_comprehension.reader import MAX_PASSAGE, ReaderError, check
from core.reading_comprehension.scorecard import ANCHORS, load_scorecard, verdict
from core.reading_comprehension.training import MAX_ANSWER, is_trained, model_name
from ui import preparing
from ui.downloads import download_panel
from ui.i18n import N_, _, error, headers, text
from ui.loaders import reading_answer, reading_examples
from ui.share import number, seed_state, share_footer
from ui.tables import score_table
from ui.text import md_escape

URL_PATH = "reading-comprehension"
LINK_LIMIT = 1000  # characters of passage a share link carries (a longer one: the link names the example)
# A passage written for the default view (not from the data) and a question whose sentence it does not hold,
# as in the questions the readers were trained on; two people in it, of the asked-for kind.
DEFAULT_PASSAGE = (  # not-ui-text: data
    "新华社北京１月５日电　会见时，国务院总理李鹏说，中日两国是近邻，发展长期稳定的睦邻友好关系符合两国人民的"
    "根本利益。日本客人表示，愿为促进两国的交流作出努力。外交部副部长唐家璇参加了会见。"
)
DEFAULT_QUESTION = "谁今天在人民大会堂会见了来访的日本客人？"  # not-ui-text: data
READERS = {"dgcnn": N_("DGCNN"), "bilstm": N_("BiLSTM (baseline)")}
SYSTEMS = {
    **READERS,
    "frequent": N_("most frequent entity (baseline)"),
    "lexical": N_("question words near the entity (baseline)"),
}
SPAN_COLUMNS = {"rank": N_("rank"), "text": N_("span"), "start": N_("start"), "end": N_("end"), "score": N_("score")}
SCORE_COLUMNS = {
    "system": N_("system"),
    "em": N_("exact match (EM)"),
    "f1": N_("character F1"),
    "gate_accuracy": N_("gate accuracy"),
    "gate_auc": N_("gate AUC"),
    "speed": N_("questions / s"),
}
ANCHOR_COLUMNS = {"source": N_("data set"), "system": N_("system"), "figure": N_("published figure")}


def system_name(system: str) -> str:
    return _(SYSTEMS.get(system, system))


def reader_choice(raw: str) -> str:
    if raw not in READERS:
        raise ValueError(raw)
    return raw


def load_example(i: int) -> None:
    """Fill the inputs with test example ``i`` (a button callback, so it runs before the inputs are drawn)."""
    examples = reading_examples()
    if not examples:
        return
    i %= len(examples)
    st.session_state["rc.example"] = i
    st.session_state["rc.passage"] = examples[i].passage
    st.session_state["rc.question"] = examples[i].question


def shown_example(examples: tuple, passage: str, question: str) -> int | None:
    """The example the inputs hold, unless the visitor has edited them since."""
    i = st.session_state.get("rc.example")
    if i is None or not examples or not 0 <= i < len(examples):
        return None
    q = examples[i]
    return i if (q.passage, q.question) == (passage.strip(), question.strip()) else None


def answer_section(result: dict, passage: str, question: str, gold) -> list:  # noqa: ANN001 - a Question or None
    """The answer, its heatmap, top spans, attention and receptive field; returns the downloads."""
    c1, c2, c3 = st.columns([3, 1, 1])
    c1.metric(_("Answer"), md_escape(result["answer"]) if result["answer"] else "—")
    c2.metric(_("Span score"), f"{result['score']:.3f}", help=_("p(start) x p(end) of the span, both gated"))
    c3.metric(
        _("Gate: an answer is here"),
        f"{result['gate']:.1%}",
        help=_("The passage-level gate (has the passage an answer?) multiplies every start and end probability."),
    )
    if result["gate"] < 0.5:
        st.warning(
            _("The gate says this passage probably does not answer the question ({gate:.0%}).").format(
                gate=result["gate"]
            )
        )
    if gold is not None:
        right = result["answer"] == gold.answer
        line = _("Gold answer: {gold} (found {n} times in the passage): the reader is {verdict}.").format(
            gold=md_escape(gold.answer), n=len(gold.spans), verdict=_("right") if right else _("wrong")
        )
        (st.success if right else st.error)(line)
    span = (result["start"], result["end"]) if result["answer"] else None
    heat = figs.passage_heatmap(
        passage,
        result["start_probs"],
        result["end_probs"],
        span,
        {
            "title": _("Start and end probability of every character"),
            "start": _("start"),
            "end": _("end"),
            "probability": _("probability"),
            "hover_char": _("character {i}: {char}"),
            "hover_prob": _("character {i} ({char}): p({row}) = {p}"),
        },
        gold=gold.spans if gold is not None else (),
    )
    st.plotly_chart(heat, key="rc.heat", width="stretch")
    st.caption(
        _(
            "Each line of the passage has its start and end probabilities in two rows under it (darker is more "
            "likely). Orange: the reader's answer; light green: a gold answer; green: both."
        )
        if gold is not None
        else _(
            "Each line of the passage has its start and end probabilities in two rows under it (darker is more "
            "likely); the reader's answer is orange."
        )
    )
    spans = pd.DataFrame([{"rank": i + 1, **s} for i, s in enumerate(result["top_spans"])])
    c1, c2 = st.columns([1, 1])
    with c1:
        st.markdown(_("**Top {n} spans**").format(n=len(spans)))
        st.dataframe(
            spans,
            hide_index=True,
            width="stretch",
            column_config={**headers(SPAN_COLUMNS), "score": st.column_config.NumberColumn(_("score"), format="%.4f")},
        )
        st.caption(_("Spans of at most {n} characters, start <= end.").format(n=MAX_ANSWER))
    with c2:
        att = figs.attention_bars(
            question,
            result["attention"],
            {
                "title": _("How the question is pooled into one vector"),
                "y": _("attention weight"),
                "hover": _("character {i} ({char}): {w}"),
            },
        )
        st.plotly_chart(att, key="rc.attention", width="stretch")
    field = receptive_field_section(len(passage), result["start"] if result["answer"] else len(passage) // 2)
    payload = {"passage": passage, "question": question, **result}
    if gold is not None:
        payload["gold"] = {"answer": gold.answer, "spans": [list(s) for s in gold.spans]}
    return [
        (
            _("Answer and probabilities (JSON)"),
            json.dumps(payload, ensure_ascii=False, indent=1),
            "answer.json",
            "application/json",
        ),
        (_("Top spans (CSV)"), lambda: spans.to_csv(index=False), "top-spans.csv", "text/csv"),
        (_("Heatmap (HTML)"), heat, "passage-heatmap.html"),
        (_("Attention (HTML)"), att, "question-attention.html"),
        (_("Receptive field (HTML)"), field, "receptive-field.html"),
    ]


def receptive_field_section(n: int, center: int):  # noqa: ANN201 - a plotly figure
    fields = receptive_field()
    fig = figs.receptive_field_figure(
        n,
        center,
        {
            "title": _("What the answer's start position sees after each passage block"),
            "x": _("character of the passage"),
            "block": _("block {k} (dilation {d})"),
            "hover": _("block {k}, dilation {d}: {seen} characters, {lo} to {hi}"),
        },
    )
    st.plotly_chart(fig, key="rc.field", width="stretch")
    st.caption(
        _(
            "DGCNN's passage blocks (kernel 3, dilations {dilations}) let a character see {last} characters "
            "around it: dilation grows the view exponentially at the cost of a block each. Beyond that it knows "
            "the question (its pooled vector is joined to every position) and the gate (pooled over the whole "
            "passage). The BiLSTM's states see the whole passage, one character after another."
        ).format(dilations=", ".join(map(str, PASSAGE_DILATIONS)), last=fields[-1])
    )
    return fig


def scorecard_section() -> list:
    st.subheader(_("Test scorecard"))
    if not preparing.ready(rc_jobs.scorecard_preparation(), "rc.scorecard"):
        return []
    table = load_scorecard()
    if table is None:
        return []
    test = table["scored"]
    st.caption(
        _(
            "{answerable:,} answerable test questions and {negatives:,} without an answer in their passage, from "
            "{windows} windows of People's Daily (January 1998) that no training passage shares. Exact match and "
            "character F1 on the answerable ones (any occurrence of the answer counts); the gate on all."
        ).format(answerable=test["answerable"], negatives=test["negatives"], windows=test["windows"])
    )
    rows = [
        {
            "system": system_name(r["system"]),
            "em": r["em"],
            "f1": r["f1"],
            "gate_accuracy": f"{r['gate_accuracy']:.1%}" if "gate_accuracy" in r else "—",
            "gate_auc": f"{r['gate_auc']:.3f}" if "gate_auc" in r else "—",  # the baselines have no gate
            "speed": r["questions_per_second"],
        }
        for r in table["rows"]
    ]
    score_table(rows, SCORE_COLUMNS, percent=("em", "f1"), rates=("speed",))
    lesson(verdict(table))
    fig = figs.scorecard_bars(
        table["rows"],
        {k: _(v) for k, v in SYSTEMS.items()},
        {
            "title": _("Test exact match and character F1"),
            "em": _("exact match (EM)"),
            "f1": _("character F1"),
            "y": "",
        },
    )
    st.plotly_chart(fig, key="rc.scores", width="stretch")
    st.markdown(_("**Published figures, for context** (other data sets and metrics: not comparable)"))
    st.dataframe(
        pd.DataFrame([{"source": s, "system": _(name), "figure": _(fig_)} for s, name, fig_ in ANCHORS]),
        hide_index=True,
        width="stretch",
        column_config=headers(ANCHOR_COLUMNS),
    )
    return [
        (
            _("Scorecard (JSON)"),
            json.dumps(table, ensure_ascii=False, indent=1),
            "reading-scorecard.json",
            "application/json",
        ),
        (_("Scorecard chart (HTML)"), fig, "reading-scorecard.html"),
    ]


def lesson(v: dict) -> None:
    """The issue's targets, said with the numbers."""
    if "over_baseline" in v:
        line = _("DGCNN against the best heuristic ({name}): {delta:+.1%} exact match (target: +10 points).").format(
            name=system_name(v["best_baseline"]), delta=v["over_baseline"]
        )
        (st.success if v["beats_baselines"] else st.warning)(line)
    if "vs_bilstm" in v:
        line = _("DGCNN against the BiLSTM: {delta:+.1%} exact match.").format(delta=v["vs_bilstm"])
        (st.success if v["vs_bilstm"] >= 0 else st.warning)(line)
    if "speedup" in v:
        line = _(
            "Training speed, the two taking turns on the same batches: {speedup:.2f}x the BiLSTM's characters "
            "per second (target 3x; Su's reason for convolutions is their parallelism on a GPU, and this "
            "machine's CPU is what the figure measures)."
        ).format(speedup=v["speedup"])
        (st.success if v["speedup"] >= 3 else st.warning)(line)


def models_section() -> None:
    cards = {e: c for e in READERS if (c := card(model_name(e)))}
    if not cards:
        return
    with st.expander(_("The readers: how they were trained")):
        st.markdown(
            _(
                "Both readers embed each character plus the jieba word it belongs to (the word vector projected "
                "to the character width and added), pool the question into one vector by attention, join it and "
                "two co-occurrence features (does the character, does its word, occur in the question: Su's "
                "hand-made features) to every passage position and predict start and end probabilities per "
                "character, multiplied by a passage-level gate. DGCNN encodes with dilated gated residual "
                "convolutions (question: dilations 1, 2, 1; passage: 1, 2, 4, 8, 16, 1); the BiLSTM with one "
                "bidirectional LSTM each, of the same width. Trained with focal loss on start and end plus the "
                "gate's cross-entropy, Adam with a moving average of the weights, training passages cut to 800 "
                "characters around the answer."
            )
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        _("reader"): _(READERS[e]),
                        _("epochs"): round(c["epochs"], 2),
                        _("minutes"): c["minutes"],
                        _("parameters"): c["parameters"],
                        _("training characters / s"): round(c["train_chars_per_second"]),
                        _("validation exact match"): f"{c['validation']['em']:.1%}",
                        _("validation gate AUC"): f"{c['validation']['gate_auc']:.3f}",
                    }
                    for e, c in cards.items()
                ]
            ),
            hide_index=True,
            width="stretch",
        )


st.title(_("Reading comprehension with DGCNN"))
st.markdown(
    _(
        "Su's DGCNN (kexue.fm 5409) reads with convolutions instead of recurrence: dilated gated convolutions "
        "over characters mixed with their words, the question pooled into one vector by attention, a start and "
        "an end probability for every character, and a gate that says whether the passage holds an answer. "
        "Both readers here were trained on questions made from People's Daily: a sentence taken out of a "
        "passage, one person, place or organisation in it replaced by 谁, 哪里 or 哪个机构."
    )
)

examples = reading_examples()
seed_state("rc.reader", "reader", "dgcnn", reader_choice)
seed_state("rc.example", "example", None, number(0, 100_000, integer=True))
if isinstance(st.session_state["rc.example"], int) and examples and "rc.passage" not in st.session_state:
    load_example(st.session_state["rc.example"])
seed_state("rc.passage", "p", DEFAULT_PASSAGE)
seed_state("rc.question", "q", DEFAULT_QUESTION)

with st.form("rc.form"):
    encoder = st.segmented_control(
        _("Reader"), list(READERS), key="rc.reader", format_func=lambda e: _(READERS[e]), required=True
    )
    question = st.text_input(
        _("Question"),
        key="rc.question",
        max_chars=400,
        help=_("Ask 谁……？, 哪里……？ or 哪个机构……？ about a person, place or organisation in the passage."),
    )
    passage = st.text_area(
        _("Passage"),
        key="rc.passage",
        height=160,
        help=_("A Chinese passage, up to {n:,} characters (a longer one is cut).").format(n=MAX_PASSAGE),
    )
    st.form_submit_button(_("Answer"), type="primary")
c1, c2 = st.columns([1, 3])
c1.button(
    _("Next test example"),
    key="rc.next",
    on_click=load_example,
    args=((st.session_state["rc.example"] + 1) if isinstance(st.session_state.get("rc.example"), int) else 0,),
    disabled=not examples,
)
example = shown_example(examples, passage, question)
if not examples:
    c2.caption(_("The test examples come with the questions, built when the first reader trains."))
elif example is not None:
    c2.caption(
        _("Test example {i} of {n}: a passage and question the readers never trained on.").format(
            i=example + 1, n=len(examples)
        )
    )

params: dict = {"reader": encoder}
if example is not None:
    params["example"] = example
else:
    params["q"] = question
    if len(passage) <= LINK_LIMIT:
        params["p"] = passage
downloads: list = []
checked = None
try:
    checked = check(passage, question)
except ReaderError as exc:
    error(exc)
if checked is not None:
    for note in checked.notes:
        st.info(text(note))
    name = model_name(encoder)
    if preparing.ready(rc_jobs.reader_preparation(encoder), f"rc.train.{encoder}"):
        result = None
        try:
            with st.spinner(_("Reading...")):
                result = reading_answer(name, checked.passage, checked.question)
        except LabError as exc:
            error(exc)
        if result is not None:
            downloads += answer_section(
                result, checked.passage, checked.question, examples[example] if example is not None else None
            )
    if "p" not in params and example is None:
        st.caption(_("The passage is too long for a share link: the link keeps the question and the reader only."))

if all(is_trained(model_name(e)) for e in READERS):
    downloads += scorecard_section()
elif is_trained(model_name("dgcnn")):
    st.subheader(_("Test scorecard"))
    st.caption(_("The scorecard compares DGCNN with the BiLSTM, so it comes once the BiLSTM is trained."))
    preparing.ready(rc_jobs.reader_preparation("bilstm"), "rc.train.bilstm.scorecard")
models_section()
if downloads:
    st.subheader(_("Downloads"))
    download_panel(downloads, "rc.dl", 3)
share_footer(URL_PATH, params)
