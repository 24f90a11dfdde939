"""Structured operands mixed into training (beyond the paper): the share, the stream, the widths."""

import random

import pytest

from ngpu_lite import train
from ngpu_lite.data import batches, families, tasks
from ngpu_lite.training import get_preset


def test_no_structured_share_leaves_the_training_stream_as_it_was():
    """Catches the option drawing from the stream when off, which would change every old run."""
    rng = random.Random(1)
    by_hand = tasks.stack_examples([tasks.encode("badd", *tasks.random_operands("badd", d, rng))
                                    for d in (5, 7, 9)])
    off = batches.make_batch("badd", [5, 7, 9], random.Random(1), structured=0.0)
    assert all((u == v).all() for u, v in zip(by_hand, off, strict=True))


def test_the_structured_share_of_examples_comes_from_the_families(monkeypatch):
    """Catches a share ignored, inverted, or drawn from the families' test stream: about half of
    2000 examples at 0.5, all at 1, and each drawn with the training rng given."""
    calls = []
    real = families.training_operands

    def counting(task, digits, rng, families=()):
        calls.append(rng)
        return real(task, digits, rng, families)

    monkeypatch.setattr(batches, "training_operands", counting)
    rng = random.Random(0)
    batches.make_batch("badd", [6] * 2000, rng, structured=0.5)
    assert 900 < len(calls) < 1100 and all(r is rng for r in calls)
    calls.clear()
    batches.make_batch("copy", [4] * 50, random.Random(0), structured=1.0)
    assert len(calls) == 50


@pytest.mark.parametrize("task", ["badd", "bmul", "copy", "reverse", "duplicate", "sort"])
def test_structured_training_operands_fit_the_training_widths(task):
    """Catches a family that breaks at the short lengths a curriculum starts from, or writes an
    operand at another width than `random_operands` does (which would change the input length)."""
    rng = random.Random(5)
    for d in range(1, 9):
        for _ in range(20):
            a, b = families.training_operands(task, d, rng)
            ra, rb = tasks.random_operands(task, d, rng)
            assert len(a) == len(ra) and (b is None) == (rb is None)
            assert b is None or len(b) == len(rb)
            tasks.encode(task, a, b)


def test_structured_share_is_a_training_option_checked_on_entry(monkeypatch):
    """Catches a share outside 0..1 accepted, and a share that never reaches the batches that
    `train` draws (about 30% of its 6 × 16 examples here, none at share 0)."""
    with pytest.raises(ValueError, match="share of the examples"):
        get_preset("tiny", structured=1.5)
    calls = []
    real = families.training_operands
    monkeypatch.setattr(batches, "training_operands",
                        lambda *a: calls.append(a[1]) or real(*a))
    res = train("badd", "tiny", seed=0, steps=6, progress=False, structured=0.3)
    assert res.steps == 6 and 10 <= len(calls) <= 50
    calls.clear()
    train("badd", "tiny", seed=0, steps=6, progress=False)
    assert calls == []
