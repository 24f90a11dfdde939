"""Training recipes as data: `Preset` and the named presets (`paper`, `paper-jan`, `fast`, `tiny`,
`dngpu`).

A preset holds every knob of a run; `train(task, preset, **overrides)` takes one by name and any
field as a keyword. `get_preset` checks every value before any work is done.
`ngpu_lite/PAPER_PRESET.md` lists where `paper` departs from the 2016 code, and why.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import torch

from ..model.neural_gpu import NeuralGPU


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


def _is_count(v, low: int) -> bool:
    """Whether `v` is a whole number (not a bool) of at least `low`."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def bin_digits(bins: tuple[int, ...]) -> list[list[int]]:
    """Operand sizes in each of DNGPU's length buckets: the `d` with `2d + 1` in `(previous, bin]`."""
    out, prev = [], 0
    for b in bins:
        out.append([d for d in range(1, b) if prev < 2 * d + 1 <= b])
        prev = b
    return out


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
                          ("dropout_rule", ("digits", "length")),
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
    for name in ("batch", "epoch_steps", "buckets", "min_digits", "start_digits", "max_digits",
                 "start_length"):
        if not _is_count(getattr(p, name), 1):
            raise ValueError(f"{name} must be a whole number of at least 1, not {getattr(p, name)!r}")
    for name in ("dropout_scaled", "curriculum", "saturation_adaptive"):  # "no" would be True
        if not isinstance(getattr(p, name), bool):
            raise ValueError(f"{name} must be True or False, not {getattr(p, name)!r}")
    # every number finite: a NaN clip turns clipping off, a NaN threshold never advances
    for name, low, above in (("eps", 0, True), ("clip", 0, False), ("noise", 0, False),
                             ("threshold", 0, False), ("dropout_step", 0, False),
                             ("pull", 0, False), ("pull_factor", 0, True),
                             ("pull_limit", 0, False), ("saturation", 0, False),
                             ("lr_decay", 0, True), ("lr_min", 0, False), ("noise_lr", 0, False),
                             ("shorter", 0, False)):
        value = getattr(p, name)
        if not (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value) and (value > low if above else value >= low)):
            raise ValueError(f"{name} must be a finite number {'above' if above else 'of at least'}"
                             f" {low}, not {value!r}")
    if p.min_digits > p.max_digits:
        raise ValueError(f"min_digits ({p.min_digits}) is past max_digits ({p.max_digits}); "
                         "training draws operands from min_digits to max_digits")
    if p.curriculum and p.curriculum_rule == "digits" and not (
            p.min_digits <= p.start_digits <= p.max_digits):
        raise ValueError(f"start_digits ({p.start_digits}) must be from min_digits "
                         f"({p.min_digits}) to max_digits ({p.max_digits}): the curriculum "
                         "starts there and climbs to max_digits")
    if not (isinstance(p.bins, tuple | list) and all(_is_count(b, 1) for b in p.bins)
            and list(p.bins) == sorted(set(p.bins))):
        raise ValueError(f"bins must be increasing whole lengths, not {p.bins!r}")
    if not (isinstance(p.structured_families, tuple | list)
            and all(isinstance(f, str) for f in p.structured_families)):
        raise ValueError(f"structured_families must be a tuple of family names, not "
                         f"{p.structured_families!r}")
    if not (isinstance(p.lr, int | float) and math.isfinite(p.lr) and p.lr > 0):
        raise ValueError(f"lr must be a finite number above 0, not {p.lr!r}")
    for name in ("dropout", "dropout_final"):
        if not (isinstance(getattr(p, name), int | float) and 0.0 <= getattr(p, name) < 1.0):
            raise ValueError(f"{name} is a probability from 0 to below 1, not {getattr(p, name)!r}")
    if not (isinstance(p.structured, int | float) and 0.0 <= p.structured <= 1.0):
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
