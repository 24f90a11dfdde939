"""The library's layers: imports run one way, downward, and never in a circle.

The package is reading material: a student who opens `ngpu_lite/training/loop.py` should find it
built on `model` and `data`, never the other way round. These tests read every module's imports
from its source (function-level imports included) rather than importing anything.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ngpu_lite"
# below every layer: modules that import nothing of the package's
BASE = {"ngpu_lite.threads", "ngpu_lite.memory", "ngpu_lite.runtime", "ngpu_lite.book"}
LAYERS = {"data": 1, "model": 2, "training": 3, "results": 4, "interfaces": 5}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every ngpu_lite module that `path` imports, at module level or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ngpu_lite")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("ngpu_lite"):
                continue
            for alias in node.names:  # `from . import book` imports the module `book`
                sub = f"{mod}.{alias.name}"
                found.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                          or (PACKAGE.parent / sub.replace(".", "/") / "__init__.py").exists()
                          else mod)
    return found - {name}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def layer(name: str) -> int:
    """0 for the base modules, 1 to 5 for the layers' folders, 6 for the package's own front."""
    if name in BASE:
        return 0
    parts = name.split(".")
    if len(parts) >= 2 and parts[1] in LAYERS:
        return LAYERS[parts[1]]
    return 6  # ngpu_lite/__init__ and __main__: the public names, above everything


def test_no_module_imports_one_above_its_layer():
    """data < model < training < results < interfaces; a base module imports nothing of ours.
    Catches an upward import (say `training` reaching into `results`) that layers would hide."""
    g = graph()
    assert len(g) > 20
    bad = [f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
           for a, deps in g.items() for b in deps if layer(b) > layer(a)]
    assert not bad, "\n".join(bad)
    assert all(not g[m] for m in BASE), {m: g[m] for m in BASE if g[m]}


def test_the_package_has_no_import_cycle():
    """No module reaches itself through imports, function-level ones included. Catches a cycle
    held together by an import inside a function, which the old flat package had (tasks →
    families → zoo → … → tasks)."""
    g = graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        path.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                raise AssertionError("import cycle: " + " → ".join(path[path.index(m):] + [m]))
            if m not in state:
                visit(m)
        path.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n)


def test_the_walker_sees_function_level_imports_and_cycles(tmp_path, monkeypatch):
    """The walker itself: an import inside a function counts, and a two-module circle is found.
    Catches a walker that reads module-level imports only (and so cannot fail on the old bug)."""
    import pytest

    pkg = tmp_path / "ngpu_lite"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("")
    (pkg / "data" / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "data" / "b.py").write_text("from . import a\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    assert graph()["ngpu_lite.data.a"] == {"ngpu_lite.data.b"}
    with pytest.raises(AssertionError, match="import cycle"):
        test_the_package_has_no_import_cycle()
