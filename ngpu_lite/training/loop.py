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
from ..model.evaluate import check_work, evaluate, score
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
        for digits, samples in tests:  # the checks' evaluations are bounded as evaluate's are
            try:
                check_work({}, digits, samples)
            except ValueError as e:
                raise ValueError(f"until {(digits, samples)}: {e}") from None


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
    `checkpoints.average`, this project's weight averaging; the 2016 code averaged none).
    """
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
        raise ValueError(f"keep must be a whole number of at least 0, not {keep!r}")
    check_options(steps, minutes, until, checkpoint_every, check_every, seed)
    if device is not None:
        checkpoints.check_device(device)
    if start_model is not None and not isinstance(start_model, NeuralGPU):
        raise TypeError(f"start_model must be a NeuralGPU (or None), not "
                        f"{type(start_model).__name__}; load one with ngpu_lite.load(path)[0]")
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
    """The body of `train`, run with the run folder locked: start (or resume) the run, then loop.

    Each step is the paper's recipe in order: a batch at the curriculum's lengths under the
    schedule's dropout, the loss with the relaxation pull, the gradient clipped and noised, the
    optimiser's step. Each epoch ends with the schedule's bookkeeping (curriculum, pull, averaging,
    learning rate) and, once the curriculum is done, an optional check on fresh long inputs."""
    run = _Run.start(task, preset, out, seed, steps, minutes, until, check_every, start_model,
                     device, keep, overrides)
    model, p, state = run.model, run.p, run.state
    bar = tqdm(total=steps, initial=state["step"], disable=not progress, desc=f"train {run.t.name}",
               unit="step", dynamic_ncols=True)
    interrupt = _Interrupt() if out is not None else None
    stopped = "steps"
    try:
        while not (stopped := run.stop_reason(steps, minutes, interrupt)):
            # the forward pass: a batch at the curriculum's lengths, dropped out at the schedule's rate
            ce, sat, scored, counted = run.forward()
            # the loss: cross-entropy, the relaxation pull between the parameter sets, saturation
            loss = ce + relaxation_pull(model, state["pull"]) + saturation_term(p, state, sat)
            stop_if_diverged(run, loss)  # a NaN loss would write NaN weights at the next checkpoint
            # the update: gradient, clipped, with gradient noise, one optimiser step
            run.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradient(model, p.clip)
            add_noise(model, p, state, run.gen)
            optimizer_step(run.optimizer, state["step"])
            state["step"] += 1
            run.tally(ce, sat, scored, counted)
            bar.update(1)
            if state["step"] % p.epoch_steps == 0 and run.end_epoch(bar):
                stopped = "generalised"  # the check on fresh long inputs passed
                break
            if state["step"] % checkpoint_every == 0:
                run.save(snapshots=True)
    finally:
        bar.close()
        if interrupt is not None:
            interrupt.restore()
    return run.finish(stopped)


class TrainingDiverged(ValueError):
    """The loss (or the weights) turned NaN or infinite: the run stops, its last checkpoint kept."""


def stop_if_diverged(run: _Run, loss: torch.Tensor) -> None:
    """Stop the run with one line when this step's loss or the weights it was computed with are
    not finite, before its update: the folder keeps its last checkpoint, whose weights were
    finite (`checkpoints.save` refuses others). A weight can overflow while the loss stays finite
    (an infinite embedding passes through tanh), so both are checked."""
    params = list(run.model.parameters())
    if bool(torch.isfinite(loss.detach()).all()) and bool(
            torch.stack([torch.isfinite(p.detach()).all() for p in params]).all()):
        return
    bad = [name for name, p in run.model.named_parameters() if not bool(torch.isfinite(p).all())]
    what = (f"the weights are not finite (NaN or infinity in {', '.join(bad[:3])})" if bad else
            f"the loss is {float(loss.detach()):.4g}")
    kept = (f"the checkpoint of step {run.saved} in {run.out} is kept" if run.saved is not None
            else "no checkpoint was written" if run.out is not None else "nothing was saved")
    raise TrainingDiverged(f"training diverged at step {run.state['step'] + 1}: {what}; {kept}. "
                           "Resuming repeats it: train into a new --out with a lower lr or a clip")


def relaxation_pull(model: NeuralGPU, pull: float) -> torch.Tensor | float:
    """`pull · Σ ||p_i − mean(p)||²` over the relaxation sets (0 without relaxation)."""
    return pull * pull_cost(model) if model.relax_sets > 1 and pull > 0 else 0.0


def saturation_term(p: Preset, state: dict, sat: torch.Tensor) -> torch.Tensor | float:
    """The saturation cost of hard units at its current weight (0 when the preset has none)."""
    return state["saturation_weight"] * sat if p.saturation > 0 else 0.0


def clip_gradient(model: NeuralGPU, clip: float) -> None:
    """Scale the whole gradient down to norm `clip` (0: no clipping)."""
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)


def add_noise(model: NeuralGPU, p: Preset, state: dict, gen: torch.Generator) -> None:
    """The paper's gradient noise (`p.noise`, shrinking with the step and the error) and DNGPU's
    (`p.noise_lr`, a truncated normal scaled by the learning rate)."""
    if p.noise > 0:
        add_gradient_noise(model.parameters(), noise_sigma(p.noise, state["step"] + 1,
                                                           state["seq_err"]), gen)
    if p.noise_lr > 0:
        add_gradient_noise(model.parameters(), state["lr"] * p.noise_lr, gen, truncated=True)


def optimizer_step(optimizer: torch.optim.Optimizer, step: int) -> None:
    """One optimiser step (DNGPU's AdaMax first anneals its β2 by the step)."""
    if isinstance(optimizer, ClippedAdamax):
        for group in optimizer.param_groups:
            group["beta2"] = dngpu_beta2(step)
    optimizer.step()


def _epoch_counts() -> dict:
    """The counters an epoch accumulates (loss, errors, symbols), all zero."""
    return {"loss": 0.0, "n": 0, "wrong": 0, "seen": 0, "wrong_cur": 0, "seen_cur": 0,
            "right_sym": 0, "sym": 0, "sat": 0.0, "loss_cur": 0.0, "n_cur": 0}


class _Run:
    """One training run's state between steps: the model, its optimiser, the schedule's state,
    the random generators and the run folder. Bookkeeping only; the loop is `_train`."""

    @classmethod
    def start(cls, task, preset, out, seed, steps, minutes, until, check_every, start_model,
              device, keep, overrides) -> _Run:
        """A fresh run, or the one in `out` resumed where its last checkpoint stopped."""
        run = cls()
        run.t = t = get_task(task)
        run.p = p = get_preset(preset, **overrides)
        if p.structured_families:  # an unknown family fails here, not at its first draw
            training_operands(t, max(p.min_digits, 1), random.Random(0), p.structured_families)
        run.tests = [] if until is None else [tuple(until)] if isinstance(until[0], int) else [
            tuple(u) for u in until]
        shown = [list(u) for u in run.tests] if len(run.tests) > 1 else list(run.tests[0]) \
            if run.tests else None
        run.passed_label = f"generalised {shown}" if run.tests else ""
        run.check_every, run.seed, run.keep = check_every, seed, keep
        run.dev = dev = torch.device(device) if device is not None else default_device()
        run.out = out = Path(out) if out is not None else None
        resume = _check_folder(out, t.name, p.name, seed) if out is not None else None
        if out is not None:  # the folder is locked: what a killed writer left can go
            _tidy(out, t.name, p.name, seed)
        torch.manual_seed(seed)
        model = start_model if start_model is not None else NeuralGPU(**p.model)
        run.by_length = p.curriculum and p.curriculum_rule == "length"  # the 2016 code's curriculum
        lo_len, hi_len = curriculum_lengths(p, t)
        state = {"step": 0, "seconds": 0.0, "digits": p.start_digits if p.curriculum else p.max_digits,
                 "length": min(hi_len, max(lo_len, p.start_length)),
                 "lr": p.lr, "pull": p.pull, "seq_err": 1.0, "perplexities": [], "stopped": "",
                 "final_dropout": 0.0, "saturation_weight": p.saturation, "losses": [],
                 "phases": [], "checks": []}
        if run.by_length:
            state["digits"] = digits_for_length(t, state["length"])
        run.history, run.note = [], ""
        if resume is not None:
            model = NeuralGPU(**resume["info"]["config"])
            model.load_state_dict(resume["state_dict"])
            ts = resume["train_state"]
            if not isinstance(ts.get("rng"), dict):
                run.note = (f"resumed at step {ts['step']} from a checkpoint without the random "
                            "generators' states: from here the data, dropout and noise differ from "
                            "an uninterrupted run")
            state.update({k: ts[k] for k in state if k in ts})
            if "length" not in ts:  # a checkpoint from before the length curriculum: resume near it
                state["length"] = min(hi_len, max(lo_len, length_for(state["digits"])))
            if not state["phases"] and state["step"] > 0:  # older than phase records
                state["phases"] = [{"from_step": 0, "to_step": state["step"], "note": "not recorded"}]
        # provenance: every call of train on this run is a phase, every until-check is recorded
        state["phases"] = state["phases"] + [{
            "from_step": state["step"], "steps": steps, "minutes": minutes,
            "until": [list(u) for u in run.tests], "check_every": check_every,
            "overrides": json.loads(json.dumps(overrides, default=str)),
            "start_model": start_model is not None and resume is None,
            "git_commit": checkpoints.git_commit()} | ({"note": run.note} if run.note else {})]
        model.to(dev).train()
        run.model, run.state = model, state
        run.optimizer = make_optimizer(model, p, state["lr"])
        if resume is not None:
            try:
                run.optimizer.load_state_dict(resume["train_state"]["optimizer"])
            except (ValueError, KeyError, TypeError):
                raise RunFolderError(f"{out}/checkpoint.pt holds an optimiser state of another "
                                     "model and cannot be resumed; choose a new --out folder") from None
        if out is not None:  # the log agrees with the checkpoint: steps after it are run again
            run.history = _read_log(out, state["step"])
        run.schedule = PullSchedule(state["pull"], p.pull_factor, p.pull_limit)
        # data, dropout and noise: a checkpoint stores every generator's state, so a resumed run
        # draws what the uninterrupted run would have; an older checkpoint without them falls back
        # to generators seeded by (seed, step), a different but reproducible stream (noted in the log)
        run.rng = train_stream(seed, state["step"])
        run.gen = torch.Generator().manual_seed(seed * 7_919 + state["step"])
        if resume is not None and not run.note:
            _set_rng_state(resume["train_state"]["rng"], run.rng, run.gen, dev)
        run.saved = state["step"] if resume is not None else None
        run.pool = {}  # hard-example replay (p.replay): bucket width -> examples
        if resume is not None and isinstance(resume["train_state"].get("replay"), dict):
            run.pool = {int(b): list(q) for b, q in resume["train_state"]["replay"].items()}
        run.epoch = _epoch_counts()
        if resume is not None and isinstance(resume["train_state"].get("epoch"), dict):
            run.epoch.update({k: v for k, v in resume["train_state"]["epoch"].items()
                              if k in run.epoch})
        run.started = time.time() - state["seconds"]
        return run

    def stop_reason(self, steps, minutes, interrupt) -> str:
        """Why the run stops before its next step ("" to go on)."""
        if interrupt is not None and interrupt.asked:
            return "interrupted"  # Ctrl-C: stop between two steps and keep them all
        if self.tests and self.state["stopped"] == self.passed_label:
            return "generalised"  # a resumed run that already passed this test stays done
        if steps is not None and self.state["step"] >= steps:
            return "steps"
        if minutes is not None and time.time() - self.started >= 60 * minutes:
            return "minutes"
        return ""

    def forward(self):
        """One training forward at the schedule's dropout: (cross-entropy, saturation cost, the
        answers as `(pred, y, lengths)` groups, which examples count for the current length)."""
        p, t, state, model, dev = self.p, self.t, self.state, self.model, self.dev
        if p.bins:  # DNGPU: every length bucket in every step
            rate = dropout_rate(p, p.max_digits, state["digits"], state["final_dropout"])
            ce, sat, scored = bucket_step(model, t, p, self.rng, rate, dev, self.pool)
            digits = [int(n) for _, _, lengths in scored for n in lengths]
            counted = torch.tensor(digits, device=dev) == max(digits)
            return ce, sat, scored, counted
        if self.by_length:  # one drawn length per batch, counted if not past the curriculum's
            drawn = sample_length(p, state["length"], t, self.rng)
            digits = [digits_for_length(t, drawn)] * p.batch
        else:
            digits = sample_digits(p, state["digits"], self.rng)
        rate = dropout_rate(p, max(digits), state["digits"], state["final_dropout"])
        x, y, lengths = make_batch(t, digits, self.rng, target=model.config.target,
                                   structured=p.structured, families=p.structured_families)
        x, y, lengths = x.to(dev), y.to(dev), lengths.to(dev)
        with autocast(dev, p.precision):
            logits = forward_buckets(model, x, lengths, rate, p.buckets)
        inside = torch.arange(x.shape[1], device=dev)[None, :] < lengths[:, None]
        if p.loss_norm == "bucket":  # the 2016 code: Σ over the examples / (B · bucket)
            ce = F.cross_entropy(logits[inside], y[inside], reduction="sum") / (
                x.shape[0] * bucket_2016(x.shape[1]))
        else:
            ce = F.cross_entropy(logits[inside], y[inside])
        if self.by_length:  # the 2016 code counts every batch up to the length
            counted = torch.full((len(digits),), drawn <= state["length"], device=dev)
        else:
            counted = torch.tensor(digits, device=dev) == state["digits"]
        return ce, model.saturation, [(logits.detach().argmax(-1), y, lengths)], counted

    @torch.no_grad()
    def tally(self, ce, sat, scored, counted) -> None:
        """Add one step's loss, errors and symbols to the epoch's counts."""
        epoch = self.epoch
        ok = torch.cat([score(pr, yy, ll)[0] for pr, yy, ll in scored])
        if bool(counted.all()):
            epoch["loss_cur"] += ce.item()
            epoch["n_cur"] += 1
        epoch["sat"] += float(sat.detach()) if torch.is_tensor(sat) else float(sat)
        epoch["loss"] += ce.item()
        epoch["n"] += 1
        epoch["wrong"] += int((~ok).sum())
        epoch["seen"] += len(ok)
        epoch["wrong_cur"] += int((~ok & counted).sum())
        epoch["seen_cur"] += int(counted.sum())
        epoch["right_sym"] += sum(score(pr, yy, ll)[1] for pr, yy, ll in scored)
        epoch["sym"] += sum(score(pr, yy, ll)[2] for pr, yy, ll in scored)

    def end_epoch(self, bar) -> bool:
        """The schedule's bookkeeping (`_end_epoch`), the log line and, when due and the curriculum
        is done, the check on fresh long inputs; True when that check passed."""
        p, state, model = self.p, self.state, self.model
        state["seconds"] = time.time() - self.started
        rec = _end_epoch(model, p, state, self.epoch, self.schedule, self.history, task=self.t.name)
        if rec.get("averaged") and p.relax_average == "merge":  # new parameter tensors
            self.optimizer = make_optimizer(model, p, state["lr"])
        for group in self.optimizer.param_groups:
            group["lr"] = state["lr"]
        bar.set_postfix(loss=f"{rec['loss']:.3f}", err=f"{rec['seq_err']:.2f}", digits=state["digits"])
        self.epoch = _epoch_counts()
        # test far longer inputs only once the curriculum has reached the longest length
        due = (state["step"] // p.epoch_steps) % max(1, self.check_every) == 0
        # (under dropout_final the training error stays high: the curriculum's end suffices)
        fitted = rec["err_longest"] == 0.0 or p.dropout_final > 0 or bool(p.bins)
        passed = False
        if self.tests and due and fitted and state["digits"] >= p.max_digits:
            model.eval()
            passed = _until_passed(model, self.t.name, self.tests, state["step"], rec)
            model.train()
            state["checks"] = state["checks"] + [{
                "step": state["step"], "tests": [list(u) for u in self.tests],
                "passed": rec["until_passed"], "digits": rec["until_digits"],
                "exact": rec["until_exact"]}]
        if self.note:  # the log says where an old checkpoint's resume changed the streams
            rec["note"], self.note = self.note, ""
        if self.out is not None:
            _append_log(self.out, rec)
        if passed:
            state["stopped"] = self.passed_label
        return passed

    def save(self, snapshots: bool = False) -> None:
        """Write the checkpoint (weights, optimiser, generators, the epoch so far) atomically, and
        with `snapshots` keep this step's weights among the last `keep`."""
        out, state = self.out, self.state
        if out is None:
            return
        state["seconds"] = time.time() - self.started
        ts = {k: state[k] for k in state}
        ts["optimizer"] = self.optimizer.state_dict()
        ts["rng"] = _rng_state(self.rng, self.gen, self.dev)
        ts["epoch"] = dict(self.epoch)  # a checkpoint inside an epoch resumes that epoch's counts
        if self.p.replay:
            ts["replay"] = {str(b): q for b, q in self.pool.items()}
        try:
            checkpoints.save(out / "checkpoint.pt", self.model, self.t.name,
                             meta={"preset": self.p.name, "seed": self.seed, "steps": state["step"],
                                   "wall_seconds": round(state["seconds"], 1),
                                   "recipe": asdict(self.p), "phases": state["phases"],
                                   "checks": state["checks"]}, train_state=ts)
        except OSError as e:
            kept = f"the checkpoint of step {self.saved} is kept" if self.saved is not None else \
                "no checkpoint was written yet"
            raise RunFolderError(f"cannot write a checkpoint in {out} ({e.strerror or e}); {kept}: "
                                 "free space and rerun the same command to resume") from None
        self.saved = state["step"]
        if snapshots and self.keep:
            snapshot(out, self.model, self.t.name, state["step"], self.keep)

    def finish(self, stopped: str) -> TrainResult:
        """Close the phase, save the last step (and its snapshot) and return the result."""
        state = self.state
        state["seconds"] = time.time() - self.started
        state["phases"][-1].update(to_step=state["step"], stopped=stopped)
        self.save(snapshots=state["step"] > 0)  # a run that passed its check stops between checkpoints
        if stopped == "interrupted":
            raise KeyboardInterrupt(f"training interrupted at step {state['step']}, saved in {self.out}")
        return TrainResult(self.model.eval(), self.history, state["step"], state["seconds"],
                           state["digits"], stopped)


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
