"""Build the chapter notebooks into a static HTML site: `python -m book.build [--out DIR]`.

Every `chapters/NN_name.ipynb` becomes `DIR/NN_name.html`, and every answer notebook
`chapters/answers/NN_answers.ipynb` that exists becomes `DIR/NN_answers.html`, with the outputs
stored in the notebook (nothing is re-executed; figures are embedded as base64 PNGs, each with an
`alt` text taken from its title in the cell's code, else its axis labels, else the sentence before
it). The run log, `benchmarks/README.md`, becomes `DIR/runs.html` with an anchor per run
(`runs.html#run-h`), and a chapter's "`benchmarks/README.md`, run H" links there.

`DIR/index.html` is the front page: what the book is (the README's opening paragraph), how to run
it (`make lab`, `make test`), what it reproduces (the README's results table, between its
`<!-- results:start -->` and `<!-- results:end -->` markers, rendered as it stands), then the
chapters with their number, title (the notebook's first markdown heading) and a one-line
description (the README's chapter table, else the first paragraph).

Every page has a contents sidebar (the chapters, then the answers, the references and the run log,
the current page highlighted) with a full-text search box, "previous / contents / next" links at
its top and bottom, and a table of the page's own headings. Search runs in the browser on an index
written at build time (`search-index.js`, loaded as a script so that it works from file:// too)
of the text as a reader sees it: formulas are written out (`$0.0005 \\cdot 2^8$` becomes
`0.0005 · 2^8`). Formulas in the pages are typeset in the browser by KaTeX, vendored in
`book/vendor/katex` and copied into the site. Test markers such as `# NBVAL_CHECK_OUTPUT` are taken
out of the code the reader sees. The build and the pages need no network.
"""

from __future__ import annotations

import argparse
import ast
import copy
import html
import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

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
RUNS_PAGE = "runs.html"
RUNS_TITLE = "Benchmarks and run log"
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
# The README's results table (written by `make results`) lies between these two markers.
RESULTS = re.compile(r"<!--\s*results:start\s*-->(.*?)<!--\s*results:end\s*-->", re.DOTALL)
# A run's heading in the run log, "### Run H: binary multiplication ...": its letter.
RUN_HEADING = re.compile(r"^#{2,4}\s+Run\s+([A-Z]{1,2})\b", re.MULTILINE)
# "run H", "runs B–E", "Run F" in running text: a run of the run log (the first letter is linked).
RUN_MENTION = re.compile(r"\b([Rr]uns?\s+)([A-Z]{1,2})\b")
RUN_LOG = "benchmarks/README.md"
# A figure output without a description of its own gets this from nbconvert; the build replaces it.
NO_ALT = "No description has been provided for this image"
MAX_ALT = 250
BLOCK_TAGS = {"p", "li", "td", "th", "tr", "div", "br", "pre", "blockquote", "ul", "ol", "table",
              "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}


@dataclass(frozen=True)
class Chapter:
    """One page of the book made from a notebook (a chapter or its answers) or from Markdown (the
    run log), and what the contents say about it."""

    path: Path
    number: str  # "01", from the file name; "" for the run log
    title: str  # plain text
    description: str  # HTML
    kind: str = "chapter"  # or "answers", or "runs"
    page_name: str = ""  # the page's file name where it is not the notebook's name

    @property
    def page(self) -> str:
        """The page's file name in the site, e.g. `01_learning_algorithms.html`."""
        return self.page_name or self.path.stem + ".html"

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


def markdown_html(text: str) -> str:
    """Markdown (tables, code, formulas left for KaTeX) as HTML, by the renderer of the chapters."""
    return markdown2html_mistune(text)


def readme_descriptions(readme: Path) -> dict[str, str]:
    """Map each chapter stem in the README's chapter table (| `NN_name` | what ... |) to its text."""
    if not readme.exists():
        return {}
    row = re.compile(r"^\|\s*`(\d\d_\w+)`\s*\|\s*(.+?)\s*\|\s*$")
    return {m[1]: m[2] for m in map(row.match, readme.read_text().splitlines()) if m}


def readme_opening(readme: Path) -> str:
    """The README's first paragraph under its title (Markdown), or "" without a README."""
    if not readme.exists():
        return ""
    text = readme.read_text(encoding="utf-8")
    title = re.search(r"^#\s+.+$", text, re.MULTILINE)
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text[title.end() if title else 0:])]
    return next((b for b in blocks if b and not b.startswith(("#", "<!--", "```", "|"))), "")


