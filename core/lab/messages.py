"""Text for people, as keys: core never decides which language a person reads.

A :class:`Message` is an English source string with named ``{fields}`` (its
key: the gettext msgid of the interface's catalogues in ``ui/locales``) and
the values of those fields. ``str()`` gives the English text, which is what
the command line prints; the interface renders the same message in the
visitor's language (``ui.i18n.text``). Progress reports, job states and the
errors of :mod:`core.lab.errors` carry Messages, so a job's progress, stored
once, reads in Chinese to one visitor and in English to another. A field's
value may itself be a Message (a step of a larger job: ``"VAE: {step}"``).

``N_`` marks a source string kept for later translation (gettext's
``gettext_noop``): the labels of a fixed set of choices, kept where the
choices are defined. Both ``msg`` and ``N_`` are keywords of the catalogue
extraction (``babel.cfg``), with the error classes' names.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Translate = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 - gettext's name for it
    """Mark ``message`` for the catalogues without translating it (it is translated where it is shown)."""
    return message


@dataclass(frozen=True)
class Message:
    key: str  # the English source string, with {named} fields
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translate: Translate) -> str:
        """The text in the language of ``translate`` (a msgid -> text function); fields filled, nested ones too."""
        text = translate(self.key)
        if not self.params:
            return text
        values = {k: v.render(translate) if isinstance(v, Message) else v for k, v in self.params.items()}
        return text.format(**values)

    def __str__(self) -> str:
        return self.render(_english)

    def to_json(self) -> dict[str, Any]:
        """JSON-able: nested Messages tagged, values other than JSON scalars (a shape, an exception) as text."""
        params = {k: _json_value(v) for k, v in self.params.items()}
        return {"key": self.key, "params": params}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Message:
        params = {
            k: cls.from_json(v["$message"]) if isinstance(v, dict) and "$message" in v else v
            for k, v in (data.get("params") or {}).items()
        }
        return cls(str(data["key"]), params)


def _json_value(value: Any) -> Any:
    if isinstance(value, Message):
        return {"$message": value.to_json()}
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, numbers.Integral):  # numpy's numbers too: the fields keep their format specs
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def msg(key: str, **params: Any) -> Message:
    """A message with its fields: ``msg("Sentence {i} of {n}", i=3, n=10)``."""
    return Message(key, params)


def _english(key: str) -> str:
    return key


def render(value: Message | str | None, translate: Translate) -> str:
    """A Message in ``translate``'s language; plain text (data: a model id, a sentence) as it is."""
    if value is None:
        return ""
    return value.render(translate) if isinstance(value, Message) else str(value)
