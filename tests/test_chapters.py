"""Chapters: every .py/.ipynb pair in sync, each with a summary and exercises, listed in the README.

Executing the chapters is nbval's job (`make test` runs `pytest --nbval-lax chapters`).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.py"))
NOTEBOOKS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
ids = [p.stem for p in CHAPTERS]


def test_every_notebook_has_its_source_and_back():
    """Catches a chapter committed only as .py or only as .ipynb (or none found: the per-chapter
    tests would pass on nothing)."""
    assert CHAPTERS
    assert {p.stem for p in NOTEBOOKS} == {p.stem for p in CHAPTERS}


@pytest.mark.parametrize("source", CHAPTERS, ids=ids)
def test_pair_is_in_sync(source):
    """The committed .ipynb converts back to exactly the .py (so a fresh clone cannot drift)."""
    out = subprocess.run(
        [sys.executable, "-m", "jupytext", "--to", "py:percent", "-o", "-",
         str(source.with_suffix(".ipynb"))],
        capture_output=True, text=True, check=True)
    assert out.stdout == source.read_text(), (
        f"{source.name} and its .ipynb differ: run 'make sync' and re-execute the notebook")


@pytest.mark.parametrize("source", CHAPTERS, ids=ids)
def test_chapter_has_summary_exercises_and_a_checked_cell(source):
    """Catches a chapter without its summary or exercises, or with no output nbval compares."""
    text = source.read_text()
    assert re.search(r"^# ## Summary", text, re.M), "no '## Summary' section"
    assert re.search(r"^# ## Exercises", text, re.M), "no '## Exercises' section"
    assert "# NBVAL_CHECK_OUTPUT" in text, "no deterministic cell checked by nbval"


@pytest.mark.parametrize("source", CHAPTERS, ids=ids)
def test_committed_notebook_holds_outputs_and_no_machine_paths(source):
    """Catches a notebook committed unexecuted, or outputs naming the author's home or /tmp."""
    nb = json.loads(source.with_suffix(".ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert any(c.get("outputs") for c in code), "commit the notebook with the outputs of a default run"
    blob = json.dumps(nb)
    for marker in (f"{ROOT.parent}/", f"{Path.home()}/", "/home/", "/tmp/"):
        assert marker not in blob, f"output names a path of the machine it ran on ({marker})"


def test_readme_lists_every_chapter():
    """Catches a chapter added without its README entry."""
    readme = (ROOT / "README.md").read_text()
    for source in CHAPTERS:
        assert source.stem in readme, f"README does not list {source.stem}"