def readme_results(readme: Path) -> tuple[str, str]:
    """The README's results table between its markers and the paragraphs after it up to the next
    heading (both Markdown, as `make results` wrote them); ("", "") without the markers."""
    if not readme.exists():
        return "", ""
    text = readme.read_text(encoding="utf-8")
    found = RESULTS.search(text)
    if not found:
        return "", ""
    after = re.split(r"^#{1,6}\s|^<!--", text[found.end():], maxsplit=1, flags=re.MULTILINE)[0]
    return found[1].strip(), after.strip()


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


def run_letters(run_log: Path) -> list[str]:
    """The runs of the run log in order, by letter ("A", "B", ...); none without the file."""
    return RUN_HEADING.findall(run_log.read_text(encoding="utf-8")) if run_log.exists() else []


def run_anchor(letter: str) -> str:
    """A run's anchor in the run log's page: run H is `run-h`."""
    return f"run-{letter.lower()}"


def run_log_notebook(run_log: Path) -> nbformat.NotebookNode:
    """The run log as a notebook of Markdown cells, one per section, so that its page is made
    like the chapters' (same layout, headings, contents and search sections)."""
    text = run_log.read_text(encoding="utf-8")
    parts, fence = [[]], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and re.match(r"#{1,4}\s", line) and any(s.strip() for s in parts[-1]):
            parts.append([])
        parts[-1].append(line)
    cells = [nbformat.v4.new_markdown_cell("\n".join(p).strip()) for p in parts if "".join(p).strip()]
    return nbformat.v4.new_notebook(cells=cells)


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


# ---- what a figure shows: its alt text ---------------------------------------------------

def _python(source: str) -> ast.Module | None:
    """A code cell's syntax tree, its IPython lines (`%magic`, `!shell`) left out; None if it is
    not Python."""
    lines = ["" if re.match(r"\s*[%!]", line) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _known_value(node: ast.expr) -> tuple[bool, object]:
    """(True, value) for a literal, or for `pick(fast, default)` of literals (the stored outputs
    are from the default mode); (False, None) for anything the build cannot know."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "pick"
            and len(node.args) == 2 and not node.keywords):
        node = node.args[1]
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _record_constants(tree: ast.Module, constants: dict[str, object]) -> None:
    """Update `constants` with the cell's top-level `NAME = literal`; a name given any other
    value (or bound by a loop) is forgotten."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            known, value = _known_value(node.value)
            if known:
                constants[node.targets[0].id] = value
                continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                constants.pop(sub.id, None)


def _string(node: ast.expr, constants: dict[str, object]) -> str | None:
    """The text of a string expression in a figure's code: a literal, an f-string whose fields
    are known constants (an unknown field reads "…"), or `+` of those; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string(node.left, constants), _string(node.right, constants)
        return None if left is None or right is None else left + right
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
            continue
        text = "…"
        if isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name) \
                and value.value.id in constants and value.conversion == -1:
            spec = _string(value.format_spec, constants) if value.format_spec else ""
            try:
                text = format(constants[value.value.id], spec or "")
            except (TypeError, ValueError):
                text = "…"
        parts.append(text)
    return "".join(parts)


def _figure_text(tree: ast.Module, constants: dict[str, object]) -> str:
    """What a figure's own code says it shows: its title (`suptitle`, then each panel's
    `set_title` or `plt.title`), else "y against x" from its axis labels; "" if none."""
    found: dict[str, list[str]] = {"suptitle": [], "title": [], "xlabel": [], "ylabel": []}
    names = {"suptitle": "suptitle", "set_title": "title", "title": "title",
             "set_xlabel": "xlabel", "xlabel": "xlabel", "set_ylabel": "ylabel", "ylabel": "ylabel"}
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr in names and n.args]
    for call in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
        text = _string(call.args[0], constants)
        kind = names[call.func.attr]
        # A title made mostly of fields the build cannot know ("…: …, layer …") says too little.
        words = len(re.findall(r"[^\W\d_]{2,}", text.replace("…", " "))) if text else 0
        if words > text.count("…") and (words >= 2 or kind in ("xlabel", "ylabel")):
            text = " ".join(plain_math(text).split())
            if text not in found[kind]:
                found[kind].append(text)
    if found["suptitle"]:
        panels = "; ".join(found["title"])
        return found["suptitle"][0] + (f" (panels: {panels})" if panels else "")
    if found["title"]:
        return "; ".join(found["title"])
    if found["xlabel"] and found["ylabel"]:
        return f"{found['ylabel'][0]} against {found['xlabel'][0]}"
    return ""


def markdown_as_text(source: str) -> str:
    """A Markdown fragment as a reader reads it: no markup, formulas written out."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", source)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"^\s{0,3}(#+|[-*+]|\d+\.|>)\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    return " ".join(plain_math(text).split())


