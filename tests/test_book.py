"""The book as a static site (`make book`): every chapter has its page, its figures and its links."""

import base64
import html
import json
import re
from pathlib import Path

import nbformat
import pytest

from book.build import NO_ALT, RESULTS, RUN_HEADING, build, plain_math, tex_as_text, without_test_markers

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
    """Catches a page left out of the search index (the run log's included), test markers or
    prompts indexed, or chapter 5's sections missing (the browser test searches for one of its
    words)."""
    index = _search_index(site)
    answers = sorted((ROOT / "chapters" / "answers").glob("[0-9][0-9]_answers.ipynb"))
    assert {e["page"] for e in index} == {f"{nb.stem}.html" for nb in NOTEBOOKS + answers} | {"runs.html"}
    text = " ".join(e["text"] + " " + e["code"] for e in index)
    assert "NBVAL" not in text and "In [1]:" not in text
    chapter_5 = [e for e in index if e["page"] == "05_relaxation.html"]
    assert any(e["anchor"] and e["heading"] == "The pull" for e in chapter_5)
    assert any("averag" in e["text"].lower() for e in chapter_5)


def test_search_index_reads_formulas_as_words():
    """Catches TeX delimiters and commands kept in the searchable text (`$t \\bmod r$` read as
    "t bmod r", `\\cdot` as "cdot"): formulas are written out the way they read."""
    assert plain_math(r"step $t \bmod r$ uses $$\mathrm{CGRU}_{l}$$").split() == [
        "step", "t", "mod", "r", "uses", "CGRU_l"]
    pull = plain_math("the pull is $0.0005 \\cdot 2^8 > 0.1$")
    assert " ".join(pull.split()) == "the pull is 0.0005 · 2^8 > 0.1"
    cases = {
        r"\bar p = \frac 1 r \sum_{i=0}^{r-1} p_i": "p̄ = 1/r ∑_(i=0)^(r-1) p_i",
        r"x = \ln \frac{c+1}{c-1}": "x = ln (c+1)/(c-1)",
        r"\tfrac12": "1/2",
        r"t^{-0.275}": "t^-0.275",
        r"U_{(0)}, \dots, U_{(r-1)}": "U_(0), …, U_(r-1)",
        r"\sigma = \text{scale} \cdot \sqrt{t}": "σ = scale · √t",
        r"\lVert p \rVert^2 \approx 10^{-3} \qquad P(X \ge k)": "‖ p ‖^2 ≈ 10^-3 P(X ≥ k)",
        r"000\dots002 \times 000\dots002": "000…002 × 000…002",
    }
    for tex, text in cases.items():
        assert " ".join(tex_as_text(tex).split()) == text, tex
        assert "\\" not in tex_as_text(tex)


def test_search_snippets_read_as_the_page_does(site):
    """Catches TeX residue in what search shows ("0.0005 cdot 2 8" for `$0.0005 \\cdot 2^8$`,
    `\\frac`, `\\mathrm`, a stray `$`): the prose and headings of every section hold no
    backslash at all, and its code no TeX command. The guard makes sure the chapters still have
    such formulas, so the check is not vacuous."""
    markdown = " ".join(c.source for nb in NOTEBOOKS for c in nbformat.read(nb, as_version=4).cells
                        if c.cell_type == "markdown")
    assert "\\cdot" in markdown and "\\frac" in markdown, "no chapter has these formulas left"
    tex_words = re.compile(r"\b(cdot|t?frac|mathrm|mathbb|bmod|qquad|lVert|rVert|odot|oplus)\b")
    for entry in _search_index(site):
        where = (entry["page"], entry["heading"])
        for field in ("text", "heading", "title"):
            assert "\\" not in entry[field], (where, field, entry[field][:200])
            assert "$" not in entry[field], (where, field)
            assert not tex_words.search(entry[field]), (where, tex_words.search(entry[field])[0])
        assert not re.search(r"\\(cdot|t?frac|mathrm|times|sigma|sum|dots|bmod|left|right)\b",
                             entry["code"]), where
    chapter_5 = " ".join(e["text"] for e in _search_index(site) if e["page"] == "05_relaxation.html")
    if "0.0005 \\cdot 2^8" in (ROOT / "chapters" / "05_relaxation.ipynb").read_text().replace("\\\\", "\\"):
        assert "0.0005 · 2^8" in chapter_5


SMALL_README = """# A small book

A book of two chapters, for the tests.

## Results

<!-- results:start -->
| model, task | 20 bits |
|---|---|
| improved Neural GPU (2017), bmul | 87.5% of 64 (paper 100%), 1.25 steps per cell |
| Neural GPU (2016), copy | 12.5% of 8 (paper 100%) |
<!-- results:end -->

Measured on a test machine (`benchmarks/README.md`, run B).

## The book
"""

