"""Training: Adam, clipping, dropout, real gradient noise, curriculum, relaxation, checkpoints.

`train(task, preset=...)` runs one training loop with a tqdm progress bar. With an `out` folder it
logs one JSON line per epoch to `out/log.jsonl` and writes `out/checkpoint.pt` atomically every
`checkpoint_every` steps; calling it again with the same folder resumes where the last checkpoint
stopped. Presets: `paper` (the 2016 code's recipe, point by point; `ngpu_lite/PAPER_PRESET.md`
lists where it departs and why), `fast` (the improved recipe), `dngpu` (DNGPU's multiplication
set-up) and `tiny` (for tests).
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import checkpoints
from .evaluate import evaluate, score
from .model import NeuralGPU
from .optim import ClippedAdamax, dngpu_beta2
from .relax import PullSchedule, assign_mean, average_sets, pull_cost
from .tasks import Task, get_task, length_for, make_batch, train_stream


@dataclass
class Preset:
    """A training recipe. Every field can be overridden by a keyword of `train`."""

    name: str
    model: dict = field(default_factory=dict)  # NeuralGPU keyword arguments
    batch: int = 32
    lr: float = 1e-3
    eps: float = 1e-4
    optimizer: str = "adam"  # or "adamax"
    clip: float = 1.0  # gradient-norm clipping; 0 turns it off
    dropout: float = 0.15  # state dropout at 8 digits, scaled as 8/digits above that
    dropout_scaled: bool = True  # False: the same dropout at every length (the improved recipe's)
    # "digits": dropout · min(1, 8 / digits), the library's rule; "length": the 2016 code's,
    # dropout · 8 / L at every length, L the padded bucket length of the batch (`bucket_2016`)
    dropout_rule: str = "digits"
    dropout_final: float = 0.0  # once the curriculum reaches max_digits: this constant rate (0: off)
    dropout_step: float = 0.0  # >0: reach dropout_final in steps of this size, one per fitted epoch
    noise: float = 0.0  # gradient-noise scale; 0 turns it off
    curriculum: bool = True  # False: every length up to max_digits in every step
    # "digits": advance one operand digit when the error at exactly the current digits is below
    # `threshold`; "length": the 2016 code's, advance one sequence length (half a digit of a
    # two-operand task) when the error over every batch up to the current length is below it
    curriculum_rule: str = "digits"
    start_digits: int = 3
    start_length: int = 6  # curriculum_rule="length": the first length (2016 code: minimum 3 + 3)
    min_digits: int = 1
    max_digits: int = 20
    threshold: float = 0.15  # advance when the epoch's error at the current length is below it
    epoch_steps: int = 200
    pull: float = 0.0005  # relaxation pull and its schedule (only with relax_sets > 1)
    pull_factor: float = 1.2
    pull_limit: float = 0.1
    # "merge": once the pull passes its limit, merge the sets into one shared set, once; "assign":
    # the 2016 code's, at every fitted epoch from then on give each set the mean, keeping r sets
    relax_average: str = "merge"
    saturation: float = 0.0  # weight of the saturation cost (hard nonlinearities)
    lr_decay: float = 0.98
    precision: str = "fp32"  # "bf16": bfloat16 autocast for the forward pass (weights stay fp32)
    buckets: int = 1  # forward a mixed-length batch in this many groups of similar length
    # DNGPU's way (Freivalds & Liepins 2017), used by the `dngpu` preset: every length bucket in
    # every step, `batch` examples each, a share `shorter` of them shorter ones padded up
    bins: tuple[int, ...] = ()
    shorter: float = 0.05
    # "perplexity": × lr_decay when an epoch's perplexity exceeds the last three; "perplexity_2016"
    # the same plus the 2016 code's interplay: a curriculum advance writes 10⁶ into that memory
    # and averaging the sets (`relax_average="assign"`) with the error below threshold/3 decays
    # too; "plateau": × lr_decay when two epochs gain nothing (DNGPU)
    lr_rule: str = "perplexity"
    # "mean": cross-entropy averaged over the positions inside the examples; "bucket": the 2016
    # code's, summed over them and divided by batch × the padded bucket length (`bucket_2016`)
    loss_norm: str = "mean"
    lr_min: float = 0.0  # the learning rate never falls below lr × this
    noise_lr: float = 0.0  # DNGPU's gradient noise: truncated normal × lr × this, every step
    saturation_adaptive: bool = False  # DNGPU: weight ← min(saturation, lr·loss/cost) each epoch
    # beyond the paper: this share of training examples drawn from the task's structured families
    # (leading zeros, long carries, runs, ...; `families.training_operands`), the rest random
    structured: float = 0.0
    # which families that share draws from, uniformly (empty: every family of the task but random)
    structured_families: tuple[str, ...] = ()
    # beyond the paper, bucket training only: this share of each bucket's examples replays
    # training examples the model got wrong in earlier steps (hard-example replay), oldest first
    replay: float = 0.0
    # bucket training only: "bucket", DNGPU's, runs every example of a bucket the bucket's steps
    # (a short example holds its answer for the extra steps); "own" runs each example its own
    # `model.steps_for(n)` steps on its own n cells, exactly as it is evaluated
    bucket_steps: str = "bucket"


PRESETS: dict[str, Preset] = {
    # The paper and its 2016 code (`neural_gpu.py`, `neural_gpu_trainer.py`, `data_utils.py`),
    # point by point: m = 24 (the paper's; the code's default is 128), tanh(E[i]) then a learned
    # 1×1 input convolution, r = 6 relaxation sets drawn independently, assigned their mean at each
    # fitted epoch once the pull passes 0.1, dropout 0.15·8/L (L the padded bucket length), a
    # curriculum from length 6 by one length at a time on the error over every batch up to the
    # current length, the perplexity memory and lr decay as the trainer does them, the loss
    # divided by the bucket length, gradient noise off (the code's default scale is 0).
    # Where it departs (binary copy/reverse/duplicate, fresh data): ngpu_lite/PAPER_PRESET.md.
    "paper": Preset("paper", model=dict(m=24, relax_sets=6, input_layer="conv",
                                        relax_init="independent"),
                    noise=0.0, dropout_rule="length", curriculum_rule="length",
                    relax_average="assign", lr_rule="perplexity_2016", loss_norm="bucket"),
    # The first public release of the 2016 code (tensorflow/models, January 2016): the same model
    # with its other defaults, point by point: batch 64, 100-step epochs, curriculum threshold
    # 0.12, gradient-norm clipping at 0.05, dropout 0.2 at every length with the output read after
    # the dropout, the pull grown at every fitted epoch until 1.0, then the sets assigned their mean
    # with a learning-rate decay at every fitted epoch; gradient noise off (that code's loop adds
    # it to a rebound name only). Where it departs: ngpu_lite/PAPER_PRESET.md.
    "paper-jan": Preset("paper-jan", model=dict(m=24, relax_sets=6, input_layer="conv",
                                                relax_init="independent", readout_dropout=True),
                        batch=64, epoch_steps=100, threshold=0.12, clip=0.05, dropout=0.2,
                        dropout_scaled=False, noise=0.0, curriculum_rule="length",
                        relax_average="assign", pull_limit=1.0, lr_rule="perplexity_jan",
                        loss_norm="bucket"),
    # The improved recipe (Freivalds & Liepins 2017): a one-row image of m = 48 channels, one CGRU
    # per step with diagonal gates and hard nonlinearities, dropout on the candidate, a saturation
    # cost, AdaMax at a high learning rate; plus the paper's curriculum (whether it is faster here
    # than training on every length at once has not been measured). Once the curriculum
    # reaches 20 digits the candidate dropout climbs to 0.5 (the authors' rate for addition), by
    # 0.1 per epoch fitted at 20 digits: the noise makes the learned rule hold over thousands of
    # steps, i.e. on 2000-digit inputs; in steps, it does not knock a fitted model off its rule.
    "fast": Preset("fast", model=dict(w=1, m=48, l=1, hard=True, diagonal=True,
                                      dropout_on="candidate"),
                   optimizer="adamax", lr=0.01, eps=1e-8, dropout=0.1, saturation=1e-4,
                   epoch_steps=50, dropout_final=0.5, dropout_step=0.1),
    # A small, quick recipe for tests and fast chapter cells.
    "tiny": Preset("tiny", model=dict(w=2, m=16), batch=16, max_digits=6, start_digits=2,
                   epoch_steps=25, threshold=0.05, dropout=0.05, lr=0.003),
    # DNGPU's multiplication set-up, point by point (`DNGPU_trainer.py`, `DNGPU_model.py`,
    # `data_utils_2.py`, `adamax.py`): m = 96, a linear input layer with hard tanh, Glorot init,
    # the product written with zeros to the input's length, 32 examples in each of 9 length
    # buckets every step (no curriculum), dropout 0.1 on candidate and input, AdaMax with
    # per-value clipping and annealed β2, lr 0.01·48/m decayed ×0.7 on plateaus (floor lr/60),
    # gradient noise lr·1e-4, a saturation cost past ±0.9 with an adaptive weight.
    "dngpu": Preset("dngpu", model=dict(w=1, m=96, l=1, hard=True, diagonal=True,
                                        dropout_on="candidate", input_layer="linear",
                                        init="glorot", saturation_limit=0.9, target="zeros"),
                    batch=32, optimizer="clipped_adamax", lr=0.005, eps=1e-8, clip=0.0,
                    dropout=0.1, dropout_scaled=False, curriculum=False, epoch_steps=200,
                    bins=(8, 12, 16, 20, 25, 28, 31, 36, 41), lr_rule="plateau", lr_decay=0.7,
                    lr_min=1 / 60, noise_lr=1e-4, saturation=1e-3, saturation_adaptive=True),
}


def get_preset(name: str | Preset, **overrides) -> Preset:
    """A preset by name, with `overrides` applied; unknown names raise ValueError."""
    if isinstance(name, Preset):
        base = name
    elif name in PRESETS:
        base = PRESETS[name]
    else:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    unknown = set(overrides) - set(asdict(base))
    if unknown:
        raise ValueError(f"unknown training option(s): {', '.join(sorted(unknown))}")
    p = replace(base, **overrides)
    for name, allowed in (("curriculum_rule", ("digits", "length")),
                          ("relax_average", ("merge", "assign")),
                          ("lr_rule", ("perplexity", "perplexity_2016", "perplexity_jan", "plateau")),
                          ("bucket_steps", ("bucket", "own")),
                          ("loss_norm", ("mean", "bucket"))):
        if getattr(p, name) not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, not {getattr(p, name)!r}")
    if p.optimizer not in ("adam", "adamax", "clipped_adamax"):  # not silently Adam
        raise ValueError(f"optimizer must be one of ('adam', 'adamax', 'clipped_adamax'), "
                         f"not {p.optimizer!r}")
    if p.precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be one of ('fp32', 'bf16'), not {p.precision!r}")
    for name in ("batch", "epoch_steps", "buckets", "min_digits", "start_digits", "max_digits"):
        if not _is_count(getattr(p, name), 1):
            raise ValueError(f"{name} must be a whole number of at least 1, not {getattr(p, name)!r}")
    if not (isinstance(p.lr, int | float) and math.isfinite(p.lr) and p.lr > 0):
        raise ValueError(f"lr must be a finite number above 0, not {p.lr!r}")
    for name in ("dropout", "dropout_final"):
        if not (isinstance(getattr(p, name), int | float) and 0.0 <= getattr(p, name) < 1.0):
            raise ValueError(f"{name} is a probability from 0 to below 1, not {getattr(p, name)!r}")
    if not 0.0 <= p.structured <= 1.0:
        raise ValueError(f"structured is a share of the examples, from 0 to 1, not {p.structured!r}")
    if not (isinstance(p.replay, int | float) and 0.0 <= p.replay < 1.0):
        raise ValueError(f"replay is a share of the examples, from 0 to below 1, not {p.replay!r}")
    if p.replay and not p.bins:
        raise ValueError("replay works with bucket training only (a preset with bins, as dngpu)")
    if not isinstance(p.model, dict):
        raise ValueError(f"model must be a dict of NeuralGPU arguments, not {p.model!r}")
    try:
        with torch.device("meta"):  # the model's own checks, before any folder or memory
            NeuralGPU(**p.model)
    except TypeError as e:  # an unknown keyword
        raise ValueError(f"model holds something that is not a NeuralGPU option ({e})") from None
    longest = max((d for group in bin_digits(p.bins) for d in group), default=0)
    if longest > p.max_digits:  # the manifest's max_digits must be what training saw
        raise ValueError(f"bins up to length {max(p.bins)} train on {longest}-digit operands, past "
                         f"max_digits {p.max_digits}; raise max_digits or drop the long bins")
    return p


def noise_sigma(scale: float, step: int, seq_err: float) -> float:
    """The code's gradient-noise std: `scale·sqrt(step^−0.55 · max(0, seq_err − 0.02))`."""
    return scale * math.sqrt(max(1, step) ** -0.55 * max(0.0, seq_err - 0.02))


