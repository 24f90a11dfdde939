"""Structured inputs: what a random test of an arithmetic task almost never contains.

For now one measure, the carry chains of a binary addition; seeded generators of structured
operands (long carries, few set bits, leading zeros, ...) with exact answers will join it.

Carry chains. Write `a` and `b` in binary, position 0 the lowest bit. Position `i` is a
*generate* if both bits are 1, a *propagate* if exactly one is, a *kill* if both are 0 (every
position above the top bit of both numbers is a kill). A carry is born at each generate position
`g`. It travels up through the propagate positions `g + 1, ..., g + j` directly above `g` and ends
at the first position above them that is not a propagate: a kill absorbs it, a generate sends
on a carry of its own (which starts a new chain). The carry's *chain* is the set of positions it
reaches, `g + 1, ..., g + j + 1`; its length `j + 1` is the number of sum bits whose value that
one carry decides, i.e. how far information moves in the addition.

Chains never overlap and every position that receives a carry belongs to exactly one chain, so
the lengths add up to the number of ones in `(a + b) ^ a ^ b` (the carries into each position).
Two chains can touch: in `0111 + 0111` each of the three generates sends its carry one position
up, three chains of length 1, although positions 1, 2 and 3 all receive a carry.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import torch

from .tasks import TaskError, encode, eval_stream, get_task, stack_examples, to_digits

__all__ = ["MUL_FAMILIES", "carry_chains", "evaluate_cases", "family_cases"]


def carry_chains(a: int, b: int) -> list[int]:
    """Lengths of the carry chains of `a + b`, one per generate position, lowest first.

    Exact integer arithmetic at any width. Examples: `7 + 1` (`0111 + 0001`) has one carry,
    born at bit 0, that crosses bits 1 and 2 and lands in bit 3: `[3]`. `5 + 5` has two that go
    one position each: `[1, 1]`. `5 + 10` never carries: `[]`. `a + (2**k - a)` for odd
    `a < 2**k` carries from bit 0 to bit `k`: one chain of `k` (plus the chains of any bits
    above `k`). The longest chain is `max(carry_chains(a, b), default=0)`.
    """
    if not isinstance(a, int) or not isinstance(b, int) or isinstance(a, bool) or isinstance(b, bool):
        raise TypeError("carry_chains takes two non-negative Python integers")
    if a < 0 or b < 0:
        raise ValueError("carry_chains takes two non-negative Python integers")
    width = max(a.bit_length(), b.bit_length())
    generate = f"{a & b:0{width}b}"[::-1] if width else ""  # lowest bit first
    propagate = f"{a ^ b:0{width}b}"[::-1] if width else ""
    chains: list[int] = []
    run = 0  # positions reached so far by the carry in flight (0: none in flight)
    for g, p in zip(generate, propagate, strict=True):
        if g == "1":  # a carry arriving here stops; a new one leaves for the position above
            if run:
                chains.append(run)
            run = 1
        elif p == "1" and run:  # the carry passes on to the position above
            run += 1
        elif run:  # a kill absorbs the carry that arrived here
            chains.append(run)
            run = 0
    if run:  # the last carry lands just above the top bit of both numbers
        chains.append(run)
    return chains


# --- structured operands of binary multiplication -------------------------------------------------
# Each generator draws one member `(a, b)` of a family of `digits`-bit multiplications with `rng`;
# operands are written at the full width of `digits` bits, leading zeros included.

def _few_bits(digits: int, rng: random.Random, bits: int = 3) -> int:
    return sum(1 << i for i in rng.sample(range(digits), min(bits, digits)))


def _run_of_ones(digits: int, rng: random.Random) -> int:
    return (1 << rng.randint(1, digits)) - 1


def _short(digits: int, rng: random.Random) -> int:
    return rng.getrandbits(rng.randint(1, max(1, digits // 4))) or 1


MUL_FAMILIES: dict[str, Callable[[int, random.Random], tuple[int, int]]] = {
    "random": lambda d, rng: (rng.getrandbits(d), rng.getrandbits(d)),
    "few set bits": lambda d, rng: (_few_bits(d, rng), _few_bits(d, rng)),
    "square a·a": lambda d, rng: (lambda a: (a, a))(rng.getrandbits(d)),
    "runs of ones": lambda d, rng: (_run_of_ones(d, rng), _run_of_ones(d, rng)),
    "powers of two": lambda d, rng: (1 << rng.randrange(d), 1 << rng.randrange(d)),
    "leading zeros": lambda d, rng: (_short(d, rng), _short(d, rng)),
}
"""Families of `bmul` inputs: `random` for reference; `few set bits` (three ones in each
operand); `square a·a`; `runs of ones` (`2^i − 1` times `2^j − 1`); `powers of two`;
`leading zeros` (operands of at most a quarter of the width, the rest zeros, as Price et al.'s
`000…002 × 000…002`)."""


def family_cases(task: str, family: str, digits: int, samples: int, seed: int = 0
                 ) -> list[tuple[int, int]]:
    """`samples` members of `family` at `digits` bits, from the families' own random stream
    (`tasks.eval_stream(seed, "families")`), which training never draws from."""
    if get_task(task).name != "bmul":
        raise TaskError(f"no families for task {task!r} yet; bmul has {', '.join(MUL_FAMILIES)}")
    if family not in MUL_FAMILIES:
        raise TaskError(f"unknown family {family!r}; choose one of: {', '.join(MUL_FAMILIES)}")
    rng = eval_stream(seed, f"families {task} {family} {digits}")
    return [MUL_FAMILIES[family](digits, rng) for _ in range(samples)]


@torch.no_grad()
def evaluate_cases(model, task: str, pairs: list[tuple[int, int]], digits: int,
                   batch_size: int = 32) -> dict:
    """Exact share, per-symbol share and the wrong cases of `model` on the operand pairs given,
    each written at `digits` bits (leading zeros included)."""
    t = get_task(task)
    target = model.config.target
    dev = next(model.parameters()).device
    exact, right, total, wrong = 0, 0, 0, []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i : i + batch_size]
        enc = [encode(t, to_digits(a, t.base, digits), to_digits(b, t.base, digits), target=target)
               for a, b in chunk]
        x, y, lengths = stack_examples(enc)
        pred = model.predict(x.to(dev), lengths.to(dev)).cpu()
        inside = torch.arange(x.shape[1])[None, :] < lengths[:, None]
        ok = ((pred == y) | ~inside).all(1)
        exact += int(ok.sum())
        right += int(((pred == y) & inside).sum())
        total += int(inside.sum())
        wrong += [pair for pair, good in zip(chunk, ok.tolist(), strict=True) if not good]
    return {"samples": len(pairs), "exact": exact / max(1, len(pairs)),
            "per_symbol": right / max(1, total), "wrong": wrong}
