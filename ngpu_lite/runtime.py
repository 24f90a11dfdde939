"""The package's version and the device it computes on: below every layer, imports nothing of ours."""

from __future__ import annotations

import torch

__version__ = "0.1.0"


def device() -> torch.device:
    """CUDA when available, else CPU: nothing in the library assumes a GPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
