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
    """With neither NGPU_FIGURES nor NGPU_FAST set, figures go to figures/local/. Catches a reader's run
    overwriting the committed figures/."""
    b = _fresh(monkeypatch)
    assert b.figures_dir() == b.ROOT / "figures" / "local"  # the bug: figures/ itself


def test_make_figures_writes_the_books_figures_on_purpose(monkeypatch):
    """NGPU_FIGURES=repo writes the repository's figures/. Catches `make figures` writing to figures/local/ or
    a temporary folder, so the book's figures never change."""
    b = _fresh(monkeypatch, NGPU_FIGURES="repo")
    assert b.figures_dir() == b.ROOT / "figures"


def test_fast_mode_writes_a_temporary_folder_outside_the_repository(monkeypatch):
    """NGPU_FAST=1 sends figures to an ngpu-figures-* temporary folder outside the repository. Catches a test
    run writing into figures/ or figures/local/."""
    b = _fresh(monkeypatch, NGPU_FAST="1")
    path = b.figures_dir()
    assert b.ROOT not in path.parents and path.name.startswith("ngpu-figures-")
