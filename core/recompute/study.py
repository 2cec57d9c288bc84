"""A recompute study: every strategy measured on one encoder shape under one memory budget, stored.

For each strategy: the training step at the chosen batch (peak memory, median step time, the gradient
check), the peak at two smaller batches, the straight line through the three (memory = a + b x batch),
the largest batch that line puts inside the budget, and one more run at that batch under a hard limit to
confirm it (a batch that passes the limit steps down until one fits). Then the activation memory of
none, per-block and sqrt(n) at three depths, measured and counted. The budget covers what training the
model needs: weights, Adam's two moments and the step's peak (gradients and activations); the
framework's own memory (TensorFlow's or torch's runtime, the corpus) is the baseline and is left out.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.lab.artifacts import atomic_write
from core.lab.errors import BadArgument
from core.lab.messages import msg
from core.lab.paths import lab_home
from core.lab.progress import Progress
from core.recompute import measure
from core.recompute.model import STRATEGIES, segment_length
from core.recompute.shapes import LIMITS, Shape, clamp_shape

DEPTH_STRATEGIES = ("none", "per-block", "sqrt")
CONFIRM_TRIES = 3
MACHINE_SHARE = 0.7  # a confirmation run may use at most this share of the memory the system has free


class BudgetError(BadArgument):
    """A budget that cannot hold even the model's weights and optimizer state."""


def reference_of(strategy: str) -> str:
    """The strategy a row's ratios are taken against: none of its own back end."""
    return "torch-none" if strategy.startswith("torch") else "none"


