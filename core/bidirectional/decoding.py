"""Every decoder of the page behind one name: the two baselines and the four neural decoders, with the
models they need loaded once per process.

Names: ``unigram``, ``bigram``, ``l2r``, ``r2l`` (beam search; width 1 is greedy; ``l2r-greedy`` and
``r2l-greedy`` force width 1), ``bidi`` (synchronous bidirectional beam search), ``rerank`` (L2R beam
rescored by R2L). A neural decoder needs its models trained (training.py's jobs); ``missing`` says which
are not yet.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from core.bidirectional import baselines, decoders
from core.bidirectional.model import load
from core.bidirectional.training import is_trained, model_folder, model_name
from core.lab.paths import lab_home

NAMES = ("unigram", "bigram", "l2r", "r2l", "bidi", "rerank")
NEEDS = {
    "unigram": (),
    "bigram": (),
    "l2r": ("l2r",),
    "r2l": ("r2l",),
    "l2r-greedy": ("l2r",),
    "r2l-greedy": ("r2l",),
    "bidi": ("bidi",),
    "rerank": ("l2r", "r2l"),
}
MAX_BEAM = 16


@lru_cache(maxsize=6)
def _model(name: str, home: str, stamp: float) -> tuple[Any, Any]:
    return load(model_folder(name))


@lru_cache(maxsize=2)
def _baselines(home: str) -> tuple[baselines.Unigram, baselines.Bigram]:
    from core.bidirectional.pairs import load as load_pairs

    training = load_pairs().training
    return baselines.Unigram(training), baselines.Bigram(training)


def missing(decoder: str, preset: str = "default") -> list[str]:
    """The models (kinds) the decoder needs that are not trained yet."""
    if decoder not in NEEDS:
        from core.bidirectional.scorecard import DecoderError

        raise DecoderError("unknown decoder {name!r}: use {names}", name=decoder, names=", ".join(NAMES))
    return [kind for kind in NEEDS[decoder] if not is_trained(model_name(kind, preset))]


class Decoders:
    def __init__(self, preset: str = "default") -> None:
        self.preset = preset

    def model(self, kind: str) -> tuple[Any, Any]:
        name = model_name(kind, self.preset)
        card = model_folder(name) / "card.json"
        return _model(name, str(lab_home()), card.stat().st_mtime)

    def baselines(self) -> tuple[baselines.Unigram, baselines.Bigram]:
        return _baselines(str(lab_home()))

    def decode(self, name: str, syllables: list[str] | tuple[str, ...], beam: int = 4) -> decoders.Result:
        from core.bidirectional.scorecard import DecoderError

        if not 1 <= beam <= MAX_BEAM:
            raise DecoderError("the beam width must be 1 to {most}, not {beam}", most=MAX_BEAM, beam=beam)
        lacking = missing(name, self.preset)
        if lacking:
            raise DecoderError(
                "the model {model} is not trained yet (python -m core train-pinyin --model {kind}, or open the page)",
                model=model_name(lacking[0], self.preset),
                kind=lacking[0],
            )
        if name in ("unigram", "bigram"):
            out = self.baselines()[0 if name == "unigram" else 1].decode(syllables)
            return decoders.Result(out.output, out.score, name, len(syllables))
        if name in ("l2r", "r2l", "l2r-greedy", "r2l-greedy"):
            d = name[:3]
            model, vocab = self.model(d)
            return decoders.beam(model, vocab, syllables, d, 1 if name.endswith("greedy") else beam)
        if name == "bidi":
            model, vocab = self.model("bidi")
            return decoders.bidirectional(model, vocab, syllables, beam)
        if name == "rerank":
            (l2r, vocab), (r2l, r2l_vocab) = self.model("l2r"), self.model("r2l")
            return decoders.rerank(l2r, r2l, vocab, r2l_vocab, syllables, beam)
        raise KeyError(name)

    def cards(self) -> dict[str, Any]:
        from core.bidirectional.training import card

        out = {}
        for kind in ("l2r", "r2l", "bidi"):
            c = card(model_name(kind, self.preset))
            if c:
                out[kind] = {k: c[k] for k in ("id", "steps", "epochs", "minutes", "validation", "parameters")}
        return out


PAGE_DECODERS = ("l2r", "r2l", "bidi", "rerank", "bigram", "unigram")


def decode_all(
    syllables: list[str] | tuple[str, ...], beam: int = 4, reference: str | None = None, preset: str = "default"
) -> dict[str, Any]:
    """Every decoder whose models are trained on one input: a row each (output, score, which direction
    won, character accuracy against the reference if given, seconds) and the bidirectional trace."""
    import time

    from core.bidirectional.scorecard import char_accuracy
    from core.lab.compute import MODEL_LOCK

    lab = Decoders(preset)
    rows, trace, waiting = [], [], []
    for name in PAGE_DECODERS:
        if missing(name, preset):
            waiting.append(name)
            continue
        started = time.perf_counter()
        with MODEL_LOCK:  # the models are shared by every session (core.lab.compute); one decoder a turn
            result = lab.decode(name, syllables, beam)
        row = {
            "decoder": name,
            "output": result.output,
            "score": result.score,
            "direction": result.direction,
            "seconds": time.perf_counter() - started,
            "calls": result.calls,
        }
        if reference is not None:
            row["char_accuracy"] = char_accuracy(result.output, reference)
            row["exact"] = result.output == reference
        rows.append(row)
        if name == "bidi":
            trace = result.trace
    return {
        "syllables": list(syllables),
        "reference": reference,
        "beam": beam,
        "rows": rows,
        "trace": trace,
        "waiting": waiting,
    }
