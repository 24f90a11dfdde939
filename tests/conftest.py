"""Shared test set-up: CPU only, few threads, quiet progress bars."""

import os

import pytest
import torch

os.environ.setdefault("NGPU_FAST", "1")
torch.set_num_threads(1)  # make test runs two workers on two cores


@pytest.fixture
def tiny_model():
    """A small Neural GPU with fixed weights."""
    from ngpu_lite import NeuralGPU

    torch.manual_seed(0)
    return NeuralGPU(w=2, m=8, relax_sets=1).eval()
