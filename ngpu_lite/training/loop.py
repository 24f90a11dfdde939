"""The training loop: `train(task, preset)`.

Each step draws a batch (the curriculum's or DNGPU's buckets), adds the relaxation pull and the
saturation cost to the loss, clips the gradient, adds gradient noise and steps the optimiser;
each epoch ends with the schedule's bookkeeping (`schedule._end_epoch`) and, once the curriculum
is done, an optional check on fresh long inputs. With an `out` folder the run is resumable
(`run_folder`).
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..data.batches import make_batch
from ..data.families import training_operands
from ..data.tasks import get_task, length_for, train_stream
from ..model import checkpoints
from ..model.evaluate import evaluate, score
from ..model.neural_gpu import NeuralGPU
from ..model.optim import ClippedAdamax, dngpu_beta2
from ..model.relax import PullSchedule, pull_cost
from ..runtime import device as default_device
from .batches import autocast, bucket_step, forward_buckets
from .presets import Preset, _is_count, get_preset
from .run_folder import (
    RunFolderError,
    _append_log,
    _check_folder,
    _Interrupt,
    _read_log,
    _rng_state,
    _RunLock,
    _set_rng_state,
    _tidy,
    snapshot,
)
from .schedule import (
    _end_epoch,
    add_gradient_noise,
    bucket_2016,
    curriculum_lengths,
    digits_for_length,
    dropout_rate,
    noise_sigma,
    sample_digits,
    sample_length,
)


@dataclass
class TrainResult:
    """What `train` returns: the model (eval mode), the per-epoch history and the end state."""

    model: NeuralGPU
    history: list[dict]
    steps: int
    seconds: float
    digits: int
    stopped: str  # why training ended: "steps", "minutes", "generalised"


def make_optimizer(model: NeuralGPU, p: Preset, lr: float) -> torch.optim.Optimizer:
    """The preset's optimiser: `adam`, `adamax` (torch's) or `clipped_adamax` (DNGPU's)."""
    if p.optimizer == "clipped_adamax":
        return ClippedAdamax(model.parameters(), lr=lr, eps=p.eps)
    if p.optimizer not in ("adam", "adamax"):
        raise ValueError(f"optimizer must be adam, adamax or clipped_adamax, not {p.optimizer!r}")
    cls = torch.optim.Adamax if p.optimizer == "adamax" else torch.optim.Adam
    return cls(model.parameters(), lr=lr, eps=p.eps)


def check_options(steps, minutes, until, checkpoint_every: int, check_every: int, seed) -> None:
    """Refuse limits that make no sense (negative, NaN, infinite, zero intervals) before any work:
    a NaN minute limit would never stop, a negative one would stop before starting."""
    if steps is not None and not _is_count(steps, 0):
        raise ValueError(f"steps must be a whole number of at least 0, not {steps!r}")
    if minutes is not None and not (isinstance(minutes, int | float) and not isinstance(minutes, bool)
                                    and math.isfinite(minutes) and minutes >= 0):
        raise ValueError(f"minutes must be a finite number of at least 0, not {minutes!r}")
    if not _is_count(checkpoint_every, 1) or not _is_count(check_every, 1):
        raise ValueError("checkpoint_every and check_every must be whole numbers of at least 1")
    if not _is_count(seed, 0) or seed >= 2**32:
        raise ValueError(f"seed must be a whole number from 0 to 2**32 - 1, not {seed!r}")
    if steps is None and minutes is None and until is None:
        raise ValueError("give steps, minutes or until, or training would never stop")
    if until is not None:
        tests = [until] if until and isinstance(until[0], int) else list(until)
        if not tests or not all(isinstance(u, tuple | list) and len(u) == 2
                                and _is_count(u[0], 1) and _is_count(u[1], 1) for u in tests):
            raise ValueError(f"until must be (digits, samples) or a list of them, each at least "
                             f"1, not {until!r}")


def train(
    task: str,
    preset: str | Preset = "fast",
    *,
    out: str | Path | None = None,
    seed: int = 0,
    steps: int | None = None,
    minutes: float | None = None,
    until: tuple[int, int] | list[tuple[int, int]] | None = None,
    checkpoint_every: int = 100,
    check_every: int = 1,
    progress: bool = True,
    start_model: NeuralGPU | None = None,
    device: str | torch.device | None = None,
    keep: int = 0,
    **overrides,
) -> TrainResult:
    """Train a Neural GPU on `task` and return it with its history.

    Stops after `steps` steps or `minutes` of wall time (counting earlier resumed time), or, with
    `until=(digits, samples)`, once the model answers `samples` fresh `digits`-digit cases exactly
    (checked at the end of every `check_every`-th epoch whose training error is 0 at the longest
    length, or any such epoch under `dropout_final`, whose noise keeps that error up: checks at
    long lengths cost more than the training between them). A list of such tests must all pass
    at one check, in order (say 200 digits, then 2000). A resumed run that already passed the
    same `until` returns at once.
    `start_model` continues training a given model instead of a fresh one. With `keep` and an
    `out` folder, the weights of the last `keep` checkpoints stay in `out/snapshots/` (for
    `checkpoints.average`, the paper's averaging of models).
    """
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
        raise ValueError(f"keep must be a whole number of at least 0, not {keep!r}")
    check_options(steps, minutes, until, checkpoint_every, check_every, seed)
    if device is not None:
        try:
            torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(f"device must name a torch device ('cpu', 'cuda', 'cuda:0' …), "
                             f"not {device!r}") from None
    if out is None:
        return _train(task, preset, out=None, seed=seed, steps=steps, minutes=minutes, until=until,
                      checkpoint_every=checkpoint_every, check_every=check_every,
                      progress=progress, start_model=start_model, device=device, **overrides)
    if str(out).strip() == "":
        raise RunFolderError("the output folder is empty text; name a folder, e.g. --out runs/badd")
    out = Path(out)
    _check_folder(out, get_task(task).name, get_preset(preset, **overrides).name, seed)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with _RunLock(out):
            return _train(task, preset, out=out, seed=seed, steps=steps, minutes=minutes,
                          until=until, checkpoint_every=checkpoint_every, check_every=check_every,
                          progress=progress, start_model=start_model, device=device, keep=keep,
                          **overrides)
    except OSError as e:  # a folder that cannot be made or written (permissions, a full disk)
        raise RunFolderError(f"cannot write in {out} ({e.strerror or e}); choose another --out "
                             "folder or free space, then rerun to resume") from None


def _train(
    task: str,
    preset: str | Preset = "fast",
    *,
    out: str | Path | None = None,
    seed: int = 0,
    steps: int | None = None,
    minutes: float | None = None,
    until: tuple[int, int] | list[tuple[int, int]] | None = None,
    checkpoint_every: int = 100,
    check_every: int = 1,
    progress: bool = True,
    start_model: NeuralGPU | None = None,
    device: str | torch.device | None = None,
    keep: int = 0,
    **overrides,
) -> TrainResult:
    """The body of `train`, run with the run folder locked."""

    t = get_task(task)
    p = get_preset(preset, **overrides)
    if p.structured_families:  # an unknown family fails here, not at its first draw

        training_operands(t, max(p.min_digits, 1), random.Random(0), p.structured_families)
    tests = [] if until is None else [tuple(until)] if isinstance(until[0], int) else [
        tuple(u) for u in until]
    passed_label = f"generalised {[list(u) for u in tests] if len(tests) > 1 else list(tests[0])}" \
        if tests else ""
    dev = torch.device(device) if device is not None else default_device()
    out = Path(out) if out is not None else None
    resume = _check_folder(out, t.name, p.name, seed) if out is not None else None
    if out is not None:  # the folder is locked: what a killed writer left can go
        _tidy(out, t.name, p.name, seed)
    torch.manual_seed(seed)
    model = start_model if start_model is not None else NeuralGPU(**p.model)
    by_length = p.curriculum and p.curriculum_rule == "length"  # the 2016 code's curriculum
    lo_len, hi_len = curriculum_lengths(p, t)
    state = {"step": 0, "seconds": 0.0, "digits": p.start_digits if p.curriculum else p.max_digits,
             "length": min(hi_len, max(lo_len, p.start_length)),
             "lr": p.lr, "pull": p.pull, "seq_err": 1.0, "perplexities": [], "stopped": "",
             "final_dropout": 0.0, "saturation_weight": p.saturation, "losses": [],
             "phases": [], "checks": []}
    if by_length:
        state["digits"] = digits_for_length(t, state["length"])
    history: list[dict] = []
    note = ""
    if resume is not None:
        model = NeuralGPU(**resume["info"]["config"])
        model.load_state_dict(resume["state_dict"])
        ts = resume["train_state"]
        if not isinstance(ts.get("rng"), dict):
            note = (f"resumed at step {ts['step']} from a checkpoint without the random generators' "
                    "states: from here the data, dropout and noise differ from an uninterrupted run")
        state.update({k: ts[k] for k in state if k in ts})
        if "length" not in ts:  # a checkpoint from before the length curriculum: resume near it
            state["length"] = min(hi_len, max(lo_len, length_for(state["digits"])))
        if not state["phases"] and state["step"] > 0:  # a checkpoint older than phase records
            state["phases"] = [{"from_step": 0, "to_step": state["step"], "note": "not recorded"}]
    # provenance: every call of train on this run is a phase, every until-check is recorded
    state["phases"] = state["phases"] + [{
        "from_step": state["step"], "steps": steps, "minutes": minutes,
        "until": [list(u) for u in tests], "check_every": check_every,
        "overrides": json.loads(json.dumps(overrides, default=str)),
        "start_model": start_model is not None and resume is None,
        "git_commit": checkpoints.git_commit()} | ({"note": note} if note else {})]
    model.to(dev).train()
    optimizer = make_optimizer(model, p, state["lr"])
    if resume is not None:
        try:
            optimizer.load_state_dict(resume["train_state"]["optimizer"])
        except (ValueError, KeyError, TypeError):
            raise RunFolderError(f"{out}/checkpoint.pt holds an optimiser state of another model "
                                 "and cannot be resumed; choose a new --out folder") from None
    if out is not None:  # the log agrees with the checkpoint: steps after it are run again
        history = _read_log(out, state["step"])
    schedule = PullSchedule(state["pull"], p.pull_factor, p.pull_limit)
    # data, dropout and noise: a checkpoint stores every generator's state, so a resumed run draws
    # what the uninterrupted run would have; an older checkpoint without them falls back to
    # generators seeded by (seed, step), a different but reproducible stream (noted in the log)
    rng = train_stream(seed, state["step"])
    gen = torch.Generator().manual_seed(seed * 7_919 + state["step"])
    if resume is not None and not note:
        _set_rng_state(resume["train_state"]["rng"], rng, gen, dev)
    saved = [state["step"] if resume is not None else None]
    pool: dict[int, list] = {}  # hard-example replay (p.replay): bucket width -> examples
    if resume is not None and isinstance(resume["train_state"].get("replay"), dict):
        pool = {int(b): list(q) for b, q in resume["train_state"]["replay"].items()}

    def save() -> None:
        if out is None:
            return
        ts = {k: state[k] for k in state}
        ts["optimizer"] = optimizer.state_dict()
        ts["rng"] = _rng_state(rng, gen, dev)
        ts["epoch"] = dict(epoch)  # a checkpoint inside an epoch resumes that epoch's counts
        if p.replay:
            ts["replay"] = {str(b): q for b, q in pool.items()}
        try:
            checkpoints.save(out / "checkpoint.pt", model, t.name,
                             meta={"preset": p.name, "seed": seed, "steps": state["step"],
                                   "wall_seconds": round(state["seconds"], 1),
                                   "recipe": asdict(p), "phases": state["phases"],
                                   "checks": state["checks"]}, train_state=ts)
        except OSError as e:
            kept = f"the checkpoint of step {saved[0]} is kept" if saved[0] is not None else \
                "no checkpoint was written yet"
            raise RunFolderError(f"cannot write a checkpoint in {out} ({e.strerror or e}); {kept}: "
                                 "free space and rerun the same command to resume") from None
        saved[0] = state["step"]

    epoch = {"loss": 0.0, "n": 0, "wrong": 0, "seen": 0, "wrong_cur": 0, "seen_cur": 0,
             "right_sym": 0, "sym": 0, "sat": 0.0, "loss_cur": 0.0, "n_cur": 0}
    if resume is not None and isinstance(resume["train_state"].get("epoch"), dict):
        epoch.update({k: v for k, v in resume["train_state"]["epoch"].items() if k in epoch})
    stopped = "steps"
    start = time.time() - state["seconds"]
    total = steps if steps is not None else None
    bar = tqdm(total=total, initial=state["step"], disable=not progress, desc=f"train {t.name}",
               unit="step", dynamic_ncols=True)
    interrupt = _Interrupt() if out is not None else None
    try:
        while True:
            if interrupt is not None and interrupt.asked:
                stopped = "interrupted"  # Ctrl-C: stop between two steps and keep them all
                break
            if tests and state["stopped"] == passed_label:
                stopped = "generalised"  # a resumed run that already passed this test stays done
                break
            if steps is not None and state["step"] >= steps:
                stopped = "steps"
                break
            if minutes is not None and time.time() - start >= 60 * minutes:
                stopped = "minutes"
                break
            rate = dropout_rate(p, p.max_digits if p.bins else 0, state["digits"],
                                state["final_dropout"])
            if p.bins:  # DNGPU: every length bucket in every step
                ce, sat, scored = bucket_step(model, t, p, rng, rate, dev, pool)
                digits = [int(n) for _, _, lengths in scored for n in lengths]
            else:
                if by_length:  # one drawn length per batch, counted if not past the curriculum's
                    drawn = sample_length(p, state["length"], t, rng)
                    digits = [digits_for_length(t, drawn)] * p.batch
                else:
                    digits = sample_digits(p, state["digits"], rng)
                rate = dropout_rate(p, max(digits), state["digits"], state["final_dropout"])
                x, y, lengths = make_batch(t, digits, rng, target=model.config.target,
                                           structured=p.structured,
                                           families=p.structured_families)
                x, y, lengths = x.to(dev), y.to(dev), lengths.to(dev)
                with autocast(dev, p.precision):
                    logits = forward_buckets(model, x, lengths, rate, p.buckets)
                inside = torch.arange(x.shape[1], device=dev)[None, :] < lengths[:, None]
                if p.loss_norm == "bucket":  # the 2016 code: Σ over the examples / (B · bucket)
                    ce = F.cross_entropy(logits[inside], y[inside], reduction="sum") / (
                        x.shape[0] * bucket_2016(x.shape[1]))
                else:
                    ce = F.cross_entropy(logits[inside], y[inside])
                sat = model.saturation
                scored = [(logits.detach().argmax(-1), y, lengths)]
            loss = ce
            if model.relax_sets > 1 and state["pull"] > 0:
                loss = loss + state["pull"] * pull_cost(model)
            if p.saturation > 0:
                loss = loss + state["saturation_weight"] * sat
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if p.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), p.clip)
            if p.noise > 0:
                add_gradient_noise(model.parameters(),
                                   noise_sigma(p.noise, state["step"] + 1, state["seq_err"]), gen)
            if p.noise_lr > 0:
                add_gradient_noise(model.parameters(), state["lr"] * p.noise_lr, gen, truncated=True)
            if isinstance(optimizer, ClippedAdamax):
                for group in optimizer.param_groups:
                    group["beta2"] = dngpu_beta2(state["step"])
            optimizer.step()
            with torch.no_grad():
                ok = torch.cat([score(pr, yy, ll)[0] for pr, yy, ll in scored])
                r = sum(score(pr, yy, ll)[1] for pr, yy, ll in scored)
                n = sum(score(pr, yy, ll)[2] for pr, yy, ll in scored)
            state["step"] += 1
            if by_length and not p.bins:  # the 2016 code counts every batch up to the length
                cur = torch.full((len(digits),), drawn <= state["length"], device=dev)
            else:
                cur = torch.tensor(digits, device=dev) == (
                    max(digits) if p.bins else state["digits"])
            if bool(cur.all()):
                epoch["loss_cur"] += ce.item()
                epoch["n_cur"] += 1
            epoch["sat"] += float(sat.detach()) if torch.is_tensor(sat) else float(sat)
            epoch["loss"] += ce.item()
            epoch["n"] += 1
            epoch["wrong"] += int((~ok).sum())
            epoch["seen"] += len(digits)
            epoch["wrong_cur"] += int((~ok & cur).sum())
            epoch["seen_cur"] += int(cur.sum())
            epoch["right_sym"] += r
            epoch["sym"] += n
            bar.update(1)
            if state["step"] % p.epoch_steps == 0:
                state["seconds"] = time.time() - start
                rec = _end_epoch(model, p, state, epoch, schedule, history, task=t.name)
                if rec.get("averaged") and p.relax_average == "merge":  # new parameter tensors
                    optimizer = make_optimizer(model, p, state["lr"])
                for group in optimizer.param_groups:
                    group["lr"] = state["lr"]
                bar.set_postfix(loss=f"{rec['loss']:.3f}", err=f"{rec['seq_err']:.2f}",
                                digits=state["digits"])
                epoch = dict.fromkeys(epoch, 0) | {"loss": 0.0}
                # test far longer inputs only once the curriculum has reached the longest length
                due = (state["step"] // p.epoch_steps) % max(1, check_every) == 0
                # (under dropout_final the training error stays high: the curriculum's end suffices)
                fitted = rec["err_longest"] == 0.0 or p.dropout_final > 0 or bool(p.bins)
                passed = False
                if tests and due and fitted and state["digits"] >= p.max_digits:
                    model.eval()
                    passed = _until_passed(model, t.name, tests, state["step"], rec)
                    model.train()
                    state["checks"] = state["checks"] + [{
                        "step": state["step"], "tests": [list(u) for u in tests],
                        "passed": rec["until_passed"], "digits": rec["until_digits"],
                        "exact": rec["until_exact"]}]
                if note:  # the log says where an old checkpoint's resume changed the streams
                    rec["note"], note = note, ""
                if out is not None:
                    _append_log(out, rec)
                if passed:
                    stopped = "generalised"
                    state["stopped"] = passed_label
                    break
            if out is not None and state["step"] % checkpoint_every == 0:
                state["seconds"] = time.time() - start
                save()
                if keep:
                    snapshot(out, model, t.name, state["step"], keep)
    finally:
        bar.close()
        if interrupt is not None:
            interrupt.restore()
    state["seconds"] = time.time() - start
    state["phases"][-1].update(to_step=state["step"], stopped=stopped)
    save()
    if keep and out is not None and state["step"] > 0:  # the last step too (a run that passed
        snapshot(out, model, t.name, state["step"], keep)  # its check stops between checkpoints)
    if stopped == "interrupted":
        raise KeyboardInterrupt(f"training interrupted at step {state['step']}, saved in {out}")
    return TrainResult(model.eval(), history, state["step"], state["seconds"], state["digits"], stopped)


def _until_passed(model: NeuralGPU, task: str, tests: list[tuple[int, int]], step: int,
                  rec: dict) -> bool:
    """Run the `until` tests in order on fresh cases; record how far they got in `rec`.

    Most checks fail, and `evaluate` with `stop_on_error` makes a failure cheap: its batches grow
    from one case, so a long test that fails costs a case or two, not all of its samples.
    """
    for k, (digits, samples) in enumerate(tests):
        res = evaluate(model, task, digits, samples, seed=step + 7 * k, stop_on_error=True)
        rec["until_exact"] = res["exact"]
        rec["until_digits"] = digits
        if res["exact"] < 1.0 or res["samples"] < samples:
            rec["until_passed"] = k
            return False
    rec["until_passed"] = len(tests)
    return True
