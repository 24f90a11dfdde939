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

__all__ = ["carry_chains"]


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
