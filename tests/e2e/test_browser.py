"""Real-browser tests: Debian's chromium driven by Playwright against a fresh server."""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "e2e"
SENTENCE = "The old man who lived by the sea caught a huge fish yesterday ."

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")


@contextlib.contextmanager
def serving(home: Path):
    """``python -m ui.serve`` (what ``make run`` starts) on a free port with this lab home; yields its URL."""
    from ui.serve import background_server

    try:
        with background_server({"KEXUE_LAB_HOME": str(home), "HF_HUB_OFFLINE": "1"}) as (url, _pid):
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def server(session_home):
    from core.models.registry import e5_folder

    e5_folder()  # the worker's first job on a real server (the suite keeps the worker off)
    with serving(session_home) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def open_and_capture(browser, url: str, waits: list[str], shot: str, height: int):
    """Open a page, wait for each selector in turn, screenshot it; returns the page and its text."""
    page = browser.new_page(viewport={"width": 1400, "height": height})
    page.goto(url)
    for selector in waits:
        page.wait_for_selector(selector, timeout=300_000)
    page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return page, page.inner_text("body")


def test_first_deep_link_on_a_fresh_server_routes_through_the_router(server, browser):
    """The very first request is a deep link; it must render the page, not 'page not found'."""
    from urllib.parse import quote

    page, body = open_and_capture(
        browser,
        f"{server}/perturbed-masking?s={quote(SENTENCE)}&layer=3&decoder=eisner",
        [".js-plotly-plot", "text=Impact matrix, layer 3"],
        "perturbed-masking.png",
        2400,
    )
    assert "Page not found" not in body
    assert "Probe UAS vs spaCy" in body
    # The router's navigation (not the pages/ folder's) is in the sidebar.
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "Home" in nav and "Perturbed masking" in nav and "dashboard" not in nav
    assert "layer=3" in page.url and "s=The+old+man" in page.url
    page.close()


def test_binary_upload_shows_a_message(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/perturbed-masking?model=minilm-en&s=The+dog+sat+.")
    page.wait_for_selector(".js-plotly-plot", timeout=180_000)
    bad = tmp_path / "sentences.txt"
    bad.write_bytes(b"\x00\x01\x02\x03 not text")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("text=sentences.txt", timeout=30_000)
    page.get_by_role("button", name="Analyse").click()
    page.wait_for_selector("text=looks like a binary file", timeout=60_000)
    page.close()


def test_home_page_links_the_technique(server, browser):
    page = browser.new_page()
    page.goto(server)
    page.wait_for_selector("text=Saved analyses", timeout=60_000)
    page.get_by_role("link", name="Perturbed masking").first.click()
    page.wait_for_url("**/perturbed-masking**", timeout=30_000)
    page.close()


def test_chinese_segmentation_deep_link(server, browser, bilingual_ready):
    from urllib.parse import quote

    tiny_bert_dir = bilingual_ready  # its calibration prepared (the worker is off in the suite)
    url = f"{server}/perturbed-masking?lang=zh&model={quote(str(tiny_bert_dir))}&s={quote('我爱北京天安门。')}"
    page, body = open_and_capture(
        browser, url, ["text=Segmentation (red outline", "text=Su's recursive split tree"], "segmentation.png", 3000
    )
    assert "Agreement with jieba (F1)" in body and "Page not found" not in body
    assert "lang=zh" in page.url and "rule=combined" in page.url
    page.close()


def test_vae_page_deep_link_shows_the_preparation_then_the_result_by_itself(server, browser):
    """A config never trained: the page shows the queued job; when the worker finishes, it redraws unasked."""
    from core.vae import jobs as vae_jobs
    from core.vae.model import VAEConfig
    from tests.helpers import prepare_now

    prep = vae_jobs.pair(VAEConfig(data="digits", epochs=1, latent=3))
    assert not prep.ready()
    page = browser.new_page(viewport={"width": 1400, "height": 3600})
    page.goto(f"{server}/vae?data=digits&epochs=1&latent=3&grid=8")
    page.wait_for_selector("text=Preparing the VAE and its autoencoder twin", timeout=60_000)
    prepare_now(prep)  # the worker's part (the suite keeps the real worker off), in this process
    page.wait_for_selector("text=VAE decodes the prior", timeout=120_000)  # no reload: the status fragment reran
    page.wait_for_selector("text=Training: reconstruction", timeout=120_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ARTIFACTS / "vae.png"), full_page=True)
    body = page.inner_text("body")
    assert "VAE test ELBO" in body and "Page not found" not in body and "Preparing" not in body
    assert "data=digits" in page.url and "grid=8" in page.url
    page.close()


