"""The job-kind registry, the preparation of defaults, and the worker's hand-over."""

from __future__ import annotations

import pytest

from core.lab import jobs, prepare
from core.lab.prepare import Preparation


@pytest.fixture()
def echo_kind():
    ran = []

    def run(params, ctx):
        ctx.progress(0.5, "half")
        ran.append(params)
        if params.get("fail"):
            raise RuntimeError("broken on purpose")
        return {"message": f"echoed {params['x']}"}

    jobs.register("test-echo", run)
    yield ran
    jobs._KINDS.pop("test-echo", None)


def test_every_technique_registers_its_kinds():
    assert set(jobs.kinds()) >= {
        "train-probe",
        "train-classifier",
        "train-vae",
        "calibrate-segmentation",
        "convert-encoder",
        "optimizer-run",
    }
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.submit("no-such-kind", {})


def test_defaults_are_ordered_and_queued_once(monkeypatch):
    found = prepare.defaults()
    assert [p.order for p in found] == sorted(p.order for p in found)
    # The encoder first (the first page listed needs it, and so does zh-sentiment), then the classifier of the
    # integrated-gradients page's default view.
    assert [(p.kind, p.params) for p in found[:2]] == [
        ("convert-encoder", {"model": "e5-multilingual"}),
        ("train-classifier", {"model": "zh-sentiment"}),
    ]
    assert {p.kind for p in found} == {
        "convert-encoder",
        "train-classifier",
        "train-vae",
        "calibrate-segmentation",
        "convert-lm",
        "decode-table",
        "train-lm",
        "recompute-study",
        "train-pinyin",
        "bidi-scorecard",
        "train-reader",
        "rc-scorecard",
    }
    # the decoding page's: SmolLM2 before its table, each LSTM before its table
    kinds = [(p.kind, p.params.get("model") or p.params.get("output")) for p in found]
    assert kinds.index(("convert-lm", "smollm2-135m")) < kinds.index(("decode-table", "smollm2-135m"))
    assert kinds.index(("train-lm", "softmax")) < kinds.index(("decode-table", "lstm-peoples-daily-softmax"))
    # the recompute page's measurements (about 20 minutes) before the hour of LSTM training
    assert kinds.index(("recompute-study", None)) < kinds.index(("train-lm", "softmax"))
    # the bidirectional page's three models before its scorecard, which decodes with them
    assert kinds.index(("train-pinyin", None)) < kinds.index(("bidi-scorecard", None))
    # the reading-comprehension page's readers, DGCNN first (it answers), before their scorecard
    readers = [p.params.get("encoder") for p in found if p.kind == "train-reader"]
    assert readers == ["dgcnn", "bilstm"]
    assert kinds.index(("train-reader", None)) < kinds.index(("rc-scorecard", None))
    fake = [Preparation("test-echo", {"x": i}, f"thing {i}", lambda: False, order=i) for i in range(2)]
    monkeypatch.setattr(prepare, "defaults", lambda: fake)
    jobs.register("test-echo", lambda p, c: {})
    try:
        first = prepare.queue_defaults()
        assert prepare.queue_defaults() == first  # a second start reuses the queued jobs
        assert [jobs.get(i).params for i in first] == [{"x": 0}, {"x": 1}]
        for i in first:
            jobs.cancel(i)
    finally:
        jobs._KINDS.pop("test-echo", None)


def test_ensure_queues_runs_and_reports_a_failure_without_looping(echo_kind):
    done = []
    prep = Preparation("test-echo", {"x": 1}, "an echo", lambda: bool(done))
    job = prepare.ensure(prep, start_worker=False)
    assert job.status == "queued" and prepare.ensure(prep, start_worker=False).id == job.id
    assert jobs.run_one(job.id)
    finished = jobs.get(job.id)
    assert finished.status == "done" and finished.message == "echoed 1" and finished.progress == 1.0
    done.append(True)
    assert prepare.ensure(prep, start_worker=False) is None  # ready: nothing to wait for

    bad = Preparation("test-echo", {"x": 2, "fail": True}, "a broken echo", lambda: False)
    job = prepare.ensure(bad, start_worker=False)
    assert jobs.run_one(job.id) and jobs.get(job.id).status == "failed"
    again = prepare.ensure(bad, start_worker=False)
    assert again.id == job.id and "broken on purpose" in again.error  # shown, not queued again
    retry = prepare.retry(bad)
    assert retry != job.id and jobs.get(retry).status == "queued"
    jobs.cancel(retry)


def test_a_job_submitted_while_the_worker_lets_go_is_not_stranded(echo_kind, monkeypatch):
    """The worker found the queue empty; a page queued a job and its new worker found the lock held."""
    first = jobs.submit("test-echo", {"x": "a"})
    real_has_queued = jobs._has_queued
    late = []

    def has_queued():
        if not late:  # between the empty queue and the check after letting go of the lock
            late.append(jobs.submit("test-echo", {"x": "late"}))
        return real_has_queued()

    monkeypatch.setattr(jobs, "_has_queued", has_queued)
    assert jobs.run_worker() is True
    assert jobs.get(first).status == "done" and jobs.get(late[0]).status == "done"


def test_time_left_from_progress():
    from ui.preparing import time_left

    job = jobs.Job(1, "k", {}, "running", 0.0, 100.0, None, 0.25, "", None, None, False)
    assert time_left(job, now=100.0 + 120) == "about 6 min left"
    assert time_left(job, now=100.0 + 8) == "about 25 s left"
    assert time_left(jobs.Job(1, "k", {}, "queued", 0.0, None, None, 0.0, "", None, None, False)) == ""


def test_the_worker_process_starts_from_any_folder_and_runs_a_real_job(tmp_path, monkeypatch):
    """start_worker launches `python -m core worker` (what make run and the pages do) and it trains a tiny VAE."""
    from core.vae import jobs as vae_jobs
    from core.vae.model import VAEConfig

    monkeypatch.setenv("KEXUE_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KEXUE_LAB_WORKER", raising=False)
    monkeypatch.chdir(tmp_path)  # the server's working folder does not matter
    prep = vae_jobs.pair(VAEConfig(data="digits", epochs=1, max_train=300))
    job = prepare.ensure(prep, start_worker=False)
    proc = jobs.start_worker()
    assert proc.wait(timeout=300) == 0, jobs.worker_log().read_text()[-2000:]
    done = jobs.get(job.id)
    assert done.status == "done", (done.error, jobs.worker_log().read_text()[-2000:])
    assert prep.ready() and done.progress == 1.0 and set(done.result["test"]) == {"vae", "ae"}


def test_a_job_left_running_by_a_dead_worker_gets_a_new_worker(echo_kind, monkeypatch):
    started = []
    monkeypatch.setattr(jobs, "start_worker", lambda: started.append(True))
    prep = Preparation("test-echo", {"x": "orphan"}, "an orphan", lambda: False)
    job_id = jobs.submit(prep.kind, prep.params)
    jobs._update(job_id, status="running", pid=2**22 + 12345)  # no such process
    assert prepare.ensure(prep).id == job_id and started == [True]
    assert jobs.run_worker() and jobs.get(job_id).status == "done"  # requeued, then run
