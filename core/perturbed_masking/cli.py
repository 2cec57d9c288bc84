"""Perturbed-masking commands: ``parse``, ``impact``, ``segment`` and ``train-probe``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from core.cli.common import CliError, add_sentence_input, run_job, sentences, stderr_progress
from core.perturbed_masking.impact import DISTANCES, MAX_WORDS, ROOT_CHOICES
from core.perturbed_masking.parsing import NORMALISATIONS
from core.perturbed_masking.segmentation import RULES


def _load(model_id: str):  # noqa: ANN202 - an Encoder; imported lazily so --help stays fast
    from core.models.registry import load_encoder

    return load_encoder(model_id)


def _layer(encoder: Any, layer: int | None) -> int:
    layer = encoder.default_layer if layer is None else layer
    if not 0 <= layer <= encoder.n_layers:
        raise CliError(f"--layer must be between 0 and {encoder.n_layers} for {encoder.id}, not {layer}")
    return layer


def root_choice(value: str) -> str | int:
    """``--root``: auto, reference, or a 1-based word number."""
    if value in ROOT_CHOICES:
        return value
    if not value.isdigit():
        raise CliError(f"--root must be auto, reference or a word number, not {value!r}")
    return int(value)


def _cut_note(dropped: int) -> None:
    if dropped:
        print(f"note: a sentence was cut to its first {MAX_WORDS} words ({dropped} dropped)", file=sys.stderr)


def cmd_parse(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.perturbed_masking.impact import analyse, decode

    texts = sentences(args)
    root = root_choice(args.root)
    encoder = _load(args.model)
    layer = _layer(encoder, args.layer)
    for text in texts:
        analysis = analyse(encoder, text, distance=args.distance, upto_layer=layer)
        _cut_note(analysis.impact.dropped_words)
        report = decode(analysis, layer, args.decoder, args.normalisation, root)
        yield {
            "model": encoder.id,
            "layer": layer,
            "words": list(analysis.words),
            "heads": list(report.heads),
            "tree": report.tree,
            "uas_vs_spacy": report.uas,
            "right_chain_uas": report.right_chain_uas,
            "decoder": args.decoder,
            "distance": args.distance,
            "dropped_words": analysis.impact.dropped_words,
        }


def cmd_impact(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.perturbed_masking.impact import analyse

    texts = sentences(args)
    encoder = _load(args.model)
    layer = _layer(encoder, args.layer)
    for text in texts:
        analysis = analyse(encoder, text, distance=args.distance, with_reference=False, upto_layer=layer)
        _cut_note(analysis.impact.dropped_words)
        yield {
            "words": list(analysis.words),
            "layer": layer,
            "matrix": [[round(float(v), 6) for v in row] for row in analysis.impact.layer(layer)],
            "model": encoder.id,
            "distance": args.distance,
            "dropped_words": analysis.impact.dropped_words,
        }


def cmd_segment(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.data.peoples_daily import default_raw_corpus, slices
    from core.perturbed_masking import char_stats, segmentation

    if args.eval and (args.sentence or args.input):
        raise CliError("give a sentence, --input FILE or --eval peoples-daily, not several")
    if args.n < 1:
        raise CliError("--n must be at least 1")
    texts = None if args.eval else sentences(args)
    encoder = _load(args.model)
    lines, source = default_raw_corpus()
    stats = char_stats.cached_stats(lines, source, stderr_progress)
    calibration = segmentation.load_or_calibrate(encoder, stats, progress=stderr_progress)
    if args.eval:
        gold = slices().evaluation[: args.n]
        yield segmentation.evaluate(encoder, stats, calibration, gold, args.rule, stderr_progress)
        return
    layers = calibration.layers
    for text in texts:
        result = segmentation.segment(text, args.rule, calibration, encoder, stats)
        shown = segmentation.shown_distances(result.distances, args.rule, layers)
        yield {
            "model": encoder.id,
            "layer": "last" if args.rule == "blog" else f"{layers[0]}-{layers[-1]}",
            "words": list(result.words),
            "distances": [round(float(v), 4) for v in shown],
            "rule": args.rule,
            "unknown_chars": result.unknown_chars,
        }


def cmd_train_probe(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.perturbed_masking import probe as P

    if args.preset not in P.PRESETS:
        raise CliError(f"--preset must be one of {', '.join(P.PRESETS)}, not {args.preset!r}")
    if args.minutes is not None and not 0 < args.minutes <= 24 * 60:
        raise CliError(f"--minutes must be between 0 and 1440, not {args.minutes}")
    if args.steps is not None and args.steps < 1:
        raise CliError(f"--steps must be at least 1, not {args.steps}")
    P.load_corpus(args.corpus)  # a bad corpus fails here, before anything is queued
    params = {
        "corpus": args.corpus,
        "preset": args.preset,
        "minutes": args.minutes,
        "max_steps": args.steps,
        "seed": args.seed,
        "name": args.name,
        "resume": args.resume,
    }
    yield run_job("train-probe", params, "training")


def _encoder_args(p: argparse.ArgumentParser) -> None:
    add_sentence_input(p)
    p.add_argument(
        "--model",
        default="e5-multilingual",
        help="e5-multilingual (default), minilm-en, a local folder or a Hugging Face id",
    )
    p.add_argument("--layer", type=int, help="0 = embeddings, L = output of block L (default: per model)")
    p.add_argument("--distance", choices=DISTANCES, default="euclidean")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this technique's subcommands to ``python -m core``."""
    p = sub.add_parser("parse", help="dependency and constituency trees from perturbed masking")
    _encoder_args(p)
    p.add_argument("--decoder", choices=("eisner", "mst"), default="eisner")
    p.add_argument("--normalisation", choices=NORMALISATIONS, default="paper")
    p.add_argument("--root", default="auto", help="auto (decoder chooses), reference (spaCy's root) or a word number")
    p.set_defaults(run=cmd_parse)

    p = sub.add_parser("segment", help="unsupervised Chinese word segmentation")
    add_sentence_input(p, ", or --eval")
    p.add_argument("--model", default="e5-multilingual")
    p.add_argument("--rule", choices=RULES, default="combined")
    p.add_argument("--eval", choices=("peoples-daily",), help="score on held-out People's Daily sentences")
    p.add_argument("--n", type=int, default=500, help="how many evaluation sentences (with --eval)")
    p.set_defaults(run=cmd_segment)

    p = sub.add_parser("train-probe", help="train a small masked LM on a corpus, as a perturbed-masking probe")
    p.add_argument("--corpus", default="peoples-daily", help="peoples-daily (built in) or a UTF-8 .txt file")
    p.add_argument("--preset", default="default", help="quick (about 10 min), default (45 min) or large")
    p.add_argument("--minutes", type=float, help="time budget (default: the preset's)")
    p.add_argument("--steps", type=int, help="train exactly this many steps instead of a time budget")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", help="model id (default: probe-<language>-<corpus>)")
    p.add_argument("--resume", action="store_true", help="continue the run of the same name from its checkpoint")
    p.add_argument("--output", help="write JSON here instead of stdout")
    p.set_defaults(run=cmd_train_probe)

    p = sub.add_parser("impact", help="the impact matrix of one layer")
    _encoder_args(p)
    p.set_defaults(run=cmd_impact)
