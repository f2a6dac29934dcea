"""make book: the static HTML book of the committed notebooks and docs/ builds offline without warnings, has a page
for every entry of book/_toc.yml, every image and internal link on its pages resolves, nothing is loaded from the
network, and no Markdown is left unrendered. (tests/browser/test_book_pages.py opens the pages in Chromium.)"""
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
JUPYTER_BOOK = ROOT / ".venv-book" / "bin" / "jupyter-book"

pytestmark = pytest.mark.slow


class References(HTMLParser):
    """The src of every <img> and the href of every <a> and <link> of a page."""

    def __init__(self):
        super().__init__()
        self.images, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag in ("a", "link") and attrs.get("href"):
            self.links.append(attrs["href"])


class Text(HTMLParser):
    """The text of a page outside code, scripts and styles; and the address of every script and stylesheet."""

    SKIP = {"pre", "code", "script", "style"}

    def __init__(self):
        super().__init__()
        self.depth, self.parts, self.loads = 0, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("rel") == "stylesheet" and attrs.get("href"):
            self.loads.append(attrs["href"])
        self.depth += tag in self.SKIP

    def handle_endtag(self, tag):
        self.depth -= tag in self.SKIP and self.depth > 0

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def toc_files() -> list[str]:
    toc = (ROOT / "book" / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"^root: (\S+)", toc, re.MULTILINE) + re.findall(r"- file: (\S+)", toc)


def internal(reference: str) -> str | None:
    """The path part of a reference inside the book, or None for external, data and in-page references."""
    parts = urlsplit(reference)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return unquote(parts.path)


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    if not JUPYTER_BOOK.exists():
        pytest.fail(f"{JUPYTER_BOOK.relative_to(ROOT)} is missing: run make setup (it creates .venv-book)")
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run([str(JUPYTER_BOOK), "build", ".", "--config", "book/_config.yml", "--toc",
                             "book/_toc.yml", "--path-output", str(out)], cwd=ROOT, capture_output=True, text=True)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "build succeeded." in log and "WARNING" not in log, log[-3000:]
    return out / "_build" / "html"


def test_every_entry_of_the_table_of_contents_has_its_page(html):
    missing = [name for name in toc_files() if not (html / f"{name}.html").is_file()]
    assert not missing and (html / "index.html").is_file() and (html / "searchindex.js").is_file(), missing


def test_every_image_and_internal_link_of_every_page_resolves(html):
    broken = []
    for page in html.rglob("*.html"):
        if "_static" in page.relative_to(html).parts:  # the theme's templates, not pages
            continue
        references = References()
        references.feed(page.read_text(encoding="utf-8"))
        for kind, reference in [("image", r) for r in references.images] + [("link", r) for r in references.links]:
            path = internal(reference)
            if path is not None and not (page.parent / path).resolve().exists():
                broken.append(f"{page.relative_to(html)}: {kind} {reference}")
    assert not broken, "\n".join(broken[:20])


def test_the_chapters_carry_the_committed_outputs_and_their_plots(html):
    for name in toc_files():
        if name.startswith("notebooks/"):
            page = (html / f"{name}.html").read_text(encoding="utf-8")
            assert "本篇运行环境" in page and "cell_output" in page, name
    assert len(list((html / "_images").glob("*.png"))) >= 10


def pages(html: Path):
    return [page for page in html.rglob("*.html") if "_static" not in page.relative_to(html).parts]


def test_no_page_loads_a_script_or_stylesheet_from_the_network(html):
    remote = [f"{page.relative_to(html)}: {address}" for page in pages(html)
              for address in parse(page).loads if urlsplit(address).scheme in ("http", "https")]
    assert not remote, "\n".join(remote[:10])


def test_no_markdown_is_left_unrendered(html):
    """CommonMark leaves ``**粗体（注）**后文`` as literal asterisks: a closing ``**`` after punctuation must be
    followed by a space or punctuation. Write ``**粗体**（注）后文`` instead."""
    left = [f"{page.relative_to(html)}: …{text[max(0, i - 30):i + 30]}…" for page in pages(html)
            for text in ["".join(parse(page).parts)] for i in [text.find("**")] if i >= 0]
    assert not left, "\n".join(left[:10])


def parse(page: Path) -> Text:
    text = Text()
    text.feed(page.read_text(encoding="utf-8"))
    return text


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<a href="missing.html">x</a><img src="img.png"><a href="https://example.org">y</a>')
    references = References()
    references.feed(page.read_text())
    assert [internal(r) for r in references.links] == ["missing.html", None] and references.images == ["img.png"]
    assert not (page.parent / internal(references.links[0])).exists()
