"""Checkpoints: model weights with their config and provenance, saved atomically.

A checkpoint is one `.pt` file holding plain data (tensors, numbers, strings), loaded with
`torch.load(weights_only=True)` so a file can never run code, plus a JSON manifest beside it
(`name.json`) with the same provenance and the file's sha256. Every load reads only a regular file
of bounded size (`read_regular`), checks its bytes against that sha256 before unpickling them, and
checks the config (and the memory it implies), every tensor's shape and that every weight is
finite before a model is built; NaN weights are never saved either. The pair is written so that a
reader never sees weights without their manifest (`write_pair`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import platform
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path

import torch

from ..data.tasks import TASKS, get_task
from ..runtime import __version__
from ..runtime import device as default_device
from .neural_gpu import MAX_WEIGHT_BYTES, Config, NeuralGPU

FORMAT = "ngpu_lite-checkpoint-1"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
SHIPPED_DIR = PACKAGE_DIR / "checkpoints"


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or made for another task."""


# the largest checkpoint file read: a model at the weight limit with its optimiser's two moments
# and room to spare; a larger file (a 20 GB sparse one) is refused before a byte of it is read
MAX_CHECKPOINT_BYTES = 4 * MAX_WEIGHT_BYTES + (64 << 20)
MAX_MANIFEST_BYTES = 1 << 20  # a manifest is a page of JSON


def read_regular(path: str | Path, limit: int, what: str, error: type[Exception] = ValueError,
                 hint: str = "") -> bytes:
    """The bytes of `path`, refused (as `error`, one line) unless it is a regular file of at most
    `limit` bytes: a FIFO would block for ever, `/dev/zero` never ends, a huge file would not fit
    in memory. The size is checked before reading; a file that grows meanwhile is cut off."""
    path = Path(path)
    try:
        kind = os.stat(path).st_mode
        if not stat.S_ISREG(kind):
            it = "a folder" if stat.S_ISDIR(kind) else "a pipe" if stat.S_ISFIFO(kind) else \
                "a device or socket"
            raise error(f"{what} {path} is not a regular file (it is {it}); give a file")
        # O_NONBLOCK: a file swapped for a FIFO after the stat still does not block the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{what} {path} not found") from None
    except OSError as e:
        raise error(f"cannot read {what} {path} ({e.strerror or e})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{what} {path} is not a regular file; give a file")
        if info.st_size > limit:
            raise error(f"{what} {path} has {info.st_size:,} bytes, past the limit of {limit:,} "
                        f"bytes{'; ' + hint if hint else ''}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise error(f"{what} {path} grew past the limit of {limit:,} bytes while it was read")
        return b"".join(chunks)
    except OSError as e:
        raise error(f"cannot read {what} {path} ({e.strerror or e})") from None
    finally:
        os.close(fd)


def check_device(device, name: str = "device") -> torch.device:
    """`device` as a torch.device this machine has, or a ValueError naming `name` and what is
    available (torch's own errors for a missing CUDA are assertions deep inside it)."""
    have = ["cpu"]
    if torch.cuda.is_available():
        have += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        have.append("mps")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{name} must name a torch device this machine has ({', '.join(have)}), "
                         f"not {device!r}") from None
    if dev.type == "cpu" or (dev.type == "cuda" and torch.cuda.is_available()
                             and (dev.index or 0) < torch.cuda.device_count()) \
            or (dev.type == "mps" and "mps" in have):
        return dev
    raise ValueError(f"{name} {str(dev)!r} is not available here; this machine has "
                     f"{', '.join(have)}")


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


def changed_library_files() -> list[str]:
    """The library's files (outside its shipped checkpoints) that differ from the commit
    `git_commit` names: a run trained with any of them changed is not re-made by that commit."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!checkpoints"],
                             cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(line[3:] for line in out.stdout.splitlines() if line.strip())


def cpu_model() -> str:
    """The CPU's model name where the system says it (results can differ between CPUs)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> str:
    """A one-line description of where the code ran (GPU name or CPU)."""
    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_tmp(path: Path, data: bytes) -> str:
    """`data` in a fresh, fsynced temporary file beside `path`; its name (removed on failure)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; checkpoints are for sharing
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _atomic_write(path: Path, write) -> None:
    """Write a file through `write(tmp_name)` and rename it over `path`: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def pending_manifest(path: str | Path) -> Path:
    """Where `save` puts the next manifest before the weights are renamed into place."""
    path = Path(path)
    return path.parent / f".{path.stem}.json.pending"


