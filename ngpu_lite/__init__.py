"""ngpu_lite: a small, readable Neural GPU (Kaiser & Sutskever, ICLR 2016) in PyTorch."""

from __future__ import annotations

from . import threads as _threads

_threads.before_torch()  # OpenMP reads its wait policy once, when torch loads it

import torch  # noqa: E402

THREADS = _threads.apply()  # one thread per core no other job is using (NGPU_THREADS=keep: off)

__version__ = "0.1.0"


def device() -> torch.device:
    """CUDA when available, else CPU: nothing in the library assumes a GPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


from .memory import keep_freed_memory  # noqa: E402

KEEPS_FREED_MEMORY = keep_freed_memory()  # long inputs: reuse memory instead of faulting it in

from .cgru import CGRU, cgru, sigmoid_cutoff  # noqa: E402
from .checkpoints import (  # noqa: E402
    CheckpointError,
    average,
    average_checkpoints,
    load,
    pretrained,
    save,
)
from .evaluate import evaluate  # noqa: E402
from .model import Config, NeuralGPU  # noqa: E402
from .relax import PullSchedule, average_sets, pull_cost  # noqa: E402
from .tasks import (  # noqa: E402
    PAD,
    TASKS,
    TaskError,
    decode,
    encode,
    encode_text,
    get_task,
    length_for,
    make_batch,
)
from .train import PRESETS, TrainResult, train  # noqa: E402


def __getattr__(name: str):
    """`carry_chains` loads `ngpu_lite.families` on first use, so that `python -m ngpu_lite.families`
    runs that module once (runpy warns when the package has imported it already)."""
    if name == "carry_chains":
        from .families import carry_chains

        return carry_chains
    raise AttributeError(f"module 'ngpu_lite' has no attribute {name!r}")


__all__ = [
    "CGRU", "PAD", "PRESETS", "TASKS", "CheckpointError", "Config", "NeuralGPU", "PullSchedule",
    "TaskError", "TrainResult", "average", "average_checkpoints", "average_sets", "carry_chains",
    "cgru", "decode", "device", "encode",
    "encode_text", "evaluate", "get_task", "length_for", "load", "make_batch", "pretrained",
    "pull_cost", "save", "sigmoid_cutoff", "train",
]
