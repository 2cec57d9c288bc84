"""Su's 2n - 1 segmentation layout, batched vs one forward per input.

For 20, 50 and 100 characters of People's Daily text on ``e5-multilingual``
(every layer): the batched neighbour distances against the same inputs run
one at a time, and ``efficiency``: useful matmul FLOP/s of the batched run
over the machine's measured dense float32 matmul peak. Last line: one JSON
object.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from benchmarks.perturbed_masking import encoder_flops, matmul_peak, timed
from core.data.peoples_daily import slices
from core.models.registry import load_encoder
from core.perturbed_masking.impact import hidden_states, masked_inputs
from core.perturbed_masking.segmentation import char_pieces, neighbour_distances


def loop(encoder, text: str) -> None:
    pieces = char_pieces(encoder, text)
    n = len(pieces.words)
    inputs, _ = masked_inputs(pieces, encoder.mask_id, [(i, i + 1) for i in range(n - 1)])
    for row in inputs:
        hidden_states(encoder, row[None, :])


def main() -> dict:
    encoder = load_encoder("e5-multilingual")
    text = "".join("".join(s) for s in slices().evaluation[:40])
    peak = max(matmul_peak(), matmul_peak(2048, 4))
    result: dict = {"model": encoder.id, "matmul_peak_gflops": round(peak / 1e9, 1)}
    neighbour_distances(encoder, text[:10])  # warm-up
    for n in (20, 50, 100):
        chunk = text[:n]
        batched = timed(neighbour_distances, encoder, chunk, repeats=3 if n < 100 else 2)
        looped = timed(loop, encoder, chunk)
        flops = encoder_flops(encoder.model.config, 2 * n - 1, n + 2, encoder.n_layers)
        result[f"batched_n{n}_s"] = round(batched, 3)
        result[f"loop_n{n}_s"] = round(looped, 3)
        result[f"speedup_n{n}"] = round(looped / batched, 2)
        result[f"efficiency_n{n}"] = round(flops / batched / peak, 3)
        print(f"n={n}: batched {batched:.3f}s loop {looped:.3f}s", file=sys.stderr, flush=True)
    late = max(matmul_peak(), matmul_peak(2048, 4))
    if late > peak:
        for key in [k for k in result if k.startswith("efficiency")]:
            result[key] = round(result[key] * peak / late, 3)
        result["matmul_peak_gflops"] = round(late / 1e9, 1)
    assert np.isfinite(list(v for v in result.values() if isinstance(v, float))).all()
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
