"""Recompute command: ``recompute`` (one training-step measurement, or the largest batch in a budget)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from core.cli.common import CliError, stderr_progress


def cmd_recompute(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    import sys

    from core.recompute import study
    from core.recompute.model import STRATEGIES

    strategies = [s.strip() for s in (args.strategy or "").split(",") if s.strip()]
    if args.largest_batch and args.budget_mb is None:
        raise CliError("--largest-batch needs --budget-mb")
    if not args.largest_batch and len(strategies) != 1:
        raise CliError(f"give one --strategy ({', '.join(STRATEGIES)}), or --budget-mb N --largest-batch")
    spec, notes = study.checked(
        layers=args.layers,
        hidden=args.hidden,
        heads=args.heads,
        seq=args.seq,
        batch=args.batch,
        budget_mb=args.budget_mb if args.budget_mb is not None else study.Study.budget_mb,
        strategies=strategies or None,
    )
    for note in notes:
        print(str(note), file=sys.stderr)
    if args.largest_batch:
        result = study.compute_study(spec, progress=stderr_progress)
        assert result is not None  # nothing cancels a command-line study
        for row in result["rows"]:
            yield {
                "strategy": row["strategy"],
                "backend": row["backend"],
                "budget_mb": spec.budget_mb,
                "largest_batch": row.get("largest_batch"),
                "predicted_largest_batch": row.get("predicted_largest"),
                "batch_ratio": row.get("batch_ratio"),
                "error": row.get("error"),
            }
        return
    shape = spec.shape()
    got = study.single(shape, strategies[0])
    yield {
        "strategy": strategies[0],
        "backend": got["backend"],
        "batch": shape.batch,
        "peak_mb": round(got["peak_mb"], 1),
        "activation_mb": round(got["activation_mb"], 1),
        "predicted_activation_mb": _round(shape.predicted_activation_mb(strategies[0])),
        "step_s": round(got["step_s"], 4),
        "grad_max_abs_diff": got.get("grad_max_abs_diff"),
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this technique's subcommands to ``python -m core``."""
    p = sub.add_parser("recompute", help="measure a training step's peak memory and time with a recompute strategy")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument(
        "--strategy",
        help="none, scope-activations, scope-full, scope-larger-than, scope-list-of-layers, keras-remat, "
        "per-block, sqrt, torch-none or torch-checkpointing (with --largest-batch: a comma-separated list; "
        "default all)",
    )
    p.add_argument("--budget-mb", type=float, help="memory for weights, optimizer state and the step's peak")
    p.add_argument("--largest-batch", action="store_true", help="the largest batch of each strategy in the budget")
    p.add_argument("--output", help="write JSON here instead of stdout")
    p.set_defaults(run=cmd_recompute)
