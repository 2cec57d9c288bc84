"""Masked-language-model batches of the built-in Chinese corpus (People's Daily and reviews), characters as
tokens, so the training step's loss means something while memory and time are measured.

The encoder's vocabulary is a fixed size (:data:`core.recompute.shapes.VOCAB`), so a page can check a shape
without reading the corpus; the corpus's characters (about 4,600 that occur at least twice) and [MASK]
take its first ids. The packed ids are kept in the lab home, so a measurement process starts quickly."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from core.lab.artifacts import atomic_write
from core.lab.paths import lab_home
from core.recompute.shapes import VOCAB


@functools.lru_cache(maxsize=1)
def _packed() -> tuple[np.ndarray, int]:
    """The corpus as one array of ids, and the id of [MASK] (one past the characters)."""
    path = lab_home() / "recompute" / "corpus-ids.npy"
    try:
        ids = np.load(path)
        return ids[1:], int(ids[0])
    except (OSError, ValueError):
        pass
    from core.decoding.corpus import Vocabulary, builtin

    corpus = builtin()
    vocab = Vocabulary.build(corpus.training)
    if len(vocab) + 1 > VOCAB:
        raise ValueError(f"the corpus has {len(vocab)} characters; the encoder's vocabulary holds {VOCAB - 1}")
    ids = np.fromiter((i for s in corpus.training for i in vocab.encode(s, bos=False, eos=True)), dtype=np.int32)
    packed = np.concatenate([[len(vocab)], ids]).astype(np.int32)

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.save would add .npy to the temporary's name
            np.save(f, packed, allow_pickle=False)

    atomic_write(path, save)
    return ids, len(vocab)


def batch(size: int, seq: int, masked: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``tokens`` [size, seq] (the masked positions replaced by [MASK]), ``positions`` [size, masked] and
    ``labels`` [size, masked]: consecutive stretches of the corpus, masked positions drawn with ``seed``."""
    ids, mask = _packed()
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(ids) - seq, size=size)
    tokens = np.stack([ids[s : s + seq] for s in starts])
    positions = np.sort(np.stack([rng.choice(seq, masked, replace=False) for _ in range(size)]), axis=1)
    labels = np.take_along_axis(tokens, positions, axis=1)
    tokens = tokens.copy()
    np.put_along_axis(tokens, positions, mask, axis=1)
    return tokens, positions.astype(np.int32), labels
