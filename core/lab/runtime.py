"""Keras 3 on TensorFlow, imported once and quietly.

TensorFlow's C++ start-up writes log lines to stderr that no environment
variable silences any more (oneDNN notices, absl warnings). The command line
promises one line on stderr for an error, so the import runs with file
descriptor 2 pointed at /dev/null; Python exceptions still propagate.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def keras() -> Any:
    """The ``keras`` module with the TensorFlow back end."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _LOCK:
        if "keras" not in sys.modules:
            with _quiet_stderr():
                import keras as _k  # noqa: F401
                import tensorflow  # noqa: F401
    import keras as k

    return k
