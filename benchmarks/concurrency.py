"""Five visitors at once on the perturbed-masking page, against five times one visitor alone.

A real server (``python -m ui.serve``, the worker kept off so no training
competes) and headless Chromium. Each round opens share links of
``/perturbed-masking?s=...&layer=5&model=e5-multilingual``, each with its own
sentence (new words every round, so nothing comes from a cache), and times
until each page shows its impact matrix:

* solo: five links one after another; ``solo`` is their mean;
* together: five browser contexts opened at once; ``wall`` is until the last
  one is done, reported as ``wall / (5 x solo)`` (1.0: as fast as in turn);
* both again while another process keeps one core busy;
* closed tabs: five links opened at once and closed after two seconds; the
  server's CPU seconds in the ten seconds after closing say whether their
  work stopped (a few tenths of a second: it did).

``python -m benchmarks.concurrency``; the last line is one JSON object.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VISITORS = 5
WORDS = "river bridge market teacher garden winter letter doctor village station painter kitchen".split()


def sentence(round_: int, i: int) -> str:
    a, b, c = (WORDS[(round_ * 7 + i * 3 + k) % len(WORDS)] for k in range(3))
    return f"The old {a} near the {b} told every {c} a long story about the sea last night ."


def server():  # noqa: ANN201 - a context manager yielding (url, pid)
    from ui.serve import background_server

    return background_server({"KEXUE_LAB_WORKER": "off", "HF_HUB_OFFLINE": "1"}, start_timeout=120)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def link(url: str, text: str) -> str:
    return f"{url}/perturbed-masking?model=e5-multilingual&layer=5&s={quote(text)}"


def visit(browser, address: str, timeout_s: float = 600) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(address)
    page.wait_for_selector("text=Impact matrix, layer 5", timeout=timeout_s * 1000)
    took = time.perf_counter() - start
    context.close()
    return took


def together(playwright_factory, addresses: list[str]) -> float:
    """Wall time until every page is done, each visitor in its own thread, browser and context."""
    done: list[float | BaseException] = [0.0] * len(addresses)
    barrier = threading.Barrier(len(addresses))

    def one(i: int) -> None:
        with playwright_factory() as browser:
            barrier.wait()
            try:
                done[i] = visit(browser, addresses[i])
            except BaseException as exc:  # noqa: BLE001 - reported below
                done[i] = exc

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(addresses))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for d in done:
        if isinstance(d, BaseException):
            raise d
    return time.perf_counter() - start


@contextlib.contextmanager
def busy_core():
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def main() -> int:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

    @contextlib.contextmanager
    def chromium():
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=[*args, "--disable-sync"])
            try:
                yield b
            finally:
                b.close()

    result: dict[str, object] = {"visitors": VISITORS, "model": "e5-multilingual"}
    with server() as (url, pid), chromium() as browser:
        visit(browser, link(url, "A warm-up sentence loads the encoder once ."))
        round_ = 0
        for label, load in (("idle", contextlib.nullcontext), ("one core busy", busy_core)):
            with load():
                round_ += 1
                solo = [visit(browser, link(url, sentence(round_, i))) for i in range(VISITORS)]
                round_ += 1
                wall = together(chromium, [link(url, sentence(round_, i)) for i in range(VISITORS)])
            mean = sum(solo) / len(solo)
            result[label] = {
                "solo_s": round(mean, 2),
                "together_wall_s": round(wall, 2),
                "wall_over_n_solo": round(wall / (VISITORS * mean), 2),
            }
            print(label, result[label], file=sys.stderr, flush=True)
        round_ += 1
        contexts = []
        for i in range(VISITORS):
            ctx = browser.new_context()
            ctx.new_page().goto(link(url, sentence(round_, i)))
            contexts.append(ctx)
        time.sleep(2.0)
        for ctx in contexts:
            ctx.close()
        time.sleep(1.0)
        before = cpu_seconds(pid)
        time.sleep(10.0)
        result["closed_tabs_server_cpu_s_in_10_s"] = round(cpu_seconds(pid) - before, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
