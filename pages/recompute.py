"""Recompute: how much batch a memory budget holds with and without rematerialization, and what it costs."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.lab import jobs
from core.lab.errors import LabError
from core.recompute import figures as figs
from core.recompute import jobs as rc_jobs
from core.recompute.model import APIS, LABELS, STRATEGIES, segment_length
from core.recompute.shapes import BYTES, LIMITS, MB
from core.recompute.study import Study, checked, load_study
from ui import preparing
from ui.downloads import download_panel
from ui.i18n import N_, _, error, headers, text
from ui.share import number, seed_state, share_footer

URL_PATH = "recompute"
DEFAULT = Study()
BUDGET_RANGE = (100.0, 65536.0)
SECONDS_PER_RUN = 25  # a child process on 2 cores: start-up, tracing, a few steps
TABLE_COLUMNS = {
    "strategy": N_("strategy"),
    "largest": N_("largest batch in budget"),
    "batch ratio": N_("batch ratio vs none"),
    "time ratio": N_("time ratio vs none"),
    "step": N_("step time (s)"),
    "peak": N_("step peak (MB)"),
    "activations": N_("activations, measured (MB)"),
    "counted": N_("activations, counted (MB)"),
    "gap": N_("gap"),
    "grad diff": N_("max |grad difference|"),
    "API": N_("API"),
    "why not": N_("why it does not run here"),
}
NUMBER_FORMATS = {
    "peak": "%.0f",
    "activations": "%.0f",
    "counted": "%.0f",
    "step": "%.3f",
    "time ratio": "%.2f",
    "batch ratio": "%.2f",
    "grad diff": "%.1e",
}
KEPT_COLUMNS = {"tensor": N_("kept for the backward pass"), "per example": N_("elements per example"), "MB": N_("MB")}


def name_of(strategy: str) -> str:
    return _(LABELS.get(strategy, strategy))


def numeric(key: str, fmt: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(_(TABLE_COLUMNS[key]), format=fmt)


def settings() -> tuple[Study | None, dict]:
    seed_state("rc.layers", "layers", DEFAULT.layers, number(*LIMITS["layers"], integer=True))
    seed_state("rc.hidden", "hidden", DEFAULT.hidden, number(*LIMITS["hidden"], integer=True))
    seed_state("rc.heads", "heads", DEFAULT.heads, number(*LIMITS["heads"], integer=True))
    seed_state("rc.seq", "seq", DEFAULT.seq, number(*LIMITS["seq"], integer=True))
    seed_state("rc.batch", "batch", DEFAULT.batch, number(*LIMITS["batch"], integer=True))
    seed_state("rc.budget", "budget", DEFAULT.budget_mb, number(*BUDGET_RANGE))
    seed_state(
        "rc.strategies",
        "strategies",
        list(STRATEGIES),
        lambda v: [s for s in v.split(",") if s in STRATEGIES] or list(STRATEGIES),
    )
    with st.form("rc.form"):
        c = st.columns(6)
        layers = c[0].number_input(_("Blocks"), *LIMITS["layers"], key="rc.layers")
        hidden = c[1].number_input(_("Hidden size"), *LIMITS["hidden"], key="rc.hidden", step=16)
        heads = c[2].number_input(_("Heads"), *LIMITS["heads"], key="rc.heads")
        seq = c[3].number_input(_("Sequence length"), *LIMITS["seq"], key="rc.seq", step=8)
        batch = c[4].number_input(_("Batch"), *LIMITS["batch"], key="rc.batch")
        budget = c[5].number_input(
            _("Memory budget (MB)"),
            *BUDGET_RANGE,
            key="rc.budget",
            step=100.0,
            help=_(
                "For the weights, Adam's two moments and the training step's peak; the framework's own memory is "
                "left out."
            ),
        )
        strategies = st.multiselect(
            _("Strategies"),
            list(STRATEGIES),
            key="rc.strategies",
            format_func=name_of,
            placeholder=_("Choose strategies"),
        )
        st.form_submit_button(_("Show"), type="primary")
    params = {
        "layers": int(layers),
        "hidden": int(hidden),
        "heads": int(heads),
        "seq": int(seq),
        "batch": int(batch),
        "budget": float(budget),
    }
    if list(strategies) != list(STRATEGIES):
        params["strategies"] = ",".join(strategies)
    if not strategies:
        st.info(_("Pick at least one strategy."))
        return None, params
    if "none" not in strategies and "torch-none" not in strategies:
        st.caption(_("Without none there is nothing to take the ratios against."))
    try:
        study, notes = checked(
            layers=int(layers),
            hidden=int(hidden),
            heads=int(heads),
            seq=int(seq),
            batch=int(batch),
            budget_mb=float(budget),
            strategies=tuple(s for s in STRATEGIES if s in strategies),
        )
    except LabError as exc:
        error(exc)
        return None, params
    for note in notes:
        st.info(text(note))
    return study, params


def measured(study: Study) -> dict | None:
    """The stored study; else the default's job status, or an offer to measure (a background job)."""
    found = load_study(study)
    if found is not None:
        return found
    prep = rc_jobs.study_preparation(study.params())
    if study == DEFAULT:
        preparing.ready(prep, "rc.default")
        return None
    running = jobs.latest(prep.kind, prep.params)
    if running is not None and running.status in (*jobs.ACTIVE, "failed"):
        preparing.ready(prep, "rc.job")
        return None
    minutes = max(1, round(study.planned_runs() * SECONDS_PER_RUN / 60))
    st.info(
        _(
            "This configuration has not been measured on this machine yet: {runs} measurements, each in a fresh "
            "process, about {minutes} min as a background job. Meanwhile, below: what the shapes alone predict."
        ).format(runs=study.planned_runs(), minutes=minutes)
    )
    if st.button(_("Measure it"), type="primary", key="rc.measure"):
        preparing.ready(prep, "rc.job")
    return None


