"""Accuracy at any length, on fresh random inputs: the test of length generalisation.

`exact` is the share of examples with every output symbol right (the paper's measure);
`per_symbol` the share of right symbols within the examples' lengths. Batches are sized so that
the mental image stays under a memory budget, so 4001-long inputs run on a laptop.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from ..data.batches import make_batch
from ..data.families import Case, case_digits
from ..data.tasks import encode, eval_stream, get_task, length_for, stack_examples
from .neural_gpu import NeuralGPU


def score(pred: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """Per-example exactness `[B]` (bool), right symbols and total symbols within each length."""
    n = y.shape[1]
    inside = torch.arange(n, device=y.device)[None, :] < lengths.to(y.device)[:, None]
    right = (pred == y) | ~inside
    return right.all(dim=1), int(((pred == y) & inside).sum()), int(inside.sum())


def batch_size_for(model: NeuralGPU, length: int, budget_mb: float = 256.0) -> int:
    """Largest batch whose mental image (and gates) fits in about `budget_mb` megabytes."""
    c = model.config
    per_example = 4 * c.m * c.w * length * 4 * 4  # s, 2m gates, candidate, float32
    return max(1, int(budget_mb * 2**20 // per_example))


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
) -> dict:
    """Exact and per-symbol accuracy on `samples` fresh `digits`-digit examples, and where the
    wrong symbols sit (`wrong_at`: output position, lowest first, to the number wrong there).

    Cases come from the evaluation stream of `seed` (`tasks.eval_stream`), which training never
    draws from.

    With `stop_on_error` it returns at the first wrong batch, and batches grow from one example
    (1, 2, 4, ...), so a model that is not there yet costs about one example's time to say so.
    """
    t = get_task(task)
    for name, value in (("digits", digits), ("samples", samples)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
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
    t = get_task(task)
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
