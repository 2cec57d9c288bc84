"""The progress type every long computation takes.

``progress(fraction, message)``: ``fraction`` in [0, 1], ``message`` one line a
person can read. Pages turn it into ``st.progress``, the command line into a
line on stderr, the worker into the job's row.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]
