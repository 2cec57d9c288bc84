"""VAE commands: ``vae train`` and ``vae encode``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import numpy as np

from core.cli.common import CliError, stderr_progress


def cmd_vae(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from core.data.images import load_images
    from core.vae import model as vae

    if args.action == "train":
        if args.image:
            raise CliError("vae train takes no image")
        config = vae.VAEConfig(
            data=args.data, kind=args.kind, latent=args.latent, epochs=args.epochs, beta=args.beta, arch=args.arch
        )
        config.validate()
        model = vae.train(config, load_images(args.data), stderr_progress)
        vae.save(model, vae.model_dir(config))
        yield {
            "data": args.data,
            "epochs": args.epochs,
            "latent": args.latent,
            "kind": args.kind,
            "test_elbo": round(model.test["elbo"], 3),
            "test_reconstruction": round(model.test["reconstruction"], 3),
            "test_kl": round(model.test["kl"], 3),
            "seconds": round(model.seconds, 1),
        }
        return
    if not args.image:
        raise CliError("vae encode needs an image file")
    from pathlib import Path

    path = Path(args.image)
    if not path.is_file():
        raise CliError(f"no such file: {args.image}")
    from core.data.images import image_from_bytes

    config = vae.VAEConfig(data=args.data, latent=args.latent, epochs=args.epochs, beta=args.beta, arch=args.arch)
    model = vae.load_or_train(config, load_images(args.data), stderr_progress)
    x = image_from_bytes(path.name, path.read_bytes(), model.image_shape)
    mu, logvar = vae.encode(model, x[None])
    yield {
        "mu": [round(float(v), 5) for v in mu[0]],
        "sigma": [round(float(v), 5) for v in np.exp(logvar[0] / 2)],
        "model": config.key,
    }


def register(sub: argparse._SubParsersAction) -> None:
    """Add this technique's subcommands to ``python -m core``."""
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
