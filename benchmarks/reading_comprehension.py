"""Reading comprehension: DGCNN against the BiLSTM it replaced, in training speed, accuracy and latency.

1. Training throughput at equal width: both readers built fresh, the same batches of training questions,
   ``STEPS`` compiled training steps each after two warm-up steps, taking turns in one process;
   ``train_speedup_vs_bilstm`` = DGCNN characters/s / BiLSTM characters/s (target >= 3).
2. Answering latency: a 500-character passage and a question, one batched forward pass (median of 9).
3. The trained readers (``python -m core train-reader --encoder dgcnn|bilstm``) on the test split: EM and
   character F1 on the answerable questions, the gate's AUC, beside the best heuristic baseline.

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
WIDTH = 128


def throughput(training: list, vocab: object, steps: int) -> dict[str, float]:
    from core.lab.runtime import keras
    from core.reading_comprehension.model import ModelConfig, build
    from core.reading_comprehension.training import batch_arrays, length_batches, step_function

    k = keras()
    batches = [batch_arrays(vocab, g) for g in length_batches(training, 32, 0)[: steps + 2]]
    chars = sum(int((b["pc"] != 0).sum() + (b["qc"] != 0).sum()) for b in batches[2:])
    runs = {}
    for encoder in ("dgcnn", "bilstm"):
        model = build(ModelConfig(encoder, len(vocab.characters), len(vocab.words), WIDTH, WIDTH))
        step = step_function(model, k.optimizers.Adam(1e-3))
        for b in batches[:2]:
            step(b)
        runs[encoder] = (step, 0.0)
    for turn in range(2, len(batches)):  # turns: the machine's noise slows both alike
        for encoder, (step, seconds) in runs.items():
            started = time.perf_counter()
            float(step(batches[turn]))
            runs[encoder] = (step, seconds + time.perf_counter() - started)
    return {encoder: chars / seconds for encoder, (_, seconds) in runs.items()}


def main(preset: str, steps: int = STEPS) -> dict:
    import numpy as np

    from core.reading_comprehension.baselines import BASELINES
    from core.reading_comprehension.data import load
    from core.reading_comprehension.features import Vocab
    from core.reading_comprehension.reader import ReaderError, reader
    from core.reading_comprehension.training import evaluate, model_name, predict

    names = {e: model_name(e, preset) for e in ("dgcnn", "bilstm")}
    try:
        readers = {e: reader(n) for e, n in names.items()}
    except ReaderError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    splits = load()
    training = list(splits["training"][:2000])
    vocab = Vocab.build(t for q in training for t in (q.passage, q.question))
    speed = throughput(training, vocab, steps)
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
        scores = evaluate(model, rvocab, test)
        print(f"{encoder}: {scores}", flush=True)
        result[f"{encoder}_scores"] = {k: round(v, 4) for k, v in scores.items()}
    answerable = [q for q in test if q.has_answer]
    baseline_em = {
        name: float(np.mean([pick(q.passage, q.question) == q.answer for q in answerable]))
        for name, pick in BASELINES.items()
    }
    result.update(
        test_em=result["dgcnn_scores"]["em"],
        test_f1=result["dgcnn_scores"]["f1"],
        gate_auc=result["dgcnn_scores"]["gate_auc"],
        bilstm_em=result["bilstm_scores"]["em"],
        best_baseline_em=round(max(baseline_em.values()), 4),
        baseline_em={k: round(v, 4) for k, v in baseline_em.items()},
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
