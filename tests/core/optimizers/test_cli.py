"""python -m core optimize: the JSON contract and one-line errors."""

import json

import pytest

from tests.helpers import run_cli


def test_optimize_prints_every_optimizer(lab_home):
    out = run_cli(
        "optimize",
        "--function",
        "rosenbrock",
        "--optimizers",
        "adam,lookahead:adam",
        "--steps",
        "3000",
        "--lr",
        "0.02",
        "--start=-1.5,2",
        home=lab_home,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    obj = json.loads(out.stdout)
    assert obj["function"] == "rosenbrock" and obj["start"] == [-1.5, 2.0]
    assert [r["optimizer"] for r in obj["results"]] == ["adam", "lookahead:adam"]
    for r in obj["results"]:
        assert {"optimizer", "final_point", "final_loss", "steps"} <= set(r) and r["steps"] == 3000
    assert obj["results"][0]["final_point"] == pytest.approx([1, 1], abs=0.05)


@pytest.mark.parametrize(
    "args, message",
    [
        (("optimize", "--function", "sphere"), "--function"),
        (("optimize", "--optimizers", "adagrad"), "unknown optimizer"),
        (("optimize", "--optimizers", ","), "at least one"),
        (("optimize", "--start=1"), "--start"),
        (("optimize", "--steps", "0"), "steps"),
        (("optimize", "--lr", "-1"), "learning rate"),
        (("optimize", "--alpha", "2", "--optimizers", "lookahead:sgd"), "slow_step_size"),
    ],
)
def test_optimize_bad_input_exits_2_with_one_line(lab_home, args, message):
    out = run_cli(*args, home=lab_home)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_path_summary_distance_and_first_step_within(lab_home):
    import numpy as np

    from core.optimizers import functions as F

    path = F.Trajectory("adam", "Adam", np.array([[3.0, 0.0], [1.2, 1.0], [1.005, 1.0]]), np.array([4.0, 0.04, 0.0]))
    summary = F.path_summary("rosenbrock", path)
    assert summary["distance_to_minimum"] == pytest.approx(0.005)
    assert summary["first_step_within"] == 2
    assert F.first_step_within("rosenbrock", path.points, tolerance=0.5) == 1
    assert F.first_divergence(path) is None
    assert F.first_divergence(F.Trajectory("x", "x", path.points, np.array([1.0, np.inf, np.nan]))) == 1
    # Himmelblau has four minima: the distance is to the nearest one.
    assert F.distances_to_minimum("himmelblau", np.array([[3.0, 2.1]]))[0] == pytest.approx(0.1)


def test_optimize_reports_distance_and_first_step(lab_home):
    out = run_cli(
        "optimize", "--function", "quadratic", "--optimizers", "adam", "--steps", "400", "--lr", "0.05", home=lab_home
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["results"][0]
    assert result["distance_to_minimum"] < 0.01 and isinstance(result["first_step_within_0.01"], int)
