"""AppTest of the optimizer page: test functions, share links, bad input, and a tiny training run."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.optimizers import jobs as opt_jobs
from core.optimizers import runs
from tests.helpers import TIMEOUT, prepare_now, texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "optimizers.py")


def opt_app(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"steps": "200", "seeds": "1", "epochs": "1", **params})
    return at


def specs(at) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


def test_default_view_draws_paths_and_slow_weights():
    at = opt_app().run()
    assert not at.exception, at.exception
    contour = next(s for s in specs(at) if "paths up to step 200" in s)
    assert "Lookahead(Adam, k=5, alpha=0.5): slow weights" in contour and "minimum" in contour
    assert any("Loss against step" in s for s in specs(at))
    frame = at.dataframe[0].value
    assert list(frame["optimizer"]) == ["Adam", "Lookahead(Adam, k=5, alpha=0.5)"]
    assert at.query_params["function"] == "rosenbrock" and at.query_params["opts"] == "adam,lookahead:adam"
    at.slider(key="opt.upto").set_value(20).run()
    assert any("paths up to step 20" in s for s in specs(at))


def test_share_link_settings_are_restored():
    at = opt_app(
        function="himmelblau", opts="sgd,lookahead:rmsprop", lr="0.003", k="7", alpha="0.3", start="1,-1"
    ).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="opt.function").value == "himmelblau"
    assert at.multiselect(key="opt.specs").value == ["sgd", "lookahead:rmsprop"]
    assert at.number_input(key="opt.k").value == 7
    assert at.text_input(key="opt.start.himmelblau").value == "1,-1"
    assert "Lookahead(RMSprop, k=7, alpha=0.3)" in next(s for s in specs(at) if "paths up to" in s)


def test_bad_start_and_divergence_give_messages():
    at = opt_app(start="one,two").run()  # a broken start in a link falls back to the function's own
    assert not at.exception and at.text_input(key="opt.start.rosenbrock").value == "-1.5,2"
    at.text_input(key="opt.start.rosenbrock").input("one,two").run()
    assert not at.exception
    assert "two numbers" in at.error[0].value
    at = opt_app(opts="sgd", lr="0.3").run()
    assert not at.exception
    assert "diverged" in at.warning[0].value


def test_training_runs_on_request_and_replays(monkeypatch):
    monkeypatch.setattr(runs.RunConfig, "resolved", _tiny(runs.RunConfig.resolved))
    at = opt_app(task="reviews").run()
    assert not at.exception, at.exception
    assert "Not run yet" in texts(at)
    at.button(key="opt.run").click().run()
    assert not at.exception, at.exception
    prep = opt_jobs.comparison("reviews", 1, 1)
    assert "queued" in texts(at) and not any("Held-out accuracy per epoch" in s for s in specs(at))
    prepare_now(prep)  # the worker's part, here
    at.run()
    assert not at.exception, at.exception
    titles = specs(at)
    assert any("Held-out accuracy per epoch" in s for s in titles)
    assert any("Steps in which each embedding row moved" in s for s in titles)
    assert any("Training step time" in s for s in titles)
    again = opt_app(task="reviews").run()  # a new session finds the stored run
    assert not again.exception and "Not run yet" not in texts(again)


def _tiny(resolved):
    def tiny(self):
        config = resolved(self)
        return runs.RunConfig(
            config.task,
            config.seeds,
            config.epochs,
            600,
            config.batch,
            config.sync_period,
            config.slow_step_size,
            config.optimizers,
        )

    return tiny
