"""Accuracy at any length, on fresh random inputs: the test of length generalisation.

`exact` is the share of examples with every output symbol right (the paper's measure);
`per_symbol` the share of right symbols within the examples' lengths. Batches are sized so that
the mental image stays under a memory budget, so 4001-long inputs run on a laptop.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from ..data.batches import make_batch
from ..data.families import Case, case_digits
from ..data.tasks import encode, eval_stream, get_task, length_for, stack_examples
from .neural_gpu import NeuralGPU

MAX_DIGITS = 10_000  # digits per operand, unless max_digits= or NGPU_MAX_DIGITS says otherwise
MAX_SAMPLES = 100_000  # cases per evaluation, unless max_samples= or NGPU_MAX_SAMPLES says otherwise
# seconds per m²·w·l·length² for one case on one CPU core (the shipped badd and bmul models,
# 250 and 500 digits: 3.4e-10 to 5.4e-10); an estimate to warn with, not a promise
SECONDS_PER_UNIT = 4e-10


def estimate_seconds(config: dict, digits: int, cases: int = 1) -> float:
    """Rough seconds on one CPU core for `cases` cases of `digits` digits with a model of
    `config`: `length` steps over an image `w × length × m`, each `l` convolutions of `m²` taps."""
    length = 2 * digits + 1
    return SECONDS_PER_UNIT * cases * config.get("m", 24) ** 2 * config.get("w", 4) \
        * config.get("l", 2) * length**2


def human_time(seconds: float) -> str:
    """A duration in the largest unit that reads well."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.1f} s"


def limit(name: str, given: int | None = None) -> int:
    """The limit `name` ("digits" or "samples"): `given` if not None, else the environment's
    NGPU_MAX_DIGITS / NGPU_MAX_SAMPLES, else MAX_DIGITS / MAX_SAMPLES; checked."""
    env = f"NGPU_MAX_{name.upper()}"
    if given is None:
        text = os.environ.get(env)
        if text is None:
            return MAX_DIGITS if name == "digits" else MAX_SAMPLES
        try:
            given = int(text)
        except ValueError:
            raise ValueError(f"{env} must be a whole number of at least 1, not {text!r}") from None
        if given < 1:
            raise ValueError(f"{env} must be a whole number of at least 1, not {text!r}")
        return given
    if not isinstance(given, int) or isinstance(given, bool) or given < 1:
        raise ValueError(f"max_{name} must be a whole number of at least 1, not {given!r}")
    return given


def check_work(config: dict, digits: int, samples: int, max_digits: int | None = None,
               max_samples: int | None = None, how: tuple[str, str] = ("max_digits=",
                                                                       "max_samples=")) -> None:
    """Refuse `samples` cases of `digits` digits past either limit (`limit`) with one line: the
    limit, the estimated time, and how to move the limit (`how`: the two options' spellings)."""
    for name, value, given, option in (("digits", digits, max_digits, how[0]),
                                       ("samples", samples, max_samples, how[1])):
        top = limit(name, given)
        if value > top:
            what = "digits per operand" if name == "digits" else "cases per evaluation"
            cost = human_time(estimate_seconds(config, digits, samples))
            raise ValueError(
                f"{value:,} {'digits' if name == 'digits' else 'cases'} is past the limit of "
                f"{top:,} {what} (about {cost} for {samples:,} case{'s' if samples != 1 else ''} "
                f"of {digits:,} digits on one CPU core); give {option}{value} (or set "
                f"NGPU_MAX_{name.upper()}) to run it anyway")


