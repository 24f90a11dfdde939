"""Project set-up: environment.yml and pyproject.toml list the same dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_deps():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]
    return {re.sub(r"\s+", "", d) for d in deps}


def _conda_deps():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    return {line.strip()[2:].strip() for line in lines[start + 1:] if line.strip().startswith("- ")}


def test_environment_yml_matches_pyproject():
    """Catches a dependency added to, or re-pinned in, one of the two files only."""
    assert _conda_deps() == _pyproject_deps()


def test_torch_is_pinned_to_the_version_the_tests_run_on():
    """An exact pin, and the installed torch is that version: catches a loose pin, or results and
    tests made with a torch the project does not declare."""
    import torch

    pins = [d for d in _pyproject_deps() if re.match(r"torch(?![\w-])", d)]
    assert len(pins) == 1 and pins[0].startswith("torch=="), pins
    assert torch.__version__.split("+")[0] == pins[0].removeprefix("torch==")


def test_ci_calls_make_test():
    """Catches CI running a different command than the one developers run."""
    assert "make test" in (ROOT / ".ci" / "run").read_text()
