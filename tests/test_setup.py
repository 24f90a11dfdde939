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
    assert _conda_deps() == _pyproject_deps()


def test_torch_is_pinned():
    assert "torch==2.13.0" in _pyproject_deps()


def test_ci_calls_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
