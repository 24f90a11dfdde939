"""Autograde notebooks with nbgrader in a throw-away course folder and return the scores.

    python -m assignments.autograde                       # reference solutions and blank releases
    python -m assignments.autograde NOTEBOOK.ipynb ...    # grade students' notebooks (assignment from the
                                                          # folder name: .../a1_improved_cgru/x.ipynb)

Used by the tests (reference solutions get full marks, untouched releases zero) and handy for an
instructor who wants to try a notebook without setting up a course. The course folder, with its
gradebook.db, lives in a temporary directory unless `workdir` is given. A file a student hands in
beside a notebook (`HANDED_IN`: a2's `arms.pt`, a3's `ablation.json`, a4's `trained.pt`) is
submitted with it when it lies next to it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .build import RELEASE, SOURCE, assignment_ids, generate, make_course, nbgrader, tool_env

# files a student hands in beside a notebook, which the notebook reads when it is graded instead
# of training again (without them it trains again, minutes): a2's six training runs (`arms.pt`),
# a3's ablation results (`ablation.json`, nine trainings), a4's two trained models (`trained.pt`)
HANDED_IN = ("arms.pt", "ablation.json", "trained.pt")

_SCORES = """
import json, sys
from nbgrader.api import Gradebook
out = {}
with Gradebook("sqlite:///gradebook.db") as gb:
    for a in gb.assignments:
        for sub in a.submissions:
            cells = {}
            for nb in sub.notebooks:
                for g in nb.grades:
                    cells[g.name] = {"score": g.score, "max": g.max_score,
                                     "manual": g.cell.cell_type != "code"}
            out.setdefault(sub.student.id, {})[a.name] = {
                "score": sub.score, "max": sub.max_score, "cells": cells}
json.dump(out, sys.stdout)
"""


def autograde(submissions: dict[str, dict[str, Path]], workdir: Path | None = None,
              env: dict | None = None) -> dict:
    """Grade `{student: {assignment: notebook}}`; returns `{student: {assignment: {score, max,
    cells: {grade_id: {score, max, manual}}}}}` as nbgrader's gradebook records them (`manual`: a
    written answer, which the autograder leaves at 0 for a person to grade). `env` adds
    environment variables for the notebooks' kernels. The files of `HANDED_IN` found next to a
    notebook are submitted with it."""
    with tempfile.TemporaryDirectory(prefix="ngpu-autograde-") as tmp:
        course = make_course(Path(workdir or tmp) / "course")
        generate(course)  # registers the assignments and their grade cells in the gradebook
        for student, notebooks in submissions.items():
            for a, nb in notebooks.items():
                dest = course / "submitted" / student / a
                dest.mkdir(parents=True, exist_ok=True)
                name = next((SOURCE / a).glob("*.ipynb")).name
                shutil.copy(nb, dest / name)
                for extra in HANDED_IN:
                    if (Path(nb).parent / extra).is_file():
                        shutil.copy(Path(nb).parent / extra, dest / extra)
        nbgrader(course, "autograde", "--assignment=*", "--force", env=env)
        out = subprocess.run([sys.executable, "-c", _SCORES], cwd=course, env=tool_env(),
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)


def solution(a: str) -> Path:
    """The reference solution notebook of assignment `a`."""
    return next((SOURCE / a).glob("*.ipynb"))


def release(a: str) -> Path:
    """The student version of assignment `a`, as committed."""
    return next((RELEASE / a).glob("*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    """Command line: print each submission's score per assignment and per graded cell."""
    ap = argparse.ArgumentParser(prog="python -m assignments.autograde", description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="notebooks to grade (default: the "
                    "reference solutions as student 'solution' and the releases as student 'blank')")
    args = ap.parse_args(argv)
    if args.notebooks:
        subs = {f"student{i + 1}": {nb.resolve().parent.name: nb} for i, nb in enumerate(args.notebooks)}
    else:
        ids = assignment_ids()
        subs = {"solution": {a: solution(a) for a in ids}, "blank": {a: release(a) for a in ids}}
    start = time.time()
    scores = autograde(subs)
    for student, per in sorted(scores.items()):
        for a, s in sorted(per.items()):
            cells = ", ".join(f"{k} {v['score']:g}/{v['max']:g}" for k, v in s["cells"].items())
            print(f"{student:<10} {a:<28} {s['score']:g}/{s['max']:g}   ({cells})")
    print(f"autograded in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