def _sentence_before(cells: list[nbformat.NotebookNode], index: int) -> str:
    """The sentence that introduces the figure of cell `index`, from the nearest paragraph of
    Markdown before it that says something (a bare "**Answer.**" does not): its last sentence
    where that leads into the figure ("here is ...", "below", a closing colon), else its first;
    "" if no Markdown comes before."""
    for cell in reversed(cells[:index]):
        if cell.cell_type != "markdown":
            continue
        for block in reversed([b for b in re.split(r"\n\s*\n", cell.source.strip()) if b.strip()]):
            text = markdown_as_text(block)
            if len(text.split()) < 4:
                continue
            sentences = [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9(])", text) if len(s.split()) >= 4]
            last = (sentences or [text])[-1]
            leads_in = last.endswith(":") or re.search(r"\b(here (is|are)|below)\b", last, re.IGNORECASE)
            return (last if leads_in else (sentences or [text])[0]).rstrip(" :")
    return ""


def _shorten(text: str, limit: int = MAX_ALT) -> str:
    """`text` cut at a word to at most about `limit` characters, with "…" where it was cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def with_figure_alts(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `nb` in which each figure output (PNG or JPEG) carries `book_alt` in its metadata,
    the text of its `alt` attribute: what the cell's code titles it, else its axis labels, else
    the sentence before the cell; "(2 of 3)" follows where a cell shows several figures."""
    nb = copy.deepcopy(nb)
    constants: dict[str, object] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = _python(cell.source)
        if tree is not None:
            _record_constants(tree, constants)
        figures = [o for o in cell.get("outputs", [])
                   if {"image/png", "image/jpeg"} & set(o.get("data", {}))]
        if not figures:
            continue
        text = _figure_text(tree, constants) if tree is not None else ""
        text = _shorten(text or _sentence_before(nb.cells, index) or "A figure drawn by the code above")
        for number, output in enumerate(figures, 1):
            suffix = f" ({number} of {len(figures)})" if len(figures) > 1 else ""
            output.setdefault("metadata", {})["book_alt"] = text + suffix
    return nb


# ---- the text as a reader sees it ----------------------------------------------------------

