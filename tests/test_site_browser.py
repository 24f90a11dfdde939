"""The built book (`make book`) in headless Chromium with the network cut off: search finds a word
from chapter 5, formulas are typeset by the site's own KaTeX, figures load.

The site is built into a temporary folder and served from 127.0.0.1; every request that leaves
the site is aborted and recorded, and each test fails if a page tried one. Needs Debian's chromium
(`tests/browser_setup.sh` installs it); skips with the reason when it is missing.
"""

import functools
import json
import os
import re
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from book.build import build

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("NGPU_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHAPTER_5 = "05_relaxation.html"
PREFERRED_WORD = "specialise"  # chapter 5: "the sets specialise"; no other chapter has it

pytestmark = pytest.mark.browser


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the site's folder without logging every request to stderr."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build(out)
    return out


@pytest.fixture(scope="module")
def base_url(site):
    """The site over HTTP on loopback (a thread in this process, closed after the module)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():  # install it once (apt-get); the script never fails the build
        subprocess.run(["bash", str(ROOT / "tests" / "browser_setup.sh")], timeout=600, check=False)
    if not CHROMIUM.exists():
        pytest.skip(f"chromium is not installed at {CHROMIUM}: run tests/browser_setup.sh "
                    "(needs apt-get and root) or set NGPU_CHROMIUM")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def offline(browser, base_url):
    """A page that can reach only the site: (page, requests aborted, responses from the site)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    aborted: list[str] = []
    responses: dict[str, int] = {}

    def only_the_site(route):
        if route.request.url.startswith(base_url + "/"):
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_site)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("response", lambda r: responses.__setitem__(r.url[len(base_url) + 1:], r.status))
    yield page, aborted, responses
    context.close()


def word_only_in_chapter_5(site: Path) -> str:
    """A word that begins a word in chapter 5's search text and in no other page's (the search
    matches word beginnings): the preferred one while it still is, else the first such word."""
    text = (site / "search-index.js").read_text()
    index = json.loads(text[text.index("=") + 1:].strip().rstrip(";"))
    words: dict[str, set[str]] = {}
    for entry in index:
        searched = f"{entry['heading']} {entry['text']} {entry.get('code', '')}"
        for word in set(re.findall(r"[a-z0-9_]+", searched.lower())):
            words.setdefault(word, set()).add(entry["page"])

    def only_chapter_5(candidate: str) -> bool:
        pages = set().union(*(p for w, p in words.items() if w.startswith(candidate)))
        return pages == {CHAPTER_5}

    if only_chapter_5(PREFERRED_WORD):
        return PREFERRED_WORD
    candidates = sorted(w for w, p in words.items() if len(w) >= 8 and w.isalpha() and only_chapter_5(w))
    assert candidates, "no word is found only in chapter 5"
    return candidates[0]


def test_search_on_the_contents_page_finds_a_word_only_chapter_5_has(offline, base_url, site):
    """Catches search that finds nothing offline, finds the word in the wrong pages, or links
    to a section that is not there."""
    page, aborted, _ = offline
    word = word_only_in_chapter_5(site)
    page.goto(f"{base_url}/index.html")
    page.fill("#book-search-input", word)
    results = page.locator("#book-search-results li a")
    results.first.wait_for()
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert hrefs and all(h.split("#")[0] == CHAPTER_5 for h in hrefs), (word, hrefs)
    assert page.locator("#book-search-results mark").first.inner_text().lower() == word
    results.first.click()
    page.wait_for_url(f"**/{CHAPTER_5}*")
    anchor = hrefs[0].partition("#")[2]
    if anchor:
        assert page.evaluate("id => !!document.getElementById(decodeURIComponent(id))", anchor)
    assert page.locator(".book-sidebar a.current").get_attribute("href") == CHAPTER_5
    assert aborted == []


def test_search_works_from_files_opened_on_disk(browser, site):
    """Catches an index fetched with XHR/fetch, which a browser refuses for file:// pages."""
    page = browser.new_page()
    try:
        page.goto((site / "index.html").as_uri())
        page.fill("#book-search-input", word_only_in_chapter_5(site))
        page.locator("#book-search-results li a").first.wait_for(timeout=10_000)
    finally:
        page.close()


def test_formulas_in_chapter_5_are_typeset_by_the_sites_katex(offline, base_url):
    """Catches formulas left as raw TeX (`$r$`, `\\(`), TeX KaTeX cannot read, or KaTeX and its
    fonts loaded from anywhere but the site."""
    page, aborted, responses = offline
    page.goto(f"{base_url}/{CHAPTER_5}")
    page.wait_for_selector("body.book-math-done")
    assert page.locator("main .katex .katex-html").count() >= 20
    assert page.locator("main .katex-display").count() >= 1
    assert page.locator(".katex-error").count() == 0
    raw = page.evaluate("""() => {
        const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
        const left = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('.katex, pre, code, script, style, .jp-OutputArea')) continue;
            if (/\\$|\\\\\\(|\\\\\\[/.test(node.textContent)) left.push(node.textContent.trim().slice(0, 80));
        }
        return left;
    }""")
    assert raw == []
    assert page.evaluate("document.fonts.ready.then(() => document.fonts.check('16px KaTeX_Main'))")
    assert responses.get("katex/katex.min.js") == 200
    assert any(u.startswith("katex/fonts/") and s == 200 for u, s in responses.items())
    assert aborted == []


def test_every_chapters_formulas_typeset_without_errors(offline, base_url, site):
    """Catches a chapter whose TeX KaTeX cannot parse (shown in red) or that is left untypeset."""
    page, aborted, _ = offline
    pages = sorted(p.name for p in site.glob("[0-9][0-9]_*.html"))
    assert CHAPTER_5 in pages
    for name in pages:
        page.goto(f"{base_url}/{name}")
        page.wait_for_selector("body.book-math-done")
        errors = page.locator(".katex-error").all_inner_texts()
        assert errors == [], name
    assert aborted == []


def test_figures_in_chapter_5_load(offline, base_url):
    """Catches figures that do not decode or point at files the site does not have."""
    page, aborted, _ = offline
    page.goto(f"{base_url}/{CHAPTER_5}")
    page.wait_for_load_state("load")
    sizes = page.evaluate("() => [...document.querySelectorAll('main img')]"
                          ".map(img => img.complete ? img.naturalWidth : 0)")
    assert sizes and all(width > 0 for width in sizes), sizes
    assert aborted == []