def table_rows(result: dict) -> list[dict]:
    rows = []
    for r in result["rows"]:
        counted, act = r.get("predicted_activation_mb"), r.get("activation_mb")
        rows.append(
            {
                "strategy": name_of(r["strategy"]),
                "largest": r.get("largest_batch"),
                "batch ratio": r.get("batch_ratio"),
                "time ratio": r.get("time_ratio"),
                "step": r.get("step_s_interleaved") or r.get("step_s"),
                "peak": r.get("peak_mb"),
                "activations": act,
                "counted": counted,
                "gap": f"{act / counted - 1:+.0%}" if act is not None and counted else None,
                "grad diff": r.get("grad_max_abs_diff"),
                "API": APIS.get(r["strategy"], ""),
                "why not": r.get("error"),
            }
        )
    return rows


def show(result: dict) -> list:
    shape, state = result["shape"], result["state"]
    st.caption(
        _(
            "{layers} blocks of hidden size {hidden}, {heads} heads, sequence {seq}, vocabulary {vocab:,} "
            "characters, dropout {dropout}; measured {when} on {cpus} cores ({versions})."
        ).format(
            **shape,
            when=result["computed_at"],
            cpus=result["machine"]["cpus"],
            versions=", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        )
    )
    by = {r["strategy"]: r for r in result["rows"]}
    cols = st.columns(4)
    weights = state["weights_mb"] + state["optimizer_mb"]
    cols[0].metric(
        _("Weights + Adam"),
        _("{mb} MB").format(mb=f"{weights:,.0f}"),
        help=_("The weights and Adam's two moments: in every strategy's budget."),
    )
    none, best = by.get("none"), by.get("per-block")
    if none and best and best.get("batch_ratio"):
        cols[1].metric(
            _("Batch, none"), f"{none['largest_batch']:,}", help=_("The largest batch in the budget without recompute.")
        )
        cols[2].metric(
            _("Batch, per block"),
            f"{best['largest_batch']:,}",
            delta=f"x{best['batch_ratio']:.2f}",  # not-ui-text (a number)
            help=_("The largest batch in the budget with every block recomputed, and its ratio to none's."),
        )
        if best.get("time_ratio"):
            cols[3].metric(
                _("Time, per block"),
                f"x{best['time_ratio']:.2f}",  # not-ui-text (a number)
                help=_("The median step time with every block recomputed over none's, at the same batch."),
            )

    names = {s: name_of(s) for s in STRATEGIES}
    table = pd.DataFrame(table_rows(result))
    st.dataframe(
        table,
        hide_index=True,
        column_config={**headers(TABLE_COLUMNS), **{k: numeric(k, f) for k, f in NUMBER_FORMATS.items()}},
    )
    st.caption(
        _(
            "Step peak: the resident memory a training step adds at its highest (gradients, activations and the "
            "runtime's workspace). Activations, measured: the part of the peak that grows with the batch (the "
            "slope of the fitted line times the batch); counted: the tensors each strategy keeps, from the "
            "shapes. Step time: the median over rounds in which the strategies of one back end take turns in "
            "one process, so the machine's noise slows them alike. Max |grad difference|: against the same "
            "weights without recompute, one batch, dropout on."
        )
    )
    failing = [r for r in result["rows"] if r.get("error")]
    if failing:
        st.warning(
            _(
                "{names} do not run in a compiled training step with the TensorFlow back end: the layer's call "
                "passes training= as a keyword and tf.recompute_grad refuses keywords in graph mode "
                "(keras-team/keras#21207, tensorflow#56692). The lab's remat closes over keywords instead."
            ).format(names=", ".join(name_of(r["strategy"]) for r in failing))
        )
    plain = by.get("keras-remat")
    if plain and plain.get("grad_max_abs_diff"):
        st.warning(
            _(
                "keras.remat as it is replays the forward pass with new dropout seeds: its gradients differ from "
                "the true ones by up to {diff:.2g}. The lab's remat hands the seeds to the recomputation and "
                "matches to {ours:.1g}."
            ).format(diff=plain["grad_max_abs_diff"], ours=(by.get("per-block") or {}).get("grad_max_abs_diff") or 0.0)
        )

    mem = figs.memory_vs_batch(
        result,
        names,
        {
            "title": _("Training memory against batch"),
            "x": _("batch"),
            "y": _("weights + Adam's moments + step peak (MB)"),
            "budget": _("budget {mb} MB"),
            "fitted": _("{name}, fitted"),
            "confirm": _("{name}, confirmation under the budget"),
            "hover": _("batch {batch}: {mb} MB"),
        },
    )
    st.plotly_chart(mem, key="rc.mem")
    st.caption(
        _(
            "Dots: measured peaks; dotted lines: the straight line through them; diamonds: the run at the "
            "largest batch the line allows, under a hard limit (hollow: it passed the limit)."
        )
    )
    c1, c2 = st.columns(2)
    with c1:
        ratio = figs.time_ratios(
            result,
            names,
            {
                "title": _("Step time against none"),
                "y": _("median step time / none's"),
                "hover": _("{name}: x{ratio} ({seconds} s a step)"),
            },
        )
        st.plotly_chart(ratio, key="rc.time")
    with c2:
        depth = figs.activation_vs_depth(
            result,
            names,
            {
                "title": _("Activation memory against depth (batch {b})").format(b=result["depth"]["batch"]),
                "x": _("blocks"),
                "y": _("activations (MB)"),
                "counted": _("{name}, counted"),
                "measured": _("{name}, measured"),
                "hover": _("{n} blocks: {mb} MB"),
            },
        )
        st.plotly_chart(depth, key="rc.depth")
    return [
        (_("Memory against batch (HTML)"), mem, "recompute-memory.html"),
        (_("Time ratios (HTML)"), ratio, "recompute-time.html"),
        (_("Activations against depth (HTML)"), depth, "recompute-depth.html"),
        (_("The table (CSV)"), lambda: table.to_csv(index=False), "recompute.csv", "text/csv"),
        (
            _("Every measurement (JSON)"),
            lambda: json.dumps(result, indent=1),
            "recompute-study.json",
            "application/json",
        ),
    ]


def why(study: Study) -> None:
    """What a block keeps, from the shapes alone: shown with or without measurements."""
    shape = study.shape()
    with st.expander(_("Why: what one block keeps for its backward pass")):
        rows = [
            {"tensor": _(what), "per example": n, "MB": n * shape.batch * BYTES / MB}
            for what, n in shape.block_tensors()
        ]
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            column_config={**headers(KEPT_COLUMNS), "MB": st.column_config.NumberColumn(_("MB"), format="%.1f")},
        )
        k = segment_length(shape.layers)
        st.markdown(
            _(
                "Without recompute every block keeps all of these until the backward pass reaches it: memory "
                "linear in depth. Recomputing every block keeps only each block's input (the first row), and "
                "holds one block's full set at a time while its gradient is taken, for one more forward pass "
                "(the last block is kept as it is: the backward pass starts with it). Checkpoints every "
                "ceil(sqrt n) = {k} blocks keep n / {k} segment inputs, and, with each block recomputed again "
                "inside its segment, {k} block inputs and one block's set: O(sqrt n), for two more forward "
                'passes. RematScope("activations") recomputes only the GELU\'s inner terms.'
            ).format(k=k)
        )
        st.markdown(
            _(
                "Counted for this shape at batch {batch}: none {none:,.0f} MB, every block {block:,.0f} MB, every "
                "{k} blocks {sqrt:,.0f} MB."
            ).format(
                batch=shape.batch,
                none=shape.predicted_activation_mb("none"),
                block=shape.predicted_activation_mb("per-block"),
                k=k,
                sqrt=shape.predicted_activation_mb("sqrt"),
            )
        )