@dataclass(frozen=True)
class Study:
    layers: int = 12
    hidden: int = 256
    heads: int = 4
    seq: int = 128
    batch: int = 16
    budget_mb: float = 1500.0
    strategies: tuple[str, ...] = STRATEGIES

    def shape(self) -> Shape:
        return Shape(self.layers, self.hidden, self.heads, self.seq, self.batch)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "layers": self.layers,
            "hidden": self.hidden,
            "heads": self.heads,
            "seq": self.seq,
            "batch": self.batch,
            "budget_mb": float(self.budget_mb),
        }
        if self.strategies != STRATEGIES:
            out["strategies"] = list(self.strategies)
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Study:
        given = {k: params[k] for k in ("layers", "hidden", "heads", "seq", "batch") if k in params}
        return cls(
            **given,
            budget_mb=float(params.get("budget_mb", cls.budget_mb)),
            strategies=tuple(params.get("strategies") or STRATEGIES),
        )

    def fit_batches(self) -> list[int]:
        return sorted({max(1, self.batch // 4), max(1, self.batch // 2), self.batch})

    def planned_runs(self) -> int:
        """Child processes the study starts (a strategy that fails here, or a confirmation retried, changes
        it a little)."""
        depth = 2 * (len(self.depths()) - 1) * len([s for s in DEPTH_STRATEGIES if s in self.strategies])
        backends = len({s.startswith("torch") for s in self.strategies})  # one interleaved timing each
        return len(self.strategies) * (len(self.fit_batches()) + 1) + depth + backends

    def depths(self) -> list[int]:
        high = LIMITS["layers"][1]
        return sorted({max(1, self.layers // 2), self.layers, min(high, 2 * self.layers)})


def checked(**given: Any) -> tuple[Study, list[Any]]:
    """A :class:`Study` from a person's values: shapes clamped (and said), a budget below the model's
    weights and optimizer state refused. Returns the study and the notes."""
    budget = float(given.pop("budget_mb", Study.budget_mb))
    strategies = tuple(given.pop("strategies", None) or STRATEGIES)
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise BadArgument(
            "unknown strategy {name!r}; the strategies are {all}", name=unknown[0], all=", ".join(STRATEGIES)
        )
    shape = clamp_shape(**given)
    state = shape.state_mb()
    floor = state["weights_mb"] + state["optimizer_mb"] + state["gradients_mb"]
    if budget < floor:
        raise BudgetError(
            "a budget of {budget:,.0f} MB cannot hold this model: its weights, gradients and Adam's moments "
            "alone take {floor:,.0f} MB",
            budget=budget,
            floor=floor,
        )
    study = Study(shape.layers, shape.hidden, shape.heads, shape.seq, shape.batch, budget, strategies)
    return study, list(shape.notes)


def study_path(study: Study) -> Path:
    key = json.dumps(study.params(), sort_keys=True)
    return lab_home() / "recompute" / f"study-{hashlib.sha1(key.encode()).hexdigest()[:12]}.json"


def load_study(study: Study) -> dict[str, Any] | None:
    try:
        return json.loads(study_path(study).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def single(shape: Shape, strategy: str) -> dict[str, Any]:
    """One strategy at one batch, and at half of it for the activations (the slope): the command line's
    measurement, under this machine's memory limit. Raises :class:`MeasureError` when it cannot run or
    does not fit."""
    machine = MACHINE_SHARE * free_mb()
    got = measure.run(measure.Run(shape, strategy, limit_mb=machine))
    if got.get("error"):
        raise measure.MeasureError("{strategy} cannot run here: {reason}", strategy=strategy, reason=got["error"])
    half = max(1, shape.batch // 2)
    small = measure.run(measure.Run(shape.with_batch(half), strategy, steps=2, grad_check=False, limit_mb=machine))
    if not got.get("fits") or not small.get("fits"):
        raise measure.MeasureError(
            "batch {batch} of this shape does not fit in this machine's memory ({mb:,.0f} MB free)",
            batch=shape.batch,
            mb=free_mb(),
        )
    _, slope = fit_line([(shape.batch, got["peak_mb"]), (half, small["peak_mb"])])
    return {**got, "activation_mb": slope * shape.batch}


def fit_line(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares ``(intercept, slope)`` of peak MB against batch (one point: through the origin)."""
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    if len(set(xs.tolist())) < 2:
        return 0.0, float(ys.mean() / xs.mean())
    slope, intercept = np.polyfit(xs, ys, 1)
    return float(intercept), float(slope)


def largest_in_budget(intercept: float, slope: float, room_mb: float) -> int:
    """The largest batch whose predicted peak ``intercept + slope * batch`` is within ``room_mb``."""
    if slope <= 0:
        return LIMITS["batch"][1]
    return max(0, min(LIMITS["batch"][1], math.floor((room_mb - intercept) / slope)))


def free_mb() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 8192.0


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("tensorflow-cpu", "keras", "torch", "transformers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


class _Runner:
    """The runs of one study, counted for the progress bar."""

    def __init__(self, total: int, progress: Progress, should_stop: Callable[[], bool]) -> None:
        self.total, self.done, self.progress, self.should_stop = total, 0, progress, should_stop

    def __call__(self, config: measure.Run, what: Any) -> dict[str, Any] | None:
        if self.should_stop():
            return None
        self.progress(min(0.99, self.done / self.total), what)  # retried confirmations run past the plan
        out = measure.run(config)
        self.done += 1
        return out


def compute_study(
    study: Study, progress: Progress | None = None, should_stop: Callable[[], bool] | None = None
) -> dict[str, Any] | None:
    """Measure every strategy of ``study``, write the result, return it (``None`` when cancelled)."""
    progress = progress or (lambda _f, _m: None)
    stop = should_stop or (lambda: False)
    shape = study.shape()
    state = shape.state_mb()
    room = study.budget_mb - state["weights_mb"] - state["optimizer_mb"]  # for the step's peak
    runner = _Runner(study.planned_runs(), progress, stop)
    rows = []
    for strategy in study.strategies:
        row = _strategy_row(study, shape, strategy, room, runner)
        if row is None:
            return None
        rows.append(row)
    by_name = {r["strategy"]: r for r in rows}
    if not _time_ratios(shape, rows, runner):
        return None
    for row in rows:
        ref = by_name.get(reference_of(row["strategy"]))
        ok = ref is not None and not ref.get("error") and not row.get("error")
        sized = ok and row.get("largest_batch") is not None and ref.get("largest_batch")
        row["batch_ratio"] = row["largest_batch"] / ref["largest_batch"] if sized else None
    depth = _depth_curves(study, shape, runner, by_name)
    if depth is None:
        return None
    result = {
        "params": study.params(),
        "shape": shape.key(),
        "state": state,
        "budget_mb": study.budget_mb,
        "room_mb": room,
        "segment": segment_length(shape.layers),
        "rows": rows,
        "depth": depth,
        "machine": {"cpus": os.cpu_count(), "free_mb": free_mb()},
        "versions": _versions(),
        "computed_at": time.strftime("%Y-%m-%d %H:%M"),
    }
    payload = json.dumps(result, indent=1)
    atomic_write(study_path(study), lambda p: p.write_text(payload, encoding="utf-8"))
    return result


def _time_ratios(shape: Shape, rows: list[dict[str, Any]], runner: _Runner) -> bool:
    """Each row's step time over none's of its back end, timed in one process, interleaved (the machine's
    noise slows both alike); ``False`` when cancelled."""
    for torch in (False, True):
        group = [r for r in rows if r["strategy"].startswith("torch") == torch and not r.get("error")]
        if not group:
            continue
        names = [r["strategy"] for r in group]
        if runner.should_stop():
            return False
        runner.progress(min(0.99, runner.done / runner.total), msg("timing {names} in turn", names=", ".join(names)))
        got = measure.interleaved(shape, names)
        runner.done += 1
        base = got["step_s"].get("torch-none" if torch else "none")
        for row in group:
            t = got["step_s"].get(row["strategy"])
            row["step_s_interleaved"] = t
            row["time_ratio"] = t / base if t and base else None
    return True


def _strategy_row(study: Study, shape: Shape, strategy: str, room: float, runner: _Runner) -> dict[str, Any] | None:
    # every run is held under the machine's own limit: a shape too big for this machine is "does not fit",
    # ended by the watchdog before the system's OOM killer picks a process (perhaps the page's server)
    machine = MACHINE_SHARE * free_mb()
    main = runner(
        measure.Run(shape, strategy, limit_mb=machine),
        msg("{strategy}: batch {batch}", strategy=strategy, batch=shape.batch),
    )
    if main is None:
        return None
    row: dict[str, Any] = {
        "strategy": strategy,
        "backend": main.get("backend"),
        "batch": shape.batch,
        "predicted_activation_mb": shape.predicted_activation_mb(strategy),
    }
    if main.get("error"):
        runner.done += len(study.fit_batches())  # the strategy cannot run: its other runs are skipped
        return {**row, "error": main["error"]}
    row.update(
        peak_mb=main.get("peak_mb"),
        step_s=main.get("step_s"),
        grad_max_abs_diff=main.get("grad_max_abs_diff"),
        loss=main.get("loss"),
        fits_at_batch=main.get("fits", False),
    )
    points = [(shape.batch, main["peak_mb"])] if main.get("fits") else []
    for b in study.fit_batches():
        if b == shape.batch:
            continue
        got = runner(
            measure.Run(shape.with_batch(b), strategy, steps=2, grad_check=False, limit_mb=machine),
            msg("{strategy}: batch {batch}", strategy=strategy, batch=b),
        )
        if got is None:
            return None
        if got.get("fits"):
            points.append((b, got["peak_mb"]))
    points.sort()
    row["points"] = [{"batch": b, "peak_mb": p} for b, p in points]
    if not points:
        return {**row, "largest_batch": 0, "predicted_largest": 0}
    intercept, slope = fit_line(points)
    predicted = largest_in_budget(intercept, slope, room)
    row.update(intercept_mb=intercept, slope_mb=slope, predicted_largest=predicted)
    row["activation_mb"] = slope * shape.batch  # the part of the peak that grows with the batch
    safe = largest_in_budget(intercept, slope, MACHINE_SHARE * free_mb())
    if predicted > safe:
        row["capped_by_machine"] = safe
    trial = min(predicted, safe)
    tried = []
    while trial >= 1 and len(tried) < CONFIRM_TRIES:
        got = runner(
            measure.Run(shape.with_batch(trial), strategy, steps=1, grad_check=False, limit_mb=room),
            msg("{strategy}: confirming batch {batch} under the budget", strategy=strategy, batch=trial),
        )
        if got is None:
            return None
        tried.append({"batch": trial, "fits": bool(got.get("fits")), "peak_mb": got.get("peak_mb")})
        if got.get("fits"):
            break
        trial = math.floor(trial * 0.9)
    row["confirmations"] = tried
    fitted = [t["batch"] for t in tried if t["fits"]]
    measured = [b for b, p in points if p <= room]
    row["largest_batch"] = max(fitted + measured, default=0)
    return row


def _depth_curves(
    study: Study, shape: Shape, runner: _Runner, rows: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """Activation memory against depth for none, per-block and sqrt(n), at the smallest fit batch b:
    counted from the shapes at every depth (lines) and measured at the study's three depths (markers).
    A measured value is the growth of the step's peak from batch b to 2b, so the step's fixed part (the
    runtime's workspace, the gradients) drops out; at the study's own depth it is the fitted slope."""
    small = study.fit_batches()[0]
    depths = study.depths()
    measured: dict[str, list[float | None]] = {}
    for strategy in DEPTH_STRATEGIES:
        if strategy not in study.strategies:
            continue
        measured[strategy] = []
        for n in depths:
            row = rows.get(strategy, {})
            if n == shape.layers:
                slope = row.get("slope_mb")
                measured[strategy].append(None if slope is None else slope * small)
                continue
            peaks = []
            for b in (small, 2 * small):
                probe = Shape(n, shape.hidden, shape.heads, shape.seq, b, vocab=shape.vocab)
                got = runner(
                    measure.Run(probe, strategy, steps=2, grad_check=False, limit_mb=MACHINE_SHARE * free_mb()),
                    msg("{strategy}: {n} blocks, batch {batch}", strategy=strategy, n=n, batch=b),
                )
                if got is None:
                    return None
                peaks.append(got.get("peak_mb") if got.get("fits") else None)
            ok = None not in peaks
            measured[strategy].append(max(0.0, peaks[1] - peaks[0]) if ok else None)  # type: ignore[operator]
    every = list(range(1, max(depths) + 1))
    probe = Shape(shape.layers, shape.hidden, shape.heads, shape.seq, small, vocab=shape.vocab)
    return {
        "batch": small,
        "depths": depths,
        "measured": measured,
        "counted_depths": every,
        "counted": {s: [probe.predicted_activation_mb(s, layers=n) for n in every] for s in DEPTH_STRATEGIES},
    }
