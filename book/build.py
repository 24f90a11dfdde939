"""Build the chapter notebooks into a static HTML site: `python -m book.build [--out DIR]`.

Every `chapters/NN_name.ipynb` becomes `DIR/NN_name.html`, and every answer notebook
`chapters/answers/NN_answers.ipynb` that exists becomes `DIR/NN_answers.html`, with the outputs
stored in the notebook (nothing is re-executed; figures are embedded as base64 PNGs).
`DIR/index.html` lists the chapters with their number, title (the notebook's first markdown
heading) and a one-line description (the README's chapter table, else the first paragraph).

Every page has a contents sidebar (the chapters, then the answers and the references, the current
page highlighted) with a full-text search box, "previous / contents / next" links at its top and
bottom, and a table of the page's own headings. Search runs in the browser on an index written at
build time (`search-index.js`, loaded as a script so that it works from file:// too). Formulas are
typeset in the browser by KaTeX, vendored in `book/vendor/katex` and copied into the site. Test
markers such as `# NBVAL_CHECK_OUTPUT` are taken out of the code the reader sees. The build and
the pages need no network.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
README = ROOT / "README.md"
DEFAULT_OUT = ROOT / "_build" / "html"
HERE = Path(__file__).resolve().parent
STYLE = HERE / "style.css"
SCRIPT = HERE / "book.js"
TEMPLATES = HERE / "templates"
KATEX = HERE / "vendor" / "katex"

BOOK_TITLE = "The Neural GPU, built and measured"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    '<p class="book-widget-note">An interactive widget is here: open the notebook in JupyterLab '
    "(<code>make lab</code>) to use it.</p>"
)
# A line that only tells a test runner what to do with the cell: `# NBVAL_CHECK_OUTPUT`,
# `# NBVAL_SKIP`, `# NBVAL_IGNORE_OUTPUT`, `# NBVAL_RAISES_EXCEPTION`, ...
TEST_MARKER = re.compile(r"^[ \t]*#[ \t]*NBVAL_[A-Z_]+\b[^\n]*(?:\n|$)", re.MULTILINE)
HEADING = re.compile(r"h[1-6]")
MATH = re.compile(r"\$\$?(.+?)\$\$?", re.DOTALL)
TEX_FORMATTING = re.compile(r"\\(?:math[a-z]+|text[a-z]*|operatorname|left|right|[bB]ig+[lr]?|[,;:!])")


@dataclass(frozen=True)
class Chapter:
    """One chapter (or answer) notebook and what the contents say about it."""

    path: Path
    number: str  # "01", from the file name
    title: str  # plain text
    description: str  # HTML
    kind: str = "chapter"  # or "answers"

    @property
    def page(self) -> str:
        """The page's file name in the site, e.g. `01_learning_algorithms.html`."""
        return self.path.stem + ".html"

    @property
    def label(self) -> str:
        """The plain-text name of the page in links and the window title, e.g. "5. Relaxation"."""
        return f"{int(self.number)}. {self.title}" if self.kind == "chapter" else self.title


@dataclass
class Heading:
    """A heading in a page: its level (1-6), its anchor id, its text and its inner HTML."""

    level: int
    id: str
    text: str
    html: str


@dataclass
class RenderedPage:
    """A page's HTML from nbconvert with its headings and the text of its sections for search."""

    html: str
    headings: list[Heading] = field(default_factory=list)
    sections: list[dict[str, str]] = field(default_factory=list)


def inline_markdown(text: str) -> str:
    """Escape `text` for HTML and turn its `code` spans into <code> elements."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def readme_descriptions(readme: Path) -> dict[str, str]:
    """Map each chapter stem in the README's chapter table (| `NN_name` | what ... |) to its text."""
    if not readme.exists():
        return {}
    row = re.compile(r"^\|\s*`(\d\d_\w+)`\s*\|\s*(.+?)\s*\|\s*$")
    return {m[1]: m[2] for m in map(row.match, readme.read_text().splitlines()) if m}


