"""The progress type every long computation takes.

``progress(fraction, message)``: ``fraction`` in [0, 1], ``message`` one line a
person can read, as a :class:`~core.lab.messages.Message` (a key and its
fields, rendered in the reader's language). Pages turn it into
``st.progress``, the command line into a line on stderr (English), the worker
into the job's row.
"""

from __future__ import annotations

from collections.abc import Callable

from core.lab.messages import Message

Progress = Callable[[float, Message], None]
