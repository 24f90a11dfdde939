"""One training forward: a batch drawn, run through the model, scored.

The curriculum's way (`curriculum_batch`: one batch of mixed sizes up to the current length) and
DNGPU's (`bucket_step`: every length bucket in every step). Both return the cross-entropy, the
saturation cost and what the model answered, for the loop to tally.
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F

from ..data.batches import make_batch
from ..model.evaluate import score
from ..model.neural_gpu import NeuralGPU
from .presets import Preset, bin_digits


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
