"""The convolutional gated recurrent unit (CGRU), the Neural GPU's one building block.

    u = σ'(U' * s + B')            update gate
    r = σ'(U'' * s + B'')          reset gate
    CGRU(s) = u ⊙ s + (1 − u) ⊙ tanh(U * (r ⊙ s) + B)

`*` is a 2-D convolution over the mental image `s` of shape `[batch, m, w, n]` (channels first:
`m` channels on a `w × n` grid) and `σ'(x) = max(0, min(1, 1.2·σ(x) − 0.1))` is the sigmoid
cutoff, which lets a gate close exactly. The two gate convolutions are fused into one (`2m` output
channels): same arithmetic, one call instead of two. The model calls `cgru_masked` (the unit,
then the padding mask), which trains the 2016 unit with a backward written by hand
(`_CGRUStep`, checked against autograd by `tests/test_model.py`).

The improved variant (Freivalds & Liepins 2017) adds `hard` nonlinearities (hard sigmoid and hard
tanh) and `diagonal` gates, where the kept state `s` has a third of its channels shifted one cell
left and a third one cell right before it is mixed with the candidate.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sigmoid_cutoff(x: torch.Tensor, cutoff: float = 1.2) -> torch.Tensor:
    """`max(0, min(1, cutoff·σ(x) − (cutoff − 1)/2))`: a sigmoid stretched so it reaches 0 and 1."""
    return torch.clamp(cutoff * torch.sigmoid(x) - (cutoff - 1.0) / 2, 0.0, 1.0)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """`clip(0.5x + 0.5, 0, 1)`: the improved Neural GPU's gate."""
    return torch.clamp(0.5 * x + 0.5, 0.0, 1.0)


def hard_tanh(x: torch.Tensor) -> torch.Tensor:
    """`clip(x, −1, 1)`."""
    return torch.clamp(x, -1.0, 1.0)


def diagonal_shift(s: torch.Tensor) -> torch.Tensor:
    """Shift the first third of the channels one cell towards higher positions, the second third
    one cell towards lower positions, and keep the rest (zeros enter at the edges)."""
    m = s.shape[1]
    k = m // 3
    return torch.cat(
        [F.pad(s[:, :k, :, :-1], (1, 0)), F.pad(s[:, k : 2 * k, :, 1:], (0, 1)), s[:, 2 * k :]], dim=1
    )


def saturation_cost(pre: torch.Tensor, limit: float = 1.0) -> torch.Tensor:
    """Mean amount by which pre-activations pass the linear range `[−limit, limit]` of a hard unit."""
    return F.relu(pre.abs() - limit).mean()


def _saturation(pre: torch.Tensor, limit: float) -> tuple[torch.Tensor, torch.Tensor]:
    """`saturation_cost` (the mean) and the same amount summed over every unit (DNGPU's form)."""
    total = F.relu(pre.abs() - limit).float().sum()
    return total / pre.numel(), total


