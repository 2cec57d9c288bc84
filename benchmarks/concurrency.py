"""Five visitors at once on the perturbed-masking page, against five times one visitor alone.

Sessions are Streamlit AppTest runs of the page in threads of this process,
as the server runs them (one shared encoder, the lab's model lock), without a
browser drawing on the same two cores. Each opens the share link
``/perturbed-masking?s=...&layer=5&model=e5-multilingual`` with its own
sentence (new words every round, so nothing comes from a cache):

* solo: five sessions one after another; ``solo`` is their mean;
* together: five sessions started at once; ``wall`` is until the last one is
  done, reported as ``wall / (5 x solo)`` (1.0: as fast as taking turns);
* both again while another process keeps one core busy;
* closed tabs (a real server and headless Chromium): five links opened at
  once and closed after three seconds; the server's CPU seconds in each five
  seconds after closing say whether their work stopped (near zero after the
  first slice) or went on (about 10 per slice on 2 cores for minutes).

``python -m benchmarks.concurrency``; the last line is one JSON object.
"""

from __future__ import annotations

import asyncio
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
    """A sentence of its own for every round and visitor (the page caches analyses by text)."""
    a, b, c = (WORDS[(i + k * 4) % len(WORDS)] for k in range(3))
    return f"In round {round_} the old {a} near the {b} told visitor {i} a long story about the {c} ."


def server():  # noqa: ANN201 - a context manager yielding (url, pid)
    from ui.serve import background_server

    return background_server({"KEXUE_LAB_WORKER": "off", "HF_HUB_OFFLINE": "1"}, start_timeout=120)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def link(url: str, text: str) -> str:
    return f"{url}/perturbed-masking?model=e5-multilingual&layer=5&s={quote(text)}"


def session(text: str) -> float:
    """One visitor's page run, timed (AppTest, as the server would run it)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "perturbed_masking.py"), default_timeout=900)
    at.query_params.update({"model": "e5-multilingual", "layer": "5", "s": text})
    start = time.perf_counter()
    at.run()
    took = time.perf_counter() - start
    if at.exception or not any("Impact matrix, layer 5" in c.proto.spec for c in at.get("plotly_chart")):
        raise RuntimeError(f"the page did not draw its impact matrix: {at.exception}")
    return took


def together(texts: list[str]) -> float:
    """Wall time until every session is done, all started at once."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(texts))

    def one(text: str) -> None:
        barrier.wait()
        try:
            session(text)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(t,)) for t in texts]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


@contextlib.contextmanager
def busy_core():
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


async def closed_tabs(url: str, pid: int) -> list[float]:
    """Server CPU seconds in each 5 s after five tabs, each mid-analysis (about a minute of work), were closed."""
    from playwright.async_api import async_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[*args, "--disable-sync"])
        warm = await browser.new_page()
        await warm.goto(link(url, "A warm-up sentence loads the encoder once ."))
        await warm.wait_for_selector("text=Impact matrix, layer 5", timeout=600_000)
        await warm.close()
        long = " ".join(sentence(99, i).rstrip(" .") for i in range(3)) + " ."  # ~55 words: about a minute
        contexts = []
        for i in range(VISITORS):
            ctx = await browser.new_context()
            await (await ctx.new_page()).goto(link(url, f"{i} {long}"))
            contexts.append(ctx)
        await asyncio.sleep(3.0)
        for ctx in contexts:
            await ctx.close()
        slices = []
        for _ in range(4):  # CPU seconds in each 5 s after closing: work that stopped leaves only the first
            before = cpu_seconds(pid)
            await asyncio.sleep(5.0)
            slices.append(round(cpu_seconds(pid) - before, 2))
        await browser.close()
    return slices


def main() -> int:
    import streamlit as st

    from core.perturbed_masking.reference import split_words

    split_words("Load spaCy once .")
    session("A warm-up sentence loads the encoder once .")
    result: dict[str, object] = {"visitors": VISITORS, "model": "e5-multilingual", "cores": os.cpu_count()}
    round_ = 0
    for label, load in (("idle", contextlib.nullcontext), ("one core busy", busy_core)):
        with load():
            round_ += 1
            solo = [session(sentence(round_, i)) for i in range(VISITORS)]
            round_ += 1
            wall = together([sentence(round_, i) for i in range(VISITORS)])
        mean = sum(solo) / len(solo)
        result[label] = {
            "solo_s": round(mean, 2),
            "together_wall_s": round(wall, 2),
            "wall_over_n_solo": round(wall / (VISITORS * mean), 2),
        }
        print(label, result[label], file=sys.stderr, flush=True)
    st.cache_data.clear()
    with server() as (url, pid):
        result["closed_tabs_server_cpu_s_per_5_s"] = asyncio.run(closed_tabs(url, pid))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
