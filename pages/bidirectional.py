"""Bidirectional decoding: pinyin -> characters left to right, right to left and from both ends at once."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.bidirectional import figures as figs
from core.bidirectional import jobs as bd_jobs
from core.bidirectional.decoding import MAX_BEAM
from core.bidirectional.pairs import path as pairs_path
from core.bidirectional.pinyin import MAX_SYLLABLES, PinyinError, parse
from core.bidirectional.scorecard import ScorecardSpec, load_scorecard, verdict
from core.bidirectional.training import card, is_trained, model_name
from core.lab.errors import LabError
from ui import preparing
from ui.downloads import download_panel
from ui.i18n import N_, _, error, headers, text
from ui.loaders import pinyin_decoding
from ui.share import number, seed_state, share_footer
from ui.tables import score_table

URL_PATH = "bidirectional"
DEFAULT_TEXT = "他一直想拍一部好的电影"  # the first held-out clause: a reference to score against
NAMES = {
    "l2r": N_("L2R beam"),
    "r2l": N_("R2L beam"),
    "bidi": N_("bidirectional beam"),
    "rerank": N_("L2R beam + R2L rerank"),
    "bigram": N_("bigram Viterbi (baseline)"),
    "unigram": N_("most frequent character (baseline)"),
    "l2r-greedy": N_("L2R greedy"),
    "r2l-greedy": N_("R2L greedy"),
}
MODEL_NAMES = {"l2r": N_("L2R model"), "r2l": N_("R2L model"), "bidi": N_("bidirectional model")}
DIRECTION_NAMES = {"l2r": N_("left to right"), "r2l": N_("right to left")}
SCORE = N_("score")
SPEED = N_("characters / s")
SCORE_COLUMNS = {
    "decoder": N_("decoder"),
    "char": N_("character accuracy"),
    "exact": N_("exact match"),
    "first": N_("first fifth"),
    "last": N_("last fifth"),
    "speed": SPEED,
}
BEAM_COLUMNS = {"rank": N_("beam"), "text": N_("characters so far"), "score": SCORE, "parent": N_("extends")}


def name(decoder: str) -> str:
    return _(NAMES.get(decoder, decoder))


def names() -> dict[str, str]:
    return {k: _(v) for k, v in NAMES.items()}


def models_ready() -> bool:
    """Whether all three models are trained; else the first missing one's job status (the rest queue behind)."""
    for kind in bd_jobs.KINDS:
        if not preparing.ready(bd_jobs.model_preparation(kind), f"bd.train.{kind}"):
            return False
    return True


def show_outputs(result: dict, parsed_reference: str | None) -> None:
    lines = []
    for row in result["rows"]:
        acc = f" · {row['char_accuracy']:.0%}" if "char_accuracy" in row else ""
        won = f" · {_(DIRECTION_NAMES[row['direction']])}" if row["decoder"] == "bidi" else ""
        lines.append(
            f"<tr><td style='padding:4px 12px 4px 0;white-space:nowrap'>{name(row['decoder'])}</td>"
            f"<td style='padding:4px 0;font-size:1.35em;letter-spacing:0.08em'>"
            f"{figs.outlined(row['output'], parsed_reference)}</td>"
            f"<td style='padding:4px 0 4px 12px;color:#666;white-space:nowrap'>{row['score']:.2f}{acc}{won}</td></tr>"
        )
    if parsed_reference is not None:
        lines.insert(
            0,
            f"<tr><td style='padding:4px 12px 4px 0'><b>{_('reference')}</b></td>"
            f"<td style='font-size:1.35em;letter-spacing:0.08em'>{figs.outlined(parsed_reference, None)}</td>"
            "<td></td></tr>",
        )
    st.markdown(f"<table style='border:none'>{''.join(lines)}</table>", unsafe_allow_html=True)  # not-ui-text: markup
    if parsed_reference is not None:
        st.caption(_("Characters that differ from the reference are outlined (hover one for the reference's)."))


