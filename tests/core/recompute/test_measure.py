"""The measuring process for real: a step's peak and time, a hard limit that ends it as "does not fit", and a
strategy that cannot run giving its reason instead of a result."""

from __future__ import annotations

from core.recompute import measure
from core.recompute.shapes import Shape

TINY = Shape(layers=2, hidden=32, heads=2, seq=16, batch=4)


def test_a_measurement_in_its_own_process():
    got = measure.run(measure.Run(TINY, "none", steps=2, threads=2))
    assert got["fits"] and got["meter"] in ("kernel", "sampled")
    assert got["peak_mb"] > 0 and got["baseline_mb"] > 100 and 0 < got["step_s"] < 30
    assert got["grad_max_abs_diff"] == 0.0 and 5 < got["loss"] < 12  # cross-entropy near log(6000) = 8.7
    timed = measure.interleaved(TINY, ["none", "scope-full", "per-block"], rounds=3)
    assert set(timed["step_s"]) == {"none", "per-block"} and all(0 < t < 30 for t in timed["step_s"].values())


def test_a_run_over_its_hard_limit_does_not_fit_and_a_failing_strategy_says_why():
    big = Shape(layers=2, hidden=64, heads=2, seq=128, batch=64)  # a step needs well over 5 MB
    assert measure.run(measure.Run(big, "none", steps=1, grad_check=False, limit_mb=5, threads=2))["fits"] is False
    got = measure.run(measure.Run(TINY, "scope-full", steps=1, grad_check=False, threads=2))
    assert "keywords arguments only when eager execution" in got["error"] and "peak_mb" not in got
