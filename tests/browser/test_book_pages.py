"""The book (make book) as a reader opens it: every page of build/book/_build/html served on localhost, with no
console error or failed request, every image drawn, every internal link answering, Chinese in a CJK font.
Screenshots of the landing page and a chapter go to build/screenshots/."""
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.browser.conftest import ROOT, SCREENSHOTS, assert_chinese_in_a_cjk_font, broken_images
from tests.repo.test_book import toc_files

pytestmark = pytest.mark.browser

HTML = ROOT / "build" / "book" / "_build" / "html"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").is_file():
        pytest.fail(f"{HTML.relative_to(ROOT)} is missing: run `make book` first")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


PAGES = toc_files()  # README is the landing page


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_clean_with_its_images_links_and_cjk_font(watched, site, name):
    page = watched.page
    response = page.goto(f"{site}/{name}.html", wait_until="load")
    assert response and response.ok, f"{name}.html: HTTP {response and response.status}"
    assert not watched.errors, f"{name}.html: {watched.errors[:5]}"
    assert not broken_images(page), f"{name}.html: images not drawn: {broken_images(page)}"
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    internal = sorted({urldefrag(link).url for link in links if urlsplit(link).netloc == urlsplit(site).netloc})
    dead = [link for link in internal if not page.request.get(link).ok]
    assert not dead, f"{name}.html: links that do not answer: {dead[:5]}"
    assert_chinese_in_a_cjk_font(page)
    if name in ("README", "notebooks/03_bi_encoder"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"book-{name.replace('/', '-')}.png", full_page=False)


def test_a_missing_image_and_a_console_error_are_caught(watched, site, tmp_path):
    page = watched.page
    page.goto(f"{site}/README.html", wait_until="load")
    page.evaluate("""() => { const img = document.createElement("img"); img.src = "missing.png";
                             document.body.prepend(img); console.error("planted"); }""")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert "missing.png" in broken_images(page)
    assert "planted" in watched.errors
