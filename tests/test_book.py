"""The book as a static site (`make book`): every chapter has its page, its figures and its links."""

import html
import re
from pathlib import Path

import nbformat
import pytest

from book.build import build

ROOT = Path(__file__).resolve().parents[1]
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
