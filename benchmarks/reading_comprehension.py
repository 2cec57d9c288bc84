"""Reading comprehension: DGCNN against the BiLSTM it replaced, in training speed, accuracy and latency.

1. Training throughput at equal width (``core.reading_comprehension.training.throughput``, which the page's
   scorecard runs too): both readers built fresh, the same batches of training questions cut as training
   cuts them, ``STEPS`` compiled training steps each after two warm-up steps, taking turns in one process;
   ``train_speedup_vs_bilstm`` = DGCNN characters/s / BiLSTM characters/s (target >= 3).
2. Answering latency: a 500-character passage and a question, one batched forward pass (median of 9).
3. The trained readers (``python -m core train-reader --encoder dgcnn|bilstm``) on the test split: EM and
   character F1 on the answerable questions, the gate's AUC, beside the best heuristic baseline (the page's
   scorecard, computed here if the worker has not yet).

``--preset tiny --steps 2`` runs it on the tiny readers (a smoke test). Last line: JSON.

    python -m benchmarks.reading_comprehension
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

STEPS = 20
WIDTH = 128  # the default preset's


def main(preset: str, steps: int = STEPS) -> dict:
    from core.reading_comprehension.data import load
    from core.reading_comprehension.features import Vocab
    from core.reading_comprehension.reader import ReaderError, reader
    from core.reading_comprehension.scorecard import compute_scorecard, load_scorecard, score_systems
    from core.reading_comprehension.training import model_name, predict, throughput

    names = {e: model_name(e, preset) for e in ("dgcnn", "bilstm")}
    try:
        readers = {e: reader(n) for e, n in names.items()}
    except ReaderError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    splits = load()
    training = list(splits["training"][:2000])
    vocab = Vocab.build(t for q in training for t in (q.passage, q.question))
    speed = throughput(training, vocab, steps, WIDTH)
    result: dict = {
        "dgcnn_train_chars_per_s": round(speed["dgcnn"], 1),
        "bilstm_train_chars_per_s": round(speed["bilstm"], 1),
        "train_speedup_vs_bilstm": round(speed["dgcnn"] / speed["bilstm"], 2),
    }
    print(f"training: DGCNN {speed['dgcnn']:.0f} chars/s, BiLSTM {speed['bilstm']:.0f} chars/s", flush=True)
    test = splits["test"]
    passage = next(q for q in test if len(q.passage) >= 500)
    passage = type(passage)(passage.passage[:500], passage.question, "", "", (), -1)
    for encoder, (model, rvocab) in readers.items():
        predict(model, rvocab, [passage])
        times = []
        for _ in range(9):
            started = time.perf_counter()
            predict(model, rvocab, [passage])
            times.append(time.perf_counter() - started)
        result[f"{encoder}_latency_ms_500_chars"] = round(1000 * statistics.median(times), 1)
    # the page's scorecard (the default readers'), or the preset's readers scored against the same heuristics
    table = (load_scorecard() or compute_scorecard()) if preset == "default" else None
    if table is None:  # a preset's readers (a smoke run): the first 300 test questions
        table = {"rows": score_systems(names, list(test[:300]))}
    rows = {r["system"]: r for r in table["rows"]}
    for system, row in rows.items():
        print(f"{system}: EM {row['em']:.4f}, F1 {row['f1']:.4f}", flush=True)
    baselines = {s: r["em"] for s, r in rows.items() if s not in readers}
    result.update(
        test_em=round(rows["dgcnn"]["em"], 4),
        test_f1=round(rows["dgcnn"]["f1"], 4),
        gate_auc=round(rows["dgcnn"]["gate_auc"], 4),
        gate_accuracy=round(rows["dgcnn"]["gate_accuracy"], 4),
        bilstm_em=round(rows["bilstm"]["em"], 4),
        bilstm_f1=round(rows["bilstm"]["f1"], 4),
        bilstm_gate_auc=round(rows["bilstm"]["gate_auc"], 4),
        best_baseline_em=round(max(baselines.values()), 4),
        baseline_em={k: round(v, 4) for k, v in baselines.items()},
    )
    return result


if __name__ == "__main__":
    from core.lab.runtime import keras

    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="default", help="whose readers to score (tiny: a smoke test)")
    parser.add_argument("--steps", type=int, default=STEPS, help="timed training steps per reader")
    args = parser.parse_args()
    keras()
    print(json.dumps(main(args.preset, args.steps)))
