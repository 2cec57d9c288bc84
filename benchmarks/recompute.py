"""Recompute strategies on a 12-block encoder (hidden 256, 4 heads, sequence 128), each against none in the
same run, every configuration in a fresh process (core.recompute.measure).

- ``batch_ratio_per_block``: the largest batch with every block recomputed (the lab's keras.remat with the
  dropout seeds replayed) over none's, in the same budget, each found by fitting memory against batch and
  confirmed by a run under a hard limit (target >= 3);
- ``time_ratio_per_block``: its median step time over none's at the same batch (target <= 1.35; the blog
  +25%, Chen et al. one extra forward pass), timed in one process, interleaved; ``time_ratio_per_block_at_64``
  the same at batch 64 (the issue's prototype: x1.18), where the step's fixed costs weigh less;
- ``sqrt_vs_per_block_at_24``: sqrt(n)'s measured activation memory over per-block's at 24 blocks (< 1);
- ``grad_max_abs_diff``: the largest gradient difference of any recomputing strategy that replays dropout
  (target <= 1e-5); ``keras_remat_grad_diff``: keras.remat as it is, for contrast.

    python -m benchmarks.recompute [--budget-mb 1500] [--batch 16]

By default it is the page's default study (every strategy), stored in the lab home, so the page opens on
the numbers printed here. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import time

from core.recompute import measure
from core.recompute.shapes import Shape
from core.recompute.study import Study, compute_study


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-mb", type=float, default=Study.budget_mb)
    parser.add_argument("--batch", type=int, default=Study.batch)
    args = parser.parse_args()
    spec = Study(layers=12, hidden=256, heads=4, seq=128, batch=args.batch, budget_mb=args.budget_mb)
    began = time.perf_counter()
    result = compute_study(spec, progress=lambda f, m: print(f"[{f:4.0%}] {m}", flush=True))
    assert result is not None
    by = {r["strategy"]: r for r in result["rows"]}
    for r in result["rows"]:
        print(
            f"{r['strategy']:>20}: peak {r.get('peak_mb') or 0:7.0f} MB, activations {r.get('activation_mb') or 0:7.0f}"
            f" MB (counted {r.get('predicted_activation_mb') or 0:7.0f}), step {r.get('step_s') or 0:6.3f} s"
            f" (x{r.get('time_ratio') or 0:.2f}), largest batch {r.get('largest_batch')}"
            f" (x{r.get('batch_ratio') or 0:.2f}), grad diff {r.get('grad_max_abs_diff')}"
        )
    depth = result["depth"]
    at = depth["depths"].index(24) if 24 in depth["depths"] else -1
    measured = depth["measured"]
    sqrt_24, block_24 = measured["sqrt"][at], measured["per-block"][at]
    at_64 = measure.interleaved(Shape(batch=64), ["none", "per-block", "sqrt"], rounds=7)["step_s"]
    replaying = [by[s]["grad_max_abs_diff"] for s in ("scope-activations", "per-block", "sqrt", "torch-checkpointing")]
    out = {
        "budget_mb": args.budget_mb,
        "batch": args.batch,
        "batch_ratio_per_block": by["per-block"]["batch_ratio"],
        "time_ratio_per_block": by["per-block"]["time_ratio"],
        "time_ratio_per_block_at_64": at_64["per-block"] / at_64["none"],
        "time_ratio_sqrt_at_64": at_64["sqrt"] / at_64["none"],
        "batch_ratio_sqrt": by["sqrt"]["batch_ratio"],
        "time_ratio_sqrt": by["sqrt"]["time_ratio"],
        "batch_ratio_scope_activations": by["scope-activations"]["batch_ratio"],
        "time_ratio_scope_activations": by["scope-activations"]["time_ratio"],
        "batch_ratio_torch_checkpointing": by["torch-checkpointing"]["batch_ratio"],
        "time_ratio_torch_checkpointing": by["torch-checkpointing"]["time_ratio"],
        "largest_batch": {s: r.get("largest_batch") for s, r in by.items()},
        "activation_mb_at_24": {"none": measured["none"][at], "per-block": block_24, "sqrt": sqrt_24},
        "sqrt_vs_per_block_at_24": sqrt_24 / block_24 if sqrt_24 and block_24 else None,
        "grad_max_abs_diff": max(d for d in replaying if d is not None),
        "keras_remat_grad_diff": by["keras-remat"]["grad_max_abs_diff"],
        "minutes": (time.perf_counter() - began) / 60,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
