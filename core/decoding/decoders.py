"""The decoders the page compares, as settings of transformers' ``generate``.

A decoder is written as a spec: ``greedy``, ``beam:4``, ``topk:4``, ``nucleus:0.9``, ``ancestral`` (or
``ancestral:0.8``, a temperature), ``consistent-topk:4``, ``consistent-nucleus:0.9``; any of them may add
the fixes users of transformers reach for today, ``+no-repeat:3`` (``no_repeat_ngram_size``) and
``+length-decay:64:1.05`` (``ExponentialDecayLengthPenalty`` from step 64 by factor 1.05).

Every processor is built here and handed to ``generate`` explicitly, the library's own cut of each kind
included (``TopKLogitsWarper`` and friends), with the generation config's sampling fields left neutral, so
the order is fixed: the recorder of the model's own p(EOS) first, then the fixes, the temperature, the cut,
and the recorder of what the cut left last (see :mod:`core.decoding.generation`).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.lab.errors import BadArgument

KINDS = ("greedy", "beam", "topk", "nucleus", "ancestral", "consistent-topk", "consistent-nucleus")
SAMPLING = ("topk", "nucleus", "ancestral", "consistent-topk", "consistent-nucleus")
MAX_BEAM = 16


@dataclass(frozen=True)
class Decoder:
    kind: str
    k: int | None = None  # beam width or top-k
    p: float | None = None  # nucleus mass
    temperature: float = 1.0  # ancestral sampling's temperature
    no_repeat: int = 0  # no_repeat_ngram_size (0: off)
    length_decay: tuple[int, float] | None = None  # (start step, factor) of ExponentialDecayLengthPenalty

    @property
    def sampling(self) -> bool:
        return self.kind in SAMPLING

    @property
    def width(self) -> int | None:
        """How many of a step's most likely tokens can be chosen: 1 for greedy, k for beam (per beam),
        None where the candidate set is what the processors leave."""
        if self.kind == "greedy":
            return 1
        if self.kind == "beam":
            return self.k
        return None

    @property
    def spec(self) -> str:
        base = self.kind
        if self.kind in ("beam", "topk", "consistent-topk"):
            base = f"{self.kind}:{self.k}"
        elif self.kind in ("nucleus", "consistent-nucleus"):
            base = f"{self.kind}:{_num(self.p)}"
        elif self.kind == "ancestral" and self.temperature != 1.0:
            base = f"ancestral:{_num(self.temperature)}"
        if self.no_repeat:
            base += f"+no-repeat:{self.no_repeat}"
        if self.length_decay:
            base += f"+length-decay:{self.length_decay[0]}:{_num(self.length_decay[1])}"
        return base


def _num(x: float | None) -> str:
    return f"{x:g}"


def _int(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadArgument("{what} must be a whole number, not {text!r}", what=what, text=text) from None
    if not low <= value <= high:
        raise BadArgument(
            "{what} must be between {low} and {high}, not {value}", what=what, low=low, high=high, value=value
        )
    return value


def _float(text: str, what: str, low: float, high: float, low_open: bool = True) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadArgument("{what} must be a number, not {text!r}", what=what, text=text) from None
    if not ((low < value) if low_open else (low <= value)) or value > high:
        raise BadArgument("{what} must be in ({low}, {high}], not {value}", what=what, low=low, high=high, value=value)
    return value


def parse(spec: str) -> Decoder:
    """A decoder from its spec (see the module's docstring); BadArgument says what is wrong with one."""
    parts = (spec or "").strip().lower().split("+")
    head = parts[0].split(":")
    kind, args = head[0], head[1:]
    if kind not in KINDS:
        raise BadArgument(
            "unknown decoder {spec!r}; use one of greedy, beam:K, topk:K, nucleus:P, ancestral[:T], "
            "consistent-topk:K, consistent-nucleus:P",
            spec=spec,
        )
    fields: dict = {}
    if kind in ("beam", "topk", "consistent-topk"):
        if len(args) != 1:
            raise BadArgument("{kind} needs its k, as in {kind}:4", kind=kind)
        fields["k"] = _int(args[0], "k", 2 if kind == "beam" else 1, MAX_BEAM if kind == "beam" else 100_000)
    elif kind in ("nucleus", "consistent-nucleus"):
        if len(args) != 1:
            raise BadArgument("{kind} needs its p, as in {kind}:0.9", kind=kind)
        fields["p"] = _float(args[0], "p", 0.0, 1.0)
    elif kind == "ancestral":
        if len(args) > 1:
            raise BadArgument("ancestral takes at most a temperature, as in ancestral:0.8")
        if args:
            fields["temperature"] = _float(args[0], "the temperature", 0.0, 10.0)
    elif args:
        raise BadArgument("greedy takes no setting")
    for extra in parts[1:]:
        name, *vals = extra.split(":")
        if name == "no-repeat" and len(vals) == 1:
            fields["no_repeat"] = _int(vals[0], "the n of no-repeat", 1, 20)
        elif name == "length-decay" and len(vals) == 2:
            fields["length_decay"] = (
                _int(vals[0], "the start of length-decay", 0, 100_000),
                _float(vals[1], "the factor of length-decay", 1.0, 10.0, low_open=False),
            )
        else:
            raise BadArgument("unknown addition {extra!r}; use +no-repeat:N or +length-decay:START:FACTOR", extra=extra)
    return Decoder(kind, **fields)


# The page's decoders and the prompt-set table's: the paper's incomplete decoders at the settings where they
# loop most, ancestral sampling, and the two consistent variants at the same settings.
TABLE_DECODERS = (
    "greedy",
    "beam:4",
    "topk:4",
    "nucleus:0.2",
    "ancestral",
    "consistent-topk:4",
    "consistent-nucleus:0.2",
)
