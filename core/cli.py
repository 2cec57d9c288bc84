"""Command line: the same analyses as the pages, printed as JSON.

One JSON object per input sentence (JSON Lines for files). Bad input exits
with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import numpy as np

from core.textinput import InputError, from_path, from_text

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input or options; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def _sentences(args: argparse.Namespace) -> list[str]:
    if args.input and args.sentence:
        raise CliError("give a sentence or --input FILE, not both")
    if args.input:
        return list(from_path(args.input).sentences)
    if args.sentence is None:
        raise CliError("give a sentence or --input FILE")
    return list(from_text(args.sentence, source="The sentence").sentences)


def _load(model_id: str):
    from core.models.registry import load_encoder

    return load_encoder(model_id)


def _layer(encoder, layer: int | None) -> int:
    layer = encoder.default_layer if layer is None else layer
    if not 0 <= layer <= encoder.n_layers:
        raise CliError(f"--layer must be between 0 and {encoder.n_layers} for {encoder.id}, not {layer}")
    return layer


def _root(value: str) -> str | int:
    from core.perturbed_masking import ROOT_CHOICES

    if value in ROOT_CHOICES:
        return value
    if not value.isdigit():
        raise CliError(f"--root must be auto, reference or a word number, not {value!r}")
    return int(value)


def cmd_parse(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.perturbed_masking import analyse, decode

    sentences = _sentences(args)
    encoder = _load(args.model)
    layer = _layer(encoder, args.layer)
    for text in sentences:
        analysis = analyse(encoder, text, distance=args.distance, upto_layer=layer)
        report = decode(analysis, layer, args.decoder, args.normalisation, args.root)
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
    from core.perturbed_masking import analyse

    sentences = _sentences(args)
    encoder = _load(args.model)
    layer = _layer(encoder, args.layer)
    for text in sentences:
        analysis = analyse(encoder, text, distance=args.distance, with_reference=False, upto_layer=layer)
        yield {
            "words": list(analysis.words),
            "layer": layer,
            "matrix": [[round(float(v), 6) for v in row] for row in analysis.impact.layer(layer)],
            "model": encoder.id,
            "distance": args.distance,
        }


_last_logged = [0.0]


def _stderr_progress(fraction: float, message: str) -> None:
    """Progress on stderr: one line rewritten in place on a terminal; in a log file, a line every few seconds."""
    text = f"{message} ({100 * fraction:.0f}%)"
    if sys.stderr.isatty():
        print(f"\r{text}\x1b[K", end="\n" if fraction >= 1 else "", file=sys.stderr, flush=True)
        return
    now = time.monotonic()
    if fraction >= 1 or now - _last_logged[0] >= 5.0:
        _last_logged[0] = now
        print(text, file=sys.stderr, flush=True)


def cmd_segment(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core import char_stats, segmentation
    from core.data.peoples_daily import default_raw_corpus, slices

    if args.eval and (args.sentence or args.input):
        raise CliError("give a sentence, --input FILE or --eval peoples-daily, not several")
    if args.n < 1:
        raise CliError("--n must be at least 1")
    sentences = None if args.eval else _sentences(args)
    encoder = _load(args.model)
    lines, source = default_raw_corpus()
    stats = char_stats.cached_stats(lines, source, _stderr_progress)
    calibration = segmentation.load_or_calibrate(encoder, stats, progress=_stderr_progress)
    if args.eval:
        gold = slices().evaluation[: args.n]
        yield segmentation.evaluate(encoder, stats, calibration, gold, args.rule, _stderr_progress)
        return
    for text in sentences:
        result = segmentation.segment(text, args.rule, calibration, encoder, stats)
        layers = calibration.layers
        shown = result.distances[-1] if args.rule == "blog" else (
            result.distances[list(layers)].mean(axis=0) if result.distances.size else result.distances[:0].sum(0))
        yield {
            "model": encoder.id,
            "layer": "last" if args.rule == "blog" else f"{layers[0]}-{layers[-1]}",
            "words": list(result.words),
            "distances": [round(float(v), 4) for v in shown],
            "rule": args.rule,
            "unknown_chars": result.unknown_chars,
        }


def cmd_vae(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core import vae
    from core.data.images import load_images

    if args.action == "train":
        if args.image:
            raise CliError("vae train takes no image")
        config = vae.VAEConfig(data=args.data, kind=args.kind, latent=args.latent, epochs=args.epochs, beta=args.beta,
                               arch=args.arch)
        config.validate()
        model = vae.train(config, load_images(args.data), _stderr_progress)
        vae.save(model, vae.model_dir(config))
        yield {"data": args.data, "epochs": args.epochs, "latent": args.latent, "kind": args.kind,
               "test_elbo": round(model.test["elbo"], 3), "test_reconstruction": round(model.test["reconstruction"], 3),
               "test_kl": round(model.test["kl"], 3), "seconds": round(model.seconds, 1)}
        return
    if not args.image:
        raise CliError("vae encode needs an image file")
    from pathlib import Path

    path = Path(args.image)
    if not path.is_file():
        raise CliError(f"no such file: {args.image}")
    from core.data.images import image_from_bytes

    config = vae.VAEConfig(data=args.data, latent=args.latent, epochs=args.epochs, beta=args.beta, arch=args.arch)
    model = vae.load_or_train(config, load_images(args.data), _stderr_progress)
    x = image_from_bytes(path.name, path.read_bytes(), model.image_shape)
    mu, logvar = vae.encode(model, x[None])
    yield {"mu": [round(float(v), 5) for v in mu[0]], "sigma": [round(float(v), 5) for v in np.exp(logvar[0] / 2)],
           "model": config.key}


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

    from core import explain
    from core.classifiers import CLASSIFIERS, ImageClassifier, load_classifier
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
        clf = load_classifier(args.model if card and card.kind == "image" else "fashion-mnist-cnn",
                              _stderr_progress)
        image = image_from_bytes(path.name, path.read_bytes(), clf.image_shape)
        e = explain.explain_image(clf, image, [args.method], args.steps, args.rule, args.baseline or "black",
                                  label=_label_index(args.label, clf.labels))
        yield e.summary(args.method)
        return
    sentences = _sentences(args)
    clf = load_classifier(args.model, _stderr_progress)
    if isinstance(clf, ImageClassifier):
        raise CliError(f"{args.model} classifies images: give --image FILE.png")
    label = _label_index(args.label, clf.labels)
    for text in sentences:
        e = explain.explain_text(clf, text, [args.method], args.steps, args.rule, args.baseline or "zero",
                                 reduction=args.reduction, label=label)
        yield e.summary(args.method)


def _start(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        x, y = (float(v) for v in value.split(","))
    except ValueError:
        raise CliError(f"--start must be two numbers like -1.5,2, not {value!r}") from None
    return x, y


def cmd_optimize(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core import optimizers

    if args.function not in optimizers.FUNCTIONS:
        raise CliError(f"--function must be one of {', '.join(optimizers.FUNCTIONS)}, not {args.function!r}")
    specs = [s.strip() for s in args.optimizers.split(",") if s.strip()]
    if not specs:
        raise CliError("--optimizers needs at least one optimizer, e.g. adam,lookahead:adam")
    start = _start(args.start)
    results = []
    for spec in specs:
        tr = optimizers.trajectory(args.function, spec, args.steps, args.lr, start, args.k, args.alpha)
        results.append({"optimizer": spec, "label": tr.label,
                        "final_point": [round(float(v), 6) for v in tr.final_point],
                        "final_loss": float(f"{tr.final_loss:.6g}"), "steps": args.steps})
    yield {"function": args.function, "start": list(start or optimizers.FUNCTIONS[args.function].start),
           "learning_rate": args.lr, "results": results}


def cmd_train_probe(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core import jobs
    from core import probe_training as P

    if args.preset not in P.PRESETS:
        raise CliError(f"--preset must be one of {', '.join(P.PRESETS)}, not {args.preset!r}")
    if args.minutes is not None and not 0 < args.minutes <= 24 * 60:
        raise CliError(f"--minutes must be between 0 and 1440, not {args.minutes}")
    if args.steps is not None and args.steps < 1:
        raise CliError(f"--steps must be at least 1, not {args.steps}")
    P.load_corpus(args.corpus)  # a bad corpus fails here, before anything is queued
    params = {"corpus": args.corpus, "preset": args.preset, "minutes": args.minutes, "max_steps": args.steps,
              "seed": args.seed, "name": args.name, "resume": args.resume}
    job_id = jobs.submit("train-probe", params)
    print(f"job {job_id} queued", file=sys.stderr)

    def interrupted(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        if not jobs.run_worker(until=job_id, echo=_stderr_progress):
            print("another training job is running on this machine; this one waits its turn", file=sys.stderr)
            jobs.start_worker()
        job = jobs.get(job_id)
        if job.status in jobs.ACTIVE:
            job = jobs.wait(job_id, echo=_stderr_progress)
    except KeyboardInterrupt:
        jobs.mark_interrupted(job_id)
        raise CliError(f"interrupted: job {job_id} keeps its checkpoint; continue it with --resume") from None
    if job.status == "failed":
        raise CliError(f"training failed: {job.error}")
    if job.status == "cancelled":
        raise CliError(f"job {job_id} was cancelled: {job.message}")
    yield job.result


def cmd_worker(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core import jobs

    ran = jobs.run_worker()
    yield {"worker": "finished the queue" if ran else "another worker is running"}


def build_parser() -> argparse.ArgumentParser:
    from core.parsing import NORMALISATIONS
    from core.perturbed_masking import DISTANCES

    parser = _Parser(prog="python -m core", description="kexue-lab analyses from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("sentence", nargs="?", help="the sentence (or use --input)")
        p.add_argument("--input", help="a .txt (one sentence a line), .csv or .jsonl file")
        p.add_argument("--output", help="write JSON Lines here instead of stdout")
        p.add_argument("--model", default="e5-multilingual",
                       help="e5-multilingual (default), minilm-en, a local folder or a Hugging Face id")
        p.add_argument("--layer", type=int, help="0 = embeddings, L = output of block L (default: per model)")
        p.add_argument("--distance", choices=DISTANCES, default="euclidean")

    p = sub.add_parser("parse", help="dependency and constituency trees from perturbed masking")
    common(p)
    p.add_argument("--decoder", choices=("eisner", "mst"), default="eisner")
    p.add_argument("--normalisation", choices=NORMALISATIONS, default="paper")
    p.add_argument("--root", default="auto", help="auto (decoder chooses), reference (spaCy's root) or a word number")
    p.set_defaults(run=cmd_parse)

    p = sub.add_parser("segment", help="unsupervised Chinese word segmentation")
    p.add_argument("sentence", nargs="?", help="the sentence (or use --input, or --eval)")
    p.add_argument("--input", help="a .txt (one sentence a line), .csv or .jsonl file")
    p.add_argument("--output", help="write JSON Lines here instead of stdout")
    p.add_argument("--model", default="e5-multilingual")
    p.add_argument("--rule", choices=("combined", "probe", "stats", "blog"), default="combined")
    p.add_argument("--eval", choices=("peoples-daily",), help="score on held-out People's Daily sentences")
    p.add_argument("--n", type=int, default=500, help="how many evaluation sentences (with --eval)")
    p.set_defaults(run=cmd_segment)

    p = sub.add_parser("vae", help="train a VAE / autoencoder, or encode an image")
    p.add_argument("action", choices=("train", "encode"))
    p.add_argument("image", nargs="?", help="the image to encode")
    p.add_argument("--data", choices=("fashion-mnist", "mnist", "digits"), default="fashion-mnist")
    p.add_argument("--kind", choices=("vae", "ae"), default="vae")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--latent", type=int, default=2)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--arch", choices=("mlp", "conv"), default="mlp")
    p.add_argument("--output", help="write JSON here instead of stdout")
    p.set_defaults(run=cmd_vae)

    from core.attribution import METHODS, REDUCTIONS, RULES

    p = sub.add_parser("ig", help="integrated gradients (and the blog's variant, gradients) for a classifier")
    p.add_argument("sentence", nargs="?", help="the sentence (or use --input, or --image)")
    p.add_argument("--input", help="a .txt (one sentence a line), .csv or .jsonl file")
    p.add_argument("--image", help="an image file (PNG, JPEG...) for the image classifier")
    p.add_argument("--output", help="write JSON Lines here instead of stdout")
    p.add_argument("--model", default="zh-sentiment",
                   help="zh-sentiment (default), en-sentiment, fashion-mnist-cnn, or a Hugging Face "
                        "sequence-classification id or folder")
    p.add_argument("--method", choices=METHODS, default="ig")
    p.add_argument("--steps", type=int, default=50, help="integration steps m (IG); the blog's variant uses 20")
    p.add_argument("--rule", choices=RULES, default="gauss-legendre")
    p.add_argument("--baseline", help="text: zero (default), pad, mask, random; images: black (default), "
                                      "blurred, noise")
    p.add_argument("--reduction", choices=REDUCTIONS, default="sum", help="per-token score: sum or L2 over hidden")
    p.add_argument("--label", help="explain this label instead of the predicted one")
    p.set_defaults(run=cmd_ig)

    p = sub.add_parser("optimize", help="run optimizers (Lookahead, LazyOptimizer...) on a 2-D test function")
    p.add_argument("--function", default="rosenbrock",
                   help="rosenbrock, beale, himmelblau, rastrigin, saddle or quadratic")
    p.add_argument("--optimizers", default="adam,lookahead:adam",
                   help="comma-separated: sgd, momentum, rmsprop, adam, each optionally prefixed lookahead:, lazy: "
                        "or lazy-blog:")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--start", help="x,y (default: the function's own start); use --start=-1.5,2 for negatives")
    p.add_argument("--k", type=int, default=5, help="Lookahead's sync period")
    p.add_argument("--alpha", type=float, default=0.5, help="Lookahead's slow step size")
    p.add_argument("--output", help="write JSON here instead of stdout")
    p.set_defaults(run=cmd_optimize)

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

    p = sub.add_parser("worker", help="run queued background jobs (the pages start it)")
    p.add_argument("--output", help=argparse.SUPPRESS)
    p.set_defaults(run=cmd_worker)

    p = sub.add_parser("impact", help="the impact matrix of one layer")
    common(p)
    p.set_defaults(run=cmd_impact)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from core.classifiers import ClassifierError
    from core.data import DataError
    from core.models.registry import ModelError
    from core.probe_training import CorpusError
    from core.reference import ReferenceError

    out = None
    try:
        args = build_parser().parse_args(argv)
        if hasattr(args, "root"):
            args.root = _root(args.root)
        results = args.run(args)
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
        for obj in results:
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            out.flush()
        return 0
    except (CliError, InputError, ModelError, ClassifierError, CorpusError, ReferenceError, DataError,
            ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
