"""Build the student versions of the assignments and set up nbgrader course folders.

    python -m assignments.build                  # regenerate assignments/release/ and the archive
    python -m assignments.build --check          # exit 1 if assignments/release/ is out of date
    python -m assignments.build --course DIR     # an nbgrader course folder in DIR, for instructors

nbgrader keeps a database (gradebook.db) next to the course; `release` is built in a temporary
course folder so no database or log ever lands in the repository.

The student release is `release/` (committed: the notebooks without solutions or hidden tests,
and the students' README) and `dist/neural-gpu-assignments.zip` (not committed), which adds the
`ngpu_lite` library with its shipped checkpoints and a `pyproject.toml`, so that the archive
stands alone: unpack, `pip install -e .`, `jupyter lab`.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
RELEASE = HERE / "release"
CONFIG = HERE / "nbgrader_config.py"
STUDENTS = HERE / "STUDENTS.md"  # becomes release/README.md
ROOT = HERE.parent
DIST = HERE / "dist"
ARCHIVE_NAME = "neural-gpu-assignments"


def assignment_ids() -> list[str]:
    """The assignments, in order (one folder each under `source/`)."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and list(p.glob("*.ipynb")))


def tool_env(extra: dict | None = None) -> dict:
    """Environment for nbgrader: one thread per kernel, and this Python's scripts first on PATH
    (nbgrader runs `alembic` from PATH to open its database)."""
    env = dict(os.environ, **(extra or {}))
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def nbgrader(course: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in `course` with this Python; raise with its log if it fails."""
    out = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=tool_env(env),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out


def make_course(course: Path) -> Path:
    """An nbgrader course folder: the config and `source/<assignment>/*.ipynb` (no .py sources,
    which hold the solutions and would otherwise be copied into the release)."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONFIG, course / "nbgrader_config.py")
    for a in assignment_ids():
        dest = course / "source" / a
        dest.mkdir(parents=True, exist_ok=True)
        for nb in sorted((SOURCE / a).glob("*.ipynb")):
            shutil.copy(nb, dest / nb.name)
    return course


def generate(course: Path) -> Path:
    """`nbgrader generate_assignment` for every assignment; returns the course's `release/`."""
    nbgrader(course, "generate_assignment", "--assignment=*", "--force")
    return course / "release"


def _normalise(path: Path) -> str:
    """A release notebook as stable text (sorted keys, nbformat indentation), without the jupytext
    pairing of the source (students get a plain notebook)."""
    nb = json.loads(path.read_text())
    nb["metadata"].pop("jupytext", None)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build(release: Path = RELEASE) -> list[Path]:
    """Regenerate `release/` from the sources; returns the notebooks written."""
    with tempfile.TemporaryDirectory(prefix="ngpu-assignments-") as tmp:
        built = generate(make_course(Path(tmp) / "course"))
        if release.exists():
            shutil.rmtree(release)
        written = []
        for nb in sorted(built.glob("*/*.ipynb")):
            dest = release / nb.relative_to(built)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(_normalise(nb))
            written.append(dest)
        shutil.copy(STUDENTS, release / "README.md")
        written.append(release / "README.md")
    return written


def _student_pyproject() -> str:
    """A pyproject.toml for the archive: the library's own dependencies, plus JupyterLab."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = [*project["dependencies"], "jupyterlab"]
    return "\n".join([
        "# The library the assignments use, ngpu_lite, installed with `pip install -e .`",
        "[build-system]", 'requires = ["setuptools>=61"]', 'build-backend = "setuptools.build_meta"', "",
        "[project]", 'name = "ngpu_lite"', f'version = "{project["version"]}"',
        f'requires-python = "{project["requires-python"]}"',
        "dependencies = [" + ", ".join(f'"{d}"' for d in deps) + "]", "",
        "[tool.setuptools]", 'packages = ["ngpu_lite"]', "",
        "[tool.setuptools.package-data]", 'ngpu_lite = ["checkpoints/*.pt", "checkpoints/*.json"]', ""])


def archive(release: Path = RELEASE, dist: Path = DIST) -> Path:
    """`dist/neural-gpu-assignments.zip`: the release, the library and a pyproject.toml, under one
    top folder. Only the library's tracked kinds of files go in (no caches)."""
    dist.mkdir(parents=True, exist_ok=True)
    path = dist / f"{ARCHIVE_NAME}.zip"
    top = Path(ARCHIVE_NAME)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(release.rglob("*")):
            if f.is_file():
                z.write(f, top / f.relative_to(release))
        lib = ROOT / "ngpu_lite"
        for f in sorted(lib.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix in (".py", ".pt", ".json", ".md"):
                z.write(f, top / "ngpu_lite" / f.relative_to(lib))
        z.writestr(str(top / "pyproject.toml"), _student_pyproject())
    return path


def stale(release: Path = RELEASE) -> list[str]:
    """Release notebooks that differ from what the sources generate (empty when up to date)."""
    with tempfile.TemporaryDirectory(prefix="ngpu-assignments-") as tmp:
        fresh = Path(tmp) / "release"
        build(fresh)

        def files(folder: Path) -> set[Path]:
            if not folder.exists():
                return set()
            return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}

        want, have = files(fresh), files(release)
        diff = sorted(str(p) for p in want ^ have)
        diff += sorted(str(p) for p in want & have if not filecmp.cmp(fresh / p, release / p, shallow=False))
    return diff


def main(argv: list[str] | None = None) -> int:
    """Command line: build the release, check it, or set up a course folder."""
    ap = argparse.ArgumentParser(prog="python -m assignments.build", description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only check that release/ is up to date")
    ap.add_argument("--course", type=Path, help="set up an nbgrader course folder here")
    args = ap.parse_args(argv)
    if args.course is not None:
        course = make_course(args.course)
        print(f"course folder ready: {course} (assignments: {', '.join(assignment_ids())})")
        return 0
    if args.check:
        diff = stale()
        for d in diff:
            print(f"out of date: release/{d}")
        if diff:
            print("run 'make assignments' and commit assignments/release/")
        return 1 if diff else 0
    for nb in build():
        print(f"wrote {nb.relative_to(ROOT)}")
    print(f"wrote {archive().relative_to(ROOT)} (the release, ngpu_lite and a pyproject.toml)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
