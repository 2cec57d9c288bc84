"""One training-step measurement in a process of its own, and the parent's side of it.

A process's peak resident memory is a high-water mark for its whole life, so every configuration runs in
a fresh ``python -m core.recompute.measure`` (the configuration as JSON on stdin, the result as JSON on
stdout). The child builds the model, Adam's moments and (TensorFlow) the traced step, returns freed memory
to the system (``malloc_trim``) and reads its resident memory: the baseline. It runs one warm-up step,
resets the kernel's high-water mark (``/proc/self/clear_refs``) and times the steps; the step's peak is the
high-water mark above the baseline. The baseline is taken before the warm-up step, not after it, because
TensorFlow's allocator keeps the memory a step freed: measured after a warm-up, a step of none "needed"
124 MB at batch 16 and its baseline had grown by the 630 MB of activations it kept for reuse. The peak so
includes the runtime's one-time workspace of the first steps (a few hundred MB, the same at every batch):
the study separates it as the intercept of memory against batch. Under a hard limit a watchdog thread ends
the child as soon as its memory passes the limit, and the result says "does not fit"; a child the system
kills says the same.
"""

from __future__ import annotations

import ctypes
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lab.errors import LabError
from core.recompute.shapes import Shape

STEPS = 5  # timed steps after the warm-up (the median is reported; the ratios come from interleaved())
CHILD_TIMEOUT_S = 900
_ENV = {
    # Large tensors come from mmap and go back to the system when freed (no dynamic threshold), so the
    # baseline after the warm-up step does not hide the step's memory in glibc's free lists.
    "MALLOC_MMAP_THRESHOLD_": "131072",
    "MALLOC_TRIM_THRESHOLD_": "131072",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "KERAS_BACKEND": "tensorflow",
}


class MeasureError(LabError):
    """A measurement that could not run (not a configuration that does not fit: that is a result)."""


@dataclass(frozen=True)
class Run:
    shape: Shape
    strategy: str
    steps: int = STEPS
    grad_check: bool = True
    limit_mb: float | None = None  # the hard limit on the step's memory above the baseline
    threads: int | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "shape": self.shape.key(),
            "strategy": self.strategy,
            "steps": self.steps,
            "grad_check": self.grad_check,
            "limit_mb": self.limit_mb,
            "threads": self.threads or os.cpu_count() or 1,
        }


# -- the parent ---------------------------------------------------------------------------------------
def run(config: Run, timeout: float = CHILD_TIMEOUT_S) -> dict[str, Any]:
    """The child's result: ``peak_mb``, ``step_s``, ``grad_max_abs_diff``... or ``{"fits": False}`` when it
    passed the limit or was killed, or ``{"error": reason}`` when the strategy cannot run here."""
    return _spawn(config.payload(), timeout)


def _spawn(payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, **_ENV, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "core.recompute.measure"],
            cwd=root,
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MeasureError("the measurement took longer than {s:.0f} s and was stopped", s=timeout) from None
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if lines:
        return json.loads(lines[-1])
    if done.returncode in (-9, 137):  # SIGKILL: the kernel's OOM killer
        return {"fits": False, "killed": True}
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    raise MeasureError("the measurement process failed ({code}): {tail}", code=done.returncode, tail=tail[:300])


# -- the child ----------------------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise MeasureError("/proc/self/status has no {field}", field=field)