TEX_SYMBOLS = {
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "odot": "⊙", "oplus": "⊕",
    "otimes": "⊗", "circ": "∘", "ast": "*", "star": "⋆", "bullet": "•",
    "dots": "…", "ldots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱",
    "approx": "≈", "sim": "~", "simeq": "≃", "equiv": "≡", "propto": "∝", "neq": "≠", "ne": "≠",
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "ll": "≪", "gg": "≫",
    "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒",
    "Leftarrow": "⇐", "leftrightarrow": "↔", "mapsto": "↦", "implies": "⇒", "iff": "⇔",
    "sum": "∑", "prod": "∏", "int": "∫", "infty": "∞", "partial": "∂", "nabla": "∇",
    "forall": "∀", "exists": "∃", "neg": "¬", "land": "∧", "lor": "∨", "wedge": "∧", "vee": "∨",
    "lVert": "‖", "rVert": "‖", "Vert": "‖", "|": "‖", "lvert": "|", "rvert": "|", "vert": "|",
    "mid": "|", "langle": "⟨", "rangle": "⟩", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊",
    "rfloor": "⌋", "ell": "ℓ", "prime": "′", "deg": "°",
    "bmod": " mod ", "mod": " mod ", "pmod": " mod ",
    "quad": " ", "qquad": " ", "enspace": " ", "thinspace": " ", "medspace": " ", "thickspace": " ",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
TEX_FUNCTIONS = {"sin", "cos", "tan", "tanh", "sinh", "cosh", "exp", "log", "ln", "lg", "max",
                 "min", "arg", "argmax", "argmin", "det", "dim", "gcd", "lim", "sup", "inf",
                 "Pr", "sgn"}
TEX_ARGUMENT_TEXT = {"mathrm", "mathit", "mathbf", "mathsf", "mathtt", "mathcal", "mathbb",
                     "mathfrak", "boldsymbol", "bm", "text", "textrm", "textit", "textbf", "texttt",
                     "textsf", "operatorname", "mbox", "hbox", "emph"}
TEX_ACCENTS = {"bar": "\u0304", "overline": "\u0305", "hat": "\u0302", "widehat": "\u0302",
               "tilde": "\u0303", "widetilde": "\u0303", "vec": "\u20d7", "dot": "\u0307",
               "ddot": "\u0308"}
TEX_DROPPED = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
               "biggl", "biggr", "Biggl", "Biggr", "middle", "displaystyle", "textstyle",
               "scriptstyle", "limits", "nolimits", "nonumber", "notag", "label", "tag"}
TEX_FRACTIONS = {"frac", "tfrac", "dfrac", "cfrac"}
TEX_BINOMIALS = {"binom", "tbinom", "dbinom"}


def _group(text: str) -> str:
    """`text` in parentheses unless it is one number, name or symbol (for a/b, x^n)."""
    text = text.strip()
    if re.fullmatch(r"[−-]?[\w.′]+|\W", text):
        return text
    if text.startswith("(") and text.endswith(")"):  # already in parentheses, if they pair up
        depth = 0
        for k, c in enumerate(text):
            depth += {"(": 1, ")": -1}.get(c, 0)
            if depth == 0 and k < len(text) - 1:
                break
        else:
            return text
    return f"({text})"


def tex_as_text(tex: str) -> str:
    """A TeX formula written out as plain text the way it reads: `\\cdot` is `·`,
    `\\frac{a}{b}` is `a/b`, `2^{k+1}` is `2^(k+1)`, `\\mathrm{CGRU}_l` is `CGRU_l`; no
    backslash command is left."""
    out: list[str] = []
    i = 0

    def argument(i: int) -> tuple[str, int]:
        while i < len(tex) and tex[i].isspace():
            i += 1
        if i >= len(tex):
            return "", i
        if tex[i] == "{":
            depth, j = 0, i
            while j < len(tex):
                if tex[j] == "\\":
                    j += 2
                    continue
                depth += {"{": 1, "}": -1}.get(tex[j], 0)
                if depth == 0:
                    break
                j += 1
            return tex_as_text(tex[i + 1:j]), j + 1
        if tex[i] == "\\":
            name = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            return tex_as_text(name[0]), i + len(name[0])
        return tex[i], i + 1

    while i < len(tex):
        c = tex[i]
        if c == "\\":
            name = re.match(r"\\([A-Za-z]+|.?)", tex[i:])
            command, i = name[1], i + len(name[0])
            if command in TEX_FRACTIONS or command in TEX_BINOMIALS:
                top, i = argument(i)
                bottom, i = argument(i)
                out.append(f"{_group(top)}/{_group(bottom)}" if command in TEX_FRACTIONS
                           else f"C({top.strip()}, {bottom.strip()})")
            elif command == "sqrt":
                degree = ""
                if tex[i:i + 1] == "[":
                    end = tex.find("]", i)
                    degree, i = tex_as_text(tex[i + 1:end]), end + 1
                value, i = argument(i)
                out.append(("" if not degree else f"{degree}") + "√" + _group(value))
            elif command in TEX_ARGUMENT_TEXT:
                value, i = argument(i)
                out.append(value)
            elif command in TEX_ACCENTS:
                value, i = argument(i)
                out.append(value.strip() + TEX_ACCENTS[command])
            elif command in ("begin", "end"):
                _, i = argument(i)
                out.append(" ")
            elif command in TEX_DROPPED:
                out.append("")
            elif command in TEX_SYMBOLS:
                out.append(TEX_SYMBOLS[command])
            elif command in TEX_FUNCTIONS:
                out.append(command + (" " if tex[i:i + 1].isalnum() else ""))
            elif command in ("\\", ",", ";", ":", "!", " ", ""):
                out.append(" ")
            elif len(command) == 1 and not command.isalpha():
                out.append(command)  # \% \{ \} \$ \# \& \_
            else:
                out.append(command)  # an unknown command: its name, without the backslash
        elif c in "^_":
            value, i = argument(i + 1)
            out.append(c + _group(value) if value.strip() else "")
        elif c in "{}":
            i += 1
        elif c in "&~":
            out.append(" ")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def plain_math(text: str) -> str:
    """`text` with its formulas written out for search: `$t \\bmod r$` becomes `t mod r`,
    `$0.0005 \\cdot 2^8$` becomes `0.0005 · 2^8`."""
    return MATH.sub(lambda m: tex_as_text(m[1]), text)


