"""Scoring a trained probe: segmentation F1 on held-out People's Daily (Chinese) or UAS against spaCy (English)."""

from __future__ import annotations

from typing import Any

from core.lab.messages import Message, msg
from core.lab.progress import Progress
from core.models.registry import Encoder
from core.perturbed_masking.probe.trainer import model_folder, read_card, write_card


def scorecard(card: dict[str, Any], short: bool = False) -> Message:
    """The card's evaluation in a few words: segmentation F1 (Chinese) or UAS against spaCy (other languages)."""
    ev = card.get("evaluation") or {}
    if short:
        if ev.get("segmentation_f1") is not None:
            return msg("segmentation F1 {f1:.1f}", f1=ev["segmentation_f1"])
        return msg("UAS {uas:.1f}", uas=ev["uas"]) if ev.get("uas") is not None else msg("not evaluated")
    if ev.get("segmentation_f1") is not None:
        return msg(
            "segmentation F1 {f1:.1f} alone, {combined:.1f} with the statistics (jieba {jieba:.1f})",
            f1=ev["segmentation_f1"],
            combined=ev["combined_f1"],
            jieba=ev.get("jieba_f1", 0),
        )
    if ev.get("uas") is not None:
        return msg(
            "UAS {uas:.1f} against spaCy at layer {layer} (right chain {chain:.1f})",
            uas=ev["uas"],
            layer=ev.get("best_layer"),
            chain=ev.get("right_chain_uas", 0),
        )
    return msg("not evaluated yet")


def evaluate_probe(name: str, n: int = 500, progress: Progress | None = None) -> dict[str, Any]:
    """Score probe ``name`` and store the result in its card.

    Chinese: segmentation F1 on held-out People's Daily (:func:`evaluate_chinese`); other languages: English UAS
    against spaCy and the right-chain baseline (:func:`evaluate_english`).
    """
    from core.models.registry import load_encoder

    card = read_card(name) or {}
    encoder = load_encoder(name)
    if card.get("language") == "zh":
        result = evaluate_chinese(encoder, n, progress)
    else:
        result = evaluate_english(encoder, progress=progress)
    write_card(model_folder(name), {**card, "evaluation": result})
    return result


def evaluate_chinese(encoder: Encoder, n: int = 500, progress: Progress | None = None) -> dict[str, Any]:
    """Segmentation F1 on the first ``n`` held-out People's Daily sentences: the probe rule alone and combined
    with the statistics (PMI, branching entropy), calibrated as for every encoder; statistics and jieba beside."""
    from core.data.peoples_daily import default_raw_corpus, slices
    from core.perturbed_masking import char_stats, segmentation

    lines, source = default_raw_corpus()
    stats = char_stats.cached_stats(lines, source, progress)
    calibration = segmentation.load_or_calibrate(encoder, stats, progress=progress)
    gold = slices().evaluation[:n]
    probe = segmentation.evaluate(encoder, stats, calibration, gold, "probe", progress)
    combined = segmentation.evaluate(encoder, stats, calibration, gold, "combined", progress)
    return {
        "n_sentences": len(gold),
        "segmentation_f1": probe["f1"],
        "combined_f1": combined["f1"],
        "stats_f1": combined["stats_f1"],
        "jieba_f1": combined["jieba_f1"],
    }


def evaluate_english(encoder: Encoder, n: int = 50, progress: Progress | None = None) -> dict[str, Any]:
    """UAS against spaCy per layer (Eisner, spaCy's root given) and the right-chain baseline.

    On the first ``n`` New York Times editorial snippets of 8-30 words from
    vaderSentiment's data, the sentences the UAS benchmark uses.
    """
    from core.data.vader import snippets
    from core.perturbed_masking.impact import analyse, corpus_uas_by_layer
    from core.perturbed_masking.reference import split_words

    texts = [t for _, t in snippets("nyt") if 8 <= len(split_words(t)) <= 30][:n]
    analyses = []
    for k, text in enumerate(texts):
        analyses.append(analyse(encoder, text))
        if progress:
            progress((k + 1) / len(texts), msg("sentence {k} of {n_texts}", k=k + 1, n_texts=len(texts)))
    per_layer, chain = corpus_uas_by_layer(analyses, "eisner", "paper", "reference")
    best = max(range(len(per_layer)), key=lambda i: per_layer[i] or 0.0)
    return {
        "n_sentences": len(texts),
        "uas_by_layer": [round(u or 0.0, 1) for u in per_layer],
        "best_layer": best,
        "uas": round(per_layer[best] or 0.0, 1),
        "right_chain_uas": round(chain or 0.0, 1),
    }
