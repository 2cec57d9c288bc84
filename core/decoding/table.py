"""The prompt-set table: how often each decoder fails to stop, over a fixed prompt set, stored in the lab home.

One table is a model, a prompt set, a list of decoders, the length limit L, a seed and the prompt mode
(raw continuation or the model's chat template). For each decoder it keeps the row of the page's table
(r_L, loop share, seq-rep-4, mean length of the stopped ones), the share still running at every step (the
r_L-versus-L curve) and each prompt's continuation in brief. Computed by a background job; the default
model's table is prepared when the lab starts, so the page opens on it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.decoding import metrics
from core.decoding.decoders import TABLE_DECODERS, parse
from core.lab.artifacts import atomic_write
from core.lab.messages import msg
from core.lab.paths import lab_home
from core.lab.progress import Progress
from core.models.causal_lm import SMOLLM2

LSTM_PROMPTS = 100  # held-out prefixes per trained LM
LSTM_LIMIT = 1500  # Welleck et al.'s L
TRANSFORMER_LIMIT = 256
TRANSFORMER_BATCH = 16  # prompts per generate call (beam search: times its width in rows)
LSTM_BATCH = 128  # an LSTM step costs little per row: the whole prompt set in one call


def builtin_prompts() -> dict[str, list[str]]:
    """The project's English and Chinese prompt set for SmolLM2 and other causal LMs."""
    text = (importlib.resources.files("core.decoding") / "data" / "prompts.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return {"en": data["en"], "zh": data["zh"]}


def default_prompts(model_id: str) -> list[str]:
    """A trained LSTM's held-out sentence prefixes; the project's prompt set (English then Chinese) for any
    other model."""
    from core.decoding import training
    from core.decoding.corpus import Corpus, prompts

    if model_id.startswith("lstm-"):
        folder = training.model_folder(model_id)
        try:
            held = json.loads((folder / "held_out.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            held = []
        found = prompts(Corpus(model_id, (), tuple(held)), n=LSTM_PROMPTS) if held else []
        if found:
            return found
    sets = builtin_prompts()
    return sets["en"] + sets["zh"]


def default_limit(model_id: str) -> int:
    return LSTM_LIMIT if model_id.startswith("lstm-") else TRANSFORMER_LIMIT


@dataclass(frozen=True)
class TableSpec:
    model: str = SMOLLM2
    decoders: tuple[str, ...] = TABLE_DECODERS
    max_new_tokens: int | None = None  # None: the model's default L
    prompts: tuple[str, ...] | None = None  # None: the model's default prompt set
    seed: int = 0
    chat: bool = False

    @property
    def limit(self) -> int:
        return self.max_new_tokens or default_limit(self.model)

    def params(self) -> dict[str, Any]:
        """The job's parameters (JSON): only what differs from the defaults, so the default table is one job."""
        out: dict[str, Any] = {"model": self.model}
        if self.decoders != TABLE_DECODERS:
            out["decoders"] = list(self.decoders)
        if self.max_new_tokens:
            out["max_new_tokens"] = self.max_new_tokens
        if self.prompts is not None:
            out["prompts"] = list(self.prompts)
        if self.seed:
            out["seed"] = self.seed
        if self.chat:
            out["chat"] = True
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TableSpec:
        return cls(
            model=params["model"],
            decoders=tuple(params.get("decoders") or TABLE_DECODERS),
            max_new_tokens=params.get("max_new_tokens"),
            prompts=tuple(params["prompts"]) if params.get("prompts") is not None else None,
            seed=int(params.get("seed", 0)),
            chat=bool(params.get("chat", False)),
        )


def table_path(spec: TableSpec) -> Path:
    key = json.dumps(spec.params(), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c == "-" else "-" for c in spec.model)[-40:]
    return lab_home() / "decoding-tables" / f"{safe}-{digest}.json"


def load_table(spec: TableSpec) -> dict[str, Any] | None:
    try:
        return json.loads(table_path(spec).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def loop_p_eos(c: Any) -> float | None:
    """The median p(EOS) over the steps inside a continuation's loop (None without a loop)."""
    if c.loop_start is None:
        return None
    inside = c.p_eos[c.loop_start : len(c.tokens)]
    return float(np.median(inside)) if inside else None


def compute_table(
    spec: TableSpec,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    lm: Any = None,
) -> dict[str, Any] | None:
    """Decode the prompt set with every decoder, write the table, return it (None when cancelled)."""
    from core.decoding.generation import decode
    from core.decoding.models import load_language_model

    progress = progress or (lambda _f, _m: None)
    decoders = [parse(d) for d in spec.decoders]
    progress(0.0, msg("Loading {model}", model=spec.model))
    lm = lm or load_language_model(spec.model)
    prompts = list(spec.prompts) if spec.prompts is not None else default_prompts(spec.model)
    rows = []
    began, steps = time.perf_counter(), 0
    for i, decoder in enumerate(decoders):

        def part(f: float, m: Any, i: int = i) -> None:
            progress((i + f) / len(decoders), m)

        found = decode(
            lm,
            prompts,
            decoder,
            spec.limit,
            seed=spec.seed,
            chat=spec.chat,
            batch_size=LSTM_BATCH if lm.kind == "lstm" else TRANSFORMER_BATCH,
            progress=part,
            should_stop=should_stop,
        )
        if should_stop is not None and should_stop():
            return None
        summary = metrics.summarise([(c.tokens, c.stopped) for c in found])
        steps += sum(len(c.p_eos) * (decoder.k if decoder.kind == "beam" else 1) for c in found)
        in_loops = [x for x in map(loop_p_eos, found) if x is not None]
        rows.append(
            {
                "decoder": decoder.spec,
                **asdict(summary),
                "loop_p_eos": float(np.median(in_loops)) if in_loops else None,
                "still_running": metrics.still_running(
                    [c.length for c in found], [c.stopped for c in found], spec.limit
                ).tolist(),
                "continuations": [
                    {
                        "prompt": c.prompt,
                        "text": c.text,
                        "stopped": c.stopped,
                        "length": c.length,
                        "loop": None if c.loop is None else "".join(c.pieces[-len(c.loop) :]),
                        "loop_p_eos": loop_p_eos(c),
                        "loop_char": c.loop_char,
                        "loop_period": c.loop_period,
                        "p_eos": [float(f"{x:.4g}") for x in c.p_eos],
                        "eos_rank": c.eos_rank,
                        "in_candidates": "".join("1" if k else "0" for k in c.eos_in_candidates),
                    }
                    for c in found
                ],
            }
        )
    table = {
        "spec": spec.params(),
        "limit": spec.limit,
        "prompts": prompts,
        "rows": rows,
        "tokens_per_s": steps / max(time.perf_counter() - began, 1e-9),  # beams counted: tokens computed
    }
    payload = json.dumps(table, ensure_ascii=False)
    atomic_write(table_path(spec), lambda p: p.write_text(payload, encoding="utf-8"))
    return table


@dataclass(frozen=True)
class Stored:
    """A continuation as the table keeps it: what the page's continuation cards and p(EOS) figure read."""

    prompt: str
    decoder: str
    text: str
    stopped: bool
    length: int
    loop: str | None
    loop_char: int | None
    loop_period: int | None  # tokens in the repeated block
    loop_p_eos: float | None
    p_eos: list[float]
    eos_rank: list[int]
    eos_in_candidates: list[bool]


def stored(table: dict[str, Any], prompt_index: int) -> list[Stored]:
    """Every decoder's continuation of one prompt of a table, in the table's decoder order."""
    out = []
    for row in table["rows"]:
        c = row["continuations"][prompt_index]
        out.append(
            Stored(
                prompt=c["prompt"],
                decoder=row["decoder"],
                text=c["text"],
                stopped=c["stopped"],
                length=c["length"],
                loop=c["loop"],
                loop_char=c.get("loop_char"),
                loop_period=c.get("loop_period"),
                loop_p_eos=c.get("loop_p_eos"),
                p_eos=c.get("p_eos", []),
                eos_rank=c.get("eos_rank", []),
                eos_in_candidates=[ch == "1" for ch in c.get("in_candidates", "")],
            )
        )
    return out


def rows_for_download(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The table's summary rows without the curves and continuations (CSV)."""
    keep = ("decoder", "n", "non_termination", "loops", "seq_rep_4", "mean_stopped_length", "loop_p_eos")
    return [{k: row[k] for k in keep} for row in table["rows"]]