def reader_text(element: Tag) -> str:
    """The text of an HTML element as it reads: inline markup joined without extra spaces,
    block elements (paragraphs, items, cells) apart."""
    parts = []
    for node in element.descendants:
        if isinstance(node, Tag) and node.name in BLOCK_TAGS:
            parts.append(" ")
        elif isinstance(node, NavigableString) and not isinstance(node, Comment):
            parts.append(str(node))
    return "".join(parts)


def code_text(source: str) -> str:
    """Code as a reader reads it in a snippet: a line continued by a backslash joined to the next."""
    return re.sub(r"[ \t]*\\\n", " ", source)


# ---- the page's HTML: run-log links, alt texts ---------------------------------------------

def _link(soup: BeautifulSoup, href: str, *children) -> Tag:
    a = soup.new_tag("a", href=href)
    a["class"] = "book-runlink"
    for child in children:
        a.append(child)
    return a


def link_run_log(soup: BeautifulSoup, runs: set[str], page: str = RUNS_PAGE,
                 selector: str = ".jp-RenderedMarkdown code") -> None:
    """Turn "`benchmarks/README.md`, run H" in the rendered Markdown into links to the run's
    anchor in the run log's page (`runs.html#run-h`; the page itself when no run is named)."""
    for code in soup.select(selector):
        if code.get_text() != RUN_LOG or code.find_parent("a") or code.find_parent("pre"):
            continue
        after = code.next_sibling
        mention = None
        if isinstance(after, NavigableString):
            mention = re.match(r"(\s*,?\s*\(?)(runs?\s+([A-Z]{1,2}))\b", str(after))
        letter = mention[3] if mention and mention[3] in runs else None
        href = f"{page}#{run_anchor(letter)}" if letter else page
        code.replace_with(_link(soup, href, copy.copy(code)))
        if letter:
            rest = str(after)
            after.replace_with(mention[1], _link(soup, href, mention[2]), rest[mention.end():])


def link_run_mentions(soup: BeautifulSoup, runs: set[str]) -> None:
    """In the run log's own page: "run F" in running text links to run F's anchor."""
    for text in list(soup.select_one("main").find_all(string=RUN_MENTION)):
        if text.find_parent(["a", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "script", "style"]):
            continue
        pieces, at = [], 0
        for m in RUN_MENTION.finditer(str(text)):
            if m[2] not in runs:
                continue
            pieces += [str(text)[at:m.start()], _link(soup, f"#{run_anchor(m[2])}", m[0])]
            at = m.end()
        if pieces:
            text.replace_with(*[p for p in pieces + [str(text)[at:]] if p != ""])


