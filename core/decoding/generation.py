"""Decoding through transformers' ``generate``, with the model's own p(EOS) recorded at every step.

:func:`decode` runs one decoder over a list of prompts, all of them in one ``generate`` call per batch
(left-padded, with the model's cache), and returns a :class:`Continuation` per prompt: its new tokens,
whether it stopped (emitted EOS) or ran into the limit L, the repeating loop it ends in, and per step the
model's p(EOS) before any cut, EOS's rank and whether EOS was inside the decoder's candidate set.

The per-step figures are taken inside ``generate`` by two logits processors (:class:`RecordRaw` first in
the list, :class:`RecordKept` last), not from ``output_scores``: those keep a batch x vocabulary score
matrix per step (3.2 GB for SmolLM2, beam 4, 16 prompts, 256 steps), while the recorders keep a few
numbers per row. Beam search's rows are beams; ``generate``'s ``beam_indices`` say which beam each output
token came from, and the records are followed along them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import (
    ExponentialDecayLengthPenalty,
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    NoRepeatNGramLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from core.decoding import metrics
from core.decoding.decoders import Decoder
from core.decoding.models import LanguageModel
from core.decoding.processors import ConsistentTopKLogitsWarper, ConsistentTopPLogitsWarper
from core.lab.compute import MODEL_LOCK
from core.lab.errors import BadArgument
from core.lab.messages import msg
from core.lab.progress import Progress

MAX_NEW_TOKENS = 2048
TOP_CANDIDATES = 10  # per step, for the step inspector


class RecordRaw(LogitsProcessor):
    """Records, per row and step, the model's p(EOS) (all EOS ids together) and EOS's rank, before any cut;
    optionally the ``top`` most likely tokens with their probabilities. Leaves the scores as they are."""

    def __init__(self, eos_ids: Sequence[int], top: int = 0) -> None:
        self.eos = list(eos_ids)
        self.top = top
        self.log_p_eos: list[torch.Tensor] = []
        self.rank: list[torch.Tensor] = []
        self.top_ids: list[torch.Tensor] = []
        self.top_p: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        s = scores if scores.dtype == torch.float32 else scores.float()
        lse = torch.logsumexp(s, dim=-1)  # no log-softmax matrix: a reduction and one comparison per step
        eos = s[:, self.eos]
        self.log_p_eos.append(torch.logsumexp(eos, dim=-1) - lse)
        self.rank.append((s > eos.max(dim=-1, keepdim=True).values).sum(dim=-1) + 1)
        if self.top:
            values, ids = s.topk(self.top, dim=-1)
            self.top_ids.append(ids)
            self.top_p.append((values - lse[:, None]).exp())
        return scores


class RecordKept(LogitsProcessor):
    """Records, per row and step, whether an EOS id survived every processor before it (a finite score) and
    its rank among what is left, and how many tokens are left. Leaves the scores as they are."""

    def __init__(self, eos_ids: Sequence[int]) -> None:
        self.eos = list(eos_ids)
        self.kept: list[torch.Tensor] = []
        self.rank: list[torch.Tensor] = []
        self.size: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        eos = scores[:, self.eos].max(dim=-1).values
        finite = torch.isfinite(scores)
        self.kept.append(torch.isfinite(eos))
        self.rank.append((scores > eos[:, None]).sum(dim=-1) + 1)
        self.size.append(finite.sum(dim=-1))
        return scores


@dataclass
class Continuation:
    prompt: str
    decoder: str
    tokens: list[int]  # the new tokens, EOS not included
    stopped: bool  # EOS was emitted after them
    text: str
    p_eos: list[float]  # one per step: the model's p(EOS) before any cut (the EOS step included when stopped)
    eos_rank: list[int]  # EOS's rank among the model's tokens at each step (1: the most likely)
    eos_in_candidates: list[bool]  # whether the decoder could have chosen EOS at each step
    candidates: list[int]  # how many tokens the decoder could choose from at each step
    loop: tuple[int, ...] | None
    loop_start: int | None  # index in ``tokens`` where the periodic tail begins
    loop_char: int | None  # where it begins in ``text`` (for highlighting)
    pieces: list[str]  # each new token's text (EOS not included)
    prompt_cut: int = 0  # prompt tokens cut from the start to fit the model's context
    top: list[list[tuple[str, float]]] = field(default_factory=list)  # per step, when asked

    @property
    def length(self) -> int:
        return len(self.tokens)

    @property
    def loop_period(self) -> int | None:
        return None if self.loop is None else len(self.loop)

    eos_id: int | None = None  # the EOS id it stopped with

    def row(self) -> dict[str, Any]:
        """The command line's JSON for it: ``tokens`` are every generated id, EOS included when it stopped, so
        ``tokens``, ``length`` and ``p_eos`` have one entry per step."""
        return {
            "decoder": self.decoder,
            "text": self.text,
            "tokens": self.tokens + ([self.eos_id] if self.stopped else []),
            "stopped": self.stopped,
            "length": len(self.tokens) + int(self.stopped),
            "loop": None if self.loop is None else "".join(self.pieces[-len(self.loop) :]),
            "p_eos": self.p_eos,
        }


def processors(decoder: Decoder, eos_ids: Sequence[int], prompt_length: int) -> list[LogitsProcessor]:
    """The decoder's processors in ``generate``'s order: fixes, temperature, cut."""
    out: list[LogitsProcessor] = []
    if decoder.no_repeat:
        out.append(NoRepeatNGramLogitsProcessor(decoder.no_repeat))
    if decoder.length_decay:
        out.append(ExponentialDecayLengthPenalty(decoder.length_decay, list(eos_ids), prompt_length))
    if decoder.kind == "ancestral" and decoder.temperature != 1.0:
        out.append(TemperatureLogitsWarper(decoder.temperature))
    if decoder.kind == "topk":
        out.append(TopKLogitsWarper(decoder.k))
    elif decoder.kind == "nucleus":
        out.append(TopPLogitsWarper(decoder.p))
    elif decoder.kind == "consistent-topk":
        out.append(ConsistentTopKLogitsWarper(decoder.k, list(eos_ids)))
    elif decoder.kind == "consistent-nucleus":
        out.append(ConsistentTopPLogitsWarper(decoder.p, list(eos_ids)))
    return out


def generation_config(lm: LanguageModel, decoder: Decoder, max_new_tokens: int) -> GenerationConfig:
    """A fresh config (the model's own sampling defaults ignored): every processor comes from
    :func:`processors`, so the config's fields that would add one are neutral."""
    return GenerationConfig(
        max_new_tokens=max_new_tokens,
        min_new_tokens=0,
        do_sample=decoder.sampling,
        num_beams=decoder.k if decoder.kind == "beam" else 1,
        early_stopping=True if decoder.kind == "beam" else False,
        length_penalty=1.0,
        top_k=None,
        top_p=None,
        temperature=None,
        eos_token_id=list(lm.eos_ids),
        pad_token_id=lm.pad_id,
        bos_token_id=None,
        use_cache=True,
        return_dict_in_generate=True,
    )


def check_limit(max_new_tokens: int) -> int:
    if not isinstance(max_new_tokens, int) or not 1 <= max_new_tokens <= MAX_NEW_TOKENS:
        raise BadArgument(
            "the length limit L must be between 1 and {high}, not {value}", high=MAX_NEW_TOKENS, value=max_new_tokens
        )
    return max_new_tokens


def decode(
    lm: LanguageModel,
    prompts: Sequence[str],
    decoder: Decoder,
    max_new_tokens: int = 256,
    seed: int = 0,
    chat: bool = False,
    top: int = 0,
    batch_size: int = 16,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Continuation]:
    """Continue every prompt with one decoder; one ``generate`` call per batch of ``batch_size`` prompts.

    Seeded per batch (``seed``), so the same call gives the same continuations. ``top``: how many candidates
    to keep per step for the step inspector (0: none).
    """
    check_limit(max_new_tokens)
    if not prompts:
        raise BadArgument("no prompt given")
    if any(not (p or "").strip() for p in prompts):
        raise BadArgument("a prompt is empty; type some text to continue")
    progress = progress or (lambda _f, _m: None)
    out: list[Continuation] = []
    for start in range(0, len(prompts), batch_size):
        if should_stop is not None and should_stop():
            break
        batch = list(prompts[start : start + batch_size])
        out += _decode_batch(lm, batch, decoder, max_new_tokens, seed + start, chat, top)
        progress(
            len(out) / len(prompts),
            msg("{decoder}: {done} of {total} prompts", decoder=decoder.spec, done=len(out), total=len(prompts)),
        )
    return out


def _follower(b: int, used: int, beams: torch.Tensor | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Picks output row ``b``'s first ``used`` steps from a [rows, steps, ...] record: the same row, or in beam
    search the beam each of its tokens came from (``generate``'s ``beam_indices``)."""
    if beams is None:
        return lambda m: m[b, :used]
    idx = beams[b, :used].clamp(min=0)
    steps = torch.arange(used)
    return lambda m: m[idx, steps]


def _decode_batch(
    lm: LanguageModel, prompts: list[str], decoder: Decoder, limit: int, seed: int, chat: bool, top: int
) -> list[Continuation]:
    encoded = lm.encode(prompts, chat=chat, room=limit)
    raw, kept = RecordRaw(lm.eos_ids, top), RecordKept(lm.eos_ids)
    width = encoded.input_ids.shape[1]
    listed = LogitsProcessorList([raw, *processors(decoder, lm.eos_ids, width), kept])
    with MODEL_LOCK, torch.inference_mode():  # the model is shared by every session (core.lab.compute)
        torch.manual_seed(seed)
        result = lm.model.generate(
            input_ids=encoded.input_ids,
            attention_mask=encoded.attention_mask,
            generation_config=generation_config(lm, decoder, limit),
            logits_processor=listed,
        )
    sequences = result.sequences[:, width:]
    beams = getattr(result, "beam_indices", None)
    stack = lambda xs: torch.stack(xs, dim=1) if xs else torch.zeros(sequences.shape[0], 0)  # noqa: E731
    log_p_eos, rank, kept_eos = stack(raw.log_p_eos), stack(raw.rank), stack(kept.kept)
    kept_rank, size = stack(kept.rank), stack(kept.size)
    top_ids = torch.stack(raw.top_ids, dim=1) if top else None
    top_p = torch.stack(raw.top_p, dim=1) if top else None
    eos = set(lm.eos_ids)
    rows = []
    for b, prompt in enumerate(prompts):
        seq = [int(t) for t in sequences[b]]
        n = next((i for i, t in enumerate(seq) if t in eos), None)
        stopped = n is not None
        tokens = seq[:n] if stopped else seq[:limit]  # a row that never stopped ran to the limit
        used = len(tokens) + int(stopped)
        pick = _follower(b, used, beams)
        p_row = pick(log_p_eos).exp()
        kept_row, kept_rank_row = pick(kept_eos), pick(kept_rank)
        in_candidates = kept_row.clone()
        if decoder.width is not None:
            in_candidates &= kept_rank_row <= decoder.width
        loop = metrics.find_loop(tokens)
        start = None if loop is None else metrics.loop_start(tokens, len(loop))
        pieces = [lm.token_text(t) for t in tokens]
        top_rows: list[list[tuple[str, float]]] = []
        if top:
            ids, ps = pick(top_ids), pick(top_p)
            top_rows = [
                [(lm.token_text(int(i)), float(p)) for i, p in zip(ids[s], ps[s], strict=True)] for s in range(used)
            ]
        rows.append(
            Continuation(
                prompt=prompt,
                decoder=decoder.spec,
                tokens=tokens,
                stopped=stopped,
                text=lm.detokenize(tokens),
                p_eos=[float(x) for x in p_row],
                eos_rank=[int(x) for x in pick(rank)],
                eos_in_candidates=[bool(x) for x in in_candidates],
                candidates=[int(x) for x in pick(size)],
                loop=loop,
                loop_start=start,
                loop_char=None if start is None else len(lm.detokenize(tokens[:start]).rstrip("\ufffd")),
                pieces=pieces,
                prompt_cut=encoded.cut[b],
                top=top_rows,
                eos_id=seq[n] if stopped else None,
            )
        )
    return rows
