"""Headless Chromium (Debian's package, installed by `make browser`) driven by Playwright, for the checks a reader
would make by eye: pages load without console errors, images are drawn, Chinese is drawn with a CJK font."""
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "build" / "screenshots"
# No connection leaves the machine: without these, Chromium keeps trying to reach Google's services.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
CJK = re.compile(r"[\u4e00-\u9fff]")



@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


class Watched:
    """A page whose console errors, uncaught exceptions and failed requests are recorded."""

    def __init__(self, page):
        self.page, self.errors = page, []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("requestfailed", self._failed)

    def _failed(self, request) -> None:
        # ERR_ABORTED: the page itself cancelled the request (Gradio closes its event stream once a result is in)
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"failed: {request.url} ({request.failure})")


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield Watched(context.new_page())
    context.close()


def broken_images(page) -> list[str]:
    """The src of every <img> that is not drawn: not loaded, or loaded with no width."""
    return page.eval_on_selector_all("img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0))"
                                            ".map(i => i.getAttribute('src'))")


def fonts_of_first_chinese_text(page, selector: str = "h1, h2, p, li, label, span, button") -> dict[str, int]:
    """The platform fonts Chromium drew the first element with Chinese text in, with their glyph counts (the
    DevTools protocol's CSS.getPlatformFontsForNode: the fonts actually used, after any fallback)."""
    marked = page.evaluate("""selector => {
        const element = [...document.querySelectorAll(selector)].find(
            e => /[\\u4e00-\\u9fff]/.test(e.textContent) && e.offsetParent !== null && e.children.length === 0);
        if (!element) return null;
        element.setAttribute("data-cjk-check", "1");
        return element.textContent;
    }""", selector)
    assert marked, f"no visible element with Chinese text on {page.url}"
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = session.send("DOM.querySelector", {"nodeId": root, "selector": "[data-cjk-check]"})["nodeId"]
    fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    session.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts}


def assert_chinese_in_a_cjk_font(page) -> None:
    fonts = fonts_of_first_chinese_text(page)
    assert any("CJK" in family and count > 0 for family, count in fonts.items()), (
        f"{page.url}: Chinese text drawn with {fonts}, no CJK font (tofu boxes): run `make browser`")
