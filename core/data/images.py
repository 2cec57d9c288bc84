"""Small image data sets, offline first.

* ``fashion-mnist``: Debian's ``dataset-fashion-mnist`` idx files under
  ``/usr/share/datasets/fashion-mnist/``; with the internet, ``keras.datasets``.
* ``mnist``: ``keras.datasets`` only (needs the internet).
* ``digits``: scikit-learn's 8x8 digits, always there (1,797 images).

Images come back as float32 in [0, 1], shape [n, height, width].
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data import DataError
from core.lab.messages import N_

FASHION_DIR = Path(os.environ.get("KEXUE_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
FASHION_CLASSES = (  # N_: shown in the reader's language, kept in English as data
    N_("T-shirt/top"),
    N_("Trouser"),
    N_("Pullover"),
    N_("Dress"),
    N_("Coat"),
    N_("Sandal"),
    N_("Shirt"),
    N_("Sneaker"),
    N_("Bag"),
    N_("Ankle boot"),
)
DATASETS = ("fashion-mnist", "mnist", "digits")


@dataclass(frozen=True)
class ImageData:
    name: str
    source: str
    x_train: np.ndarray  # <float32>[n, h, w] in [0, 1]
    y_train: np.ndarray  # <int>[n]
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.x_train.shape[1:3])


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) idx file: uint8 images [n, rows, cols] or labels [n]."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, count * rows * cols, 16).reshape(count, rows, cols)
    if magic == 2049:
        return np.frombuffer(data, np.uint8, count, 8)
    raise DataError("{path} is not an idx file (magic {magic})", path=path, magic=magic)


def _fashion() -> ImageData:
    files = {
        k: FASHION_DIR / f"{k}-ubyte.gz"
        for k in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")
    }
    if all(f.exists() for f in files.values()):
        x_tr, y_tr, x_te, y_te = (read_idx(f) for f in files.values())
        source = f"Debian dataset-fashion-mnist ({FASHION_DIR})"
    else:
        (x_tr, y_tr), (x_te, y_te) = _keras_download("fashion_mnist")
        source = "keras.datasets.fashion_mnist"
    return ImageData(
        "fashion-mnist",
        source,
        x_tr.astype(np.float32) / 255,
        y_tr.astype(int),
        x_te.astype(np.float32) / 255,
        y_te.astype(int),
        FASHION_CLASSES,
    )


def _keras_download(name: str):
    try:
        import keras

        return getattr(keras.datasets, name).load_data()
    except Exception as exc:  # noqa: BLE001 - any download failure gets the same advice
        raise DataError(
            "{name} is not installed here and could not be downloaded ({name2}). Offline, use fashion-mnist (apt-get "
            "install dataset-fashion-mnist) or digits.",
            name=name,
            name2=type(exc).__name__,
        ) from exc


def _digits() -> ImageData:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], d.target[order].astype(int)
    cut = int(0.8 * len(x))
    return ImageData(
        "digits", "scikit-learn load_digits (8x8)", x[:cut], y[:cut], x[cut:], y[cut:], tuple(str(i) for i in range(10))
    )


def load_images(name: str = "fashion-mnist") -> ImageData:
    """Load a data set by name (see the module docstring)."""
    if name == "fashion-mnist":
        return _fashion()
    if name == "digits":
        return _digits()
    if name == "mnist":
        (x_tr, y_tr), (x_te, y_te) = _keras_download("mnist")
        return ImageData(
            "mnist",
            "keras.datasets.mnist",
            x_tr.astype(np.float32) / 255,
            y_tr.astype(int),
            x_te.astype(np.float32) / 255,
            y_te.astype(int),
            tuple(str(i) for i in range(10)),
        )
    raise DataError("unknown data set {name!r}; choose one of {datasets}", name=name, datasets=", ".join(DATASETS))


def default_dataset() -> str:
    """Fashion-MNIST when its files are installed, else the always-there digits."""
    return "fashion-mnist" if (FASHION_DIR / "train-images-idx3-ubyte.gz").exists() else "digits"


MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000


def image_from_bytes(name: str, data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """Any image file as a grayscale array of ``shape`` in [0, 1], white object on black like the data sets.

    Light-background pictures (mean above one half) are inverted.
    """
    import io

    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_IMAGE_BYTES:
        limit = MAX_IMAGE_BYTES / 1e6
        raise DataError(
            "{name} is {n_data:.1f} MB; images up to {limit:.0f} MB are accepted.",
            name=name,
            n_data=len(data) / 1e6,
            limit=limit,
        )
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise DataError(
                    "{name} is {width} x {height} pixels; that is too large to read.",
                    name=name,
                    width=img.width,
                    height=img.height,
                )
            gray = img.convert("L").resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise DataError("{name} is not an image the lab can read (PNG, JPEG, GIF, BMP, WebP).", name=name) from exc
    x = np.asarray(gray, np.float32) / 255.0
    return 1.0 - x if x.mean() > 0.5 else x