def test_integrated_gradients_deep_links(server, browser, trained_classifiers):
    from urllib.parse import quote

    url = f"{server}/integrated-gradients?model=zh-sentiment&steps=20&text={quote('房间干净，服务周到')}"
    page, body = open_and_capture(
        browser,
        url,
        ["text=Red pushes towards it", "text=along the integration path"],
        "integrated-gradients.png",
        2600,
    )
    assert re.search(r"Completeness gap\s*\d+\.\d+%", body) and "Page not found" not in body
    assert "steps=20" in page.url and "model=zh-sentiment" in page.url
    page.get_by_text("Show how the gap shrinks").click()
    page.wait_for_selector("text=as steps grow", timeout=120_000)
    page.close()
    page, body = open_and_capture(
        browser,
        f"{server}/integrated-gradients?model=fashion-mnist-cnn&image=5",
        ["text=overlay"],
        "integrated-gradients-image.png",
        2400,
    )
    assert "test image #5" in body and re.search(r"Completeness gap\s*\d+\.\d+%", body)
    page.close()


def test_optimizers_deep_link(server, browser):
    url = f"{server}/optimizers?function=himmelblau&opts=adam,lookahead:adam&steps=300"
    page, body = open_and_capture(
        browser, url, ["text=paths up to step 300", "text=Loss against step"], "optimizers.png", 2600
    )
    assert "Page not found" not in body and "Lookahead(Adam, k=5, alpha=0.5)" in body
    assert "function=himmelblau" in page.url
    page.close()


FRESH_PAGES = {
    # url path: text that must show within 10 s on a fresh lab home (a result, or what is being prepared)
    "": "Saved analyses",
    "perturbed-masking": "Preparing the e5-multilingual encoder",
    "perturbed-masking?lang=zh": "Preparing Chinese segmentation for e5-multilingual",
    "integrated-gradients": "Preparing the zh-sentiment classifier",
    "integrated-gradients?model=fashion-mnist-cnn": "Preparing the fashion-mnist-cnn classifier",
    "optimizers": "paths up to step",
    "vae": "Preparing the VAE and its autoencoder twin",
    "decoding": "Preparing SmolLM2-135M-Instruct",
    "recompute": "Preparing the recompute measurements",
    "bidirectional": "Preparing the pinyin model pinyin-l2r",
    "reading-comprehension": "Preparing the reader qa-dgcnn",
}


def test_a_fresh_lab_queues_its_defaults_and_every_page_opens_within_10_s(browser, tmp_path):
    """`make run` on an empty home: the defaults are queued for the worker; no page trains or blocks."""
    from core.lab import jobs, prepare

    home = tmp_path / "fresh-home"
    with serving(home) as url:
        os.environ["KEXUE_LAB_HOME"] = str(home)  # read the fresh home's queue (the fixture restores it)
        queued = [(j.kind, j.params) for j in reversed(jobs.list_jobs(50)) if j.status == "queued"]
        assert queued == [(p.kind, p.params) for p in prepare.defaults()]  # in the order a visitor needs them
        for path, expected in FRESH_PAGES.items():
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            started = time.time()
            page.goto(f"{url}/{path}")
            page.wait_for_selector(f"text={expected}", timeout=30_000)
            took = time.time() - started
            page.wait_for_timeout(500)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = path.split("?")[0] or "home"
            page.screenshot(path=str(ARTIFACTS / f"fresh-{name}{'-' + path.split('=')[-1] if '=' in path else ''}.png"))
            body = page.inner_text("body")
            page.close()
            assert took < 10, f"/{path} took {took:.1f} s to show {expected!r}"
            assert "Traceback" not in body and "Page not found" not in body
        assert [(j.kind, j.params) for j in reversed(jobs.list_jobs(50)) if j.status == "queued"] == queued