def add_gradient_noise(params, sigma: float, generator: torch.Generator | None = None,
                       truncated: bool = False) -> None:
    """Add N(0, sigma²) to every gradient *in place* (the reference code's loop never did).

    `truncated`: redraw values past two standard deviations, as TensorFlow's truncated normal."""
    if sigma <= 0:
        return
    for p in params:
        if p.grad is not None:
            z = torch.randn(p.grad.shape, generator=generator)
            if truncated:
                bad = z.abs() > 2
                while bad.any():
                    z[bad] = torch.randn(int(bad.sum()), generator=generator)
                    bad = z.abs() > 2
            p.grad.add_(z.to(p.grad) * sigma)


BINS_2016 = (8, 12, 16, 20, 24, 28, 32, 36, 40, 48, 64)  # data_utils.bins, trimmed as its trainer
FORWARD_MAX_2016 = 401


def bucket_2016(length: int) -> int:
    """The padded length the 2016 code gives a sequence of `length` (`data_utils.pad`)."""
    return next((b for b in BINS_2016 if b >= length), FORWARD_MAX_2016)


def dropout_rate(p: Preset, digits: int, level: int = 0, final: float | None = None) -> float:
    """The library's schedule: `dropout` up to 8 digits, then `dropout · 8 / digits` (or `dropout`
    at every length when the preset's `dropout_scaled` is False); with `dropout_rule="length"` the
    2016 code's `dropout · 8 / L`, L the padded bucket length of `2 · digits + 1`. With
    `dropout_final`, that rate instead once the curriculum `level` is the longest length: strong
    noise on a model that has fit every training length makes it robust over thousands of steps,
    i.e. on far longer inputs.
    With `dropout_step` the rate climbs there step by step: `final` is how far it has got."""
    if p.dropout_final > 0 and level >= p.max_digits:
        if p.dropout_step > 0 and final is not None:
            return min(p.dropout_final, max(final, dropout_rate(p, p.max_digits)))
        return p.dropout_final
    if not p.dropout_scaled:
        return p.dropout
    if p.dropout_rule == "length":
        return p.dropout * 8.0 / bucket_2016(2 * max(1, digits) + 1)
    if p.dropout_rule != "digits":
        raise ValueError(f"dropout_rule must be 'digits' or 'length', not {p.dropout_rule!r}")
    return p.dropout * min(1.0, 8.0 / max(1, digits))


