"""Build the chapter notebooks into a static HTML site: `python -m book.build [--out DIR]`.

Every `chapters/NN_name.ipynb` becomes `DIR/NN_name.html` with the outputs stored in the notebook
(nothing is re-executed; figures are embedded as base64 PNGs), and `DIR/index.html` lists the
chapters with their number, title (the notebook's first markdown heading) and a one-line
description (the README's chapter table, else the notebook's first paragraph). Each chapter page
has "previous / contents / next" links at its top and bottom. The build needs no network.
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
README = ROOT / "README.md"
DEFAULT_OUT = ROOT / "_build" / "html"
STYLE = Path(__file__).resolve().parent / "style.css"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    '<p class="book-widget-note">An interactive widget is here: open the notebook in JupyterLab '
    "(<code>make lab</code>) to use it.</p>"
)


@dataclass(frozen=True)
class Chapter:
    """One chapter notebook and what the contents page says about it."""

    path: Path
    number: str  # "01", from the file name
    title: str  # plain text
    description: str  # HTML

    @property
    def page(self) -> str:
        """The chapter's file name in the site, e.g. `01_learning_algorithms.html`."""
        return self.path.stem + ".html"


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


def without_widgets(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `nb` whose widget outputs are a short note: a static page has no kernel to drive them."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                output["data"] = {"text/html": WIDGET_NOTE}
    return nb


def nav_bar(prev: Chapter | None, nxt: Chapter | None, where: str) -> str:
    """The "previous / contents / next" links; `where` is "top" or "bottom"."""

    def link(chapter: Chapter | None, rel: str, arrow: str) -> str:
        if chapter is None:
            return ""
        label = f"{chapter.number}. {html.escape(chapter.title)}"
        label = f"{arrow} {label}" if rel == "prev" else f"{label} {arrow}"
        return f'<a rel="{rel}" href="{chapter.page}">{label}</a>'

    return (
        f'<nav class="book-nav {where}">'
        f'<span class="prev">{link(prev, "prev", "&larr;")}</span>'
        '<span class="contents"><a rel="contents" href="index.html">Contents</a></span>'
        f'<span class="next">{link(nxt, "next", "&rarr;")}</span>'
        "</nav>"
    )


def chapter_page(chapter: Chapter, prev: Chapter | None, nxt: Chapter | None, exporter: HTMLExporter) -> str:
    """The chapter's notebook as one HTML page, with the book's style sheet and navigation."""
    nb = without_widgets(nbformat.read(chapter.path, as_version=4))
    title = f"{chapter.number}. {chapter.title}"
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = body.replace("</head>", '<link rel="stylesheet" href="style.css">\n</head>', 1)
    body = re.sub(r"(<body[^>]*>)", lambda m: m[1] + nav_bar(prev, nxt, "top"), body, count=1)
    return body.replace("</body>", nav_bar(prev, nxt, "bottom") + "\n</body>", 1)


def index_page(chapters: list[Chapter]) -> str:
    """The contents page: one entry per chapter with its number, title and description."""
    items = "\n".join(
        f'<li><span class="number">{c.number}</span><a href="{c.page}">{html.escape(c.title)}</a>'
        f'<p class="description">{c.description}</p></li>'
        for c in chapters
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The Neural GPU, built and measured</title>
<link rel="stylesheet" href="style.css">
</head>
<body class="book-index">
<h1>The Neural GPU, built and measured</h1>
<p class="subtitle">A notebook-first textbook on <em>Neural GPUs Learn Algorithms</em>
(Kaiser &amp; Sutskever, ICLR 2016).</p>
<h2>Contents</h2>
<ol>
{items}
</ol>
</body>
</html>
"""


def build(out: Path = DEFAULT_OUT, chapters_dir: Path = CHAPTERS, readme: Path = README) -> list[Path]:
    """Write the site into `out` and return the pages written, index first."""
    out.mkdir(parents=True, exist_ok=True)
    chapters = find_chapters(chapters_dir, readme)
    exporter = HTMLExporter(template_name="lab")
    shutil.copyfile(STYLE, out / "style.css")
    pages = [out / "index.html"]
    pages[0].write_text(index_page(chapters), encoding="utf-8")
    for i, chapter in enumerate(chapters):
        prev = chapters[i - 1] if i > 0 else None
        nxt = chapters[i + 1] if i + 1 < len(chapters) else None
        page = out / chapter.page
        page.write_text(chapter_page(chapter, prev, nxt, exporter), encoding="utf-8")
        pages.append(page)
    return pages


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