# Both languages in a real browser: hl= in the link, the browser's own language, the sidebar switch.

NAV_ZH = (
    "首页",
    "扰动掩码",
    "积分梯度",
    "优化器",
    "变分自编码器的几何",
    "停不下来的解码",
    "重计算",
    "双向解码",
    "阅读理解",
)
NAV_EN = (
    "Home",
    "Perturbed masking",
    "Integrated gradients",
    "Optimizers",
    "VAE geometry",
    "Decoding that never stops",
    "Recompute",
    "Bidirectional decoding",
    "Reading comprehension",
)
BILINGUAL = {
    # name: (url path and settings, heading in Chinese, heading in English, text that shows the result is drawn)
    "home": ("", "kexue-lab", "kexue-lab", "已保存的分析|Saved analyses"),
    "perturbed-masking": (
        f"perturbed-masking?s={SENTENCE.replace(' ', '+')}&layer=3",
        "扰动掩码",
        "Perturbed masking",
        "第 3 层的影响矩阵|Impact matrix, layer 3",
    ),
    "segmentation": ("perturbed-masking?lang=zh", "扰动掩码", "Perturbed masking", "苏剑林的递归切分树|Su's recursive"),
    "integrated-gradients": (
        "integrated-gradients?model=zh-sentiment&steps=20&text=房间干净，服务周到",
        "积分梯度",
        "Integrated gradients",
        "红色推向它|Red pushes towards it",
    ),
    "vae": ("vae?data=digits&epochs=1&latent=4&grid=8", "变分自编码器的几何", "VAE geometry", "噪声球|The noise ball"),
    "optimizers": (
        "optimizers?function=himmelblau&opts=adam,lookahead:adam&steps=300",
        "优化器实验：Lookahead 与 LazyOptimizer",
        "Optimizer lab: Lookahead and LazyOptimizer",
        "损失随步数的变化|Loss against step",
    ),
    "decoding": (
        "decoding?model=lstm-e2e-softmax&L=300&p=0",
        "停不下来的解码",
        "Decoding that never stops",
        "曲线变平的地方|Where a curve flattens",
    ),
    "recompute": ("recompute", "重计算", "Recompute", "训练内存随批量的变化|Training memory against batch"),
    "bidirectional": (
        "bidirectional?text=bei+jing+da+xue&beam=2",
        "双向解码",
        "Bidirectional decoding",
        "按句中位置的字准确率|Character accuracy by position",
    ),
    "reading-comprehension": (
        "reading-comprehension?example=2&reader=dgcnn",
        "用 DGCNN 做阅读理解",
        "Reading comprehension with DGCNN",
        "每个字的起点与终点概率|Start and end probability of every character",
    ),
}


