"""Checkpoints: model weights with their config and provenance, saved atomically.

A checkpoint is one `.pt` file holding plain data (tensors, numbers, strings), loaded with
`torch.load(weights_only=True)` so a file can never run code, plus a JSON manifest beside it
(`name.json`) with the same provenance and the file's sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import torch

from .model import NeuralGPU
from .tasks import get_task

FORMAT = "ngpu_lite-checkpoint-1"
PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_DIR = PACKAGE_DIR / "checkpoints"


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or made for another task."""


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_commit() -> str:
    """The repository's current commit, or "unknown" outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PACKAGE_DIR, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def hardware() -> str:
    """A one-line description of where the code ran (GPU name or CPU)."""
    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; checkpoints are for sharing
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(path: str | Path, model: NeuralGPU, task: str, meta: dict | None = None,
         train_state: dict | None = None) -> dict:
    """Write `model` for `task` to `path` (and its manifest `path.with_suffix('.json')`) atomically.

    `meta` adds provenance (seed, steps, wall time, preset, accuracy …); `train_state` (optimiser
    state, curriculum …) lets a run resume. Returns the manifest.
    """
    from . import __version__

    path = Path(path)
    info = {
        "format": FORMAT,
        "task": get_task(task).name,
        "config": model.config_dict(),
        "library_version": __version__,
        "git_commit": git_commit(),
        "hardware": hardware(),
        "torch_version": str(torch.__version__),
    }
    info.update(meta or {})
    blob = {"info": info, "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    if train_state is not None:
        blob["train_state"] = train_state
    _atomic_write(path, lambda tmp: torch.save(blob, tmp))
    manifest = dict(info, file=path.name, sha256=sha256(path), bytes=path.stat().st_size)
    _atomic_write(path.with_suffix(".json"),
                  lambda tmp: Path(tmp).write_text(json.dumps(manifest, indent=2) + "\n"))
    return manifest


def load_raw(path: str | Path) -> dict:
    """The checkpoint's contents as plain data, checked to be an ngpu_lite checkpoint."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} not found; train one with "
                              "'python -m ngpu_lite train --task TASK --out DIR'")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001  (any unpickling failure means a bad file)
        raise CheckpointError(f"checkpoint {path} is corrupt or not a checkpoint "
                              f"({type(e).__name__}); retrain or restore it") from None
    if not isinstance(blob, dict) or blob.get("info", {}).get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an ngpu_lite checkpoint")
    return blob


def load(path: str | Path, task: str | None = None, device: str | torch.device = "cpu"
         ) -> tuple[NeuralGPU, dict]:
    """Model (in eval mode) and provenance from a checkpoint file or run folder.

    With `task` given, a checkpoint trained for another task raises CheckpointError.
    """
    blob = load_raw(path)
    info = blob["info"]
    if task is not None and info["task"] != get_task(task).name:
        raise CheckpointError(f"checkpoint {path} was trained for task {info['task']!r}, "
                              f"not {get_task(task).name!r}")
    model = NeuralGPU(**info["config"])
    try:
        model.load_state_dict(blob["state_dict"])
    except RuntimeError:
        raise CheckpointError(f"checkpoint {path} does not match its own config; "
                              "it is damaged") from None
    return model.to(device).eval(), info


def pretrained(task: str, device: str | torch.device | None = None) -> NeuralGPU:
    """The shipped trained model for `task`, in eval mode."""
    from . import device as default_device

    name = get_task(task).name
    path = SHIPPED_DIR / f"{name}.pt"
    if not path.exists():
        have = sorted(p.stem for p in SHIPPED_DIR.glob("*.pt")) if SHIPPED_DIR.exists() else []
        raise CheckpointError(f"no shipped checkpoint for task {name!r} "
                              f"(shipped: {', '.join(have) or 'none'}); train one with "
                              f"'python -m ngpu_lite train --task {name} --out DIR'")
    model, _ = load(path, name, device or default_device())
    return model


def average(models: list[NeuralGPU]) -> NeuralGPU:
    """A model whose every weight is the mean of `models`' weights (the paper's averaging of
    models of one architecture). Averaging is only meaningful between models that share their
    units' roles, such as checkpoints of one run; measure the average before keeping it."""
    if not models:
        raise CheckpointError("nothing to average: give at least one model")
    configs = {json_key(m.config_dict()) for m in models}
    if len(configs) > 1:
        raise CheckpointError("models to average must share one config (architecture and size)")
    out = NeuralGPU(**models[0].config_dict())
    states = [m.state_dict() for m in models]
    out.load_state_dict({k: torch.stack([s[k].float() for s in states]).mean(0) for k in states[0]})
    return out.eval()


def average_checkpoints(paths: list[str | Path], task: str | None = None) -> NeuralGPU:
    """`average` of the models in checkpoint files or run folders (all for `task`, if given)."""
    return average([load(p, task)[0] for p in paths])


def json_key(d: dict) -> str:
    """A dict as canonical JSON, to compare configs."""
    return json.dumps(d, sort_keys=True)