def cgru(
    s: torch.Tensor,
    gate_weight: torch.Tensor,
    gate_bias: torch.Tensor,
    cand_weight: torch.Tensor,
    cand_bias: torch.Tensor,
    *,
    cutoff: float = 1.2,
    hard: bool = False,
    diagonal: bool = False,
    gates: dict | None = None,
    dropout: float = 0.0,
    limit: float = 1.0,
) -> torch.Tensor:
    """One CGRU application to the state `s` `[B, m, w, n]`.

    `gate_weight` is `[2m, m, k, k]` (update gate `U'` stacked on reset gate `U''`), `cand_weight`
    is `[m, m, k, k]` (`[.., 1, k]` on a one-row image). When `gates` is a dict it receives `u`,
    `r` and, for hard units, the saturation cost of this application (pre-activations past
    `±limit`) as a mean and as a sum. `dropout` (training only) drops candidate values, as the
    improved Neural GPU does, instead of the state.
    """
    pad = (gate_weight.shape[-2] // 2, gate_weight.shape[-1] // 2)
    g = F.conv2d(s, gate_weight, gate_bias, padding=pad)
    # one nonlinearity over both gates (a contiguous tensor), then split: u first, r second
    ur = hard_sigmoid(g) if hard else sigmoid_cutoff(g, cutoff)
    u, r = ur.chunk(2, dim=1)
    pre = F.conv2d(r * s, cand_weight, cand_bias, padding=pad)
    c = hard_tanh(pre) if hard else torch.tanh(pre)
    if dropout > 0:
        c = F.dropout(c, dropout)
    kept = diagonal_shift(s) if diagonal else s
    if gates is not None:
        gates["u"], gates["r"] = u, r
        if hard:
            (mean_g, sum_g), (mean_c, sum_c) = _saturation(g, limit), _saturation(pre, limit)
            gates["saturation"] = mean_g + mean_c
            gates["saturation_sum"] = sum_g + sum_c
    # u ⊙ kept + (1 − u) ⊙ c in one op; under bf16 autocast c and u come back in bf16
    return torch.lerp(c.to(kept.dtype), kept, u.to(kept.dtype))


class _CGRUStep(torch.autograd.Function):
    """`cgru(s, ...) * mask` for the 2016 unit (sigmoid cutoff, tanh, no diagonal gates, no
    candidate dropout) with a backward written by hand: what autograd computes through `cgru`,
    in fewer passes over memory. Autograd's graph of `cgru` walks a dozen small nodes per
    application (the clamp's backward alone is four passes, two of them with boolean masks); here
    the backward is the two convolutions' backwards and eleven elementwise passes. It saves what
    the backward reads (the state, σ of the gates, the gates, `r ⊙ s`, the candidate) instead of
    recomputing: recomputing was no faster (benchmarks/README.md).

    Two differences from autograd through `cgru`, both far below the 1e-5 the tests allow: the
    candidate is `2σ(2x) − 1` (within 2e-7 of `torch.tanh(x)`, and much faster on CPU), and where a
    gate's pre-clamp value is exactly 0 or 1 the clamp's gradient is 0 here (autograd passes it).
    """

    @staticmethod
    def forward(ctx, s, mask, gate_weight, gate_bias, cand_weight, cand_bias, cutoff):
        pad = (gate_weight.shape[-2] // 2, gate_weight.shape[-1] // 2)
        m = cand_weight.shape[0]
        sig = F.conv2d(s, gate_weight, gate_bias, padding=pad).sigmoid_()
        ur = sig * cutoff  # the same operations as `sigmoid_cutoff`, so the same values
        ur.sub_((cutoff - 1.0) / 2).clamp_(0.0, 1.0)
        u, r = ur[:, :m], ur[:, m:]
        rs = r * s
        # tanh(x) = 2σ(2x) − 1 (within 2e-7 of torch.tanh, whose CPU kernel is several times
        # slower than σ's); the 2x from doubled weights, exactly 2 × the convolution
        c = F.conv2d(rs, cand_weight * 2.0, cand_bias * 2.0, padding=pad)
        c = c.sigmoid_().mul_(2.0).sub_(1.0)
        out = torch.lerp(c, s, u)
        if mask is not None:
            out.mul_(mask)
        ctx.save_for_backward(s, mask, gate_weight, cand_weight, sig, ur, rs, c)
        ctx.cutoff, ctx.pad = cutoff, pad
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        s, mask, gate_weight, cand_weight, sig, ur, rs, c = ctx.saved_tensors
        m = cand_weight.shape[0]
        u, r = ur[:, :m], ur[:, m:]
        aten = torch.ops.aten
        conv_backward = aten.convolution_backward
        pad, one = list(ctx.pad), [1, 1]
        gm = grad * mask if mask is not None else grad
        ds = gm * u  # out = c + u (s − c): ∂s = u, ∂c = 1 − u, ∂u = s − c
        dur = torch.empty_like(ur)  # ∂ur: ∂u, then ∂r; written in place (fewer fresh buffers)
        du = dur[:, :m]
        zero = s.new_zeros(())
        torch.addcmul(zero, gm, torch.sub(s, c, out=du), value=ctx.cutoff, out=du)  # × the cutoff
        dc = gm.sub_(ds) if mask is not None else gm - ds
        dpre = aten.tanh_backward.grad_input(dc, c, grad_input=dc)
        drs, dcw, dcb = conv_backward(dpre, rs, cand_weight, [m], one, pad, one, False, [0, 0],
                                      1, [True, ctx.needs_input_grad[4], ctx.needs_input_grad[5]])
        torch.addcmul(zero, drs, s, value=ctx.cutoff, out=dur[:, m:])
        ds.addcmul_(drs, r)
        # through the clamp (gradient only where 0 < ur < 1, i.e. the pre-clamp value strictly
        # inside [0, 1]) and σ; the cutoff's scale is in dur already
        aten.hardtanh_backward.grad_input(dur, ur, 0.0, 1.0, grad_input=dur)
        dg = aten.sigmoid_backward.grad_input(dur, sig, grad_input=dur)
        dsg, dgw, dgb = conv_backward(dg, s, gate_weight, [2 * m], one, pad, one, False, [0, 0],
                                      1, [True, ctx.needs_input_grad[2], ctx.needs_input_grad[3]])
        ds.add_(dsg)
        return ds, None, dgw, dgb, dcw, dcb, None


def cgru_masked(
    s: torch.Tensor,
    mask: torch.Tensor | None,
    gate_weight: torch.Tensor,
    gate_bias: torch.Tensor,
    cand_weight: torch.Tensor,
    cand_bias: torch.Tensor,
    *,
    cutoff: float = 1.2,
    hard: bool = False,
    diagonal: bool = False,
    gates: dict | None = None,
    dropout: float = 0.0,
    limit: float = 1.0,
) -> torch.Tensor:
    """`cgru(s, ...) * mask` (`mask` broadcast over `s`, or `None`): the model's step. For the
    2016 unit with gradients on (no `gates` wanted, no candidate dropout, no autocast, fp32 or
    fp64) it runs `_CGRUStep`, whose backward is written by hand (the same values within 1e-6,
    faster); otherwise, as for the improved unit, it is exactly `cgru` then the mask."""
    if (not hard and not diagonal and gates is None and dropout == 0 and torch.is_grad_enabled()
            and not torch.is_autocast_enabled(s.device.type)
            and s.dtype in (torch.float32, torch.float64)):
        return _CGRUStep.apply(s, mask, gate_weight, gate_bias, cand_weight, cand_bias, cutoff)
    out = cgru(s, gate_weight, gate_bias, cand_weight, cand_bias, cutoff=cutoff, hard=hard,
               diagonal=diagonal, gates=gates, dropout=dropout, limit=limit)
    return out if mask is None else out * mask


def init_cgru_(
    gate_weight: torch.Tensor,
    gate_bias: torch.Tensor,
    cand_weight: torch.Tensor,
    cand_bias: torch.Tensor,
    scale: float = 1.8,
    glorot: bool = False,
) -> None:
    """The reference code's initialisation: uniform unit scaling × `scale` for the kernels,
    gate biases +1 (gates start mostly open to the old state), candidate bias 0. With `glorot`,
    DNGPU's: each kernel (each gate's own) uniform in `±sqrt(6 / (fan_in + fan_out))`."""
    for w in (gate_weight, cand_weight):
        fan_in = w.shape[-3] * w.shape[-2] * w.shape[-1]
        bound = scale * math.sqrt(3.0 / fan_in)
        if glorot:  # fan_out of one gate's kernel: m outputs × the taps
            bound = math.sqrt(6.0 / (fan_in + w.shape[-3] * w.shape[-2] * w.shape[-1]))
        with torch.no_grad():
            w.uniform_(-bound, bound)
    with torch.no_grad():
        gate_bias.fill_(1.0)
        cand_bias.zero_()


class CGRU(nn.Module):
    """A single CGRU with its own parameters: the from-scratch unit of chapter 2."""

    def __init__(self, m: int = 24, kernel: int = 3, cutoff: float = 1.2, init_scale: float = 1.8):
        super().__init__()
        self.cutoff = cutoff
        self.gate_weight = nn.Parameter(torch.empty(2 * m, m, kernel, kernel))
        self.gate_bias = nn.Parameter(torch.empty(2 * m))
        self.cand_weight = nn.Parameter(torch.empty(m, m, kernel, kernel))
        self.cand_bias = nn.Parameter(torch.empty(m))
        init_cgru_(self.gate_weight, self.gate_bias, self.cand_weight, self.cand_bias, init_scale)

    def forward(self, s: torch.Tensor, gates: dict | None = None) -> torch.Tensor:
        return cgru(
            s, self.gate_weight, self.gate_bias, self.cand_weight, self.cand_bias,
            cutoff=self.cutoff, gates=gates,
        )
