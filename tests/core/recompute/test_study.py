"""Shapes and their counts by hand, the study's search for the largest batch against a stand-in for the
measuring process (linear memory, a hard limit), and the command line's bad input."""

from __future__ import annotations

import json

import pytest

from core.recompute import measure, study
from core.recompute.shapes import Shape, ShapeError, clamp_shape

FAILS = {"scope-full", "scope-larger-than", "scope-list-of-layers"}
FIXED_MB = 300.0  # the stand-in's runtime workspace


def fake_run(config: measure.Run, timeout: float = 0) -> dict:
    """A measuring process that obeys the counted activations exactly, plus a fixed workspace."""
    shape, strategy = config.shape, config.strategy
    if strategy in FAILS:
        return {"strategy": strategy, "backend": "tensorflow", "batch": shape.batch, "error": "keywords, eager"}
    peak = FIXED_MB + shape.predicted_activation_mb(strategy)
    if config.limit_mb is not None and peak > config.limit_mb:
        return {"fits": False, "over_mb": peak}
    return {
        "strategy": strategy,
        "backend": "torch" if strategy.startswith("torch") else "tensorflow",
        "batch": shape.batch,
        "fits": True,
        "peak_mb": peak,
        "step_s": 0.011 * shape.batch * SLOW.get(strategy, 1.2),  # a separate process: not the ratios' source
        "grad_max_abs_diff": 0.3 if strategy == "keras-remat" else 0.0,
        "loss": 8.5,
    }


SLOW = {"none": 1.0, "scope-activations": 1.05, "per-block": 1.3, "sqrt": 1.6, "keras-remat": 1.3}


def fake_interleaved(shape, strategies, rounds: int = 9, timeout: float = 0) -> dict:
    return {"step_s": {s: 0.01 * shape.batch * SLOW.get(s, 1.2) for s in strategies if s not in FAILS}}


def test_the_counts_by_hand():
    s = Shape(layers=2, hidden=8, heads=2, seq=4, batch=1, vocab=10)
    # 10 S H + 4 S I + 3 A S^2 = 320 + 512 + 96
    assert s.block_elements() == 928
    # embeddings 3 S H = 96; head: 1 masked position x (6 H + 2 V) = 68
    assert s.masked == 1 and s.outside_elements() == 164
    mb = 4 / 2**20
    assert s.predicted_activation_mb("none") == pytest.approx((2 * 928 + 164) * mb)
    assert s.predicted_activation_mb("per-block") == pytest.approx((1 * 32 + 928 + 164) * mb)  # n - 1 inputs
    assert s.predicted_activation_mb("torch-checkpointing") == pytest.approx(
        (2 * 32 + s.block_elements(torch=True) + s.outside_elements(torch=True)) * mb
    )
    assert s.predicted_activation_mb("scope-full") is None
    # parameters: a block 4(H^2 + H) + (H I + I) + (I H + H) + 4 LN weights of H = 288 + 288 + 264 + 32
    assert s.parameters == 2 * 872 + (10 * 8 + 4 * 8 + 16) + (64 + 8 + 16 + 10)


def test_sqrt_n_is_sublinear_and_beats_every_block_at_24_blocks():
    s = Shape(layers=24, batch=1)
    none = [s.predicted_activation_mb("none", layers=n) for n in (6, 12, 24, 48)]
    per_block = [s.predicted_activation_mb("per-block", layers=n) for n in (6, 12, 24, 48)]
    sqrt = [s.predicted_activation_mb("sqrt", layers=n) for n in (6, 12, 24, 48)]
    assert none[3] - none[2] == pytest.approx(2 * (none[2] - none[1]))  # linear
    assert sqrt[3] - sqrt[2] < per_block[3] - per_block[2]
    assert sqrt[2] < per_block[2] < none[2]


def test_clamping_is_said_and_heads_must_divide_the_width():
    shape = clamp_shape(layers=100, hidden=256, heads=4, seq=4, batch=8)
    assert (shape.layers, shape.seq) == (48, 8)
    assert [str(n) for n in shape.notes] == [
        "layers=100 is outside 1..48: 48 is used",
        "seq=4 is outside 8..512: 8 is used",
    ]
    with pytest.raises(ShapeError, match="does not divide into 3 heads"):
        clamp_shape(hidden=256, heads=3)


def test_a_budget_below_the_weights_and_optimizer_state_is_refused():
    with pytest.raises(study.BudgetError, match="cannot hold this model"):
        study.checked(layers=12, hidden=1024, heads=16, seq=128, batch=8, budget_mb=500)
    with pytest.raises(study.BadArgument, match="unknown strategy"):
        study.checked(strategies=("fastest",))


def test_fitting_and_the_largest_batch():
    a, b = study.fit_line([(4, 500.0), (8, 700.0), (16, 1100.0)])
    assert (a, b) == (pytest.approx(300.0), pytest.approx(50.0))
    assert study.largest_in_budget(300.0, 50.0, 1000.0) == 14
    assert study.largest_in_budget(300.0, 50.0, 200.0) == 0