def title_and_first_paragraph(nb: nbformat.NotebookNode) -> tuple[str, str]:
    """The first markdown heading (without a leading "Chapter 8." or "1.") and the paragraph after it."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        heading = re.search(r"^#+\s+(.+?)\s*$", cell.source, re.MULTILINE)
        if not heading:
            continue
        title = re.sub(r"^(chapter\s+)?\d+[.:]?\s+", "", heading[1], flags=re.IGNORECASE)
        blocks = [b.strip() for b in re.split(r"\n\s*\n", cell.source[heading.end():])]
        paragraph = next((b for b in blocks if b and not b.startswith("#")), "")
        return title, " ".join(paragraph.split())
    return "", ""


def find_chapters(chapters_dir: Path = CHAPTERS, readme: Path = README) -> list[Chapter]:
    """Every `NN_name.ipynb` in `chapters_dir`, in order, with its title and description."""
    descriptions = readme_descriptions(readme)
    chapters = []
    for path in sorted(chapters_dir.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title, paragraph = title_and_first_paragraph(nb)
        description = descriptions.get(path.stem) or paragraph
        chapters.append(
            Chapter(path, path.stem[:2], title or path.stem, inline_markdown(description))
        )
    return chapters


def find_answers(answers_dir: Path) -> list[Chapter]:
    """Every `NN_answers.ipynb` in `answers_dir` that exists (none yet is fine), in order."""
    answers = []
    for path in sorted(answers_dir.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        heading = next((re.search(r"^#+\s+(.+?)\s*$", c.source, re.MULTILINE)
                        for c in nb.cells if c.cell_type == "markdown"
                        and re.search(r"^#+\s", c.source, re.MULTILINE)), None)
        title = heading[1] if heading else f"Answers to chapter {int(path.stem[:2])}"
        answers.append(Chapter(path, path.stem[:2], title, "", kind="answers"))
    return answers


def without_widgets(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `nb` whose widget outputs are a short note: a static page has no kernel to drive them."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                output["data"] = {"text/html": WIDGET_NOTE}
    return nb


def without_test_markers(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `nb` whose code cells lack the lines that only steer the notebook tests."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = TEST_MARKER.sub("", cell.source)
    return nb


def nav_bar(prev: Chapter | None, nxt: Chapter | None, where: str) -> str:
    """The "previous / contents / next" links; `where` is "top" or "bottom"."""

    def link(chapter: Chapter | None, rel: str, arrow: str) -> str:
        if chapter is None:
            return ""
        label = html.escape(chapter.label)
        label = f"{arrow} {label}" if rel == "prev" else f"{label} {arrow}"
        return f'<a rel="{rel}" href="{chapter.page}">{label}</a>'

    return (
        f'<nav class="book-nav {where}" aria-label="Previous and next">'
        f'<span class="prev">{link(prev, "prev", "&larr;")}</span>'
        '<span class="contents"><a rel="contents" href="index.html">Contents</a></span>'
        f'<span class="next">{link(nxt, "next", "&rarr;")}</span>'
        "</nav>"
    )


def sidebar(pages: list[Chapter], current: str, references: str | None) -> str:
    """The contents sidebar: the search box, every chapter, then the answers and the references;
    the page named `current` is highlighted (class "current", aria-current)."""

    def item(page: Chapter) -> str:
        mark = ' class="current" aria-current="page"' if page.page == current else ""
        number = f'<span class="number">{int(page.number)}</span>' if page.kind == "chapter" else ""
        return f'<li><a href="{page.page}"{mark}>{number}{html.escape(page.title)}</a></li>'

    chapters = "\n".join(item(p) for p in pages if p.kind == "chapter")
    answers = "\n".join(item(p) for p in pages if p.kind == "answers")
    back = ""
    if answers:
        back += (f'<h2 class="book-sidebar-heading">Answers</h2>\n'
                 f'<ul class="book-answers">\n{answers}\n</ul>\n')
    if references:
        back += (f'<h2 class="book-sidebar-heading">Back matter</h2>\n<ul class="book-back">\n'
                 f'<li><a href="{references}">References</a></li>\n</ul>\n')
    home = ' class="current" aria-current="page"' if current == "index.html" else ""
    return f"""<aside class="book-sidebar" aria-label="Contents">