def write_pair(path: str | Path, blob: dict, info: dict) -> dict:
    """Write `blob` to `path` and its manifest (`info` + sha256) beside it, as one change.

    Order: weights to a temporary file; the manifest to `.NAME.json.pending`; the weights renamed
    into place; the manifest renamed into place. A reader (`load_raw`) accepts the weights with
    whichever manifest carries their sha256, so a kill at any point leaves a loadable pair (the old
    one or the new one) and a full disk leaves the old pair as it was. Returns the manifest.
    """
    path = Path(path)
    buf = io.BytesIO()
    torch.save(blob, buf)
    data = buf.getvalue()
    manifest = dict(info, file=path.name, sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    text = (json.dumps(manifest, indent=2) + "\n").encode()
    tmp = _write_tmp(path, data)
    try:
        pending = pending_manifest(path)
        _atomic_write(pending, lambda t: Path(t).write_bytes(text))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        os.replace(pending, path.with_suffix(".json"))
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return manifest


def repair(path: str | Path) -> None:
    """Finish a `write_pair` that was cut off after the weights' rename: put the pending
    manifest in place if it describes the weights on disk, else drop it (a writer's job, under
    the run's lock)."""
    path = Path(path)
    pending = pending_manifest(path)
    if not pending.exists():
        return
    try:
        mine = json.loads(pending.read_text()).get("sha256") == sha256(path)
    except (OSError, ValueError, AttributeError):
        mine = False
    if mine:
        os.replace(pending, path.with_suffix(".json"))
        _fsync_dir(path.parent)
    else:
        pending.unlink()


def save(path: str | Path, model: NeuralGPU, task: str, meta: dict | None = None,
         train_state: dict | None = None) -> dict:
    """Write `model` for `task` to `path` (and its manifest `path.with_suffix('.json')`) atomically.

    `meta` adds provenance (seed, steps, wall time, preset, accuracy …); `train_state` (optimiser
    state, curriculum …) lets a run resume. Returns the manifest.
    """

    path = Path(path)
    bad = non_finite(model.state_dict())
    if bad:
        raise CheckpointError(f"not saving {path}: the model's weights are not finite (NaN or "
                              f"infinity in {', '.join(bad[:3])}), as after a diverged run; "
                              "nothing was overwritten")
    info = {
        "format": FORMAT,
        "task": get_task(task).name,
        "config": model.config_dict(),
        "library_version": __version__,
        "git_commit": git_commit(),
        "changed_files": changed_library_files(),
        "hardware": hardware(),
        "cpu_model": cpu_model(),
        "torch_version": str(torch.__version__),
    }
    info.update(meta or {})
    blob = {"info": info, "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    if train_state is not None:
        blob["train_state"] = train_state
    return write_pair(path, blob, info)


# sizes a checkpoint's config may claim: past these a model is refused before anything is built
CONFIG_LIMITS = {"w": 64, "m": 4096, "l": 16, "kernel": 15, "relax_sets": 64, "n_symbols": 1024}
REQUIRED_CONFIG = ("w", "m", "l", "kernel", "relax_sets", "n_symbols")


def non_finite(state: dict) -> list[str]:
    """The names of the floating tensors in `state` holding a NaN or an infinity."""
    return [k for k, v in state.items() if isinstance(v, torch.Tensor) and v.is_floating_point()
            and not bool(torch.isfinite(v).all())]


def _read_checkpoint(path: Path) -> bytes:
    return read_regular(path, MAX_CHECKPOINT_BYTES, "checkpoint", CheckpointError,
                        "no model within the weight limit has a checkpoint that large")


def _read_verified(path: Path) -> tuple[bytes, dict]:
    """The file's bytes and the manifest whose sha256 they match (the final or the pending one),
    checked before anything unpickles them (a truncated file is a sha256 mismatch).

    Read again when the file changed while it was read (a writer renamed a new one in)."""
    manifest_path = path.with_suffix(".json")
    for _ in range(3):
        before = path.stat()
        data = _read_checkpoint(path)
        digest = hashlib.sha256(data).hexdigest()
        seen, vanished = [], False
        for mpath in (manifest_path, pending_manifest(path)):
            if not os.path.lexists(mpath):
                continue
            try:  # (JSON's errors are ValueErrors too)
                manifest = json.loads(read_regular(mpath, MAX_MANIFEST_BYTES, "manifest"))
            except ValueError:
                vanished = vanished or not os.path.lexists(mpath)  # renamed by a writer
                manifest = None
            if isinstance(manifest, dict) and manifest.get("sha256") == digest:
                return data, manifest
            seen.append((mpath, manifest))
        after = path.stat()
        if not vanished and (before.st_ino, before.st_mtime_ns, before.st_size) == (
                after.st_ino, after.st_mtime_ns, after.st_size):
            break
    if not seen:  # nothing to check against: say first if the file is no checkpoint at all
        _unpickle(data, path)
        raise CheckpointError(f"checkpoint {path} has no manifest {manifest_path.name} beside it "
                              "to check its sha256 against; keep the .json with the .pt")
    mpath, manifest = seen[0]
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise CheckpointError(f"manifest {mpath} is malformed (no sha256); restore it with its "
                              "checkpoint or retrain")
    raise CheckpointError(f"checkpoint {path} is corrupt or was changed: its sha256 does not match "
                          f"its manifest {mpath.name}; restore or retrain it")


def _unpickle(data: bytes, path: Path) -> dict:
    """A checkpoint's bytes as plain data (never code), checked to carry our format tag."""
    if not data.startswith(b"PK\x03\x04"):  # torch.save writes a zip archive; a bare pickle is not ours
        raise CheckpointError(f"{path} is not an ngpu_lite checkpoint (not a torch zip archive)")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickles; our one line says it
            warnings.simplefilter("ignore")
            blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001  (any unpickling failure means a bad file)
        raise CheckpointError(f"checkpoint {path} is corrupt or not a checkpoint "
                              f"({type(e).__name__}); retrain or restore it") from None
    if not isinstance(blob, dict) or not isinstance(blob.get("info"), dict) \
            or blob["info"].get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an ngpu_lite checkpoint")
    return blob


def load_raw(path: str | Path, *, verify: bool = True) -> dict:
    """The checkpoint's contents as plain data, checked to be an ngpu_lite checkpoint whose bytes
    match the sha256 in its manifest (`verify=False` skips only that last check)."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} not found; train one with "
                              "'python -m ngpu_lite train --task TASK --out DIR'")
    try:  # the bytes are checked against the manifest before they are unpickled
        data = _read_verified(path)[0] if verify else _read_checkpoint(path)
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e.strerror or e}") from None
    return _unpickle(data, path)


def _check_value(name: str, value, default) -> str | None:
    """Why `value` is no good for config field `name` (whose default is `default`), or None."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be a whole number"
        top = CONFIG_LIMITS.get(name, 1 << 16)
        return None if 1 <= value <= top else f"must be between 1 and {top}"
    if isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "must be a finite number"
    return None if isinstance(value, str) else "must be a string"


def check_model(blob: dict, path: str | Path) -> dict:
    """Check a Neural GPU checkpoint's kind, task, config and every tensor's name, shape and dtype
    against the model its config describes, built on the meta device (no memory); returns the
    config. Catches a file whose config claims a huge model before any memory is allocated."""
    info = blob["info"]
    kind = info.get("kind", "neural-gpu")
    if kind != "neural-gpu":
        raise CheckpointError(f"checkpoint {path} holds a model of kind {kind!r}, not a Neural GPU; predict "
                              "and evaluate take Neural GPU checkpoints")
    if info.get("task") not in TASKS:
        raise CheckpointError(f"checkpoint {path} names no known task ({info.get('task')!r}); "
                              "it is malformed")
    config = info.get("config")
    if not isinstance(config, dict):
        raise CheckpointError(f"checkpoint {path} holds no model config; it is malformed")
    fields = {f.name: f.default for f in dataclasses.fields(Config)}
    problems = [f"unknown key {k!r}" for k in config if k not in fields]
    problems += [f"missing key {k!r}" for k in REQUIRED_CONFIG if k not in config]
    for k, v in config.items():
        why = _check_value(k, v, fields[k]) if k in fields else None
        if why:
            problems.append(f"{k} = {v!r} {why}")
    if problems:
        raise CheckpointError(f"checkpoint {path} has a malformed config: {'; '.join(problems)}")
    try:
        with torch.device("meta"):
            shell = NeuralGPU(**config)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"checkpoint {path} has a config the model refuses: {e}") from None
    state = blob.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"checkpoint {path} holds no weights; it is malformed")
    want = {k: tuple(v.shape) for k, v in shell.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    wrong = sorted(set(want) ^ set(got)) + [k for k in want if k in got and want[k] != got[k]]
    wrong += [k for k, v in state.items() if k in want and not v.is_floating_point()]
    if wrong:
        raise CheckpointError(f"checkpoint {path} does not match its own config "
                              f"(tensors {', '.join(wrong[:4])}); it is damaged")
    bad = non_finite(state)
    if bad:  # what a diverged run writes: it would predict nothing, silently
        raise CheckpointError(f"checkpoint {path} holds weights that are not finite (NaN or "
                              f"infinity in {', '.join(bad[:3])}): its run diverged; retrain, or "
                              "use an earlier checkpoint or snapshot")
    return config


def load(path: str | Path, task: str | None = None, device: str | torch.device = "cpu",
         *, verify: bool = True) -> tuple[NeuralGPU, dict]:
    """Model (in eval mode) and provenance from a checkpoint file or run folder.

    The file must match its manifest's sha256 (unless `verify=False`) and its config and tensors
    must describe one model. With `task` given, a checkpoint trained for another task raises
    CheckpointError.
    """
    device = check_device(device)
    blob = load_raw(path, verify=verify)
    info = blob["info"]
    config = check_model(blob, path)
    if task is not None and info["task"] != get_task(task).name:
        raise CheckpointError(f"checkpoint {path} was trained for task {info['task']!r}, "
                              f"not {get_task(task).name!r}")
    model = NeuralGPU(**config)
    try:
        model.load_state_dict(blob["state_dict"])
    except RuntimeError:
        raise CheckpointError(f"checkpoint {path} does not match its own config; "
                              "it is damaged") from None
    return model.to(device).eval(), info


# The model families shipped: the improved Neural GPU (2017) for every task, and the paper's
# Neural GPU (2016) for some; a family's checkpoint is `TASK.pt` or `TASK-paper.pt`.
MODELS = ("improved", "paper")


def shipped_name(task: str, model: str = "improved") -> str:
    """The file stem of the shipped `model` ("improved" or "paper") for `task`."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    name = get_task(task).name
    return name if model == "improved" else f"{name}-{model}"


def split_name(stem: str) -> tuple[str, str]:
    """(task, model) of a shipped checkpoint's file stem: "badd-paper" -> ("badd", "paper")."""
    for model in MODELS[1:]:
        if stem.endswith(f"-{model}"):
            return stem.removesuffix(f"-{model}"), model
    return stem, "improved"


def pretrained(task: str, device: str | torch.device | None = None,
               model: str = "improved") -> NeuralGPU:
    """The shipped trained model for `task`, in eval mode: the improved Neural GPU (2017) by
    default, the paper's Neural GPU (2016) with `model="paper"` where one is shipped."""

    name = get_task(task).name
    stem = shipped_name(name, model)
    device = check_device(device) if device is not None else default_device()
    path = SHIPPED_DIR / f"{stem}.pt"
    if not path.exists():
        have = sorted(p.stem for p in SHIPPED_DIR.glob("*.pt")) if SHIPPED_DIR.exists() else []
        how = (f"train one with 'python -m ngpu_lite train --task {name} --out DIR'"
               if model == "improved" else
               f"train it with 'python -m ngpu_lite.results.zoo build --tasks {stem}'")
        raise CheckpointError(f"no shipped checkpoint {stem!r} for task {name!r} "
                              f"(shipped: {', '.join(have) or 'none'}); {how}")
    net, _ = load(path, name, device)
    return net


def average(models: list[NeuralGPU]) -> NeuralGPU:
    """A model whose every weight is the mean of `models`' weights: this project's averaging of
    models of one architecture (the 2016 code averages no weights; its `--ensemble` sums the
    models' output probabilities). Averaging is only meaningful between models that share their
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