def _trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMeter:
    """The resident high-water mark since :meth:`reset`, from the kernel where it lets us reset it, else
    sampled every millisecond."""

    def __init__(self) -> None:
        self.sampled = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.kernel = True

    def reset(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            self.kernel = False
        self.sampled = _status_kb("VmRSS")
        if not self.kernel and self._thread is None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.sampled = max(self.sampled, _status_kb("VmRSS"))

    def peak_kb(self) -> int:
        return _status_kb("VmHWM") if self.kernel else self.sampled


def _watchdog(baseline_kb: int, limit_mb: float, report: dict[str, Any]) -> None:
    limit_kb = baseline_kb + limit_mb * 1024
    while True:
        rss = _status_kb("VmRSS")
        if rss > limit_kb:
            report.update(fits=False, over_mb=round((rss - baseline_kb) / 1024, 1))
            sys.stdout.write(json.dumps(report) + "\n")
            sys.stdout.flush()
            os._exit(0)
        time.sleep(0.002)


def child(payload: dict[str, Any]) -> dict[str, Any]:
    shape = Shape(**payload["shape"])
    strategy = payload["strategy"]
    if strategy.startswith("torch"):
        from core.recompute import torch_side as side
    else:
        from core.recompute import keras_side as side
    side.threads(payload["threads"])
    report: dict[str, Any] = {"strategy": strategy, "backend": side.BACKEND, "batch": shape.batch}
    try:
        trainer = side.Trainer(shape, strategy)
        trainer.prepare()
    except side.STRATEGY_ERRORS as exc:  # a strategy that fails here is a result: its reason is shown
        report["error"] = side.reason(exc)
        return report
    _trim()
    baseline = _status_kb("VmRSS")
    if payload.get("limit_mb") is not None:
        threading.Thread(target=_watchdog, args=(baseline, payload["limit_mb"], dict(report)), daemon=True).start()
    t0 = time.perf_counter()
    loss = trainer.step(0)
    report["warmup_s"] = time.perf_counter() - t0
    meter = PeakMeter()
    meter.reset()
    times = []
    for i in range(payload["steps"]):
        t0 = time.perf_counter()
        loss = trainer.step(i + 1)
        times.append(time.perf_counter() - t0)
    peak = meter.peak_kb()
    limit = payload.get("limit_mb")
    if limit is not None and (peak - baseline) / 1024 > limit:  # a spike between the watchdog's looks
        report.update(fits=False, over_mb=round((peak - baseline) / 1024, 1))
        return report
    report.update(
        fits=True,
        baseline_mb=baseline / 1024,
        peak_mb=max(0.0, (peak - baseline) / 1024),
        step_s=statistics.median(times),
        step_times=times,
        loss=float(loss),
        meter="kernel" if meter.kernel else "sampled",
    )
    if payload.get("grad_check"):
        report["grad_max_abs_diff"] = trainer.grad_diff()
    return report


def timing_child(payload: dict[str, Any]) -> dict[str, Any]:
    """Step times of several strategies of one back end in one process, interleaved round by round (the
    order rotated each round), so a noisy machine slows them all alike: the time ratios of the page."""
    shape = Shape(**payload["shape"])
    strategies = payload["strategies"]
    if strategies[0].startswith("torch"):
        from core.recompute import torch_side as side
    else:
        from core.recompute import keras_side as side
    side.threads(payload["threads"])
    trainers = {}
    for strategy in strategies:
        try:
            trainer = side.Trainer(shape, strategy)
            trainer.prepare()
            trainer.step(0)
            trainer.step(1)
        except side.STRATEGY_ERRORS:
            continue
        trainers[strategy] = trainer
    times: dict[str, list[float]] = {s: [] for s in trainers}
    order = list(trainers)
    for r in range(payload["rounds"]):
        for strategy in order[r % len(order) :] + order[: r % len(order)]:
            t0 = time.perf_counter()
            trainers[strategy].step(r + 2)
            times[strategy].append(time.perf_counter() - t0)
    return {"step_s": {s: statistics.median(t) for s, t in times.items()}, "rounds": payload["rounds"]}


def interleaved(shape: Shape, strategies: list[str], rounds: int = 9, timeout: float = CHILD_TIMEOUT_S) -> dict:
    """Median step time per strategy, all timed in one process (:func:`timing_child`)."""
    config = {"timing": True, "shape": shape.key(), "strategies": strategies, "rounds": rounds}
    return _spawn({**config, "threads": os.cpu_count() or 1}, timeout)


def _main() -> None:
    payload = json.loads(sys.stdin.read())
    out = timing_child(payload) if payload.get("timing") else child(payload)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no interpreter teardown: TensorFlow's can take seconds


if __name__ == "__main__":
    _main()