@pytest.fixture
def fake_measure(monkeypatch):
    monkeypatch.setattr(measure, "run", fake_run)
    monkeypatch.setattr(measure, "interleaved", fake_interleaved)
    monkeypatch.setattr(study, "free_mb", lambda: 100_000.0)


def test_a_study_finds_and_confirms_each_largest_batch(fake_measure):
    spec = study.Study(layers=4, hidden=64, heads=2, seq=32, batch=8, budget_mb=700.0)
    seen = []
    result = study.compute_study(spec, progress=lambda f, m: seen.append(f))
    by = {r["strategy"]: r for r in result["rows"]}
    room = result["room_mb"]
    shape = spec.shape()
    for name in ("none", "per-block", "sqrt", "torch-none"):
        row = by[name]
        per_example = shape.with_batch(1).predicted_activation_mb(name)
        assert row["slope_mb"] == pytest.approx(per_example) and row["intercept_mb"] == pytest.approx(FIXED_MB)
        assert row["largest_batch"] == int((room - FIXED_MB) // per_example)  # the fake is exactly linear
        assert row["confirmations"][-1]["fits"]
    assert by["per-block"]["batch_ratio"] == pytest.approx(
        by["per-block"]["largest_batch"] / by["none"]["largest_batch"]
    )
    assert by["per-block"]["time_ratio"] == pytest.approx(1.3)
    assert by["torch-checkpointing"]["time_ratio"] == pytest.approx(1.0)  # against torch-none, not none
    assert by["scope-full"]["error"] and "largest_batch" not in by["scope-full"]
    assert seen == sorted(seen) and max(seen) < 1
    assert study.load_study(spec) == json.loads(json.dumps(result))
    depth = result["depth"]
    assert depth["depths"] == [2, 4, 8] and len(depth["counted"]["none"]) == 8
    small = spec.fit_batches()[0]
    for strategy, values in depth["measured"].items():
        for n, value in zip(depth["depths"], values, strict=True):
            counted = Shape(n, 64, 2, 32, small).predicted_activation_mb(strategy)
            assert value == pytest.approx(counted), (strategy, n)  # the fixed part drops out


def test_a_confirmation_that_passes_the_limit_steps_down(fake_measure, monkeypatch):
    def optimistic(config, timeout=0):  # the fit promises more than a run at the largest batch gets
        got = fake_run(config)
        if config.limit_mb is not None and config.shape.batch > 20:
            return {"fits": False}
        return got

    monkeypatch.setattr(measure, "run", optimistic)
    spec = study.Study(layers=4, hidden=64, heads=2, seq=32, batch=8, budget_mb=2000.0, strategies=("per-block",))
    row = study.compute_study(spec)["rows"][0]
    tried = [c["batch"] for c in row["confirmations"]]
    assert row["predicted_largest"] > 20 and tried[0] == row["predicted_largest"]
    assert all(not c["fits"] for c in row["confirmations"][:-1]) and tried == sorted(tried, reverse=True)
    assert row["largest_batch"] == (tried[-1] if row["confirmations"][-1]["fits"] else 8)


def test_a_cancelled_study_stores_nothing(fake_measure):
    spec = study.Study(layers=2, hidden=32, heads=2, seq=16, batch=4, budget_mb=500.0, strategies=("none",))
    assert study.compute_study(spec, should_stop=lambda: True) is None
    assert study.load_study(spec) is None


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--hidden", "250", "--heads", "4", "--strategy", "none"], "does not divide into 4 heads"),
        (["--strategy", "fastest"], "unknown strategy"),
        (["--budget-mb", "10", "--largest-batch"], "cannot hold this model"),
        (["--largest-batch"], "--largest-batch needs --budget-mb"),
        ([], "give one --strategy"),
        (["--layers", "x"], "invalid int value"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, says, capsys):
    from core.cli import main

    assert main(["recompute", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_the_largest_batch_per_strategy_on_the_command_line(fake_measure, capsys):
    from core.cli import main

    argv = ["recompute", "--layers", "2", "--hidden", "32", "--heads", "2", "--seq", "16", "--batch", "4"]
    assert main([*argv, "--budget-mb", "400", "--largest-batch", "--strategy", "none,per-block"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["strategy"] for x in lines] == ["none", "per-block"]
    assert lines[1]["largest_batch"] > lines[0]["largest_batch"] > 0 and lines[1]["batch_ratio"] > 1


def test_a_single_measurement_that_does_not_fit_exits_2_with_one_line(monkeypatch, capsys):
    from core.cli import main

    monkeypatch.setattr(measure, "run", lambda config, timeout=0: {"fits": False, "killed": True})
    assert main(["recompute", "--strategy", "none", "--batch", "2048"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not fit in this machine's memory" in err[0], err
