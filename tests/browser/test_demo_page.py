"""make demo as a user tries it: the page served by `python -m textsim.demo --profile smoke` on localhost, a pair
typed in gives every model's score and label, a query gives five reranked sentences, empty input a message.
Needs the smoke models (make test runs the notebooks under smoke before this). Screenshot: build/screenshots/."""
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.browser.conftest import ROOT, SCREENSHOTS, assert_chinese_in_a_cjk_font

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_url():
    missing = [folder for folder in ("01_cross_encoder_classification", "02_cross_encoder_regression",
                                     "03_bi_encoder/improved")
               if not (ROOT / "models" / "smoke" / folder / "config.json").is_file()]
    if missing:
        pytest.fail(f"the smoke models {missing} are missing: run `make run PROFILE=smoke` (make test does)")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen([sys.executable, "-m", "textsim.demo", "--profile", "smoke", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo exited: {process.stdout.read()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        process.kill()
        pytest.fail(f"the demo did not answer on {url} within 180 s")
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_a_typed_pair_gets_every_models_score_and_label(watched, demo_url):
    page = watched.page
    page.goto(demo_url, wait_until="networkidle")
    page.locator("#first textarea").fill("胡子长得太快怎么办？")
    page.locator("#second textarea").fill("胡子长得快怎么办？")
    page.locator("#score").click()
    page.wait_for_function("() => document.querySelector('#pair-result').innerText.includes('03 bi-encoder')",
                           timeout=60_000)
    text = page.locator("#pair-result").inner_text()
    for model in ("01 classifier", "02 regression", "03 bi-encoder (cosine)"):
        assert model in text
    assert text.count("相似") >= 3  # a label per model (不相似 contains 相似 too)
    assert_chinese_in_a_cjk_font(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "demo-pair.png", full_page=True)
    assert not watched.errors, watched.errors[:5]


def test_a_query_gets_five_reranked_sentences(watched, demo_url):
    page = watched.page
    page.goto(demo_url, wait_until="networkidle")
    page.get_by_role("tab", name="查询").click()
    page.locator("#query textarea").fill("胡子长得太快怎么办？")
    page.locator("#search").click()
    first_column = "#search-result [data-testid$='-0'][data-testid^='cell-']"  # Gradio's cell-<row>-<column>
    page.wait_for_function(f"() => document.querySelectorAll(\"{first_column}\").length > 0", timeout=120_000)
    assert page.locator(first_column).count() == 5
    assert "fused score" in page.locator("#search-result").inner_text()
    page.screenshot(path=SCREENSHOTS / "demo-query.png", full_page=True)
    assert not watched.errors, watched.errors[:5]


def test_empty_input_gets_a_message_not_a_crash(watched, demo_url):
    page = watched.page
    page.goto(demo_url, wait_until="networkidle")
    page.locator("#first textarea").fill("   ")
    page.locator("#score").click()
    page.get_by_text("「句子 1」是空的").first.wait_for(timeout=30_000)
