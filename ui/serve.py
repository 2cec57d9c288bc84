"""Start the dashboard: ``python -m ui.serve [streamlit run options]``.

Streamlit decides once per process whether the app uses the old ``pages/``
auto-discovery, before the first script run; with a folder named ``pages/``
beside ``dashboard.py`` it would answer the very first deep link on a fresh
server (``/perturbed-masking``) from that folder, with a "page not found"
dialog, before ``st.navigation`` in the router has run. The lab routes only
through ``dashboard.py``, so the flag is cleared before the server starts.

Before the server starts, every built-in default that is not prepared yet
(classifiers, the VAE pair, the Chinese segmentation's calibration) is queued
for the lab's worker, which starts in its own process; pages show the progress
meanwhile. On a prepared lab this only checks a few files.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

ROOT = Path(__file__).resolve().parent.parent


def prepare_defaults() -> None:
    from core.lab import jobs, prepare

    queued = prepare.queue_defaults()
    if queued:
        print(f"kexue-lab: preparing {len(queued)} built-in defaults in the background (jobs {queued})", flush=True)
        jobs.start_worker()


def warm_runtimes() -> None:
    """Import TensorFlow/Keras and torch/transformers once, in the background, while the server starts: the
    first visitor of a Keras page (optimizers, VAE) would otherwise wait about 6 s for the import alone."""

    def warm() -> None:
        from core.lab.runtime import keras

        keras()
        import transformers  # noqa: F401 - imported for its side effect: loaded once, ready for the first page

    threading.Thread(target=warm, name="warm-runtimes", daemon=True).start()


def main(argv: list[str]) -> int:
    prepare_defaults()
    warm_runtimes()
    PagesManager.uses_pages_directory = False
    return cli.main(["run", str(ROOT / "dashboard.py"), *argv], prog_name="streamlit", standalone_mode=True)


@contextlib.contextmanager
def background_server(env: dict[str, str] | None = None, start_timeout: float = 60.0) -> Iterator[tuple[str, int]]:
    """This dashboard in a child process on a free port (what the browser tests and benchmarks open).

    Yields its URL and process id once its health check answers; stops it afterwards.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.serve", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + start_timeout
    try:
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the dashboard did not start within {start_timeout:.0f} s") from None
                time.sleep(0.5)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
