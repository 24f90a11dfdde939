"""The run folder: what lets a training run stop anywhere and resume as the same run.

`out/checkpoint.pt` (weights, optimiser, every random generator's state) with its manifest,
`out/log.jsonl` (one line per epoch), `out/run.json` (which run the folder is for),
`out/snapshots/` (the last `keep` checkpoints' weights), and a lock so that two runs never write
into one folder. None of this is the training itself; `loop.train` calls it by name.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import threading
from pathlib import Path

import torch

from ..model import checkpoints
from ..model.neural_gpu import NeuralGPU


class RunFolderError(ValueError):
    """An output folder that holds another run or unrelated files, is in use, or cannot be written."""


LOCK = ".lock"


IDENTITY = "run.json"


# what a run folder may hold besides a checkpoint: a folder holding only these is a run's own
SNAPSHOTS = "snapshots"  # the last `keep` checkpoints' weights, for averaging


_RUN_FILES = {"log.jsonl", LOCK, IDENTITY, "checkpoint.pt", "checkpoint.json",
              ".checkpoint.json.pending", SNAPSHOTS}


# a write's temporary file: `.TARGET.XXXXXXXX.tmp` (tempfile's random part), TARGET the file it
# becomes; the pending manifest's own is `..checkpoint.json.pending.XXXXXXXX.tmp`
_TEMP = re.compile(r"\.(?P<target>.+)\.[A-Za-z0-9_]+\.tmp")
# what `snapshots/` holds: the weights and manifest of a step, and a step's pending manifest
_SNAPSHOT = re.compile(r"step-(?P<step>\d+)\.(pt|json)|\.step-(?P<pending>\d+)\.json\.pending")


def temp_target(name: str) -> str | None:
    """The file a temporary file named `name` was being written as, or None for another name."""
    m = _TEMP.fullmatch(name)
    return m["target"] if m else None


def _is_run_file(name: str) -> bool:
    """Whether `name` is something `train` writes into a run folder (including temporary files)."""
    return name in _RUN_FILES or temp_target(name) in _RUN_FILES | {"checkpoint.json"}


def _refuse_links(out: Path) -> None:
    """Refuse a run folder where a file the run writes is a symbolic link: writing through it
    would change a file outside the folder (a run never follows one)."""
    folder = out / SNAPSHOTS
    names = [p for p in out.iterdir() if _is_run_file(p.name)]
    if folder.is_dir() and not folder.is_symlink():
        names += [p for p in folder.iterdir() if _SNAPSHOT.fullmatch(temp_target(p.name) or p.name)]
    for p in names:
        if p.is_symlink():
            raise RunFolderError(f"{p} is a symbolic link (to {os.readlink(p)}); a run writes only "
                                 "its own files and never through a link: remove the link, then "
                                 "rerun")


def _check_folder(out: Path, task: str, preset: str, seed: int) -> dict | None:
    """Resume state for this run from `out`, None for a fresh start; refuse a foreign folder, a
    file, a checkpoint that cannot resume, or a folder where another run was started."""
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--out {out} is a file, not a folder; choose a new or empty folder")
    if out.is_dir():
        _refuse_links(out)
    mine = (task, preset, seed)
    ckpt = out / "checkpoint.pt"
    if ckpt.exists():
        blob = checkpoints.load_raw(ckpt)
        info = blob["info"]
        theirs = (info.get("task"), info.get("preset"), info.get("seed"))
        if theirs != mine:
            raise RunFolderError(
                f"{out} holds another run (task {info.get('task')}, preset {info.get('preset')}, "
                f"seed {info.get('seed')}); choose another --out folder")
        checkpoints.check_model(blob, ckpt)
        ts = blob.get("train_state")
        if not isinstance(ts, dict):
            raise RunFolderError(f"{ckpt} is a model without its training state (a shipped or "
                                 "exported checkpoint) and cannot be resumed; choose a new --out "
                                 "folder (train's start_model continues from a model)")
        if not (isinstance(ts.get("step"), int) and ts["step"] >= 0
                and isinstance(ts.get("optimizer"), dict)):
            raise RunFolderError(f"{ckpt} has a malformed training state and cannot be resumed; "
                                 "choose a new --out folder")
        return blob
    if out.exists():
        try:
            ident = json.loads((out / IDENTITY).read_text())
        except FileNotFoundError:
            ident = None
        except (OSError, ValueError):
            ident = {}
        if ident is not None and (not isinstance(ident, dict) or (
                ident.get("task"), ident.get("preset"), ident.get("seed")) != mine):
            got = ident if isinstance(ident, dict) else {}
            raise RunFolderError(
                f"{out} holds another run, stopped before its first checkpoint (task "
                f"{got.get('task')}, preset {got.get('preset')}, seed {got.get('seed')}); "
                "choose another --out folder")
        if any(not _is_run_file(p.name) for p in out.iterdir()):
            raise RunFolderError(f"{out} is not empty and holds no ngpu_lite run; "
                                 "choose an empty or new --out folder")
    return None


class _RunLock:
    """An exclusive lock on a run folder (`flock` on `DIR/.lock`), so that two runs never write
    into one folder; the system drops it when the process ends, however it ends."""

    def __init__(self, out: Path):
        self.path = out / LOCK
        self.fd: int | None = None

    def __enter__(self) -> _RunLock:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): run unlocked
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RunFolderError(f"{self.path.parent} is in use by another training run (process "
                                 f"{holder}); wait for it to end or choose another --out folder"
                                 ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file releases the lock
            self.fd = None


def _tidy(out: Path, task: str, preset: str, seed: int) -> None:
    """Under the lock: remove temporary files of killed writes, finish a checkpoint pair whose
    manifest rename was cut off, write the snapshot a kill cut off, and record which run this
    folder is for."""
    for p in out.iterdir():
        if temp_target(p.name) is not None and _is_run_file(p.name):
            p.unlink(missing_ok=True)
    if (out / "checkpoint.pt").exists():
        checkpoints.repair(out / "checkpoint.pt")
    else:
        checkpoints.pending_manifest(out / "checkpoint.pt").unlink(missing_ok=True)
    _tidy_snapshots(out, task)
    if not (out / IDENTITY).exists():
        text = json.dumps({"task": task, "preset": preset, "seed": seed}) + "\n"
        checkpoints._atomic_write(out / IDENTITY, lambda tmp: Path(tmp).write_text(text))


def _tidy_snapshots(out: Path, task: str) -> None:
    """A snapshot write killed halfway leaves the same kinds of file as a checkpoint's: remove
    its temporary files, finish or drop its pending manifest, drop a manifest whose weights a cut
    prune removed, and write the snapshot of the checkpoint's step again if it was lost (the run
    snapshots every checkpoint, so the resumed run ends with the snapshots of an uninterrupted one)."""
    folder = out / SNAPSHOTS
    if not folder.is_dir():
        return  # the run keeps no snapshots
    for p in folder.iterdir():
        target = temp_target(p.name)
        m = _SNAPSHOT.fullmatch(target or p.name)
        if m is None:
            continue
        if target is not None:
            p.unlink(missing_ok=True)
        elif m["pending"] is not None:
            weights = folder / f"step-{m['pending']}.pt"
            if weights.exists():
                checkpoints.repair(weights)
            else:
                p.unlink(missing_ok=True)
    for p in folder.glob("step-*.json"):
        if _SNAPSHOT.fullmatch(p.name) and not p.with_suffix(".pt").exists():
            p.unlink(missing_ok=True)
    ckpt = out / "checkpoint.pt"
    if not ckpt.exists():
        return
    step = checkpoints.load_raw(ckpt)["info"].get("steps")
    if not isinstance(step, int) or step <= 0:
        return
    mine = folder / f"step-{step}.pt"
    try:
        checkpoints.load_raw(mine)
        return
    except checkpoints.CheckpointError:
        pass  # missing, or not the pair it should be: write it from the checkpoint
    model, _ = checkpoints.load(ckpt)
    checkpoints.save(mine, model, task, meta={"steps": step})


def _read_log(out: Path, upto: int) -> list[dict]:
    """The log's records of steps up to `upto` (the checkpoint's step). Records past it (steps the
    resumed run will redo) and a torn or unreadable line (a kill while writing) are dropped and the
    log rewritten without them, so that log and run agree and each step is logged once."""
    path = out / "log.jsonl"
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    keep, dropped = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if isinstance(rec, dict) and isinstance(rec.get("step"), int) and rec["step"] <= upto:
            keep.append(rec)
        else:
            dropped += 1
    if dropped or not text.endswith("\n") and text:
        lines = "".join(json.dumps(r) + "\n" for r in keep)
        checkpoints._atomic_write(path, lambda tmp: Path(tmp).write_text(lines))
    return keep


def _append_log(out: Path, rec: dict) -> None:
    """Append one record to the log in one write (a kill tears at most this last line)."""
    try:  # never through a symbolic link (`_refuse_links` refused one; this closes the race)
        fd = os.open(out / "log.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT
                     | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with open(fd, "a") as f:
            f.write(json.dumps(rec) + "\n")
    except OSError as e:
        raise RunFolderError(f"cannot write the log in {out} ({e.strerror or e}); free space and "
                             "rerun the same command to resume from the last checkpoint") from None


def _rng_state(rng: random.Random, gen: torch.Generator, dev: torch.device) -> dict:
    """Every random generator training draws from, as plain data for the checkpoint."""
    version, values, gauss = rng.getstate()
    state = {"data": [version, list(values), gauss], "noise": gen.get_state(),
             "torch": torch.get_rng_state()}
    if dev.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(dev)
    return state


def _set_rng_state(state: dict, rng: random.Random, gen: torch.Generator, dev: torch.device
                   ) -> None:
    """Put back the generators saved by `_rng_state`, so a resumed run draws what it would have."""
    version, values, gauss = state["data"]
    rng.setstate((version, tuple(values), gauss))
    gen.set_state(state["noise"])
    torch.set_rng_state(state["torch"])
    if dev.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], dev)


class _Interrupt:
    """While a run with a folder trains, Ctrl-C (SIGINT) asks it to stop after the current step,
    save a checkpoint of that step and raise KeyboardInterrupt: nothing trained is lost, and the
    rerun resumes as the same run. A second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.asked = False
        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.asked:
            self.restore()
            raise KeyboardInterrupt
        self.asked = True

    def restore(self) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None


def snapshot(out: Path, model: NeuralGPU, task: str, step: int, keep: int) -> None:
    """Keep this step's weights as `out/snapshots/step-STEP.pt` and only the last `keep` of them."""
    folder = out / SNAPSHOTS
    try:
        checkpoints.save(folder / f"step-{step}.pt", model, task, meta={"steps": step})
        for old in snapshots(out)[:-keep]:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
    except OSError as e:
        raise RunFolderError(f"cannot write the snapshot of step {step} in {folder} "
                             f"({e.strerror or e}); the checkpoint of step {step} is kept: free "
                             "space and rerun the same command to resume (the snapshot is "
                             "written again)") from None


def snapshots(out: str | Path) -> list[Path]:
    """The snapshot files of a run folder, oldest first."""
    folder = Path(out) / SNAPSHOTS
    found = folder.glob("step-*.pt") if folder.is_dir() else []
    return sorted(found, key=lambda p: int(p.stem.split("-")[1]))