def inspector(result: dict, syllables: list[str]) -> int | None:
    """The beams of both directions at a chosen step; returns the step shown."""
    trace = result["trace"]
    if not trace:
        return None
    st.subheader(_("Step inspector: the bidirectional beam search"))
    n = len(trace)
    seed_state("bd.step", "step", max(1, n // 2), number(1, 80, integer=True))
    if st.session_state["bd.step"] > n:
        st.session_state["bd.step"] = n
    t = st.slider(_("Step"), 1, max(n, 2), key="bd.step", disabled=n < 2) if n > 1 else 1
    step = trace[t - 1]
    st.caption(
        _(
            "Step {t} of {n}: L2R writes character {t} ({left}), R2L writes character {r} ({right}). Each of a "
            "direction's beams was scored against each of the other direction's {k} beams below (their first "
            "{m} states visible under the model's mask) and its next-character log-probabilities averaged over "
            "them; the columns on the right are those values for the character it chose."
        ).format(
            t=t, n=n, r=n - t + 1, left=syllables[t - 1], right=syllables[n - t], k=len(step["l2r"]), m=step["visible"]
        )
    )
    cols = st.columns(2)
    for col, d in zip(cols, ("l2r", "r2l"), strict=True):
        with col:
            st.markdown(f"**{_(DIRECTION_NAMES[d])}**")
            rows = figs.inspector_rows(step, d)
            frame = pd.DataFrame(rows)
            st.dataframe(
                frame,
                hide_index=True,
                width="stretch",
                column_config={
                    **headers(BEAM_COLUMNS),
                    **{
                        c: st.column_config.NumberColumn(_("vs {beam}").format(beam=c), format="%.2f")
                        for c in frame.columns
                        if c not in BEAM_COLUMNS
                    },
                    "score": st.column_config.NumberColumn(_(SCORE), format="%.2f"),
                },
            )
    return t


def scorecard_section() -> list:
    st.subheader(_("Held-out scorecard"))
    spec = ScorecardSpec()
    if not preparing.ready(bd_jobs.scorecard_preparation(spec), "bd.scorecard"):
        return []
    table = load_scorecard(spec)
    if table is None:
        return []
    st.caption(
        _(
            "{n} held-out People's Daily clauses (mean {mean:.1f} characters, never trained on), beam {beam}; "
            "accuracy by relative position: each character falls in one of five bins from the start to the end "
            "of its clause."
        ).format(n=len(table["clauses"]), mean=table["mean_length"], beam=spec.beam)
    )
    rows = [
        {
            "decoder": name(r["decoder"]),
            "char": r["char_accuracy"],
            "exact": r["exact_match"],
            "first": r["by_position"][0],
            "last": r["by_position"][-1],
            "speed": r["chars_per_second"],
        }
        for r in table["rows"]
    ]
    score_table(rows, SCORE_COLUMNS, percent=("char", "exact", "first", "last"), rates=("speed",))
    v = verdict(table)
    if v:
        lesson(table, v)
    fig = figs.by_position(
        table,
        names(),
        {
            "title": _("Character accuracy by position in the clause"),
            "x": _("relative position"),
            "y": _("character accuracy"),
            "bins": _("start|second fifth|middle|fourth fifth|end"),
            "hover": _("{bin}: {acc}"),
        },
    )
    st.plotly_chart(fig, key="bd.positions", width="stretch")
    return [
        (
            _("Scorecard (JSON)"),
            json.dumps(table, ensure_ascii=False, indent=1),
            "bidirectional-scorecard.json",
            "application/json",
        ),
        (_("Position chart (HTML)"), fig, "bidirectional-by-position.html"),
    ]


def lesson(table: dict, v: dict) -> None:
    """The measurement as a sentence: whether decoding from both ends helped here, with the numbers."""
    beat = [name(d) for d, ok in v["beat_bigram"].items() if not ok]
    best = name(v["best_single"])
    numbers = _(
        "Bidirectional against the better single direction ({best}): {char:+.1%} character accuracy, {exact:+.1%} "
        "exact match; in the last fifth against L2R: {last:+.1%}."
    ).format(best=best, char=v["bidi_vs_best_char"], exact=v["bidi_vs_best_exact"], last=v["bidi_vs_l2r_last_fifth"])
    helped = v["bidi_vs_best_char"] >= 0 and v["bidi_vs_best_exact"] >= 0 and v["bidi_vs_l2r_last_fifth"] >= 0
    if helped:
        st.success(_("Decoding from both ends helps on this task. {numbers}").format(numbers=numbers))
    else:
        st.warning(
            _(
                "Decoding from both ends does not help on this task at every measure. {numbers} The measurement is "
                "the lesson: each model reads the whole pinyin sentence through its bidirectional encoder, so a "
                "left-to-right decoder already knows what comes after the character it writes."
            ).format(numbers=numbers)
        )
    if beat:
        st.info(_("Not above the bigram baseline here: {names}.").format(names=", ".join(beat)))


def models_section() -> list:
    cards = {kind: c for kind in bd_jobs.KINDS if (c := card(model_name(kind)))}
    if not cards:
        return []
    with st.expander(_("The models: how they were trained")):
        st.markdown(
            _(
                "One encoder (syllable embedding and a bidirectional GRU) and a GRU decoder per direction with "
                "attention over the encoder; the bidirectional model trains both decoders jointly (the mean of "
                "their cross-entropies), each attending to the other's states of the characters it has not reached "
                "(step t of a clause of n sees the other direction's first min(t, n-1-t)+1 states). Every decoder "
                "and both baselines choose among the characters read with each syllable in the training pairs."
            )
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        _("model"): _(MODEL_NAMES[kind]),
                        _("steps"): c["steps"],
                        _("epochs"): round(c["epochs"], 2),
                        _("minutes"): c["minutes"],
                        _("parameters"): c["parameters"],
                        _("teacher-forced accuracy"): " / ".join(
                            f"{c['validation'][f'{d}_accuracy']:.1%}"
                            for d in ("l2r", "r2l")
                            if f"{d}_accuracy" in c["validation"]
                        ),
                    }
                    for kind, c in cards.items()
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        fig = figs.training_curves(
            cards,
            {k: _(v) for k, v in MODEL_NAMES.items()},
            {k: _(v) for k, v in DIRECTION_NAMES.items()},
            {
                "title": _("Teacher-forced accuracy on the validation clauses while training"),
                "x": _("step"),
                "y": _("accuracy"),
                "line": _("{model}, {direction}"),
            },
        )
        st.plotly_chart(fig, key="bd.curves", width="stretch")
    return [(_("Training curves (HTML)"), fig, "pinyin-training-curves.html")]


st.title(_("Bidirectional decoding"))
st.markdown(
    _(
        "A left-to-right decoder's early mistakes pile up towards the end of the sentence; a right-to-left one "
        "fails at the start. Su (kexue.fm 6877, after Zhou, Zhang and Zong 2019) decodes from both ends at once: "
        "two decoders share an encoder, each attends to the other's states, and at every step each direction's "
        "next-character distribution is averaged over the other direction's beams. The task here is an input "
        "method's: toneless pinyin in, Chinese characters out, as long as the input, so every error has a position."
    )
)

seed_state("bd.text", "text", DEFAULT_TEXT)
seed_state("bd.beam", "beam", 4, number(1, MAX_BEAM, integer=True))
with st.form("bd.form"):
    c1, c2 = st.columns([4, 1])
    raw = c1.text_input(
        _("Pinyin or Chinese"),
        key="bd.text",
        max_chars=600,
        placeholder="bei jing da xue de xue sheng",  # not-ui-text (pinyin, data)
        help=_(
            "Toneless pinyin, syllables separated by spaces (run-together syllables are split; v or ü for ü). "
            "Chinese text is converted to pinyin first, and the outputs are scored against it."
        ),
    )
    beam = c2.number_input(_("Beam width"), 1, MAX_BEAM, key="bd.beam")
    st.form_submit_button(_("Decode"), type="primary")
params = {"text": raw, "beam": int(beam)}

parsed = None
try:
    parsed = parse(raw, MAX_SYLLABLES)
except PinyinError as exc:
    error(exc)
downloads: list = []
if parsed is not None:
    for note in parsed.notes:
        st.info(text(note))
    st.markdown(_("Pinyin read: `{pinyin}` ({n} syllables)").format(pinyin=parsed.text, n=len(parsed.syllables)))
    if not pairs_path().exists():
        st.info(_("The pinyin pairs and baselines come with the first model's training, below."))
        models_ready()
        share_footer(URL_PATH, params)
        st.stop()
    try:
        with st.spinner(_("Decoding...")):
            result = pinyin_decoding(tuple(parsed.syllables), int(beam), parsed.reference)
    except LabError as exc:
        error(exc)
        result = None
    if result is not None:
        show_outputs(result, parsed.reference)
        if result["waiting"]:
            st.caption(
                _("Waiting for their models: {names}.").format(names=", ".join(name(d) for d in result["waiting"]))
            )
            models_ready()
        shown = inspector(result, parsed.syllables)
        if shown is not None:
            params["step"] = shown
        frame = pd.DataFrame([{k: v for k, v in r.items() if k not in ("calls",)} for r in result["rows"]]).assign(
            input=parsed.text
        )
        downloads += [
            (_("Outputs (CSV)"), lambda: frame.to_csv(index=False), "bidirectional-outputs.csv", "text/csv"),
            (
                _("Outputs and step trace (JSON)"),
                json.dumps(result, ensure_ascii=False, indent=1),
                "bidirectional-trace.json",
                "application/json",
            ),
        ]

if all(is_trained(model_name(kind)) for kind in bd_jobs.KINDS):
    downloads += scorecard_section()
downloads += models_section()
if downloads:
    st.subheader(_("Downloads"))
    download_panel(downloads, "bd.dl", 3)
share_footer(URL_PATH, params)