SMALL_RUN_LOG = """# Benchmarks

Some timings.

### Run A: the first run (`a.json`)

Faster than run B.

### Run B: the second run

Slower than run A.
"""


def _figure(source: str) -> nbformat.NotebookNode:
    """A code cell that showed one PNG figure."""
    cell = nbformat.v4.new_code_cell(source)
    data = {"image/png": DOT_PNG, "text/plain": "<Figure>"}
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    return cell


@pytest.fixture(scope="module")
def small_book(tmp_path_factory) -> tuple[Path, Path]:
    """Two small chapters, the first with references and figures, answers to chapter 2, a README
    with a results table and a run log: (chapters, site)."""
    root = tmp_path_factory.mktemp("small")
    chapters = root / "chapters"
    (chapters / "answers").mkdir(parents=True)
    (root / "benchmarks").mkdir()
    (root / "benchmarks" / "README.md").write_text(SMALL_RUN_LOG)
    (root / "README.md").write_text(SMALL_README)
    new = nbformat.v4
    nbformat.write(new.new_notebook(cells=[
        new.new_markdown_cell("# 1. First things\n\nThe start, with $x^2$; `benchmarks/README.md`, run B, "
                              "has the timings, and `benchmarks/README.md`\n(run A; its log) the rest, "
                              "and `benchmarks/README.md` all of them."),
        new.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)"),
        new.new_code_cell("TASK = 'badd'\nSTEPS = pick(10, 3000)"),
        _figure('fig, ax = plt.subplots()\nax.set_title(f"{TASK}: loss over {STEPS} steps")\nplt.show()'),
        _figure('fig, ax = plt.subplots()\nax.set_title(f"{name}: {value}")\n'
                'ax.set_xlabel("step t")\nax.set_ylabel("error per symbol")'),
        new.new_markdown_cell("**Answer.**\n\nThe carry moves one cell per step. Here is a dot:"),
        _figure("display(dot)"),
        new.new_markdown_cell("## References\n\nA paper.")]), chapters / "01_first.ipynb")
    nbformat.write(new.new_notebook(cells=[
        new.new_markdown_cell("# 2. Second things\n\n![a dot](dot.png)\n\nA dot without words:\n\n"
                              "![](dot.png)\n\n## Exercises\n\n1. Do it.")]),
        chapters / "02_second.ipynb")
    nbformat.write(new.new_notebook(cells=[
        new.new_markdown_cell("# Answers to chapter 2\n\n## Exercise 1\n\nDone.")]),
        chapters / "answers" / "02_answers.ipynb")
    (chapters / "dot.png").write_bytes(base64.b64decode(DOT_PNG))
    site = root / "site"
    build(site, chapters, root / "README.md")
    return chapters, site


def _alts(page: Path) -> list[str | None]:
    """The alt text of every <img> in a page, in order (None where it has none)."""
    alts = []
    for tag in re.findall(r"<img\b[^>]*>", page.read_text()):
        found = re.search(r'\salt="([^"]*)"', tag)
        alts.append(html.unescape(found[1]) if found else None)
    return alts


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
        assert 'href="runs.html"' in _between(bar, ">Back matter</h2>", "</ul>"), page
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


# ---- the front page, the run log's page, the figures' alt texts -----------------------------

def test_front_page_says_what_the_book_is_how_to_run_it_and_what_it_reproduces(site):
    """Catches a front page that is only a list of chapters: no preface, no `git clone` with
    `make lab` and `make test`, or no results table; and a table copied by hand that has drifted
    from the README's (every row of the README's table, model names as written, must be in the
    page, before the contents)."""
    readme = (ROOT / "README.md").read_text()
    main = _between((site / "index.html").read_text(), "<main", "</main>")
    assert "What this book is" in main and "A notebook-first textbook" in main
    setup = _between(main, 'id="run-it"', "</section>")
    assert "git clone" in setup and "make lab" in setup and "make test" in setup
    table = RESULTS.search(readme)
    assert table, "the README has no results markers"
    rows = [line for line in table[1].strip().splitlines()[2:] if line.startswith("|")]
    assert rows
    shown = _between(main, '<div class="book-table">', "</div>")
    for row in rows:
        for cell in (c.strip() for c in row.strip("|").split("|")):
            assert f"<td>{html.escape(cell, quote=False)}</td>" in shown, cell
    assert "<td>Neural GPU (2016)," in shown and "<td>improved Neural GPU (2017)," in shown
    assert main.index('id="results"') < main.index('id="contents"')


