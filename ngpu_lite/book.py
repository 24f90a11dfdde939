"""Helpers for the chapters: the run mode, where figures go, and loading or training a model.

`NGPU_FAST=1` (set by `make test`) makes every training cell run for seconds and sends figures to
a temporary folder, removed when the kernel exits. A reader's default run writes its figures to
`figures/local/` (ignored by git), so running a chapter never changes a committed file;
`NGPU_FIGURES=repo` (what `make figures` sets) writes the book's own `figures/` on purpose.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import random
import shutil
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
    """Where a chapter saves its figures: the repository's `figures/` with `NGPU_FIGURES=repo`,
    else a temporary folder (removed at exit) in fast mode, else `figures/local/`."""
    global _TMP_FIGURES
    if os.environ.get("NGPU_FIGURES", "") == "repo":
        path = ROOT / "figures"
    elif fast_mode():
        if _TMP_FIGURES is None:
            _TMP_FIGURES = Path(tempfile.mkdtemp(prefix="ngpu-figures-"))
            atexit.register(shutil.rmtree, _TMP_FIGURES, ignore_errors=True)
        return _TMP_FIGURES
    else:
        path = ROOT / "figures" / "local"
    path.mkdir(parents=True, exist_ok=True)
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


def fingerprint(*names: str) -> str:
    """`sha256 NAME.pt <first 12 hex digits>`, one line per shipped model named: a chapter prints
    this (in a checked cell) for every model it loads, so that a re-shipped model whose chapter
    was not re-executed fails the notebook tests instead of leaving stale outputs."""
    lines = []
    for name in names:
        path = ROOT / "ngpu_lite" / "checkpoints" / f"{name}.pt"
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"
        lines.append(f"sha256 {name}.pt {digest[:12]}")
    return "\n".join(lines)
