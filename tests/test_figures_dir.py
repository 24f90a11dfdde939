"""Where chapters save figures: a reader's run never rewrites the committed figures/."""

import importlib

from ngpu_lite import book


def _fresh(monkeypatch, **env):
    for key in ("NGPU_FAST", "NGPU_FIGURES"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return importlib.reload(book)


def test_a_readers_default_run_writes_figures_local_not_figures(monkeypatch):
    b = _fresh(monkeypatch)
    assert b.figures_dir() == b.ROOT / "figures" / "local"  # the bug: figures/ itself


def test_make_figures_writes_the_books_figures_on_purpose(monkeypatch):
    b = _fresh(monkeypatch, NGPU_FIGURES="repo")
    assert b.figures_dir() == b.ROOT / "figures"


def test_fast_mode_writes_a_temporary_folder_outside_the_repository(monkeypatch):
    b = _fresh(monkeypatch, NGPU_FAST="1")
    path = b.figures_dir()
    assert b.ROOT not in path.parents and path.name.startswith("ngpu-figures-")
