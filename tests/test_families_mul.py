"""Structured multiplications: each family is what its name says, drawn from its own stream."""

import pytest
import torch

from ngpu_lite import NeuralGPU
from ngpu_lite.data.families import MUL_FAMILIES, family_cases
from ngpu_lite.data.tasks import TaskError, eval_stream, to_digits
from ngpu_lite.model.evaluate import evaluate_cases


def test_each_family_has_its_shape_at_full_width():
    """Each bmul family draws operands of its named shape, all below 2^d and not one repeated case. Catches a
    generator mapped to the wrong family, operands wider than d bits, or a generator reseeded per case."""
    d = 40
    few = family_cases("bmul", "few set bits", d, 50)
    assert all(a.bit_count() == b.bit_count() == 3 for a, b in few)
    assert all(a == b for a, b in family_cases("bmul", "square a·a", d, 20))
    ones = family_cases("bmul", "runs of ones", d, 50)
    assert all((a + 1) & a == 0 and (b + 1) & b == 0 for a, b in ones)
    powers = family_cases("bmul", "powers of two", d, 50)
    assert all(a.bit_count() == b.bit_count() == 1 for a, b in powers)
    short = family_cases("bmul", "leading zeros", d, 50)
    assert all(0 < a < 2 ** (d // 4 + 1) and 0 < b < 2 ** (d // 4 + 1) for a, b in short)
    for name in MUL_FAMILIES:  # nothing wider than the width it is written at
        assert all(a < 2**d and b < 2**d for a, b in family_cases("bmul", name, d, 30))
        assert len(set(family_cases("bmul", name, d, 32))) >= 8, name  # a family, not one case


def test_family_stream_is_seeded_and_not_the_evaluation_stream():
    """`family_cases` is reproducible for one seed, uses its seed, and draws from the families' own
    stream. Catches an unseeded or seed-ignoring generator, and families drawn from the plain
    evaluation stream (the same generator fed by `eval_stream(seed)` must give other cases)."""
    a = family_cases("bmul", "random", 20, 5, seed=3)
    assert a == family_cases("bmul", "random", 20, 5, 3)
    assert a != family_cases("bmul", "random", 20, 5, seed=4)
    rng = eval_stream(3)
    assert a != [MUL_FAMILIES["random"](20, rng) for _ in range(5)]


class Multiplies(NeuralGPU):
    """A stand-in that writes the exact product (zeros format), wrong when `a` is a power of two."""

    def predict(self, x, lengths=None):
        out = torch.zeros_like(x)
        for i, row in enumerate(x.tolist()):
            k = row.index(12)
            a = int("".join(str(s - 1) for s in reversed(row[:k])), 2)
            b = int("".join(str(s - 1) for s in reversed(row[k + 1 : len(row)])), 2)
            digits = to_digits(a * b, 2, len(row))
            out[i] = torch.tensor([d + 1 for d in digits])
            if a.bit_count() == 1:
                out[i, 0] = 3 - out[i, 0]  # flip the lowest bit
        return out


def test_evaluate_cases_counts_exact_answers_and_keeps_the_wrong_cases():
    """`evaluate_cases` scores each case exact or not and lists exactly the wrong ones, in order. Catches
    cases paired with another case's prediction, or right cases listed as wrong."""
    model = Multiplies(w=1, m=4, l=1, target="zeros")
    assert evaluate_cases(model, "bmul", family_cases("bmul", "square a·a", 12, 16, 1), 12)[
        "exact"] == pytest.approx(sum(a.bit_count() != 1 for a, _ in family_cases(
            "bmul", "square a·a", 12, 16, 1)) / 16)
    res = evaluate_cases(model, "bmul", [(4, 3), (5, 3), (2, 2)], 6)
    assert res["exact"] == pytest.approx(1 / 3) and res["wrong"] == [(4, 3), (2, 2)]


def test_unknown_family_or_task_is_one_clear_error():
    """An unknown family, or a task without families, raises TaskError saying so. Catches a bare KeyError
    escaping from the family table."""
    with pytest.raises(TaskError, match="unknown family"):
        family_cases("bmul", "primes", 8, 4)
    with pytest.raises(TaskError, match="no families"):
        family_cases("mul", "random", 8, 4)  # decimal: no families (copy has some now)


def test_trivial_products_have_their_own_families():
    """`zero × x` has a zero operand and `one × x` a one, in either order, x random: the products
    0 and x that no reader may see wrong. Catches the edge cases of issue 34 left out of training."""
    zero = family_cases("bmul", "zero × x", 20, 40)
    one = family_cases("bmul", "one × x", 20, 40)
    assert all(0 in case for case in zero) and all(1 in case for case in one)
    assert {case.index(0) for case in zero} == {0, 1} and len(set(zero)) >= 30