def score(pred: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """Per-example exactness `[B]` (bool), right symbols and total symbols within each length."""
    n = y.shape[1]
    inside = torch.arange(n, device=y.device)[None, :] < lengths.to(y.device)[:, None]
    right = (pred == y) | ~inside
    return right.all(dim=1), int(((pred == y) & inside).sum()), int(inside.sum())


def score_2016(pred: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor
               ) -> tuple[torch.Tensor, int, int]:
    """`score` by the 2016 code's rule (`data_utils.accuracy`): only positions whose target is
    not PAD count, so a digit written after the answer has ended is not an error. The book's
    `score` is stricter (every position inside the length), the same wherever the PAD tail is
    PAD; `ngpu_lite/PAPER_PRESET.md` lists it as a departure."""
    n = y.shape[1]
    inside = torch.arange(n, device=y.device)[None, :] < lengths.to(y.device)[:, None]
    counted = inside & (y != 0)
    right = (pred == y) | ~counted
    return right.all(dim=1), int(((pred == y) & counted).sum()), int(counted.sum())


def batch_size_for(model: NeuralGPU, length: int, budget_mb: float = 256.0) -> int:
    """Largest batch whose mental image (and gates) fits in about `budget_mb` megabytes."""
    c = model.config
    per_example = 4 * c.m * c.w * length * 4 * 4  # s, 2m gates, candidate, float32
    return max(1, int(budget_mb * 2**20 // per_example))


def _check_model(model) -> None:
    """A model is a torch module that predicts (a NeuralGPU, or a baseline): one line otherwise."""
    if not (isinstance(model, torch.nn.Module) and callable(getattr(model, "predict", None))):
        raise TypeError(f"model must be a NeuralGPU (or a baseline with predict), not "
                        f"{type(model).__name__}; load one with ngpu_lite.pretrained(task) or "
                        "ngpu_lite.load(path)")


def _config(model) -> dict:
    """The model's size as a dict for `estimate_seconds` (defaults for a baseline)."""
    if callable(getattr(model, "config_dict", None)):
        return model.config_dict()
    return {}


@torch.no_grad()
def evaluate(
    model: NeuralGPU,
    task: str,
    digits: int,
    samples: int = 64,
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool = False,
    stop_on_error: bool = False,
    *,
    max_digits: int | None = None,
    max_samples: int | None = None,
) -> dict:
    """Exact and per-symbol accuracy on `samples` fresh `digits`-digit examples, and where the
    wrong symbols sit (`wrong_at`: output position, lowest first, to the number wrong there).

    Cases come from the evaluation stream of `seed` (`tasks.eval_stream`), which training never
    draws from.

    With `stop_on_error` it returns at the first wrong batch, and batches grow from one example
    (1, 2, 4, ...), so a model that is not there yet costs about one example's time to say so.

    Work is bounded: more than `max_digits` digits (default 10,000, or NGPU_MAX_DIGITS) or
    `max_samples` cases (default 100,000, or NGPU_MAX_SAMPLES) is refused with the estimated time.
    """
    _check_model(model)
    t = get_task(task)
    for name, value in (("digits", digits), ("samples", samples)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                   or batch_size < 1):
        raise ValueError(f"batch_size must be a whole number of at least 1 or None, "
                         f"not {batch_size!r}")
    check_work(_config(model), digits, samples, max_digits, max_samples)
    rng = eval_stream(seed)
    length = length_for(digits)
    bs = batch_size or min(samples, batch_size_for(model, length))
    dev = next(model.parameters()).device
    target = getattr(getattr(model, "config", None), "target", "pad")  # baselines: the paper's
    exact = right = total = done = 0
    wrong_at: dict[int, int] = {}  # output position (lowest first) -> wrong symbols there
    bar = tqdm(total=samples, desc=f"{t.name} {digits} digits", disable=not progress, leave=False)
    grow = 1 if stop_on_error else bs
    while done < samples:
        b = min(bs, grow, samples - done)
        grow *= 2
        x, y, lengths = make_batch(t, [digits] * b, rng, target=target)
        pred = model.predict(x.to(dev), lengths.to(dev)).cpu()
        ok, r, n = score(pred, y, lengths)
        for pos in ((pred != y) & (torch.arange(y.shape[1])[None, :] < lengths[:, None])).nonzero()[:, 1]:
            wrong_at[int(pos)] = wrong_at.get(int(pos), 0) + 1
        exact += int(ok.sum())
        right += r
        total += n
        done += b
        bar.update(b)
        if stop_on_error and not bool(ok.all()):
            break
    bar.close()
    return {"task": t.name, "digits": digits, "length": length, "samples": done,
            "exact": exact / done, "per_symbol": right / total, "seed": seed,
            "stream": "evaluation", "wrong_at": dict(sorted(wrong_at.items()))}


@torch.no_grad()
def evaluate_cases(model, task: str, pairs: Sequence[Case], digits: int, batch_size: int = 32,
                   bar: tqdm | None = None) -> dict:
    """Exact share, per-symbol share and the wrong cases of `model` on the cases given (operand
    pairs, or `(s,)` strings for one-operand tasks), each written at `digits` bits (leading zeros
    included); `right` counts the exact answers. `bar` (a tqdm bar) advances by each batch."""
    _check_model(model)
    t = get_task(task)
    if isinstance(pairs, str | bytes) or not isinstance(pairs, Sequence) or len(pairs) == 0:
        raise ValueError(f"pairs must be a non-empty list of cases, not {pairs!r:.60}")
    for name, value in (("digits", digits), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    target = model.config.target
    dev = next(model.parameters()).device
    exact, right, total, wrong = 0, 0, 0, []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i : i + batch_size]
        enc = [encode(t, *case_digits(t, case, digits), target=target) for case in chunk]
        x, y, lengths = stack_examples(enc)
        pred = model.predict(x.to(dev), lengths.to(dev)).cpu()
        inside = torch.arange(x.shape[1])[None, :] < lengths[:, None]
        ok = ((pred == y) | ~inside).all(1)
        exact += int(ok.sum())
        right += int(((pred == y) & inside).sum())
        total += int(inside.sum())
        wrong += [case for case, good in zip(chunk, ok.tolist(), strict=True) if not good]
        if bar is not None:
            bar.update(len(chunk))
    return {"samples": len(pairs), "exact": exact / max(1, len(pairs)),
            "per_symbol": right / max(1, total), "wrong": wrong, "right": exact}
