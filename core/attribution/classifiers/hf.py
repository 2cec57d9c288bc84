"""Any Hugging Face sequence-classification model (a hub id or a local folder), attributed through torch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.attribution.classifiers.base import ClassifierError, TorchTextClassifier
from core.lab.messages import msg
from core.lab.progress import Progress


class SequenceClassifier(TorchTextClassifier):
    """Any transformers sequence-classification model (Hugging Face id or local folder)."""

    def __init__(self, model_id: str, model: Any, tokenizer: Any):
        config = model.config
        labels = tuple(str(config.id2label.get(i, i)) for i in range(config.num_labels))
        super().__init__(model_id, tokenizer, model, labels)
        self.model = model.eval()
        self.model.requires_grad_(False)

    def forward(self, embeddings: Any) -> Any:
        import torch

        mask = torch.ones(embeddings.shape[:2], dtype=torch.long)
        return self.model(inputs_embeds=embeddings, attention_mask=mask).logits


def load_sequence_classifier(model_id: str, progress: Progress) -> SequenceClassifier:
    from core.models import registry

    registry.quiet_transformers()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(model_id).expanduser()
    local = folder.is_dir()
    if not local and (model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1):
        raise ClassifierError("No model folder at {model_id}.", model_id=model_id)

    def load(**kwargs: Any) -> SequenceClassifier:
        try:
            src = str(folder) if local else model_id
            tokenizer = AutoTokenizer.from_pretrained(src, **kwargs)
            model = AutoModelForSequenceClassification.from_pretrained(src, **kwargs)
        except OSError as exc:
            raise ClassifierError(
                "Cannot load a classifier from {model_id}: {first_line}",
                model_id=model_id,
                first_line=registry.first_line(exc),
            ) from exc
        except (ValueError, KeyError) as exc:
            raise ClassifierError(
                "{model_id} is not a sequence-classification model the lab can load: {first_line}",
                model_id=model_id,
                first_line=registry.first_line(exc),
            ) from exc
        return SequenceClassifier(model_id, model, tokenizer)

    if local:
        return load()
    try:
        return load(local_files_only=True)
    except ClassifierError:
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not registry._hub_reachable():
        raise ClassifierError(
            "{model_id} is not a built-in classifier, a local folder or a cached model, and the Hugging Face hub "
            "cannot be reached from this machine.",
            model_id=model_id,
        )
    progress(0.1, msg("Downloading {model_id} from the Hugging Face hub", model_id=model_id))
    return load()