def test_front_page_renders_the_readmes_table_as_it_stands(small_book):
    """Catches numbers or names written into the build instead of read from the README: a
    made-up table between the markers (with its "1.25 steps per cell") is what the page shows,
    and the run named in the notes links to the run log."""
    _, site = small_book
    main = _between((site / "index.html").read_text(), "<main", "</main>")
    assert "<td>improved Neural GPU (2017), bmul</td>" in main
    assert "<td>87.5% of 64 (paper 100%), 1.25 steps per cell</td>" in main
    assert "<td>Neural GPU (2016), copy</td>" in main and "12.5% of 8" in main
    assert "A book of two chapters, for the tests." in main
    assert 'href="runs.html#run-b"' in _between(main, "<details", "</details>")
    assert 'href="runs.html"' in main


def test_run_log_is_a_page_with_an_anchor_per_run(site):
    """Catches the run log missing from the site or the sidebar, or a run without its anchor
    (`runs.html#run-h`) for the chapters to link to."""
    letters = RUN_HEADING.findall((ROOT / "benchmarks" / "README.md").read_text())
    assert len(letters) >= 8, letters
    text = (site / "runs.html").read_text()
    ids = set(re.findall(r'<h[1-6] id="([^"]+)"', text))
    for letter in letters:
        assert f"run-{letter.lower()}" in ids, letter
        assert f'<a href="#run-{letter.lower()}">' in _between(text, '<nav class="book-toc"', "</nav>")
    for page in ("index.html", "runs.html", f"{NOTEBOOKS[0].stem}.html"):
        bar = _between((site / page).read_text(), '<aside class="book-sidebar"', "</aside>")
        assert 'href="runs.html"' in bar, page
    bar = _between(text, '<aside class="book-sidebar"', "</aside>")
    assert re.findall(r'<a href="([^"]+)" class="current"', bar) == ["runs.html"]


def test_chapters_references_to_a_run_link_to_its_anchor(site):
    """Catches "`benchmarks/README.md`, run H" left as plain text in a chapter's page, or linked
    to an anchor the run log's page does not have. The guard makes sure some chapter still cites
    a run, so the check is not vacuous."""
    runs_ids = set(re.findall(r'<h[1-6] id="([^"]+)"', (site / "runs.html").read_text()))
    cited = 0
    for notebook in NOTEBOOKS:
        markdown = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells
                             if c.cell_type == "markdown")
        letters = set(re.findall(r"`benchmarks/README\.md`,?\s*\(?runs?\s+([A-Z]{1,2})\b", markdown))
        text = (site / f"{notebook.stem}.html").read_text()
        for letter in letters:
            assert f'href="runs.html#run-{letter.lower()}"' in text, (notebook.stem, letter)
            cited += 1
        for anchor in re.findall(r'href="runs\.html#([^"]+)"', text):
            assert anchor in runs_ids, (notebook.stem, anchor)
    assert cited, "no chapter cites a run of benchmarks/README.md any more"


def test_run_log_references_link_in_every_form(small_book):
    """Catches the forms a chapter writes missed: "`benchmarks/README.md`, run B", the run in
    parentheses on the next line, and the file alone (links to the page); and, in the run log's
    own page, "run A" in the text linked to its section."""
    _, site = small_book
    text = _between((site / "01_first.html").read_text(), "<main", "</main>")
    assert '<a class="book-runlink" href="runs.html#run-b"><code>benchmarks/README.md</code></a>' in text
    assert '<a class="book-runlink" href="runs.html#run-b">run B</a>' in text
    assert '<a class="book-runlink" href="runs.html#run-a">run A</a>' in text
    assert '<a class="book-runlink" href="runs.html"><code>benchmarks/README.md</code></a>' in text
    runs = (site / "runs.html").read_text()
    assert 'id="run-a"' in runs and 'id="run-b"' in runs
    assert '<a class="book-runlink" href="#run-b">run B</a>' in runs
    assert 'rel="next" href="runs.html"' in (site / "02_answers.html").read_text()


def test_no_image_in_the_book_lacks_an_alt_text(site):
    """Catches a figure a screen reader cannot describe: an <img> without `alt`, with an empty
    one, or with nbconvert's stand-in ("No description has been provided for this image")."""
    pages = sorted(site.glob("*.html"))
    seen = 0
    for page in pages:
        for alt in _alts(page):
            seen += 1
            assert alt and alt.strip() and alt != NO_ALT, (page.name, alt)
    assert seen >= sum(_png_outputs(nb) for nb in NOTEBOOKS)


def test_a_figures_alt_text_says_what_it_shows(small_book):
    """Catches alt texts that do not come from the figure: its title in the cell's code (an
    f-string's known constants filled in, `pick(fast, default)` read as the default), else its
    axis labels, else the sentence before the cell (not a bare "Answer."), and for a Markdown
    image without words the paragraph before it."""
    _, site = small_book
    assert _alts(site / "01_first.html") == [
        "badd: loss over 3000 steps", "error per symbol against step t", "Here is a dot"]
    assert _alts(site / "02_second.html") == ["a dot", "A dot without words"]
