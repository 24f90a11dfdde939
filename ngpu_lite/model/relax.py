"""Parameter-sharing relaxation (paper §4).

The model keeps `r` copies ("sets") of its CGRU parameters; step `t` uses set `t mod r`. A pull
cost `pull · Σ_i ||p_i − mean(p)||²` keeps the sets near each other; `pull` grows by a factor at
each curriculum advance and, once it passes a limit, the sets are averaged. Two ways to average:
`average_sets` merges them once into one shared set (the library's default); `assign_mean`, the
2016 code's `avg_op`, gives every set the mean and keeps them separate, and the 2016 code does it
at every epoch fitted after the pull reached its limit (`PullSchedule.fitted`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


def pull_cost(model: nn.Module) -> torch.Tensor:
    """`Σ_i ||p_i − mean(p)||²` over the relaxation sets of every stacked parameter (0 for r = 1)."""
    total = None
    for p in model.stacked_parameters():
        d = ((p - p.mean(dim=0, keepdim=True)) ** 2).sum()
        total = d if total is None else total + d
    return total


@torch.no_grad()
def average_sets(model: nn.Module) -> None:
    """Replace the `r` sets by their mean: one shared set from now on (`relax_sets` becomes 1).

    The parameters are new tensors, so an optimiser must be rebuilt afterwards.
    """
    for name in ("gate_weight", "gate_bias", "cand_weight", "cand_bias"):
        p = getattr(model, name)
        setattr(model, name, nn.Parameter(p.mean(dim=0, keepdim=True).clone()))
    model.config.relax_sets = 1


@torch.no_grad()
def assign_mean(model: nn.Module) -> None:
    """Give every set the mean of the sets, in place, keeping `r` separate sets (the 2016 code's
    `avg_op`): training goes on with `r` sets that start equal and drift apart again.

    The parameters stay the same tensors, so an optimiser (and its Adam moments) carries on."""
    for p in model.stacked_parameters():
        p.copy_(p.mean(dim=0, keepdim=True).expand_as(p))


@dataclass
class PullSchedule:
    """The pull's schedule: start at 0.0005, × 1.2 at each curriculum advance; `advance` (the
    library's default) merges the sets once the pull passes 0.1 (about the 30th advance),
    `fitted` is the 2016 code's order (grow below the limit, then average at every fitted epoch)."""

    pull: float = 0.0005
    factor: float = 1.2
    limit: float = 0.1

    def advance(self) -> bool:
        """Grow the pull after a curriculum advance; True when it is time to average the sets."""
        self.pull *= self.factor
        return self.pull > self.limit

    def fitted(self) -> bool:
        """The 2016 trainer's order at a fitted epoch: while the pull is below the limit grow it
        and return False; once it is not, leave it and return True (average the sets now)."""
        if self.pull < self.limit:
            self.pull *= self.factor
            return False
        return True