def published() -> None:
    with st.expander(_("The published figures beside ours")):
        st.markdown(
            _(
                "- The blog (kexue.fm, 2020-04-29, bert4keras on a GPU): BERT-base trains with batch 144 instead of "
                "48 in the same memory (about 3x), BERT-large about 4x, at about 25% more time per sample.\n"
                '- Chen, Xu, Zhang and Guestrin (2016), "Training Deep Nets with Sublinear Memory Cost": a '
                "1,000-layer ResNet from 48 GB to 7 GB of activations at about 30% more time; O(sqrt n) memory "
                "for one extra forward pass.\n"
                "- Ours above, measured on this machine's CPU: the ratios depend on the shape (attention's "
                "sequence-squared tensors, the feed-forward width) and on the runtime's fixed workspace."
            )
        )


st.title(_("Recompute"))
st.caption(
    _(
        "Keep fewer activations in the forward pass and recompute them in the backward pass: how much more "
        "batch fits in a memory budget, and what it costs in step time, measured here on a BERT-style "
        "encoder trained on the built-in Chinese corpus (Chen et al. 2016; kexue.fm, 2020-04-29)."
    )
)
study, params = settings()
downloads: list = []
if study is not None:
    result = measured(study)
    if result is not None:
        downloads = show(result)
    why(study)
published()
if downloads:
    with st.expander(_("Downloads")):
        download_panel(downloads, "rc.dl", 3)
share_footer(URL_PATH, params)
