"""Integrated-gradients command: ``ig``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import Any

from core.attribution.ig import METHODS, REDUCTIONS, RULES
from core.cli.common import CliError, sentences, stderr_progress


def _label_index(value: str | None, labels: Sequence[str]) -> int | None:
    if value is None:
        return None
    if value in labels:
        return list(labels).index(value)
    if value.isdigit() and int(value) < len(labels):
        return int(value)
    raise CliError(f"--label must be one of {', '.join(labels)} (or its number), not {value!r}")


def cmd_ig(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from pathlib import Path

    from core.attribution import explain
    from core.attribution.classifiers import CLASSIFIERS, ImageClassifier, load_classifier
    from core.data.images import image_from_bytes

    if args.steps < 1 or args.steps > 1000:
        raise CliError(f"--steps must be between 1 and 1000, not {args.steps}")
    card = CLASSIFIERS.get(args.model)
    wants_image = bool(args.image) or (card is not None and card.kind == "image")
    if wants_image:
        if args.sentence or args.input:
            raise CliError("give an image (--image FILE) or sentences, not both")
        if not args.image:
            raise CliError(f"{args.model} classifies images: give --image FILE.png")
        path = Path(args.image)
        if not path.is_file():
            raise CliError(f"no such file: {args.image}")
        clf = load_classifier(args.model if card and card.kind == "image" else "fashion-mnist-cnn", stderr_progress)
        image = image_from_bytes(path.name, path.read_bytes(), clf.image_shape)
        e = explain.explain_image(
            clf,
            image,
            [args.method],
            args.steps,
            args.rule,
            args.baseline or "black",
            label=_label_index(args.label, clf.labels),
        )
        yield e.summary(args.method)
        return
    texts = sentences(args)
    clf = load_classifier(args.model, stderr_progress)
    if isinstance(clf, ImageClassifier):
        raise CliError(f"{args.model} classifies images: give --image FILE.png")
    label = _label_index(args.label, clf.labels)
    for text in texts:
        e = explain.explain_text(
            clf,
            text,
            [args.method],
            args.steps,
            args.rule,
            args.baseline or "zero",
            reduction=args.reduction,
            label=label,
        )
        yield e.summary(args.method)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this technique's subcommands to ``python -m core``."""
    p = sub.add_parser("ig", help="integrated gradients (and the blog's variant, gradients) for a classifier")
    p.add_argument("sentence", nargs="?", help="the sentence (or use --input, or --image)")
    p.add_argument("--input", help="a .txt (one sentence a line), .csv or .jsonl file")
    p.add_argument("--image", help="an image file (PNG, JPEG...) for the image classifier")
    p.add_argument("--output", help="write JSON Lines here instead of stdout")
    p.add_argument(
        "--model",
        default="zh-sentiment",
        help="zh-sentiment (default), en-sentiment, fashion-mnist-cnn, or a Hugging Face "
        "sequence-classification id or folder",
    )
    p.add_argument("--method", choices=METHODS, default="ig")
    p.add_argument("--steps", type=int, default=50, help="integration steps m (IG); the blog's variant uses 20")
    p.add_argument("--rule", choices=RULES, default="gauss-legendre")
    p.add_argument(
        "--baseline", help="text: zero (default), pad, mask, random; images: black (default), blurred, noise"
    )
    p.add_argument("--reduction", choices=REDUCTIONS, default="sum", help="per-token score: sum or L2 over hidden")
    p.add_argument("--label", help="explain this label instead of the predicted one")
    p.set_defaults(run=cmd_ig)
