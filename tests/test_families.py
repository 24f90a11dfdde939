"""ngpu_lite.data.families: carry_chains against cases worked by hand and against the carries of a + b;
the structured families of every task (exact answers, width, seeds, structure) and their table."""

import itertools
import random

import pytest

from ngpu_lite import NeuralGPU
from ngpu_lite.data.families import (
    FAMILIES,
    MUL_FAMILIES,
    carry_chains,
    case_digits,
    case_width,
    family_cases,
    family_doc,
)
from ngpu_lite.data.tasks import TaskError, encode, get_task, to_digits
from ngpu_lite.model.evaluate import evaluate_cases
from ngpu_lite.results.families_table import families_markdown, families_plot, families_table


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
    """`carry_chains` matches chains worked by hand: propagate runs, kills and chains that touch. Catches a
    chain not ended by a kill or a new generate, or the last carry (past the top bit) dropped."""
    assert carry_chains(a, b) == chains


def test_price_family_runs_k_positions():
    """a + (2^k − a) for odd a gives one chain of exactly k positions, up to 200 bits. Catches an off-by-one
    chain length or a width limit on the integers (fixed-size arithmetic)."""
    rng = random.Random(0)
    for k in (1, 2, 5, 20, 200):
        low = rng.getrandbits(k) | 1  # odd, below 2^k
        assert carry_chains(low, (1 << k) - low) == [k]


def test_symmetric_and_complement():
    """a + a gives one chain of 1 per set bit and a + its complement carries nowhere. Catches a propagate
    counted with no carry in flight, or a generate that does not close the chain before it."""
    rng = random.Random(1)
    for _ in range(50):
        a = rng.getrandbits(300)
        assert carry_chains(a, a) == [1] * bin(a).count("1")  # every 1 generates, every 0 kills
        assert carry_chains(a, (1 << 300) - 1 - a) == []  # every position propagates


def test_lengths_add_up_to_the_carries_of_the_sum():
    """Up to 2000 bits the chains sum to the carried positions (a + b) ^ a ^ b, one per generate, whatever the
    operand order. Catches chains miscounted at any width, or asymmetric in a and b."""
    rng = random.Random(2)
    for width in (1, 2, 8, 64, 2000):
        for _ in range(30):
            a, b = rng.getrandbits(width), rng.getrandbits(width)
            chains = carry_chains(a, b)
            assert sum(chains) == bin((a + b) ^ a ^ b).count("1")
            assert len(chains) == bin(a & b).count("1")
            assert carry_chains(b, a) == chains


def test_rejects_negative_and_non_integers():
    """Negative operands raise ValueError and floats TypeError. Catches a silent wrong answer from the bits of
    a negative number, or a float accepted."""
    with pytest.raises(ValueError):
        carry_chains(-1, 3)
    with pytest.raises(TypeError):
        carry_chains(1.0, 3)


# --- families of structured inputs, every task ----------------------------------------------------

ONE_OPERAND = ("copy", "reverse", "duplicate", "sort")
EVERY = [(task, family) for task, fams in FAMILIES.items() for family in fams]
CONSTANT = {"all zeros", "all ones", "alternating"}  # one or two members per width


def _string(task, case, d):
    """The input string of a one-operand case, as a list of bits in reading order."""
    (s,) = case
    n = case_width(task, d)
    return [(s >> i) & 1 for i in range(n)]


def _reference(task, case, d):
    """The exact answer computed here, independently of tasks.answer_digits, as a bit list."""
    if task == "badd":
        return to_digits(case[0] + case[1], 2)
    if task == "bmul":
        return to_digits(case[0] * case[1], 2)
    s = _string(task, case, d)
    return {"copy": s, "reverse": s[::-1], "duplicate": s + s, "sort": sorted(s)}[task]


def test_every_task_with_a_shipped_model_has_families():
    """Catches a task left without families (all six binary tasks have them)."""
    assert set(FAMILIES) == {"badd", "bmul", "copy", "reverse", "duplicate", "sort"}
    assert set(MUL_FAMILIES) <= set(FAMILIES["bmul"])
    for task, family in EVERY:
        assert len(family_doc(task, family)) > 20, (task, family)


