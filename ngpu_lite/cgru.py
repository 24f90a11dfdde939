"""The convolutional gated recurrent unit (CGRU), the Neural GPU's one building block.

    u = σ'(U' * s + B')            update gate
    r = σ'(U'' * s + B'')          reset gate
    CGRU(s) = u ⊙ s + (1 − u) ⊙ tanh(U * (r ⊙ s) + B)

`*` is a 2-D convolution over the mental image `s` of shape `[batch, m, w, n]` (channels first:
`m` channels on a `w × n` grid) and `σ'(x) = max(0, min(1, 1.2·σ(x) − 0.1))` is the sigmoid
cutoff, which lets a gate close exactly. The two gate convolutions are fused into one (`2m` output
channels): same arithmetic, one call instead of two.

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
