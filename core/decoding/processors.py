"""Consistent top-k and nucleus sampling as transformers ``LogitsProcessor``s: EOS is never cut.

Top-k and nucleus sampling are *incomplete* decoders (Welleck et al. 2020): at a step where EOS is not among
the k most likely tokens, or not inside the top-p mass, it gets probability zero, and a continuation can then
run forever even though the model gives EOS some mass at every step. Their *consistent* variants keep EOS in
the candidate set whatever its rank, so with a model whose p(EOS) is bounded below the decoder stops with
probability one. transformers ships the cut (``TopKLogitsWarper``, ``TopPLogitsWarper``) but no consistent
variant; these two wrap the library's warpers and restore the EOS scores they removed, so they drop into any
``generate(..., do_sample=True, logits_processor=LogitsProcessorList([...]))`` call, with any model.

Use them instead of ``top_k=`` / ``top_p=`` (which would cut EOS again after them).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from transformers import LogitsProcessor, TopKLogitsWarper, TopPLogitsWarper

from core.lab.errors import BadArgument


def _ids(eos_token_id: int | Iterable[int]) -> list[int]:
    ids = [int(eos_token_id)] if isinstance(eos_token_id, int) else [int(i) for i in eos_token_id]
    if not ids:
        raise BadArgument("a consistent decoder needs the model's EOS token id")
    return ids


class _KeepEOS(LogitsProcessor):
    """Apply ``cut`` (a warper), then give every EOS id back the score it had before the cut."""

    def __init__(self, cut: LogitsProcessor, eos_token_id: int | Iterable[int]) -> None:
        self.cut = cut
        self.eos = _ids(eos_token_id)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        kept = scores[:, self.eos].clone()
        cut = self.cut(input_ids, scores)
        cut[:, self.eos] = kept
        return cut


class ConsistentTopKLogitsWarper(_KeepEOS):
    """Top-k sampling whose candidate set always holds EOS: the k most likely tokens, plus EOS.

    ``ConsistentTopKLogitsWarper(4, eos_token_id=model.generation_config.eos_token_id)``.
    """

    def __init__(self, top_k: int, eos_token_id: int | Iterable[int], min_tokens_to_keep: int = 1) -> None:
        if not isinstance(top_k, int) or top_k < 1:
            raise BadArgument("top-k needs k >= 1, not {k}", k=top_k)
        super().__init__(TopKLogitsWarper(top_k, min_tokens_to_keep=min_tokens_to_keep), eos_token_id)
        self.top_k = top_k


class ConsistentTopPLogitsWarper(_KeepEOS):
    """Nucleus sampling whose candidate set always holds EOS: the smallest set with mass >= p, plus EOS."""

    def __init__(self, top_p: float, eos_token_id: int | Iterable[int], min_tokens_to_keep: int = 1) -> None:
        top_p = float(top_p)
        if not 0.0 < top_p <= 1.0:
            raise BadArgument("nucleus sampling needs 0 < p <= 1, not {p}", p=top_p)
        super().__init__(TopPLogitsWarper(top_p, min_tokens_to_keep=min_tokens_to_keep), eos_token_id)
        self.top_p = top_p
