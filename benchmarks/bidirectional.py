"""Bidirectional decoding: batched beams against re-running every prefix, speed and accuracy per decoder.

1. L2R beam 4 over 100 held-out clauses, two ways: the lab's batched search (one model call per step for
   all beams, the GRU state carried) and Su's script's way (every prefix of every hypothesis through the
   whole teacher-forced model again, one hypothesis at a time). The two find the same outputs;
   ``speedup_vs_prefix_rerun`` = batched characters/s / re-run characters/s (target >= 5).
2. Every decoder (unigram, bigram, L2R, R2L, rerank, bidirectional; beam 4) over the same 100 clauses:
   characters per second, character accuracy, exact match, accuracy in the last fifth of the clause.

Needs the three models trained here (the page's jobs, or ``python -m core train-pinyin --model ...``).
Everything runs in one process; ratios, not absolute times, are the result. Last line: JSON.

    python -m benchmarks.bidirectional
"""

from __future__ import annotations

import json
import sys
import time

CLAUSES = 100
BEAM = 4


def main() -> dict:
    import numpy as np

    from core.bidirectional import decoders
    from core.bidirectional.decoding import Decoders, missing
    from core.bidirectional.pairs import load
    from core.bidirectional.scorecard import position_bins

    for name in ("l2r", "r2l", "bidi"):
        if missing(name):
            print(f"the {name} model is not trained: python -m core train-pinyin --model {name}", file=sys.stderr)
            raise SystemExit(2)
    clauses = load().test[:CLAUSES]
    chars = sum(len(p.chars) for p in clauses)
    lab = Decoders()
    model, vocab = lab.model("l2r")
    decoders.beam(model, vocab, clauses[0].pinyin, "l2r", BEAM)  # warm-up (tracing, first allocations)
    started = time.perf_counter()
    batched = [decoders.beam(model, vocab, p.pinyin, "l2r", BEAM) for p in clauses]
    batched_s = time.perf_counter() - started
    started = time.perf_counter()
    rerun = [decoders.beam_prefix_rerun(model, vocab, p.pinyin, "l2r", BEAM) for p in clauses]
    rerun_s = time.perf_counter() - started
    same = sum(a.output == b.output for a, b in zip(batched, rerun, strict=True))
    result: dict = {
        "clauses": CLAUSES,
        "beam": BEAM,
        "characters": chars,
        "batched_chars_per_s": round(chars / batched_s, 1),
        "prefix_rerun_chars_per_s": round(chars / rerun_s, 1),
        "speedup_vs_prefix_rerun": round(rerun_s / batched_s, 2),
        "same_outputs": f"{same}/{CLAUSES}",
        "model_calls_batched": sum(r.calls for r in batched),
        "model_calls_rerun": sum(r.calls for r in rerun),
    }
    print(
        f"L2R beam {BEAM}: batched {result['batched_chars_per_s']} chars/s, prefix re-run "
        f"{result['prefix_rerun_chars_per_s']} chars/s (x{result['speedup_vs_prefix_rerun']}); same outputs {same}",
        flush=True,
    )
    for name in ("unigram", "bigram", "l2r", "r2l", "rerank", "bidi"):
        right, count = np.zeros(5), np.zeros(5)
        exact = 0
        started = time.perf_counter()
        for p in clauses:
            out = lab.decode(name, p.pinyin, BEAM).output
            r, c = position_bins(out, p.chars)
            right += r
            count += c
            exact += out == p.chars
        seconds = time.perf_counter() - started
        result[f"{name}_chars_per_s"] = round(chars / seconds, 1)
        result[f"{name}_char_acc"] = round(float(right.sum() / count.sum()), 4)
        result[f"{name}_exact"] = round(exact / CLAUSES, 4)
        result[f"{name}_last_fifth_acc"] = round(float(right[-1] / count[-1]), 4)
        print(
            f"{name}: {result[f'{name}_char_acc']:.1%} characters, {result[f'{name}_exact']:.0%} exact, last fifth "
            f"{result[f'{name}_last_fifth_acc']:.1%}, {result[f'{name}_chars_per_s']} chars/s",
            flush=True,
        )
    return result


if __name__ == "__main__":
    from core.lab.runtime import keras

    keras()
    print(json.dumps(main()))