<p class="book-title"><a href="index.html"{home}>{BOOK_TITLE}</a></p>
<form class="book-search" role="search" onsubmit="return false">
<input type="search" id="book-search-input" placeholder="Search the book"
 aria-label="Search the book" autocomplete="off">
</form>
<div id="book-search-results" class="book-search-results" aria-live="polite" hidden></div>
<nav class="book-chapters" aria-label="Chapters">
<h2 class="book-sidebar-heading">Chapters</h2>
<ol>
{chapters}
</ol>
{back}</nav>
</aside>"""


def page_toc(headings: list[Heading], extra: str = "") -> str:
    """The in-page table of contents: the page's headings below its title (levels 2 and 3)."""
    items = "\n".join(
        f'<li class="level-{h.level}"><a href="#{html.escape(h.id)}">{h.html}</a></li>'
        for h in headings if h.level in (2, 3)
    )
    return (f'<nav class="book-toc" aria-label="On this page">\n<h2>On this page</h2>\n'
            f"<ul>\n{items}\n</ul>\n{extra}</nav>")


def plain_math(text: str) -> str:
    """`text` with its formulas read as words for search: `$t \\bmod r$` becomes `t bmod r`."""

    def words(m: re.Match[str]) -> str:
        tex = TEX_FORMATTING.sub(" ", m[1])
        return re.sub(r"[\\{}^_]", " ", tex)

    return MATH.sub(words, text)


def read_page(body: str, title: str, page: str) -> RenderedPage:
    """The headings of an exported page, and its text split at headings into search sections
    (markdown and code; not outputs, whose numbers would only add noise)."""
    soup = BeautifulSoup(body, "html.parser")
    main = soup.find("main") or soup
    result = RenderedPage(body)
    section = {"page": page, "title": title, "heading": title, "anchor": "", "text": []}
    sections = [section]
    for cell in main.find_all("div", class_="jp-Cell"):
        classes = cell.get("class", [])
        if "jp-MarkdownCell" in classes:
            rendered = cell.find("div", class_="jp-RenderedMarkdown")
            for element in rendered.find_all(True, recursive=False) if rendered else []:
                if HEADING.fullmatch(element.name) and element.get("id"):
                    for anchor in element.find_all("a", class_="anchor-link"):
                        anchor.decompose()
                    text = " ".join(element.get_text(" ").split())
                    inner = "".join(str(c) for c in element.contents).strip()
                    result.headings.append(Heading(int(element.name[1]), element["id"], text, inner))
                    section = {"page": page, "title": title, "heading": text,
                               "anchor": element["id"], "text": []}
                    sections.append(section)
                else:
                    section["text"].append(plain_math(element.get_text(" ")))
        elif "jp-CodeCell" in classes:
            source = cell.find("div", class_="jp-InputArea")
            if source:
                for prompt in source.find_all("div", class_="jp-InputPrompt"):
                    prompt.decompose()
                section["text"].append(source.get_text(" "))
    for s in sections:
        text = " ".join(" ".join(s["text"]).split())
        if text or s["anchor"]:
            result.sections.append({**s, "text": text})
    return result