@pytest.mark.parametrize(("task", "family"), EVERY)
def test_answers_are_exact_and_operands_fit_the_width(task, family):
    """Catches a family whose answer differs from the Python-integer (or string) answer, or whose
    operands do not fit the width they are written at (leading zeros included)."""
    for d in (1, 3, 20, 64):
        width = case_width(task, d)
        for case in family_cases(task, family, d, 12, seed=5):
            assert len(case) == get_task(task).operands and all(0 <= x < 2**width for x in case)
            a, b = case_digits(task, case, d)
            assert len(a) == width and (b is None or len(b) == width)
            x, y = encode(task, a, b)
            ref = [v + 1 for v in _reference(task, case, d)]
            assert y[: len(ref)] == ref and all(v == 0 for v in y[len(ref):]), (case, d)


@pytest.mark.parametrize(("task", "family"), EVERY)
def test_seeded_reproducible_and_varied(task, family):
    """Catches a family that is not reproducible for a seed, draws the same cases for every seed,
    or is one case repeated (families of one or two members per width excepted)."""
    one = family_cases(task, family, 20, 16, seed=1)
    assert one == family_cases(task, family, 20, 16, seed=1)
    if family in CONSTANT:
        assert len(set(one)) <= 2
        return
    assert one != family_cases(task, family, 20, 16, seed=2)
    assert len(set(one)) >= 4


def _runs(bits):
    return [len(list(g)) for _, g in itertools.groupby(bits)]


