"""Helpers for the chapters: the run mode, where figures go, and loading or training a model.

`NGPU_FAST=1` (set by `make test`) makes every training cell run for seconds and sends figures to
a temporary folder; a default run writes figures into the repository's `figures/`.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
_TMP_FIGURES: Path | None = None


def fast_mode() -> bool:
    """True when `NGPU_FAST=1`: every training cell takes seconds (tests, CI)."""
    return os.environ.get("NGPU_FAST", "") == "1"


def pick(fast, default):
    """`fast` in fast mode, `default` otherwise: one line per budgeted number in a chapter."""
    return fast if fast_mode() else default


def figures_dir() -> Path:
    """`figures/` of the repository in a default run; a temporary folder in fast mode."""
    global _TMP_FIGURES
    if fast_mode():
        if _TMP_FIGURES is None:
            _TMP_FIGURES = Path(tempfile.mkdtemp(prefix="ngpu-figures-"))
        return _TMP_FIGURES
    path = ROOT / "figures"
    path.mkdir(exist_ok=True)
    return path


def savefig(fig, name: str) -> Path:
    """Save a matplotlib figure as `name` (PNG) under `figures_dir()`; returns the path."""
    path = figures_dir() / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def seed_everything(seed: int = 0) -> None:
    """Seed Python's and PyTorch's generators so a chapter reruns the same way."""
    random.seed(seed)
    torch.manual_seed(seed)