def name_run_headings(soup: BeautifulSoup, runs: set[str]) -> None:
    """Give each run's heading the anchor `run-h` (and its pilcrow link the same)."""
    for heading in soup.find_all(HEADING):
        found = re.match(r"\s*Run\s+([A-Z]{1,2})\b", heading.get_text())
        if found and found[1] in runs:
            heading["id"] = run_anchor(found[1])
            for anchor in heading.find_all("a", class_="anchor-link"):
                anchor["href"] = f"#{run_anchor(found[1])}"


def describe_unlabelled_images(soup: BeautifulSoup) -> None:
    """Every <img> without an alt text of its own gets one: the nearest heading or paragraph
    before it (images whose alt the notebook or the build gave are left as they are)."""
    for img in soup.find_all("img"):
        if (img.get("alt") or "").strip() and img["alt"] != NO_ALT:
            continue
        text = ""
        for before in img.find_all_previous(["p", "li", "h1", "h2", "h3", "h4", "h5", "h6"]):
            text = " ".join(plain_math(reader_text(before)).replace("¶", "").split())
            if text:
                break
        img["alt"] = _shorten(text.rstrip(" :") or "A figure")


def finish_page(body: str, runs: set[str] | None, run_log_page: bool = False) -> str:
    """The exported page with the run log linked (when the site has its page: `runs` is not None)
    and every image described."""
    soup = BeautifulSoup(body, "html.parser")
    if runs is not None:
        if run_log_page:
            name_run_headings(soup, runs)
            link_run_mentions(soup, runs)
        else:
            link_run_log(soup, runs)
    describe_unlabelled_images(soup)
    return str(soup)


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
    """The contents sidebar: the search box, every chapter, then the answers, the references and
    the run log; the page named `current` is highlighted (class "current", aria-current)."""

    def item(page: Chapter) -> str:
        mark = ' class="current" aria-current="page"' if page.page == current else ""
        number = f'<span class="number">{int(page.number)}</span>' if page.kind == "chapter" else ""
        return f'<li><a href="{page.page}"{mark}>{number}{html.escape(page.title)}</a></li>'

    chapters = "\n".join(item(p) for p in pages if p.kind == "chapter")
    answers = "\n".join(item(p) for p in pages if p.kind == "answers")
    back_items = ([f'<li><a href="{references}">References</a></li>'] if references else [])
    back_items += [item(p) for p in pages if p.kind == "runs"]
    back = ""
    if answers:
        back += (f'<h2 class="book-sidebar-heading">Answers</h2>\n'
                 f'<ul class="book-answers">\n{answers}\n</ul>\n')
    if back_items:
        items = "\n".join(back_items)
        back += (f'<h2 class="book-sidebar-heading">Back matter</h2>\n<ul class="book-back">\n'
                 f'{items}\n</ul>\n')
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


def read_page(body: str, title: str, page: str) -> RenderedPage:
    """The headings of an exported page, and its text split at headings into search sections:
    `text`, the prose as it reads (formulas written out), and `code`, the code cells' source (not
    outputs, whose numbers would only add noise)."""
    soup = BeautifulSoup(body, "html.parser")
    main = soup.find("main") or soup
    result = RenderedPage(body)
    section = {"page": page, "title": title, "heading": title, "anchor": "", "text": [], "code": []}
    sections = [section]
    for cell in main.find_all("div", class_="jp-Cell"):
        classes = cell.get("class", [])
        if "jp-MarkdownCell" in classes:
            rendered = cell.find("div", class_="jp-RenderedMarkdown")
            for element in rendered.find_all(True, recursive=False) if rendered else []:
                if HEADING.fullmatch(element.name) and element.get("id"):
                    for anchor in element.find_all("a", class_="anchor-link"):
                        anchor.decompose()
                    text = " ".join(plain_math(reader_text(element)).split())
                    inner = "".join(str(c) for c in element.contents).strip()
                    result.headings.append(Heading(int(element.name[1]), element["id"], text, inner))
                    section = {"page": page, "title": title, "heading": text,
                               "anchor": element["id"], "text": [], "code": []}
                    sections.append(section)
                elif element.name == "pre" or element.find("pre", recursive=False):
                    section["code"].append(code_text(element.get_text()))
                else:
                    section["text"].append(reader_text(element))
        elif "jp-CodeCell" in classes:
            source = cell.find("div", class_="jp-InputArea")
            if source:
                for prompt in source.find_all("div", class_="jp-InputPrompt"):
                    prompt.decompose()
                section["code"].append(code_text(source.get_text()))
    for s in sections:  # formulas written out over the whole section: one may span two blocks
        text = " ".join(plain_math(" ".join(s["text"])).split())
        code = " ".join(" ".join(s["code"]).split())
        if text or code or s["anchor"]:
            result.sections.append({**s, "text": text, "code": code})
    return result


