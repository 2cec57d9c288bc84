"""The errors whose message is meant for the person who gave the input.

Every technique raises a subclass of :class:`LabError` for input it cannot
use (an unknown model id, an empty corpus, a parameter out of range): pages
show the message in the visitor's language, the command line prints it (in
English) as one line and exits with status 2. Anything else is a bug and
surfaces as one.

The message is a key, not display text: ``InputError("{name} is empty.",
name=name)`` keeps the English source string (the catalogues' msgid) and the
field values apart (:class:`~core.lab.messages.Message`), so the interface
translates the sentence and fills in the same values. The class names are
keywords of the catalogue extraction (``babel.cfg``); a test checks that every
subclass is listed there.
"""

from __future__ import annotations

from typing import Any

from core.lab.messages import Message


class LabError(Exception):
    """Input the lab cannot use; the message says what to change."""

    def __init__(self, message: str | Message, /, **params: Any) -> None:
        self.message = message if isinstance(message, Message) else Message(message, params)
        super().__init__(str(self.message))


class BadArgument(LabError, ValueError):
    """A parameter outside what a computation accepts (a ValueError too, for callers that catch those)."""
