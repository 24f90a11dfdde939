"""DNGPU's optimiser (Freivalds & Liepins 2017, `adamax.py`): AdaMax with per-value clipping.

    g ← clip(g, ±(1.2·v + 1e-4))        each value at most 1.2× its running maximum
    m ← β1·m + (1 − β1)·g               no bias correction of this first moment
    v ← max(β2·v, |g|)
    p ← p − lr · m / (v + ε)

The clipping needs no fixed threshold: a gradient value may exceed what that parameter has seen
by 20% at most, so one exploding step through a deep recurrence cannot throw the weights away.
DNGPU also anneals β2 towards 1 (`dngpu_beta2`), so `v` forgets ever more slowly.
"""

from __future__ import annotations

import torch


def dngpu_beta2(step: int) -> float:
    """β2 at `step`: `1 − max(0.0005, 0.01 · 0.5^(step / 2000))`."""
    return 1.0 - max(0.0005, 0.01 * 0.5 ** (step / 2000))


class ClippedAdamax(torch.optim.Optimizer):
    """AdaMax as DNGPU runs it; `beta2` of a param group may be changed between steps."""

    def __init__(self, params, lr: float = 0.005, beta1: float = 0.9, beta2: float = 0.99,
                 eps: float = 1e-8, clip_multiplier: float = 1.2, clip_epsilon: float = 1e-4):
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, not {lr}")
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                      clip_multiplier=clip_multiplier, clip_epsilon=clip_epsilon))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                m, v = state["m"], state["v"]
                bound = v * group["clip_multiplier"] + group["clip_epsilon"]
                g = torch.minimum(torch.maximum(p.grad, -bound), bound)
                m.mul_(group["beta1"]).add_(g, alpha=1 - group["beta1"])
                torch.maximum(v * group["beta2"], g.abs(), out=v)
                p.addcdiv_(m, v + group["eps"], value=-group["lr"])
        return None
