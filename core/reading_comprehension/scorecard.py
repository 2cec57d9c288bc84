"""The readers and the heuristic baselines on the test split: what the page's scorecard shows.

Every trained reader (DGCNN, the BiLSTM) is scored on all test questions (EM and character F1 on the
answerable ones, the gate's accuracy and AUC on all, negatives included); each heuristic baseline on the
answerable ones (it has no gate). Computed once per set of trained readers (a background job) and kept in
the lab home; a scorecard of readers since retrained, or of fewer readers than are trained now, is stale.
The published figures (other data sets) are context for the page, never compared with these.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.lab import trained
from core.lab.artifacts import atomic_write
from core.lab.messages import N_, msg
from core.lab.paths import lab_home
from core.lab.progress import Progress

VERSION = 1
ENCODERS = ("dgcnn", "bilstm")
CHUNK = 256  # questions per progress report (and per check for a stop)
THROUGHPUT_STEPS = 12  # timed training steps per reader for the scorecard's speed comparison
MARGIN = 0.10  # the target: DGCNN's EM at least this far above every heuristic baseline

# Published anchors: other data sets and metrics, shown as context only. (source, system, figure)
ANCHORS = (
    ("CIPS-SOGOU QA 2017", N_("Su's DGCNN (word and character)"), N_("0.7583, mean of accuracy and F1")),
    ("CIPS-SOGOU QA 2017", N_("Su's Keras release (characters)"), N_("0.72, mean of accuracy and F1")),
    ("CMRC 2018", N_("R-NET (pre-BERT)"), N_("EM 50.1, F1 73.4")),
    ("CMRC 2018", N_("best pre-BERT system"), N_("EM 74.2, F1 88.1")),
)


def path() -> Path:
    return lab_home() / "reading_comprehension" / "scorecard.json"


def reader_cards() -> dict[str, dict[str, Any]]:
    """What identifies each trained default reader (a retrained one has another card)."""
    from core.reading_comprehension.training import is_trained, model_name

    out = {}
    for encoder in ENCODERS:
        name = model_name(encoder)
        card = trained.card(name) if is_trained(name) else None
        if card:
            out[encoder] = {k: card.get(k) for k in ("steps", "minutes", "seed", "validation")}
    return out


def load_scorecard() -> dict[str, Any] | None:
    """The stored scorecard, if it scored exactly the readers trained now (else None: stale or missing)."""
    try:
        table = json.loads(path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if table.get("version") != VERSION or table.get("models") != reader_cards():
        return None
    return table


def score_systems(
    readers: dict[str, str],
    test: list[Any],
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[dict[str, Any]] | None:
    """A row per reader (``readers``: system name -> model name) over ``test`` and per heuristic baseline
    over its answerable questions: EM, F1 (and the gate for readers), questions per second, the first 200
    answers. None if stopped."""
    from core.reading_comprehension.baselines import BASELINES, score_answers
    from core.reading_comprehension.reader import reader
    from core.reading_comprehension.training import predict

    progress = progress or (lambda _f, _m: None)
    should_stop = should_stop or (lambda: False)
    answerable = [q for q in test if q.has_answer]
    systems = [*readers, *BASELINES]
    rows = []
    for si, system in enumerate(systems):
        questions = test if system in readers else answerable
        loaded = reader(readers[system]) if system in readers else None
        found: list[dict[str, Any]] = []
        seconds = 0.0
        for at in range(0, len(questions), CHUNK):
            if should_stop():
                return None
            part = questions[at : at + CHUNK]
            started = time.perf_counter()
            if loaded is not None:
                found += predict(*loaded, part)
            else:
                found += [{"answer": BASELINES[system](q.passage, q.question)} for q in part]
            seconds += time.perf_counter() - started
            done = (si + (at + len(part)) / len(questions)) / len(systems)
            progress(done, msg("{system}: question {i:,} of {n:,}", system=system, i=at + len(part), n=len(questions)))
        rows.append(
            {
                "system": system,
                "kind": "reader" if system in readers else "baseline",
                "questions": len(questions),
                **score_answers(found, questions),
                "questions_per_second": len(questions) / max(seconds, 1e-9),
                "answers": [f["answer"] for f in found[:200]],
            }
        )
    return rows


def compute_scorecard(
    progress: Progress | None = None, should_stop: Callable[[], bool] | None = None, size: int | None = None
) -> dict[str, Any] | None:
    """Score the trained default readers and the baselines on the test split (its first ``size`` questions:
    a quick look, for tests); written to the lab home and returned (None if stopped)."""
    from core.reading_comprehension.data import counts, load
    from core.reading_comprehension.training import model_name

    progress = progress or (lambda _f, _m: None)
    splits = load()
    test = list(splits["test"][:size])
    models = reader_cards()
    rows = score_systems({e: model_name(e) for e in models}, test, progress, should_stop)
    if rows is None:
        return None
    speed = None
    if set(ENCODERS) <= models.keys():
        from core.reading_comprehension.reader import reader
        from core.reading_comprehension.training import throughput

        progress(0.97, msg("Timing both readers' training steps"))
        model, vocab = reader(model_name("dgcnn"))
        steps = THROUGHPUT_STEPS if size is None else 2
        speed = throughput(splits["training"][: 32 * (steps + 2) * 4], vocab, steps, model.config.width)
    table = {
        "version": VERSION,
        "models": models,
        "size": len(test),
        "counts": counts(splits),
        "scored": counts({"test": tuple(test)})["test"],
        "rows": rows,
        "training": {e: _training(e) for e in models},
        "train_chars_per_second": speed,
    }
    payload = json.dumps(table, ensure_ascii=False)
    atomic_write(path(), lambda p: p.write_text(payload, encoding="utf-8"))
    return table


def _training(encoder: str) -> dict[str, Any]:
    from core.reading_comprehension.training import model_name

    card = trained.card(model_name(encoder)) or {}
    return {k: card.get(k) for k in ("epochs", "minutes", "parameters", "train_chars_per_second")}


def verdict(table: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets on a scorecard: DGCNN's EM over the best baseline (target +10 points), against
    the BiLSTM (target: not below), and its training speed against the BiLSTM's (target: 3x), measured by
    the scorecard's job with the two taking turns on the same batches."""
    rows = {r["system"]: r for r in table["rows"]}
    if "dgcnn" not in rows:
        return {}
    baselines = [r for r in table["rows"] if r["kind"] == "baseline"]
    best = max(baselines, key=lambda r: r["em"]) if baselines else None
    out: dict[str, Any] = {}
    if best:
        out.update(best_baseline=best["system"], over_baseline=rows["dgcnn"]["em"] - best["em"])
        out["beats_baselines"] = out["over_baseline"] >= MARGIN
    if "bilstm" in rows:
        out["vs_bilstm"] = rows["dgcnn"]["em"] - rows["bilstm"]["em"]
        speed = table.get("train_chars_per_second")
        if speed:
            out["speedup"] = speed["dgcnn"] / speed["bilstm"]
    return out
