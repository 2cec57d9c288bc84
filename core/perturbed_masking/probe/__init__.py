"""Train a small masked language model from raw text, as a perturbed-masking probe.

Both offline encoders are contrastively tuned sentence encoders, weak probes of
syntax; perturbed masking assumes a masked LM. This module trains one on a CPU:

1. tokenizer from the corpus: single characters for Chinese (every character
   seen at least twice), a WordPiece trained with ``tokenizers`` for
   space-separated languages;
2. ``transformers.BertForMaskedLM`` from a ``BertConfig`` (presets below);
3. standard MLM (15% of tokens; of those 80% [MASK], 10% random, 10% kept; the
   MLM head runs at the masked positions only), fused AdamW with warm-up and
   linear decay, bf16 autocast; a GPU if torch sees one;
4. a schedule over a time budget (the learning rate decays with the share of
   the budget spent, so a slower or busier machine trains fewer steps in the
   same minutes) or over a fixed step count (exactly reproducible);
   checkpoints every few minutes (model, optimizer, schedule, data position,
   random states, all written atomically), so a crash or a restart resumes the
   same run;
5. the result is saved as a model folder in ``KEXUE_LAB_HOME/models/<id>`` with
   a ``probe.json`` card (recipe, held-out MLM accuracy, evaluation), which the
   registry lists as an encoder id everywhere.

Seeded: the same corpus, preset, seed and step count give the same weights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.lab.messages import msg
from core.lab.progress import Progress
from core.perturbed_masking.probe.corpus import (
    MAX_CORPUS_BYTES,
    MIN_CHARS,
    Corpus,
    CorpusError,
    builtin_corpus,
    corpus_from_text,
    detect_language,
    load_corpus,
)
from core.perturbed_masking.probe.evaluation import evaluate_chinese, evaluate_english, evaluate_probe, scorecard
from core.perturbed_masking.probe.tokenizer import SPECIALS, build_tokenizer, encode_corpus, mask_batch
from core.perturbed_masking.probe.trainer import (
    PRESETS,
    Preset,
    TrainConfig,
    Trainer,
    TrainState,
    default_name,
    flops_per_token,
    forget_calibration,
    make_optimizer,
    mlm_step,
    model_config,
    model_folder,
    probe_revision,
    read_card,
    run_folder,
    run_history,
    trained_probes,
    write_card,
)

__all__ = [
    "MAX_CORPUS_BYTES",
    "MIN_CHARS",
    "PRESETS",
    "SPECIALS",
    "Corpus",
    "CorpusError",
    "Preset",
    "TrainConfig",
    "TrainState",
    "Trainer",
    "build_tokenizer",
    "builtin_corpus",
    "corpus_from_text",
    "default_name",
    "detect_language",
    "encode_corpus",
    "evaluate_chinese",
    "evaluate_english",
    "evaluate_probe",
    "flops_per_token",
    "forget_calibration",
    "load_corpus",
    "make_optimizer",
    "mask_batch",
    "mlm_step",
    "model_config",
    "model_folder",
    "probe_revision",
    "read_card",
    "run_folder",
    "run_history",
    "scorecard",
    "train_probe",
    "trained_probes",
    "write_card",
]


def train_probe(
    config: TrainConfig,
    resume: bool = False,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    evaluate: bool = True,
    named: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Prepare (or resume), train, save and evaluate; returns the command line's summary.

    ``named`` is told the model id as soon as it is known (the default one depends on the corpus's language).
    """
    progress = progress or (lambda _f, _m: None)

    def train_part(f: float, msg: str) -> None:
        progress(0.9 * f, msg)

    trainer = Trainer(config, train_part, should_stop)
    trainer.prepare(resume)
    if named:
        named(trainer.name)
    summary = trainer.train()
    out = {
        "model": trainer.name,
        "steps": trainer.state.step,
        "minutes": round(trainer.state.elapsed / 60, 1),
        "mlm_accuracy": None,
        "segmentation_f1": None,
        "combined_f1": None,
    }
    if summary.get("stopped"):
        out["stopped"] = True
        return out
    trainer.save_model(summary)
    out["mlm_accuracy"] = round(summary["mlm_accuracy"], 4)
    if evaluate:
        progress(0.9, msg("Evaluating the probe on held-out People's Daily sentences"))
        result = evaluate_probe(
            trainer.name, progress=lambda f, m: progress(0.9 + 0.1 * f, msg("Evaluating: {m}", m=m))
        )
        out["segmentation_f1"] = result.get("segmentation_f1")
        out["combined_f1"] = result.get("combined_f1")
        if "uas" in result:
            out["uas_vs_spacy"], out["right_chain_uas"] = result["uas"], result["right_chain_uas"]
    progress(1.0, msg("Done"))
    return out