def chapter_page(chapter: Chapter, exporter: HTMLExporter) -> RenderedPage:
    """The notebook exported to HTML (the book's template), with its headings and search text."""
    nb = without_test_markers(without_widgets(nbformat.read(chapter.path, as_version=4)))
    resources = {"metadata": {"name": chapter.label, "path": str(chapter.path.parent)}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return read_page(body, chapter.label, chapter.page)


def assemble(rendered: RenderedPage, chapter: Chapter, prev: Chapter | None, nxt: Chapter | None,
             pages: list[Chapter], references: str | None) -> str:
    """The exported page put into the book's layout: sidebar, navigation and table of contents."""
    related = [p for p in pages if p.number == chapter.number and p.kind != chapter.kind]
    extra = "".join(
        f'<p class="book-related"><a href="{p.page}">'
        f'{"Answers to the exercises" if p.kind == "answers" else "Back to the chapter"}</a></p>\n'
        for p in related
    )
    before = ('<a class="book-skip" href="#book-content">Skip to the text</a>\n<div class="book-layout">\n'
              + sidebar(pages, chapter.page, references)
              + '\n<div class="book-main">\n' + nav_bar(prev, nxt, "top"))
    after = (nav_bar(prev, nxt, "bottom") + "\n</div>\n" + page_toc(rendered.headings, extra)
             + "\n</div>")
    return rendered.html.replace("<!--book:before-->", before, 1).replace("<!--book:after-->", after, 1)


def index_page(chapters: list[Chapter], pages: list[Chapter] | None = None,
               references: str | None = None) -> str:
    """The contents page: one entry per chapter with its number, title and description."""
    items = "\n".join(
        f'<li><span class="number">{c.number}</span><a href="{c.page}">{html.escape(c.title)}</a>'
        f'<p class="description">{c.description}</p></li>'
        for c in chapters
    )
    answers = [p for p in pages or [] if p.kind == "answers"]
    answer_items = "\n".join(f'<li><a href="{a.page}">{html.escape(a.title)}</a></li>' for a in answers)
    answer_list = (f'<h2>Answers to the exercises</h2>\n<ul class="answers">\n{answer_items}\n</ul>\n'
                   if answers else "")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{BOOK_TITLE}</title>
<link rel="stylesheet" href="katex/katex.min.css">
<link rel="stylesheet" href="style.css">
<script defer src="katex/katex.min.js"></script>
<script defer src="katex/contrib/auto-render.min.js"></script>
<script defer src="search-index.js"></script>
<script defer src="book.js"></script>
</head>
<body class="book-page book-index">
<div class="book-layout">
{sidebar(pages or chapters, "index.html", references)}
<div class="book-main">
<main id="book-content">
<h1>{BOOK_TITLE}</h1>
<p class="subtitle">A notebook-first textbook on <em>Neural GPUs Learn Algorithms</em>
(Kaiser &amp; Sutskever, ICLR 2016).</p>
<h2>Contents</h2>
<ol>
{items}
</ol>
{answer_list}</main>
</div>
</div>
</body>
</html>
"""


def search_index_script(sections: list[dict[str, str]]) -> str:
    """The search index as a script that sets `window.BOOK_SEARCH_INDEX` (a script, not a JSON
    file to fetch, so that search also works when the pages are opened from disk)."""
    data = json.dumps(sections, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return f"window.BOOK_SEARCH_INDEX = {data};\n"


def exporter() -> HTMLExporter:
    """nbconvert's JupyterLab exporter with the book's template (no CDN scripts, KaTeX, layout)."""
    return HTMLExporter(template_name="book", extra_template_basedirs=[str(TEMPLATES)],
                        embed_images=True)


def build(out: Path = DEFAULT_OUT, chapters_dir: Path = CHAPTERS, readme: Path = README) -> list[Path]:
    """Write the site into `out` and return the pages written, index first."""
    out.mkdir(parents=True, exist_ok=True)
    chapters = find_chapters(chapters_dir, readme)
    pages = chapters + find_answers(chapters_dir / "answers")
    export = exporter()
    rendered = [chapter_page(page, export) for page in pages]
    references = next((f"{p.page}#{h.id}" for p, r in reversed(list(zip(pages, rendered, strict=True)))
                       if p.kind == "chapter" for h in r.headings if h.text.lower() == "references"), None)
    shutil.copyfile(STYLE, out / "style.css")
    shutil.copyfile(SCRIPT, out / "book.js")
    shutil.copytree(KATEX, out / "katex", dirs_exist_ok=True)
    (out / "search-index.js").write_text(
        search_index_script([s for r in rendered for s in r.sections]), encoding="utf-8")
    written = [out / "index.html"]
    written[0].write_text(index_page(chapters, pages, references), encoding="utf-8")
    for i, (page, result) in enumerate(zip(pages, rendered, strict=True)):
        prev = pages[i - 1] if i > 0 else None
        nxt = pages[i + 1] if i + 1 < len(pages) else None
        path = out / page.page
        path.write_text(assemble(result, page, prev, nxt, pages, references), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line: build the site and say where it is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: _build/html)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pages = build(args.out)
    print(f"wrote {len(pages)} pages to {args.out} in {time.perf_counter() - start:.1f} s; "
          f"open {args.out / 'index.html'}")


if __name__ == "__main__":
    main()
