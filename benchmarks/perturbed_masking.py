"""Batched impact matrices vs one forward per input vs the paper's layout.

For n = 10, 20, 40 words on ``minilm-en`` and ``e5-multilingual``:

* batched: the lab's n + n(n-1)/2 unique inputs in large batches, every layer;
* loop: the same unique inputs, one forward each;
* paper: the released code's layout, n forwards of batch n (each pair twice).

It also measures this machine's dense float32 matmul throughput (torch, the
same kernels the encoder uses) and reports ``efficiency``: the batched run's
useful FLOP/s (the encoder's matmul FLOPs for the sequences it runs) over that
peak. The last line is one JSON object.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from core.models.registry import load_encoder
from core.perturbed_masking.impact import hidden_states, impact_matrices, masked_inputs, word_pieces

TEXT = (
    "the committee said on tuesday that the new bridge over the river would open to traffic next spring after "
    "years of delays caused by funding disputes between the city and the regional government which had argued "
    "about costs while local shops along the old road lost customers every month"
).split()


def matmul_peak(size: int = 1536, repeats: int = 8) -> float:
    """Best dense float32 matmul FLOP/s over a few runs."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best


def encoder_flops(config, sequences: int, tokens: int, layers: int) -> float:
    """Matmul FLOPs of ``layers`` transformer blocks over ``sequences`` x ``tokens``."""
    h, f = config.hidden_size, config.intermediate_size
    per_token = 2 * (4 * h * h + 2 * h * f) + 2 * 2 * tokens * h  # projections + QK^T and AV
    return float(sequences * tokens * layers * per_token)


def timed(fn, *args, repeats: int = 1) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t)
    return best


def loop(encoder, pieces) -> None:
    inputs, _ = masked_inputs(pieces, encoder.mask_id)
    for row in inputs:
        hidden_states(encoder, row[None, :])


def paper_layout(encoder, pieces) -> None:
    base = np.asarray(pieces.input_ids)
    n = len(pieces.spans)
    for i in range(n):
        batch = np.repeat(base[None, :], n, axis=0)
        for j in range(n):
            for w in {i, j}:
                s, e = pieces.spans[w]
                batch[j, s:e] = encoder.mask_id
        hidden_states(encoder, batch)


def main() -> dict:
    peak = max(matmul_peak(), matmul_peak(2048, 4))
    result: dict = {"matmul_peak_gflops": round(peak / 1e9, 1)}
    for model_id in ("minilm-en", "e5-multilingual"):
        encoder = load_encoder(model_id)
        short = "minilm" if model_id == "minilm-en" else "e5"
        for n in (10, 20, 40):
            pieces = word_pieces(encoder, TEXT[:n])
            repeats = 3 if n <= 20 else 1
            impact_matrices(encoder, word_pieces(encoder, TEXT[:4]))  # warm-up
            batched = timed(impact_matrices, encoder, pieces, repeats=repeats)
            looped = timed(loop, encoder, pieces)
            paper = timed(paper_layout, encoder, pieces, repeats=1 if n > 10 else 2)
            sequences = n + n * (n - 1) // 2
            flops = encoder_flops(encoder.model.config, sequences, len(pieces.input_ids), encoder.n_layers)
            key = f"{short}_n{n}"
            result[f"{key}_batched_s"] = round(batched, 3)
            result[f"{key}_loop_s"] = round(looped, 3)
            result[f"{key}_paper_s"] = round(paper, 3)
            result[f"{key}_speedup_vs_loop"] = round(looped / batched, 2)
            result[f"{key}_speedup_vs_paper"] = round(paper / batched, 2)
            result[f"{key}_efficiency"] = round(flops / batched / peak, 3)
            print(
                f"{model_id} n={n}: batched {batched:.3f}s loop {looped:.3f}s paper {paper:.3f}s "
                f"efficiency {flops / batched / peak:.2f}",
                file=sys.stderr,
                flush=True,
            )
    # The machine is noisy: take the best peak seen before or after the runs.
    late_peak = max(matmul_peak(), matmul_peak(2048, 4))
    if late_peak > peak:
        for key in [k for k in result if k.endswith("_efficiency")]:
            result[key] = round(result[key] * peak / late_peak, 3)
        result["matmul_peak_gflops"] = round(late_peak / 1e9, 1)
    result["speedup_vs_loop_n20"] = result["minilm_n20_speedup_vs_loop"]
    result["speedup_vs_paper_n20"] = result["minilm_n20_speedup_vs_paper"]
    result["efficiency_n20"] = result["minilm_n20_efficiency"]
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
