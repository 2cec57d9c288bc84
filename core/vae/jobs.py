"""Background jobs of the VAE page: training a VAE and its autoencoder twin."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from core.lab.jobs import JobContext, register
from core.lab.messages import msg
from core.lab.prepare import Preparation
from core.vae.model import KINDS, VAEConfig, is_trained


def pair_params(config: VAEConfig) -> dict[str, Any]:
    """A pair job's parameters: the config without its kind (both kinds are trained)."""
    params = asdict(config)
    params.pop("kind")
    params["hidden"] = list(config.hidden)
    return params


def pair(config: VAEConfig) -> Preparation:
    """The VAE and the autoencoder with the same data, encoder, decoder and epochs."""
    twins = [replace(config, kind=kind) for kind in KINDS]
    return Preparation(
        "train-vae",
        pair_params(config),
        msg(
            "the VAE and its autoencoder twin ({data}, {epochs} epochs, latent {latent}, beta {beta:g}, {arch})",
            data=config.data,
            epochs=config.epochs,
            latent=config.latent,
            beta=config.beta,
            arch=config.arch,
        ),
        lambda: all(is_trained(c) for c in twins),
        order=20,
    )


def _train_pair(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    from core.data.images import load_images
    from core.vae import model as vae

    base = VAEConfig(**{**params, "hidden": tuple(params.get("hidden", VAEConfig.hidden))})
    data = load_images(base.data)
    tests = {}
    for i, kind in enumerate(KINDS):
        config = replace(base, kind=kind)
        trained = vae.load_or_train(
            config,
            data,
            lambda f, m, i=i, kind=kind: ctx.progress(
                (i + f) / len(KINDS), msg("{model}: {step}", model=kind.upper(), step=m)
            ),
        )
        tests[kind] = trained.test
    return {"message": msg("trained the {data} VAE and AE", data=base.data), "test": tests}


def defaults() -> list[Preparation]:
    from core.data.images import default_dataset

    return [pair(VAEConfig(data=default_dataset()))]


register("train-vae", _train_pair)
