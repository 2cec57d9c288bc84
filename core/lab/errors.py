"""The errors whose message is meant for the person who gave the input.

Every technique raises a subclass of :class:`LabError` for input it cannot
use (an unknown model id, an empty corpus, a parameter out of range): pages
show the message, the command line prints it as one line and exits with
status 2. Anything else is a bug and surfaces as one.
"""

from __future__ import annotations


class LabError(Exception):
    """Input the lab cannot use; the message says what to change."""


class BadArgument(LabError, ValueError):
    """A parameter outside what a computation accepts (a ValueError too, for callers that catch those)."""
