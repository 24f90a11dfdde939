"""Chapters: every .py/.ipynb pair in sync, each with a summary and exercises, listed in the README.
Answer notebooks (`chapters/answers/NN_answers.py`): paired and executed the same way, one answer
per exercise of their chapter.

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
ANSWERS = sorted((ROOT / "chapters" / "answers").glob("[0-9][0-9]_answers.py"))
ANSWER_NOTEBOOKS = sorted((ROOT / "chapters" / "answers").glob("[0-9][0-9]_answers.ipynb"))
PAIRED = CHAPTERS + ANSWERS  # every jupytext source with its committed, executed .ipynb
paired_ids = [p.stem for p in PAIRED]


def test_every_notebook_has_its_source_and_back():
    """Catches a chapter committed only as .py or only as .ipynb (or none found: the per-chapter
    tests would pass on nothing)."""
    assert CHAPTERS
    assert {p.stem for p in NOTEBOOKS} == {p.stem for p in CHAPTERS}


def test_every_answer_notebook_has_its_source_and_back_and_a_chapter():
    """Catches an answer notebook committed only as .py or only as .ipynb, or one numbered for no
    chapter."""
    assert {p.stem for p in ANSWER_NOTEBOOKS} == {p.stem for p in ANSWERS}
    numbers = {p.name[:2] for p in CHAPTERS}
    for source in ANSWERS:
        assert source.name[:2] in numbers, f"{source.name} answers no chapter"


@pytest.mark.parametrize("source", PAIRED, ids=paired_ids)
def test_pair_is_in_sync(source):
    """The committed .ipynb converts back to exactly the .py (so a fresh clone cannot drift)."""
    out = subprocess.run(
        [sys.executable, "-m", "jupytext", "--to", "py:percent", "-o", "-",
         str(source.with_suffix(".ipynb"))],
        capture_output=True, text=True, check=True)
    # the header records the jupytext version that wrote the file: a newer release is not a drift
    def body(text: str) -> str:
        return re.sub(r"(?m)^#\s+jupytext_version: .*$", "", text)

    assert body(out.stdout) == body(source.read_text()), (
        f"{source.name} and its .ipynb differ: run 'make sync' and re-execute the notebook")


@pytest.mark.parametrize("source", CHAPTERS, ids=ids)
def test_chapter_has_summary_exercises_and_a_checked_cell(source):
    """Catches a chapter without its summary or exercises, or with no output nbval compares."""
    text = source.read_text()
    assert re.search(r"^# ## Summary", text, re.M), "no '## Summary' section"
    assert re.search(r"^# ## Exercises", text, re.M), "no '## Exercises' section"
    assert "# NBVAL_CHECK_OUTPUT" in text, "no deterministic cell checked by nbval"


@pytest.mark.parametrize("source", ANSWERS, ids=[p.stem for p in ANSWERS])
def test_answer_notebook_answers_every_exercise(source):
    """Catches an exercise added to a chapter without its answer (or an answer to none), and a
    chapter whose exercises do not point to their answers."""
    chapter = next(p for p in CHAPTERS if p.name[:2] == source.name[:2])
    text = chapter.read_text()
    section = text[text.index("# ## Exercises"):]
    section = section.split("\n# %%")[0]  # the exercises' markdown cell
    asked = re.findall(r"^# (\d+)\. ", section, re.M)
    answered = re.findall(r"^# ## Exercise (\d+)$", source.read_text(), re.M)
    assert answered == asked, f"{chapter.name} asks exercises {asked}, {source.name} answers {answered}"
    assert f"answers/{source.stem}.ipynb" in section, f"{chapter.name} does not point to its answers"


@pytest.mark.parametrize("source", PAIRED, ids=paired_ids)
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


def stored_run_minutes(notebook: Path) -> float:
    """Minutes from the first cell's start to the last cell's end of the notebook's stored run."""
    from datetime import datetime

    stamps = [c["metadata"]["execution"] for c in json.loads(notebook.read_text())["cells"]
              if c["cell_type"] == "code" and c.get("metadata", {}).get("execution")]
    assert stamps, f"{notebook.name} stores no execution times: execute it with nbconvert"
    start = datetime.fromisoformat(stamps[0]["iopub.execute_input"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(stamps[-1]["shell.execute_reply"].replace("Z", "+00:00"))
    return (end - start).total_seconds() / 60


@pytest.mark.parametrize("source", CHAPTERS, ids=ids)
def test_chapter_opening_states_its_cpu_time_as_its_stored_run_measured_it(source):
    """Catches a chapter without its 'On a CPU: about N minutes' line in the opening, or one whose
    N no longer matches the stored run (re-executed longer or shorter): within 1 minute or 30%."""
    text = source.read_text()
    opening = text[:text.index("# **Learning objectives.**")]
    found = re.search(r"\*\*On a CPU: about (\d+) minutes?\*\*", opening)
    assert found, "the opening says nothing of how long the chapter runs on a CPU"
    stated = int(found[1])
    measured = stored_run_minutes(source.with_suffix(".ipynb"))
    assert abs(stated - measured) <= max(1.0, 0.3 * measured), (
        f"the opening says about {stated} minutes; the stored run took {measured:.1f}")
