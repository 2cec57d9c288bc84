"""Which layer knows syntax? UAS against spaCy per layer for each offline encoder.

Sentences: the first N New York Times editorial snippets (vaderSentiment's
data, fetched once from PyPI) of 8 to 30 words. Decoders: Eisner with the
decoder-chosen root and with spaCy's root (the paper's gold-root setting),
both normalisations; the right-chain baseline beside them. The last line is
one JSON object. Usage: python -m benchmarks.perturbed_masking_uas [N]
"""

from __future__ import annotations

import json
import sys
import time

from core.data.vader import snippets
from core.models.registry import load_encoder
from core.perturbed_masking.impact import analyse, corpus_uas_by_layer
from core.perturbed_masking.reference import split_words


def sentences(n: int) -> list[str]:
    chosen = []
    for _score, text in snippets("nyt"):
        if 8 <= len(split_words(text)) <= 30:
            chosen.append(text)
        if len(chosen) == n:
            break
    return chosen


def main(n: int = 200) -> dict:
    texts = sentences(n)
    result: dict = {"n_sentences": len(texts), "source": "vader nyt editorial snippets, 8-30 words"}
    for model_id in ("e5-multilingual", "minilm-en"):
        encoder = load_encoder(model_id)
        start = time.perf_counter()
        analyses = [analyse(encoder, t) for t in texts]
        result[f"{model_id}_analyse_s"] = round(time.perf_counter() - start, 1)
        for norm in ("paper", "row"):
            for root in ("auto", "reference"):
                per_layer, chain = corpus_uas_by_layer(analyses, "eisner", norm, root)
                key = f"{model_id}_eisner_{norm}_{root}"
                result[key] = [round(u, 1) for u in per_layer]
                result[f"right_chain_{root}"] = round(chain, 1)
                best = max(range(len(per_layer)), key=per_layer.__getitem__)
                print(
                    f"{key}: best layer {best} UAS {per_layer[best]:.1f}; right-chain {chain:.1f}",
                    file=sys.stderr,
                    flush=True,
                )
    return result


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)))
