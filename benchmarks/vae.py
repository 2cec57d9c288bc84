"""The decoded grid in one batch vs one decoder call per cell, and training throughput.

Trains the default VAE for one epoch on the default data set (Fashion-MNIST
when installed, else scikit-learn's digits), then decodes the 15 x 15 grid
over the prior's quantiles both ways. Last line: one JSON object.
"""

from __future__ import annotations

import json
import time

import numpy as np

from core.data.images import default_dataset, load_images
from core.vae import model as vae


def main() -> dict:
    data = load_images(default_dataset())
    config = vae.VAEConfig(data=data.name, epochs=1)
    start = time.perf_counter()
    model = vae.train(config, data)
    train_s = time.perf_counter() - start
    z = vae.prior_grid(15, config.latent)
    vae.decode(model, z[:2])  # warm-up

    def batched():
        return vae.decode(model, z)

    def per_cell():
        return np.stack([vae.decode(model, z[i : i + 1])[0] for i in range(len(z))])

    times = {}
    for name, fn in (("batched", batched), ("per_cell", per_cell)):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t)
        times[name] = best
        assert out.shape == (225, *data.image_shape)
    return {
        "data": data.name,
        "grid_batched_s": round(times["batched"], 4),
        "grid_per_cell_s": round(times["per_cell"], 4),
        "grid_speedup": round(times["per_cell"] / times["batched"], 1),
        "train_epoch_s": round(train_s, 2),
        "train_images_per_s": round(len(data.x_train) / train_s, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
