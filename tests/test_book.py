"""The book as a static site (`make book`): every chapter has its page, its figures and its links."""

import base64
import html
import json
import re
from pathlib import Path

import nbformat
import pytest

from book.build import build, plain_math, without_test_markers

ROOT = Path(__file__).resolve().parents[1]
DOT_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
           "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")  # a 1x1 PNG
NOTEBOOKS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html")
    build(out)
    return out


def _png_outputs(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def test_there_are_chapters():
    """Guards the per-chapter tests: catches chapters moved so that they would all pass on nothing."""
    assert NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_has_its_page_and_figures(site, notebook):
    """Catches a page not written, a figure dropped (fewer embedded PNGs than the notebook
    holds), or no way back to the contents."""
    page = site / f"{notebook.stem}.html"
    assert page.exists()
    text = page.read_text()
    images = re.findall(r'<img[^>]*src="data:image/png', text)
    assert len(images) >= _png_outputs(notebook)
    assert 'href="index.html"' in text


def test_chapter_pages_link_previous_and_next(site):
    """Catches prev/next links pointing at the wrong chapter, or missing."""
    pages = [site / f"{nb.stem}.html" for nb in NOTEBOOKS]
    for i, page in enumerate(pages):
        text = page.read_text()
        if i > 0:
            assert f'rel="prev" href="{pages[i - 1].name}"' in text
        if i + 1 < len(pages):
            assert f'rel="next" href="{pages[i + 1].name}"' in text
    if len(pages) >= 3:
        middle = pages[1].read_text()
        assert 'rel="prev"' in middle and 'rel="next"' in middle


def test_index_links_every_chapter_under_its_notebooks_title(site):
    """The link text is the notebook's first heading without its "N." or "Chapter N." (the number
    is shown beside it): catches titles taken from the file name or another chapter, or "1. 1."."""
    index = (site / "index.html").read_text()
    for notebook in NOTEBOOKS:
        nb = nbformat.read(notebook, as_version=4)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        heading = re.search(r"^#+\s+(.+?)\s*$", markdown, re.MULTILINE)[1]
        title = re.sub(r"^(Chapter )?\d+\. ", "", heading)
        assert f'<a href="{notebook.stem}.html">{html.escape(title)}</a>' in index, title
    assert (site / "style.css").exists()


# ---- the site around the pages: sidebar, contents, search, maths, markers, answers ----------

def _search_index(site: Path) -> list[dict]:
    text = (site / "search-index.js").read_text()
    assert text.startswith("window.BOOK_SEARCH_INDEX = ")
    return json.loads(text[text.index("=") + 1:].strip().rstrip(";"))


def _between(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def test_test_markers_are_hidden_from_the_readers_code(site):
    """Catches `# NBVAL_CHECK_OUTPUT` (or any NBVAL marker) shown in a chapter's code; the guard
    makes sure the chapters still carry markers, so the check is not vacuous."""
    assert any("NBVAL_" in nb.read_text() for nb in NOTEBOOKS), "no chapter has a test marker left"
    for page in site.glob("*.html"):
        assert "NBVAL_" not in page.read_text(), page.name


def test_without_test_markers_drops_every_kind_and_only_those_lines():
    """Catches a marker kind left in (skip, ignore-output, raises) or code lines lost with it."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nx = 1"),
        nbformat.v4.new_code_cell("#NBVAL_SKIP\n# NBVAL_IGNORE_OUTPUT\nprint(x)  # keep me"),
        nbformat.v4.new_code_cell("  # NBVAL_RAISES_EXCEPTION\n1 / 0"),
        nbformat.v4.new_markdown_cell("Markdown may *mention* `# NBVAL_SKIP`."),
    ])
    cleaned = without_test_markers(nb)
    assert [c.source for c in cleaned.cells] == [
        "x = 1", "print(x)  # keep me", "1 / 0", "Markdown may *mention* `# NBVAL_SKIP`."]
    assert nb.cells[0].source.startswith("# NBVAL")  # the notebook itself is not changed


def test_pages_load_nothing_from_outside_the_site(site):
    """Catches a CDN script or style (MathJax, require.js, mermaid) or a local asset the build did
    not copy: every script and style sheet a page loads is a file in the site."""
    for page in site.glob("*.html"):
        text = page.read_text()
        refs = re.findall(r'<script[^>]*\bsrc="([^"]+)"', text)
        refs += re.findall(r'<link[^>]*\bhref="([^"]+)"', text)
        assert "katex/katex.min.js" in refs and "search-index.js" in refs, page.name
        for ref in refs:
            assert "//" not in ref, f"{page.name} loads {ref}"
            assert (site / ref).is_file(), f"{page.name} loads {ref}, which is not in the site"


def test_katex_fonts_named_by_its_style_sheet_are_all_in_the_site(site):
    """Catches fonts missing from the vendored KaTeX (formulas would fall back to other fonts)."""
    css = (site / "katex" / "katex.min.css").read_text()
    fonts = re.findall(r"url\(([^)]+)\)", css)
    assert len(fonts) >= 15
    for font in fonts:
        assert (site / "katex" / font).is_file(), font


def test_sidebar_lists_every_chapter_and_marks_only_the_current_page(site):
    """Catches a chapter missing from the sidebar, or the wrong page (or none) highlighted."""
    for notebook in NOTEBOOKS:
        page = f"{notebook.stem}.html"
        bar = _between((site / page).read_text(), '<aside class="book-sidebar"', "</aside>")
        for other in NOTEBOOKS:
            assert f'href="{other.stem}.html"' in bar, (page, other.stem)
        assert re.findall(r'<a href="([^"]+)" class="current"', bar) == [page]
        assert 'id="book-search-input"' in bar


def test_in_page_contents_lists_the_chapters_headings_and_their_anchors_exist(site):
    """Catches a section heading missing from "On this page", or a link to an anchor that is
    not in the page."""
    for notebook in NOTEBOOKS:
        text = (site / f"{notebook.stem}.html").read_text()
        toc = _between(text, '<nav class="book-toc"', "</nav>")
        nb = nbformat.read(notebook, as_version=4)
        headings = [m[1] for c in nb.cells if c.cell_type == "markdown"
                    for m in re.finditer(r"^##\s+(.+?)\s*$", c.source, re.MULTILINE)]
        assert headings, notebook.stem
        links = re.findall(r'<a href="#([^"]+)">', toc)
        assert len(links) >= len(headings), (notebook.stem, links, headings)
        ids = {html.unescape(i) for i in re.findall(r'<h[1-6] id="([^"]+)"', text)}
        for anchor in links:
            assert html.unescape(anchor) in ids, (notebook.stem, anchor)


def test_search_index_holds_every_page_and_chapter_5s_own_words(site):
    """Catches a page left out of the search index, test markers or prompts indexed, or chapter
    5's sections missing (the browser test searches for one of its words)."""
    index = _search_index(site)
    answers = sorted((ROOT / "chapters" / "answers").glob("[0-9][0-9]_answers.ipynb"))
    assert {e["page"] for e in index} == {f"{nb.stem}.html" for nb in NOTEBOOKS + answers}
    text = " ".join(e["text"] for e in index)
    assert "NBVAL" not in text and "In [1]:" not in text
    chapter_5 = [e for e in index if e["page"] == "05_relaxation.html"]
    assert any(e["anchor"] and e["heading"] == "The pull" for e in chapter_5)
    assert any("averag" in e["text"].lower() for e in chapter_5)


def test_search_index_reads_formulas_as_words():
    """Catches TeX delimiters and commands kept in the searchable text (`$t \\bmod r$`)."""
    assert plain_math(r"step $t \bmod r$ uses $$\mathrm{CGRU}_{l}$$").split() == [
        "step", "t", "bmod", "r", "uses", "CGRU", "l"]


@pytest.fixture(scope="module")
def small_book(tmp_path_factory) -> tuple[Path, Path]:
    """Two small chapters, the first with references, and answers to chapter 2: (chapters, site)."""
    root = tmp_path_factory.mktemp("small")
    chapters = root / "chapters"
    (chapters / "answers").mkdir(parents=True)
    new = nbformat.v4
    nbformat.write(new.new_notebook(cells=[
        new.new_markdown_cell("# 1. First things\n\nThe start, with $x^2$.\n\n## References\n\nA paper."),
        new.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)")]), chapters / "01_first.ipynb")
    nbformat.write(new.new_notebook(cells=[
        new.new_markdown_cell("# 2. Second things\n\n![a dot](dot.png)\n\n## Exercises\n\n1. Do it.")]),
        chapters / "02_second.ipynb")
    nbformat.write(new.new_notebook(cells=[
        new.new_markdown_cell("# Answers to chapter 2\n\n## Exercise 1\n\nDone.")]),
        chapters / "answers" / "02_answers.ipynb")
    (chapters / "dot.png").write_bytes(base64.b64decode(DOT_PNG))
    site = root / "site"
    build(site, chapters, root / "no-readme.md")
    return chapters, site


def test_answer_notebooks_get_pages_listed_after_the_chapters(small_book):
    """Catches answers left out of the site, the sidebar or the index, listed among the
    chapters, or not linked from their chapter."""
    _, site = small_book
    answers = (site / "02_answers.html").read_text()
    assert "Exercise 1" in answers
    for page in ("index.html", "01_first.html", "02_second.html", "02_answers.html"):
        text = (site / page).read_text()
        bar = _between(text, '<aside class="book-sidebar"', "</aside>")
        chapters = _between(bar, '<nav class="book-chapters"', "</ol>")
        assert 'href="02_answers.html"' not in chapters
        assert bar.index('href="02_second.html"') < bar.index(">Answers</h2>") < bar.index(
            'href="02_answers.html"')
    assert 'rel="next" href="02_answers.html"' in (site / "02_second.html").read_text()
    assert '<a href="02_answers.html">Answers to the exercises</a>' in (site / "02_second.html").read_text()
    assert '<a href="02_second.html">Back to the chapter</a>' in answers
    assert 'href="02_answers.html"' in _between((site / "index.html").read_text(), "<main", "</main>")
    assert [e["page"] for e in _search_index(site)].count("02_answers.html") >= 1


def test_references_are_linked_from_every_sidebar(small_book):
    """Catches the references (the end of the last chapter that has them) missing from the
    contents."""
    _, site = small_book
    for page in ("index.html", "01_first.html", "02_answers.html"):
        bar = _between((site / page).read_text(), '<aside class="book-sidebar"', "</aside>")
        assert '<a href="01_first.html#References">References</a>' in bar, page
    assert "NBVAL_" not in (site / "01_first.html").read_text()


def test_images_in_markdown_are_embedded_in_the_page(small_book):
    """Catches a markdown figure linked by a path the site does not have (`dot.png` beside the
    notebook): it must travel inside the page."""
    _, site = small_book
    text = (site / "02_second.html").read_text()
    assert re.search(r'<img[^>]*src="data:image/png;base64,', text)
    assert 'src="dot.png"' not in text


def test_a_book_without_answers_has_no_answers_section(tmp_path):
    """Catches an empty "Answers" heading when no answer notebook exists yet."""
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 1. Only")]),
                   chapters / "01_only.ipynb")
    build(tmp_path / "site", chapters, tmp_path / "README.md")
    assert ">Answers</h2>" not in (tmp_path / "site" / "01_only.html").read_text()
    assert ">Answers</h2>" not in (tmp_path / "site" / "index.html").read_text()
