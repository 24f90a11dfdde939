"""ngpu_lite: a small, readable Neural GPU (Kaiser & Sutskever, ICLR 2016) in PyTorch.

The package is the book's code, in five layers, each importing only those below it
(`ngpu_lite/README.md` maps the files): `data` (tasks, structured families, batches), `model`
(the CGRU, the Neural GPU, relaxation, checkpoints, evaluation), `training` (presets, the paper's
tricks, the loop, the run folder), `results` (recipes, building and measuring the shipped models,
tables) and `interfaces` (command line, explorer, sweeps). The public names are here.
"""

from __future__ import annotations

from . import threads as _threads

_threads.before_torch()  # OpenMP reads its wait policy once, when torch loads it

import torch  # noqa: E402, F401

THREADS = _threads.apply()  # one thread per core no other job is using (NGPU_THREADS=keep: off)

from .memory import keep_freed_memory  # noqa: E402

KEEPS_FREED_MEMORY = keep_freed_memory()  # long inputs: reuse memory instead of faulting it in

from .data.batches import make_batch  # noqa: E402
from .data.families import carry_chains  # noqa: E402
from .data.tasks import (  # noqa: E402
    PAD,
    TASKS,
    TaskError,
    decode,
    encode,
    encode_text,
    get_task,
    length_for,
)
from .model.cgru import CGRU, cgru, sigmoid_cutoff  # noqa: E402
from .model.checkpoints import (  # noqa: E402
    CheckpointError,
    average,
    average_checkpoints,
    load,
    pretrained,
    save,
)
from .model.evaluate import evaluate  # noqa: E402
from .model.neural_gpu import Config, NeuralGPU  # noqa: E402
from .model.relax import PullSchedule, average_sets, pull_cost  # noqa: E402
from .runtime import __version__, device  # noqa: E402
from .training import PRESETS, TrainResult, train  # noqa: E402

__all__ = [
    "CGRU", "PAD", "PRESETS", "TASKS", "CheckpointError", "Config", "NeuralGPU", "PullSchedule",
    "TaskError", "TrainResult", "__version__", "average", "average_checkpoints", "average_sets",
    "carry_chains", "cgru", "decode", "device", "encode", "encode_text", "evaluate", "get_task",
    "length_for", "load", "make_batch", "pretrained", "pull_cost", "save", "sigmoid_cutoff",
    "train",
]
