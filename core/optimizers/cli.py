"""Optimizer command: ``optimize`` (paths on a 2-D test function)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from core.cli.common import CliError


def _start(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        x, y = (float(v) for v in value.split(","))
    except ValueError:
        raise CliError(f"--start must be two numbers like -1.5,2, not {value!r}") from None
    return x, y


def cmd_optimize(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.optimizers.functions import FUNCTIONS, path_summary
    from core.optimizers.trajectory import trajectory

    if args.function not in FUNCTIONS:
        raise CliError(f"--function must be one of {', '.join(FUNCTIONS)}, not {args.function!r}")
    specs = [s.strip() for s in args.optimizers.split(",") if s.strip()]
    if not specs:
        raise CliError("--optimizers needs at least one optimizer, e.g. adam,lookahead:adam")
    start = _start(args.start)
    results = []
    for spec in specs:
        tr = trajectory(args.function, spec, args.steps, args.lr, start, args.k, args.alpha)
        summary = path_summary(args.function, tr)
        results.append(
            {
                "optimizer": spec,
                "label": tr.label,
                "final_point": [round(float(v), 6) for v in tr.final_point],
                "final_loss": float(f"{tr.final_loss:.6g}"),
                "steps": args.steps,
                "distance_to_minimum": float(f"{summary['distance_to_minimum']:.6g}"),
                "first_step_within_0.01": summary["first_step_within"],
            }
        )
    yield {
        "function": args.function,
        "start": list(start or FUNCTIONS[args.function].start),
        "learning_rate": args.lr,
        "results": results,
    }


def register(sub: argparse._SubParsersAction) -> None:
    """Add this technique's subcommands to ``python -m core``."""
    p = sub.add_parser("optimize", help="run optimizers (Lookahead, LazyOptimizer...) on a 2-D test function")
    p.add_argument(
        "--function", default="rosenbrock", help="rosenbrock, beale, himmelblau, rastrigin, saddle or quadratic"
    )
    p.add_argument(
        "--optimizers",
        default="adam,lookahead:adam",
        help="comma-separated: sgd, momentum, rmsprop, adam, each optionally prefixed lookahead:, lazy: or lazy-blog:",
    )
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--start", help="x,y (default: the function's own start); use --start=-1.5,2 for negatives")
    p.add_argument("--k", type=int, default=5, help="Lookahead's sync period")
    p.add_argument("--alpha", type=float, default=0.5, help="Lookahead's slow step size")
    p.add_argument("--output", help="write JSON here instead of stdout")
    p.set_defaults(run=cmd_optimize)