def sample_digits(p: Preset, cur: int, rng: random.Random) -> list[int]:
    """Operand sizes for one batch.

    Curriculum (the code's mix): `U[min, cur]`; with 60% the max with a second draw; with 25% the
    max with `U[min, max_digits]`. Without curriculum: every size from 1 to `max_digits`, cycled.
    """
    if not p.curriculum:
        sizes = list(range(p.min_digits, p.max_digits + 1))
        return [sizes[i % len(sizes)] for i in range(max(p.batch, 0))]
    d = rng.randint(p.min_digits, cur)
    if rng.random() < 0.6:
        d = max(d, rng.randint(p.min_digits, cur))
    if rng.random() < 0.25:
        d = max(d, rng.randint(p.min_digits, p.max_digits))
    return [d] * p.batch


def digits_for_length(task: str | Task, length: int) -> int:
    """Operand digits of the longest input of at most `length` symbols (at least 1): the 2016
    code's `get_batch`, which falls back to the next shorter length holding data, so an even
    length of a two-operand task gives the digits of the odd length below it."""
    if get_task(task).name == "duplicate":  # d symbols, then room for the copy: length 2d
        return max(1, length // 2)
    return max(1, (length - 1) // 2)


def curriculum_lengths(p: Preset, task: str | Task) -> tuple[int, int]:
    """The smallest and largest sequence length of the 2016 curriculum: those of `min_digits`
    and `max_digits` (3 and 41 for 1..20 digits, as the 2016 trainer's minimum and maximum)."""
    if get_task(task).name == "duplicate":
        return 2 * p.min_digits, 2 * p.max_digits
    return length_for(p.min_digits), length_for(p.max_digits)


def sample_length(p: Preset, cur: int, task: str | Task, rng: random.Random) -> int:
    """The 2016 trainer's draw of one batch's sequence length at curriculum length `cur`:
    `U[lo, cur]`; with 60% the max with a second draw; with 25% the max with `U[lo, hi]`."""
    lo, hi = curriculum_lengths(p, task)
    n = rng.randint(lo, cur)
    if rng.random() < 0.6:
        n = max(n, rng.randint(lo, cur))
    if rng.random() < 0.25:
        n = max(n, rng.randint(lo, hi))
    return n


def autocast(dev: torch.device, precision: str) -> torch.autocast:
    """Mixed precision for a forward pass: `bf16` runs convolutions in bfloat16, `fp32` nothing."""
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'fp32' or 'bf16', not {precision!r}")
    return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def forward_buckets(model: NeuralGPU, x: torch.Tensor, lengths: torch.Tensor, dropout: float,
                    buckets: int = 1) -> torch.Tensor:
    """Float logits `[B, n, symbols]` of a mixed-length batch, run as `buckets` groups of similar
    length, each only as wide as its longest example: no work on the padding of short examples."""
    B, n = x.shape
    if buckets <= 1 or B < 2:
        return model(x, lengths, dropout=dropout).float()
    order = torch.argsort(lengths, stable=True)
    logits, saturation = None, 0.0
    for idx in order.tensor_split(min(buckets, B)):
        width = int(lengths[idx].max())
        part = model(x[idx, :width], lengths[idx], dropout=dropout).float()
        saturation = saturation + model.saturation * len(idx) / B
        if logits is None:
            logits = part.new_zeros(B, n, part.shape[-1])
        logits[idx, :width] = part
    model.saturation = saturation  # mean over the buckets, weighted by their sizes
    return logits


def make_optimizer(model: NeuralGPU, p: Preset, lr: float) -> torch.optim.Optimizer:
    """The preset's optimiser: `adam`, `adamax` (torch's) or `clipped_adamax` (DNGPU's)."""
    if p.optimizer == "clipped_adamax":
        return ClippedAdamax(model.parameters(), lr=lr, eps=p.eps)
    if p.optimizer not in ("adam", "adamax"):
        raise ValueError(f"optimizer must be adam, adamax or clipped_adamax, not {p.optimizer!r}")
    cls = torch.optim.Adamax if p.optimizer == "adamax" else torch.optim.Adam
    return cls(model.parameters(), lr=lr, eps=p.eps)


def bin_digits(bins: tuple[int, ...]) -> list[list[int]]:
    """Operand sizes in each of DNGPU's length buckets: the `d` with `2d + 1` in `(previous, bin]`."""
    out, prev = [], 0
    for b in bins:
        out.append([d for d in range(1, b) if prev < 2 * d + 1 <= b])
        prev = b
    return out


def sample_bins(p: Preset, rng: random.Random) -> list[list[int]]:
    """Operand sizes for one step of bucket training: `batch` per bucket.

    DNGPU keeps up to 10,000 distinct examples per length and pools a bucket's lengths, so a size
    is drawn in proportion to `min(4^d, 10000)`; a share `shorter` comes from a smaller bucket."""
    groups = bin_digits(p.bins)
    if any(not g for g in groups):
        raise ValueError(f"every bin needs at least one odd length in it: {p.bins}")
    out = []
    for i, g in enumerate(groups):
        sizes = []
        for _ in range(p.batch):
            pick = groups[rng.randrange(i)] if i > 0 and rng.random() < p.shorter else g
            sizes.append(rng.choices(pick, weights=[min(4**d, 10_000) for d in pick])[0])
        out.append(sizes)
    return out


def bucket_step(model: NeuralGPU, t, p: Preset, rng: random.Random, dropout: float,
                dev: torch.device, pool: dict[int, list] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, list]:
    """DNGPU's training forward: every bucket runs its full length of steps, cells where input
    and target are both PAD held at zero. Returns (cross-entropy averaged per bucket, saturation
    cost summed and divided by `L²·B` per bucket and averaged, per-bucket `(pred, y, lengths)`).
    With `p.replay` and a `pool` (bucket width to `[x, y, length]` lists), the first rows of each
    bucket replay pooled examples, and the examples this step gets wrong join the pool."""
    ce, sat, scored = 0.0, 0.0, []
    for b, sizes in zip(p.bins, sample_bins(p, rng), strict=True):
        x, y, lengths = make_batch(t, sizes, rng, target=model.config.target, width=b,
                                   structured=p.structured, families=p.structured_families)
        if p.replay and pool is not None:
            queue = pool.setdefault(b, [])
            k = min(len(queue), round(p.replay * len(sizes)))
            for i, (xi, yi, n) in enumerate(queue[:k]):
                x[i], y[i], lengths[i] = torch.tensor(xi), torch.tensor(yi), n
            del queue[:k]
        x, y = x.to(dev), y.to(dev)
        if p.bucket_steps == "own":  # each example its own steps on its own cells, as evaluated
            lens = lengths.to(dev)
            with autocast(dev, p.precision):
                logits = model(x, lens, dropout=dropout).float()
            inside = torch.arange(x.shape[1], device=dev)[None, :] < lens[:, None]
            ce = ce + F.cross_entropy(logits[inside], y[inside])
        else:
            mask = (x != 0) | (y != 0)
            full = torch.full_like(lengths, b).to(dev)
            with autocast(dev, p.precision):
                logits = model(x, full, dropout=dropout, mask=mask).float()
            ce = ce + F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        sat = sat + model.saturation_sum / (b * b * len(sizes))
        scored.append((logits.detach().argmax(-1), y, lengths.to(dev)))
        if p.replay and pool is not None:
            wrong = (~score(*scored[-1])[0]).nonzero()[:, 0].tolist()
            queue = pool[b]
            queue.extend([x[i].tolist(), y[i].tolist(), int(lengths[i])] for i in wrong)
            del queue[:max(0, len(queue) - REPLAY_POOL * len(sizes))]  # the newest stay
    return ce / len(p.bins), sat / len(p.bins), scored


REPLAY_POOL = 4  # the replay pool keeps at most this many buckets' worth of examples per bucket


@dataclass
class TrainResult:
    """What `train` returns: the model (eval mode), the per-epoch history and the end state."""

    model: NeuralGPU
    history: list[dict]
    steps: int
    seconds: float
    digits: int
    stopped: str  # why training ended: "steps", "minutes", "generalised"


class RunFolderError(ValueError):
    """An output folder that holds another run or unrelated files, is in use, or cannot be written."""


LOCK = ".lock"
IDENTITY = "run.json"
# what a run folder may hold besides a checkpoint: a folder holding only these is a run's own
SNAPSHOTS = "snapshots"  # the last `keep` checkpoints' weights, for averaging
_RUN_FILES = {"log.jsonl", LOCK, IDENTITY, "checkpoint.pt", "checkpoint.json",
              ".checkpoint.json.pending", SNAPSHOTS}


def _is_run_file(name: str) -> bool:
    """Whether `name` is something `train` writes into a run folder (including temporary files)."""
    return name in _RUN_FILES or (name.startswith((".checkpoint.", ".log.jsonl.", ".run.json."))
                                  and name.endswith(".tmp"))


def _check_folder(out: Path, task: str, preset: str, seed: int) -> dict | None:
    """Resume state for this run from `out`, None for a fresh start; refuse a foreign folder, a
    file, a checkpoint that cannot resume, or a folder where another run was started."""
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--out {out} is a file, not a folder; choose a new or empty folder")
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
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
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
    manifest rename was cut off, and record which run this folder is for."""
    for p in out.iterdir():
        if p.name.endswith(".tmp") and _is_run_file(p.name):
            p.unlink(missing_ok=True)
    if (out / "checkpoint.pt").exists():
        checkpoints.repair(out / "checkpoint.pt")
    else:
        checkpoints.pending_manifest(out / "checkpoint.pt").unlink(missing_ok=True)
    folder = out / SNAPSHOTS  # a snapshot write killed halfway leaves the same kinds of file
    for p in folder.iterdir() if folder.is_dir() else []:
        if p.name.startswith(".step-") and p.name.endswith(".tmp"):
            p.unlink(missing_ok=True)
        elif p.name.startswith(".step-") and p.name.endswith(".json.pending"):
            weights = folder / (p.name[1:-len(".json.pending")] + ".pt")
            if weights.exists():
                checkpoints.repair(weights)
            else:
                p.unlink(missing_ok=True)
    if not (out / IDENTITY).exists():
        text = json.dumps({"task": task, "preset": preset, "seed": seed}) + "\n"
        checkpoints._atomic_write(out / IDENTITY, lambda tmp: Path(tmp).write_text(text))


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
    try:
        with open(out / "log.jsonl", "a") as f:
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


def _is_count(v, low: int) -> bool:
    """Whether `v` is a whole number (not a bool) of at least `low`."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


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
    from . import device as default_device

    t = get_task(task)
    p = get_preset(preset, **overrides)
    if p.structured_families:  # an unknown family fails here, not at its first draw
        from .families import training_operands

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
    checkpoints.save(folder / f"step-{step}.pt", model, task, meta={"steps": step})
    for old in snapshots(out)[:-keep]:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)


def snapshots(out: str | Path) -> list[Path]:
    """The snapshot files of a run folder, oldest first."""
    folder = Path(out) / SNAPSHOTS
    found = folder.glob("step-*.pt") if folder.is_dir() else []
    return sorted(found, key=lambda p: int(p.stem.split("-")[1]))


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


def _end_epoch(model, p: Preset, state: dict, epoch: dict, schedule: PullSchedule,
               history: list[dict], task: str = "badd") -> dict:
    """Epoch bookkeeping: metrics, curriculum advance, pull schedule, averaging, lr decay.

    Under the 2016 curriculum (`curriculum_rule="length"`) the error and the perplexity are those
    of the batches up to the current length (`*_cur`), as the 2016 trainer counts them."""
    by_length = p.curriculum and p.curriculum_rule == "length" and not p.bins
    loss = epoch["loss"] / max(1, epoch["n"])
    seq_err = epoch["wrong"] / max(1, epoch["seen"])
    err_cur = epoch["wrong_cur"] / epoch["seen_cur"] if epoch["seen_cur"] else seq_err
    state["seq_err"] = err_cur if by_length else seq_err
    rec = {"step": state["step"], "seconds": round(state["seconds"], 2), "digits": state["digits"],
           "loss": loss, "seq_err": seq_err, "err_longest": err_cur,
           "symbol_acc": epoch["right_sym"] / max(1, epoch["sym"]), "lr": state["lr"],
           "relax_sets": model.relax_sets, "pull": state["pull"]}
    if by_length:
        rec["length"] = state["length"]
        if epoch.get("n_cur"):  # the perplexity of the counted batches drives the lr rule
            loss = rec["loss_cur"] = epoch["loss_cur"] / epoch["n_cur"]
    if p.dropout_final > 0 and state["digits"] >= p.max_digits:
        rec["dropout"] = dropout_rate(p, p.max_digits, state["digits"], state["final_dropout"])
    advanced = False
    if err_cur < p.threshold:
        if by_length and state["length"] < curriculum_lengths(p, task)[1]:
            state["length"] += 1  # one length: half a digit of a two-operand task
            state["digits"] = digits_for_length(task, state["length"])
            advanced = True
        elif p.curriculum and not by_length and state["digits"] < p.max_digits:
            state["digits"] += 1
            advanced = True
        elif p.dropout_step > 0 and "dropout" in rec:  # fitted under this noise: a step more
            state["final_dropout"] = min(p.dropout_final, rec["dropout"] + p.dropout_step)
        if model.relax_sets > 1 and p.relax_average == "assign":
            if schedule.fitted():  # the 2016 order: grow the pull below its limit, else average
                assign_mean(model)
                rec["averaged"] = True
                if (p.lr_rule == "perplexity_2016" and err_cur < p.threshold / 3) or \
                        p.lr_rule == "perplexity_jan":  # January 2016: at every averaging
                    state["lr"] = max(p.lr * p.lr_min, state["lr"] * p.lr_decay)
            state["pull"] = schedule.pull
        elif model.relax_sets > 1:
            if schedule.advance():
                average_sets(model)
                rec["averaged"] = True
            state["pull"] = schedule.pull
    if p.saturation_adaptive and epoch["sat"] > 0:
        # DNGPU: the saturation term is kept near lr × the loss, at most `saturation`
        raw = epoch["sat"] / max(1, epoch["n"])
        state["saturation_weight"] = min(p.saturation, max(1e-20, state["lr"] * loss / raw))
        rec["saturation_weight"] = state["saturation_weight"]
    if p.lr_rule == "plateau":
        # DNGPU: decay when the loss two epochs back is below both later ones
        losses = (state["losses"] or [1e6] * 4) + [loss]
        if min(losses[-2:]) > min(losses[-3:]):
            state["lr"] = max(p.lr * p.lr_min, state["lr"] * p.lr_decay)
        state["losses"] = losses[-4:]
    elif p.lr_rule == "perplexity_jan":
        # the January 2016 trainer: a fitted epoch writes 10⁶ into the memory (at every length)
        # and skips the check; any other epoch decays when its perplexity exceeds the last three
        memory = state["perplexities"] or [1e6] * 3
        if err_cur < p.threshold:
            memory = memory + [1e6]
        else:
            perp = min(math.exp(min(loss, 100.0)), 1e4)
            if perp > max(memory[-3:]):
                state["lr"] = max(p.lr * p.lr_min, state["lr"] * p.lr_decay)
            memory = memory + [perp]
        state["perplexities"] = memory[-3:]
    elif p.lr_rule == "perplexity_2016":
        # the 2016 trainer: memory starts as three 10⁶; an advance short of the longest length
        # writes another 10⁶ ("forget last perplexities"), so no decay for the next epochs;
        # perplexity is its safe_exp, capped at 10⁴
        memory = (state["perplexities"] or [1e6] * 3) + ([1e6] if advanced else [])
        perp = min(math.exp(min(loss, 100.0)), 1e4)
        if perp > max(memory[-3:]):
            state["lr"] = max(p.lr * p.lr_min, state["lr"] * p.lr_decay)
        state["perplexities"] = (memory + [perp])[-3:]
    else:
        perp = math.exp(min(loss, 50.0))
        prev = state["perplexities"][-3:]
        if len(prev) == 3 and perp > max(prev):
            state["lr"] = max(p.lr * p.lr_min, state["lr"] * p.lr_decay)
        state["perplexities"] = (prev + [perp])[-3:]
    history.append(rec)
    return rec