def chapter_page(chapter: Chapter, exporter: HTMLExporter, runs: set[str] | None = None) -> RenderedPage:
    """The notebook (or the run log) exported to HTML (the book's template), with its headings
    and search text; `runs` are the run log's runs, for links to them."""
    if chapter.kind == "runs":
        nb = run_log_notebook(chapter.path)
    else:
        nb = nbformat.read(chapter.path, as_version=4)
        nb = with_figure_alts(without_test_markers(without_widgets(nb)))
    resources = {"metadata": {"name": chapter.label, "path": str(chapter.path.parent)}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body = finish_page(body, runs, run_log_page=chapter.kind == "runs")
    return read_page(body, chapter.label, chapter.page)


def assemble(rendered: RenderedPage, chapter: Chapter, prev: Chapter | None, nxt: Chapter | None,
             pages: list[Chapter], references: str | None) -> str:
    """The exported page put into the book's layout: sidebar, navigation and table of contents."""
    related = [p for p in pages if p.number == chapter.number and p.kind != chapter.kind
               and "runs" not in (p.kind, chapter.kind)]
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


# The set-up on the front page: a clone, then the README's two commands. No address of the
# repository is recorded in it; set CLONE_URL to show the real one.
CLONE_URL = "<repository URL>"
SET_UP = """<p>Every chapter is a Jupyter notebook that builds and measures its part of the model;
these pages show the notebooks with their stored outputs. To run them yourself you need Python
3.11, <code>git</code> and <code>make</code>:</p>
<pre class="book-commands"><code>git clone {url} neural-gpu &amp;&amp; cd neural-gpu
make lab    # opens the chapters in JupyterLab
make test   # the whole suite: library tests, every chapter run in fast mode
</code></pre>
<p>Both commands set themselves up the first time (a virtual environment in <code>.venv</code>,
a few minutes: PyTorch is the big download) and skip the installation afterwards.</p>"""


def front_matter(readme: Path, runs: set[str] | None = None) -> str:
    """The front page's opening: what the book is and how to run it, side by side, then what it
    reproduces (the README's results table as `make results` last wrote it, and the README's
    notes on it); `runs` are the run log's runs when the site has its page."""
    opening = readme_opening(readme)
    front = [f'<section class="book-preface" aria-labelledby="about">\n<h2 id="about">What this book '
             f"is</h2>\n{markdown_html(opening)}\n</section>"] if opening else []
    front.append(f'<section class="book-setup" aria-labelledby="run-it">\n<h2 id="run-it">Run it '
                 f"yourself</h2>\n{SET_UP.format(url=html.escape(CLONE_URL))}\n</section>")
    parts = ['<div class="book-front">\n' + "\n".join(front) + "\n</div>"]
    table, notes = readme_results(readme)
    if table:
        log = (f' The experiments behind the recipes are in the <a href="{RUNS_PAGE}">run log</a>.'
               if runs is not None else "")
        details = ""
        if notes:
            notes_html = markdown_html(notes)
            if runs is not None:
                soup = BeautifulSoup(notes_html, "html.parser")
                link_run_log(soup, runs, selector="code")
                notes_html = str(soup)
            details = (f'<details class="book-results-notes">\n<summary>How these numbers were '
                       f"measured, and where the set-up departs from the paper's (from the README)"
                       f"</summary>\n{notes_html}\n</details>\n")
        parts.append(
            f'<section class="book-results" aria-labelledby="results">\n<h2 id="results">What it '
            f"reproduces</h2>\n<p>Table 1 of the paper, measured again with the models the book "
            f"ships, on fresh random inputs up to a hundred times longer than any seen in training. "
            f"Each cell: the share of test cases with every output symbol right, the number of cases, "
            f"and the paper's figure beside it.{log}</p>\n"
            f'<div class="book-table">\n{markdown_html(table)}\n</div>\n{details}</section>')
    return "\n".join(parts)


def index_page(chapters: list[Chapter], pages: list[Chapter] | None = None,
               references: str | None = None, readme: Path | None = None,
               run_ids: set[str] | None = None) -> str:
    """The front page: what the book is, how to run it, its results table (from `readme`), then
    the contents, one entry per chapter with its number, title and description; `run_ids` are
    the run log's runs when the site has its page."""
    items = "\n".join(
        f'<li><span class="number">{c.number}</span><a href="{c.page}">{html.escape(c.title)}</a>'
        f'<p class="description">{c.description}</p></li>'
        for c in chapters
    )
    answers = [p for p in pages or [] if p.kind == "answers"]
    answer_items = "\n".join(f'<li><a href="{a.page}">{html.escape(a.title)}</a></li>' for a in answers)
    answer_list = (f'<h2>Answers to the exercises</h2>\n<ul class="answers">\n{answer_items}\n</ul>\n'
                   if answers else "")
    runs = next((p for p in pages or [] if p.kind == "runs"), None)
    back_items = ([f'<li><a href="{references}">References</a></li>'] if references else [])
    if runs:
        back_items.append(f'<li><a href="{runs.page}">{html.escape(runs.title)}</a>: the run log, '
                          "with the timings and the experiments the chapters cite</li>")
    back = "\n".join(back_items)
    back_list = f'<h2>Back matter</h2>\n<ul class="back">\n{back}\n</ul>\n' if back_items else ""
    front = front_matter(readme, run_ids) if readme else ""
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
<a class="book-skip" href="#book-content">Skip to the text</a>
<div class="book-layout">
{sidebar(pages or chapters, "index.html", references)}
<div class="book-main">
<main id="book-content">
<h1>{BOOK_TITLE}</h1>
<p class="subtitle">A notebook-first textbook on <em>Neural GPUs Learn Algorithms</em>
(Kaiser &amp; Sutskever, ICLR 2016).</p>
{front}
<h2 id="contents">Contents</h2>
<ol class="book-contents">
{items}
</ol>
{answer_list}{back_list}</main>
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


def build(out: Path = DEFAULT_OUT, chapters_dir: Path = CHAPTERS, readme: Path = README,
          run_log: Path | None = None) -> list[Path]:
    """Write the site into `out` and return the pages written, index first. The run log is
    `benchmarks/README.md` beside `chapters_dir` unless `run_log` names another (none is fine)."""
    out.mkdir(parents=True, exist_ok=True)
    run_log = run_log if run_log is not None else chapters_dir.parent / RUN_LOG
    chapters = find_chapters(chapters_dir, readme)
    pages = chapters + find_answers(chapters_dir / "answers")
    runs = set(run_letters(run_log)) if run_log.exists() else None
    if runs is not None:
        pages.append(Chapter(run_log, "", RUNS_TITLE, "", kind="runs", page_name=RUNS_PAGE))
    export = exporter()
    rendered = [chapter_page(page, export, runs) for page in pages]
    references = next((f"{p.page}#{h.id}" for p, r in reversed(list(zip(pages, rendered, strict=True)))
                       if p.kind == "chapter" for h in r.headings if h.text.lower() == "references"), None)
    shutil.copyfile(STYLE, out / "style.css")
    shutil.copyfile(SCRIPT, out / "book.js")
    shutil.copytree(KATEX, out / "katex", dirs_exist_ok=True)
    (out / "search-index.js").write_text(
        search_index_script([s for r in rendered for s in r.sections]), encoding="utf-8")
    written = [out / "index.html"]
    written[0].write_text(index_page(chapters, pages, references, readme, runs), encoding="utf-8")
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
