"""python -m core optimize: the JSON contract and one-line errors."""

import json

import pytest

from tests.core.test_cli import run_cli


def test_optimize_prints_every_optimizer(lab_home):
    out = run_cli("optimize", "--function", "rosenbrock", "--optimizers", "adam,lookahead:adam", "--steps", "3000",
                  "--lr", "0.02", "--start=-1.5,2", home=lab_home)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    obj = json.loads(out.stdout)
    assert obj["function"] == "rosenbrock" and obj["start"] == [-1.5, 2.0]
    assert [r["optimizer"] for r in obj["results"]] == ["adam", "lookahead:adam"]
    for r in obj["results"]:
        assert {"optimizer", "final_point", "final_loss", "steps"} <= set(r) and r["steps"] == 3000
    assert obj["results"][0]["final_point"] == pytest.approx([1, 1], abs=0.05)


@pytest.mark.parametrize("args, message", [
    (("optimize", "--function", "sphere"), "--function"),
    (("optimize", "--optimizers", "adagrad"), "unknown optimizer"),
    (("optimize", "--optimizers", ","), "at least one"),
    (("optimize", "--start=1"), "--start"),
    (("optimize", "--steps", "0"), "steps"),
    (("optimize", "--lr", "-1"), "learning rate"),
    (("optimize", "--alpha", "2", "--optimizers", "lookahead:sgd"), "slow_step_size"),
])
def test_optimize_bad_input_exits_2_with_one_line(lab_home, args, message):
    out = run_cli(*args, home=lab_home)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
