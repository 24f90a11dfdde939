"""Training batches: random operands, or a share drawn from the structured families.

`make_batch` is what every training step of the curriculum draws: one example per entry of
`digits`, padded to one tensor, from the training stream `rng`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import torch

from .families import training_operands
from .tasks import Task, encode, get_task, random_operands, stack_examples


def make_batch(
    task: str | Task, digits: Sequence[int], rng: random.Random, target: str = "pad",
    width: int | None = None, structured: float = 0.0, families: Sequence[str] = (),
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch with one example per entry of `digits` (lengths may differ).

    Returns `(x, y, lengths)`: long tensors `[B, n]` padded with PAD to the longest example (or
    to `width`), and each example's own length `[B]` (the model runs that many steps for it).
    `target` is the answer format (see `encode`). With `structured` > 0 that share of the
    examples (on average) comes from the task's structured families (`families.training_operands`)
    instead of uniformly random operands (from `families` only, if named); at 0 the stream is
    exactly as before.
    """
    t = get_task(task)

    def operands(d: int):
        if structured and rng.random() < structured:
            return training_operands(t, d, rng, families)
        return random_operands(t, d, rng)

    return stack_examples([encode(t, *operands(d), target=target) for d in digits], width)
