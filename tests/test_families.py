"""ngpu_lite.families.carry_chains against cases worked by hand and against the carries of a + b."""

import random

import pytest

from ngpu_lite.families import carry_chains


@pytest.mark.parametrize(
    ("a", "b", "chains"),
    [
        (0, 0, []),
        (5, 10, []),  # 0101 + 1010: every position propagates, no carry is born
        (1, 1, [1]),  # 01 + 01: born at bit 0, lands in bit 1
        (7, 1, [3]),  # 0111 + 0001: born at bit 0, crosses bits 1 and 2, lands in bit 3
        (5, 5, [1, 1]),  # 0101 + 0101: born at bits 0 and 2, each absorbed one position up
        (7, 7, [1, 1, 1]),  # 0111 + 0111: three chains of 1 that touch
        (0b1011, 0b0001, [2]),  # gen 0, prop 1, kill 2: reaches bits 1, 2 (11 + 1 = 1100)
        (0b1001, 0b1011, [2, 1]),  # gen 0, prop 1, kill 2, gen 3: bits 1-2, then bit 4 (10100)
        (0b110, 0b011, [2]),  # prop 0 (no carry), gen 1, prop 2: bits 2-3 (6 + 3 = 1001)
        (0b1101, 0b0111, [2, 2]),  # gen 0, prop 1, gen 2 ends it, prop 3: bits 1-2, 3-4
        (0b10110101, 0b01001011, [8]),  # gen 0, props 1..7: lands in bit 8 (100000000)
    ],
)
def test_hand_worked(a, b, chains):
    assert carry_chains(a, b) == chains


def test_price_family_runs_k_positions():
    rng = random.Random(0)
    for k in (1, 2, 5, 20, 200):
        low = rng.getrandbits(k) | 1  # odd, below 2^k
        assert carry_chains(low, (1 << k) - low) == [k]


def test_symmetric_and_complement():
    rng = random.Random(1)
    for _ in range(50):
        a = rng.getrandbits(300)
        assert carry_chains(a, a) == [1] * bin(a).count("1")  # every 1 generates, every 0 kills
        assert carry_chains(a, (1 << 300) - 1 - a) == []  # every position propagates


def test_lengths_add_up_to_the_carries_of_the_sum():
    rng = random.Random(2)
    for width in (1, 2, 8, 64, 2000):
        for _ in range(30):
            a, b = rng.getrandbits(width), rng.getrandbits(width)
            chains = carry_chains(a, b)
            assert sum(chains) == bin((a + b) ^ a ^ b).count("1")
            assert len(chains) == bin(a & b).count("1")
            assert carry_chains(b, a) == chains


def test_rejects_negative_and_non_integers():
    with pytest.raises(ValueError):
        carry_chains(-1, 3)
    with pytest.raises(TypeError):
        carry_chains(1.0, 3)