@pytest.fixture(scope="module")
def bilingual_ready(server, tiny_bert_dir, trained_classifiers):
    """What the bilingual pages show with results: the VAE pair, and the tiny BERT's Chinese calibration."""
    from core.perturbed_masking import jobs as pm_jobs
    from core.vae import jobs as vae_jobs
    from core.vae.model import VAEConfig
    from tests.helpers import prepare_now

    # latent 4: the VAE deep-link test needs latent 3 untrained, to watch it being prepared
    for prep in (vae_jobs.pair(VAEConfig(data="digits", epochs=1, latent=4)), pm_jobs.calibration(str(tiny_bert_dir))):
        if not prep.ready():
            prepare_now(prep)
    from core.decoding.table import TableSpec, compute_table
    from tests.app.test_decoding import save_tiny_lstm

    save_tiny_lstm("lstm-e2e-softmax")  # the decoding page's table, as if the worker had trained and decoded
    compute_table(TableSpec(model="lstm-e2e-softmax", max_new_tokens=300))
    from _pytest.monkeypatch import MonkeyPatch

    from tests.app.test_recompute import store_default_study

    with MonkeyPatch.context() as patch:  # the recompute page's default study, measured by the stand-in
        store_default_study(patch)
    from tests.helpers import save_tiny_pinyin_models

    save_tiny_pinyin_models()  # the bidirectional page's models and scorecard (tiny presets)
    from tests.helpers import save_tiny_readers

    save_tiny_readers()  # the reading-comprehension page's readers and scorecard (tiny presets)
    return tiny_bert_dir


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(BILINGUAL))
def test_every_page_opens_in_the_language_of_its_link(server, browser, bilingual_ready, name, lang):
    from urllib.parse import quote

    path, heading_zh, heading_en, drawn = BILINGUAL[name]
    if name == "segmentation":
        path += f"&model={quote(str(bilingual_ready))}&s={quote('我爱北京天安门。')}"
    page = browser.new_page(viewport={"width": 1400, "height": 1400 if name == "home" else 3400})
    page.goto(f"{server}/{path}{'&' if '?' in path else '?'}hl={lang}")
    page.wait_for_selector("h1", timeout=120_000)
    zh_text, en_text = drawn.split("|")
    page.wait_for_selector(f"text={zh_text if lang == 'zh' else en_text}", timeout=300_000)
    page.wait_for_timeout(4000)  # the WebGL scatter plots draw last
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{lang}-{name}.png"), full_page=True)
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    heading = page.locator("h1").first.inner_text()
    body = page.inner_text("body")
    assert "Traceback" not in body and "Page not found" not in body
    if lang == "zh":
        assert all(t in nav for t in NAV_ZH) and not any(t in nav for t in NAV_EN[1:]), nav
        assert heading.startswith(heading_zh), heading
    else:
        assert all(t in nav for t in NAV_EN) and not any(t in nav for t in NAV_ZH), nav
        assert heading.startswith(heading_en), heading
    assert f"hl={lang}" in page.url
    page.close()


def test_the_browser_language_and_the_switch(server, browser):
    """A Chinese browser gets Chinese with no hl= in the link; the switch turns it to English and keeps inputs."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.goto(f"{server}/optimizers?function=beale&steps=200")
    page.wait_for_selector("text=优化器实验", timeout=120_000)
    page.wait_for_selector("text=损失随步数的变化", timeout=120_000)
    assert "hl=zh" in page.url
    steps = page.get_by_label("步数", exact=True)
    steps.fill("250")
    steps.press("Enter")
    page.wait_for_selector("text=到第 250 步的轨迹", timeout=60_000)
    page.locator("[data-testid='stSidebar']").get_by_role("radio", name="English").click()
    page.wait_for_selector("text=Optimizer lab: Lookahead and LazyOptimizer", timeout=60_000)
    page.wait_for_selector("text=paths up to step 250", timeout=60_000)
    assert page.get_by_label("Steps", exact=True).input_value() == "250"
    # The router writes hl= at the start of a run and the page's footer writes its settings at the end; a
    # run the switch interrupted before its footer leaves the old steps in the address bar until the
    # English run reaches its own footer, so wait for the address bar's final state, not its first change.
    page.wait_for_function(
        "() => location.search.includes('hl=en') && location.search.includes('steps=250')", timeout=60_000
    )
    assert "function=beale" in page.url
    context.close()