def test_addition_families_have_their_structure():
    """Catches an addition family that is not what its name says (long chains short, sums not all
    ones, operands not short, ...)."""
    d = 40

    def cases(family, n=60):
        return family_cases("badd", family, d, n, seed=3)

    short = cases("leading zeros", 200)
    assert all(0 < x < 2 ** (d // 4) for case in short for x in case)
    assert any(x == 1 for case in short for x in case)  # all but one digit zero
    assert all(1 <= x.bit_count() <= 3 for case in cases("few set bits") for x in case)
    for a, b in cases("carry chain a + (2^k − a)"):
        k = (a + b).bit_length() - 1
        assert a + b == 1 << k and d // 2 <= k <= d and carry_chains(a, b) == [k]
    assert all(max(carry_chains(a, b)) >= d // 2 for a, b in cases("one long carry chain"))
    assert max(max(carry_chains(a, b)) for a, b in cases("one long carry chain")) > d // 2
    assert all(a + b == 2**d - 1 and carry_chains(a, b) == [] for a, b in cases("all-ones sum"))
    assert all(a == b for a, b in cases("a + a"))
    for case in cases("alternating bits"):
        assert all(x ^ (x >> 1) == 2 ** x.bit_length() - 1 and x.bit_length() >= d // 2 - 1
                   for x in case)
    assert all(min(case) == 0 for case in cases("zero + x"))
    random_chains = [max(carry_chains(a, b), default=0) for a, b in cases("random")]
    assert max(random_chains) < d // 2  # random sums almost never carry that far


def test_extra_multiplication_families():
    """Catches the multiplication families added beside chapter 7's losing their shape."""
    d = 30
    for a, _ in family_cases("bmul", "alternating bits", d, 20):
        assert a in (int("01" * 15, 2), int("10" * 15, 2))
    assert all(a == 2**d - 1 for a, _ in family_cases("bmul", "all ones × random", d, 20))


@pytest.mark.parametrize("task", ONE_OPERAND)
def test_string_families_have_their_structure(task):
    """Catches a string family that is not what its name says, or one of the wrong length."""
    d = 20
    n = case_width(task, d)
    assert n == (d if task == "duplicate" else 2 * d + 1)

    def strings(family, k=40):
        return [_string(task, c, d) for c in family_cases(task, family, d, k, seed=4)]

    assert strings("all zeros", 2) == [[0] * n] * 2 and strings("all ones", 2) == [[1] * n] * 2
    for s in strings("long runs"):
        assert 2 <= len(_runs(s)) <= 4 and min(_runs(s)) >= n // 8
    assert {tuple(s) for s in strings("alternating")} <= {
        tuple(i % 2 for i in range(n)), tuple(1 - i % 2 for i in range(n))}
    assert all(s == sorted(s) for s in strings("sorted"))
    for s in strings("nearly sorted"):
        misplaced = sum(s[: n - sum(s)])  # ones among the places of the zeros
        assert 1 <= misplaced <= 3 and s != sorted(s)
    assert all(sum(s) in (1, n - 1) for s in strings("one differing symbol"))


def test_unknown_task_or_family_is_one_clear_error():
    """Catches an unknown or family-less task, or an unknown family, failing with a traceback
    from deep inside instead of one line naming the choices."""
    with pytest.raises(TaskError, match="unknown task 'bdd'; choose one of"):
        family_cases("bdd", "random", 8, 4)
    with pytest.raises(TaskError, match="no families for task 'add'; tasks with families: badd"):
        family_cases("add", "random", 8, 4)
    with pytest.raises(TaskError, match="unknown family 'primes' of copy; choose one of: random"):
        family_cases("copy", "primes", 8, 4)
    with pytest.raises(TaskError, match="1 operand"):
        case_digits("copy", (1, 2), 8)


class Copies(NeuralGPU):
    """A stand-in that writes its input back: right on copy, and on reverse only for palindromes."""

    def predict(self, x, lengths=None):
        return x.clone()


def test_evaluate_cases_on_one_operand_tasks():
    """Catches evaluate_cases failing on (or mis-scoring) one-operand tasks: copying is always
    right for copy, and right for reverse exactly on the palindromes."""
    model = Copies(w=1, m=4, l=1)
    cases = family_cases("copy", "random", 6, 10) + family_cases("copy", "long runs", 6, 10)
    res = evaluate_cases(model, "copy", cases, 6)
    assert res["exact"] == 1.0 and res["right"] == 20 and res["wrong"] == []
    cases = [c for f in ("random", "alternating", "all ones", "sorted")
             for c in family_cases("reverse", f, 6, 6)]
    res = evaluate_cases(model, "reverse", cases, 6)
    palindromes = [c for c in cases if _string("reverse", c, 6) == _string("reverse", c, 6)[::-1]]
    assert res["right"] == len(palindromes) >= 12
    assert res["wrong"] == [c for c in cases if c not in palindromes]


def test_evaluate_cases_runs_a_real_model_on_every_one_operand_task(tiny_model):
    """A real (untrained) model's batched answers are scored as its answers to each case alone:
    every symbol inside the target counted, right ones as the model wrote them. Catches padding
    from a longer case in the batch changing a shorter case's answer or its score, or a case
    encoded differently from how `encode` writes it."""
    import torch

    from ngpu_lite.data.families import case_digits
    from ngpu_lite.data.tasks import encode

    for task in ONE_OPERAND:
        cases = family_cases(task, "nearly sorted", 4, 5) + family_cases(task, "random", 3, 3)
        res = evaluate_cases(tiny_model, task, cases, 4, batch_size=3)
        right = total = exact = 0
        for case in cases:
            x, y = encode(task, *case_digits(task, case, 4))
            pred = tiny_model.predict(torch.tensor([x]))[0].tolist()
            hits = sum(p == t for p, t in zip(pred, y, strict=True))
            right, total, exact = right + hits, total + len(y), exact + (hits == len(y))
        assert res["samples"] == len(cases) and res["right"] == exact
        assert res["per_symbol"] == right / total and 0 < right < total


def test_table_markdown_lists_every_family_with_count_and_samples():
    """Catches a families table (or its markdown) that drops a family, a length or the counts, or
    that measures a one- or two-member family more than once per member."""
    res = families_table(lambda task: Copies(w=1, m=4, l=1), ["copy", "badd"], digits=(3, 5),
                         samples=4, progress=False)
    md = families_markdown(res)
    for task in ("copy", "badd"):
        for family in FAMILIES[task]:
            assert f"| {family} |" in md
            for d in ("3", "5"):
                cell = res["rows"][task][family][d]
                assert set(cell) >= {"exact", "right", "samples", "seconds"}
                assert f"{cell['right']} of {cell['samples']} (" in md
    copied = res["rows"]["copy"]["random"]["3"]
    assert copied["right"] == copied["samples"] >= 3  # copying copies every distinct case
    assert res["rows"]["copy"]["all zeros"]["5"]["samples"] == 1  # distinct members only
    assert res["rows"]["badd"]["zero + x"]["3"]["wrong"]  # wrong cases kept, as typed
    assert "| 3 bits | 5 bits |" in md and "copy, *long runs*:" in md
    with pytest.raises(TaskError, match="unknown family 'primes'"):
        families_table(lambda task: None, ["copy"], (3,), 2, families=["primes"], progress=False)


def test_table_figure_has_a_row_per_family_and_a_column_per_length():
    """Catches the heat map dropping or mislabelling a family or a length."""
    import matplotlib.pyplot as plt

    res = families_table(lambda task: Copies(w=1, m=4, l=1), ["sort"], digits=(2, 4), samples=2,
                         families=["random", "all ones"], progress=False)
    fig = families_plot(res)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sort: random", "sort: all ones"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2 bits", "4 bits"]
    assert "1/1" in [t.get_text() for t in ax.texts]
    plt.close(fig)


def test_update_replaces_the_measured_tasks_rows_and_keeps_the_others():
    """Catches `--update` dropping the tasks it did not measure, keeping a stale cell of a
    re-measured task, or losing which command measured each row."""
    from ngpu_lite.results.families_table import update_families

    old = {"command": "first", "rows": {"badd": {"random": {"20": {"exact": 0.5}, "200": {"exact": 0.1}}},
                                        "copy": {"random": {"20": {"exact": 1.0}}}},
           "models": {"badd": "old", "copy": "c"}, "families": {"badd": {}, "copy": {}}}
    new = {"command": "second", "rows": {"badd": {"random": {"2000": {"exact": 1.0}}}},
           "models": {"badd": "new"}, "families": {"badd": {}}}
    got = update_families(old, new)
    assert list(got["rows"]) == ["badd", "copy"]
    assert got["rows"]["badd"] == {"random": {"2000": {"exact": 1.0}}}
    assert got["rows"]["copy"] == old["rows"]["copy"] and got["models"] == {"badd": "new", "copy": "c"}
    assert got["commands"] == {"badd": "second", "copy": "first"}


def test_update_of_named_families_keeps_the_tasks_other_families():
    """Catches `--families F --update` (a family added on an unchanged model) wiping the task's
    other families, or forgetting the command that measured them."""
    from ngpu_lite.results.families_table import update_families

    old = {"command": "first", "rows": {"bmul": {"random": {"20": {"exact": 0.9}}}},
           "models": {"bmul": "m"}, "families": {"bmul": {"random": "r"}}}
    new = {"command": "second", "rows": {"bmul": {"new": {"20": {"exact": 0.6}}}},
           "models": {"bmul": "m"}, "families": {"bmul": {"new": "n"}}}
    got = update_families(old, new, families_only=True)
    assert got["rows"]["bmul"] == {"random": {"20": {"exact": 0.9}}, "new": {"20": {"exact": 0.6}}}
    assert got["families"]["bmul"] == {"random": "r", "new": "n"}
    assert got["commands"]["bmul"] == "first; second"
    assert update_families(old, new)["rows"]["bmul"] == new["rows"]["bmul"]  # whole, by default


def test_products_near_a_multiple_of_a_power_of_two_have_a_run_inside():
    """Catches the `product near t·2^k` family losing its shape: each product lies within the
    larger operand of a multiple of 2^(d+1), so bits d..k-1 form one run of zeros or of ones."""
    d = 24
    runs = []
    for a, b in family_cases("bmul", "product near t·2^k", d, 40, seed=3):
        assert 0 <= a < 2**d and 0 <= b < 2**d
        rest = (a * b) % 2 ** (d + 1)
        assert min(rest, 2 ** (d + 1) - rest) <= max(a, b)
        bits = f"{a * b:0{2 * d}b}"[::-1]  # lower-endian
        run = bits[d]
        runs.append(len(bits[d:]) - len(bits[d:].lstrip(run)))
    assert max(runs) >= d // 2  # long runs occur, up to the width


def test_training_operands_draw_only_the_named_families():
    """Catches `structured_families` being ignored (every family drawn) or an unknown family
    accepted, in the draw and at the start of training."""
    from ngpu_lite.data.families import training_operands
    from ngpu_lite.data.tasks import from_digits
    from ngpu_lite.training import train

    rng = random.Random(0)
    for _ in range(30):
        a, b = training_operands("bmul", 12, rng, ("powers of two",))
        assert bin(from_digits(a, 2)).count("1") == 1 and bin(from_digits(b, 2)).count("1") == 1
    with pytest.raises(TaskError, match="unknown family 'primes' of bmul"):
        training_operands("bmul", 12, rng, ("primes",))
    with pytest.raises(TaskError, match="unknown family 'primes' of badd"):
        train("badd", "fast", steps=1, structured=0.5, structured_families=("primes",))
