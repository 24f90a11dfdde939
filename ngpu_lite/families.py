"""Structured inputs: what a random test of an algorithmic task almost never contains.

Price et al. (2016) found that Neural GPUs exact on random inputs fail on structured ones
(`000…002 × 000…002`, long carries). `FAMILIES[task][family]` draws members of such families for
every binary task, from seeded streams of their own and with exact answers from Python integers;
`families_table` measures a model on each, and `python -m ngpu_lite.families` (`make families`)
writes that table for the shipped models to `figures/families.{json,md,png}`.

Cases. A case is a tuple of non-negative Python integers, each written at a fixed width with
`tasks.to_digits` (lowest digit first, leading zeros included), as `tasks.random_operands` draws:
`(a, b)` for badd and bmul, two operands of `digits` bits; `(s,)` for copy, reverse, duplicate and
sort, one string of `case_width(task, digits)` symbols (`2·digits + 1`, or `digits` for
duplicate, so that "20 bits" is a 41-long input for every task but duplicate, whose input is
40 long) whose symbol `i` (reading order)
is bit `i` of `s`. `case_digits` turns a case into the digit lists `tasks.encode` takes.

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

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .tasks import (
    Task,
    TaskError,
    encode,
    eval_stream,
    from_digits,
    get_task,
    length_for,
    stack_examples,
    to_digits,
)

__all__ = ["FAMILIES", "MUL_FAMILIES", "carry_chains", "case_digits", "case_text", "case_width",
           "evaluate_cases", "families_markdown", "families_plot", "families_table", "family_cases",
           "family_doc"]

Case = tuple[int, ...]
Generator = Callable[[int, random.Random], Case]


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
    "zero × x": lambda d, rng: (lambda x: (0, x) if rng.getrandbits(1) else (x, 0))(
        rng.getrandbits(d)),
    "one × x": lambda d, rng: (lambda x: (1, x) if rng.getrandbits(1) else (x, 1))(
        rng.getrandbits(d)),
}
"""Families of `bmul` inputs: `random` for reference; `few set bits` (three ones in each
operand); `square a·a`; `runs of ones` (`2^i − 1` times `2^j − 1`); `powers of two`;
`leading zeros` (operands of at most a quarter of the width, the rest zeros, as Price et al.'s
`000…002 × 000…002`); `zero × x` and `one × x` (the trivial products, either order)."""


# --- structured operands of binary addition -------------------------------------------------------
# Each generator draws one member `(a, b)` of a family of `digits`-bit additions with `rng`;
# operands are written at the full width of `digits` bits, leading zeros included.

def _alternating(length: int, phase: int) -> int:
    """`length` bits alternating 0101… (lowest bit `phase`), as an integer."""
    return sum(1 << i for i in range(length) if (i + phase) % 2 == 1)


def _add_random(d: int, rng: random.Random) -> Case:
    """Random operands of `d` bits: the reference the other families are compared with."""
    return rng.getrandbits(d), rng.getrandbits(d)


def _add_leading_zeros(d: int, rng: random.Random) -> Case:
    """Short operands (1 to d/4 bits, top bit set) under a run of leading zeros, down to all but
    one digit zero (`0…01 + 0…01`): the addition analogue of Price et al.'s `000…002 × 000…002`,
    the multiplication they found to break Neural GPUs."""
    def short() -> int:
        n = rng.randint(1, max(1, d // 4))
        return (1 << (n - 1)) | rng.getrandbits(n - 1)
    return short(), short()


def _add_few_bits(d: int, rng: random.Random) -> Case:
    """One to three set bits in each operand, the rest zeros: long stretches with nothing to add."""
    return _few_bits(d, rng, rng.randint(1, 3)), _few_bits(d, rng, rng.randint(1, 3))


def _add_power_chain(d: int, rng: random.Random) -> Case:
    """`a + (2^k − a)`, `a` odd, `k` from half to all of the width: one carry crosses all `k`
    bits (the sum is `2^k`), the longest a `k`-bit addition has."""
    k = rng.randint(max(1, d // 2), d)
    a = rng.getrandbits(k) | 1
    return a, (1 << k) - a


def _add_one_long_chain(d: int, rng: random.Random) -> Case:
    """Random operands with one carry chain of half to all of the width planted at a random place
    (a generate, then propagates, then a kill): a long carry among random bits."""
    k = rng.randint(max(1, d // 2), d)  # the chain's length
    s = rng.randint(0, d - k)  # its generate position; it reaches s + 1, ..., s + k
    a, b = rng.getrandbits(d), rng.getrandbits(d)
    a, b = a | 1 << s, b | 1 << s
    for i in range(s + 1, s + k):  # propagates: exactly one operand has a 1
        one = rng.getrandbits(1)
        a = a | 1 << i if one else a & ~(1 << i)
        b = b & ~(1 << i) if one else b | 1 << i
    if s + k < d:  # a kill ends it (above the width every position is one)
        a, b = a & ~(1 << (s + k)), b & ~(1 << (s + k))
    return a, b


def _add_all_ones(d: int, rng: random.Random) -> Case:
    """`a + (2^d − 1 − a)`: every position propagates, no carry at all, the sum is all ones."""
    a = rng.getrandbits(d)
    return a, (1 << d) - 1 - a


def _add_double(d: int, rng: random.Random) -> Case:
    """`a + a`: both operands equal, every 1 a generate, every 0 a kill (the sum is `a` shifted)."""
    a = rng.getrandbits(d)
    return a, a


def _add_alternating(d: int, rng: random.Random) -> Case:
    """Both operands 0101… or 1010… (phase at random) over half to all of the width: the four
    pairings give all-ones sums, `a + a` and their shifted mixtures."""
    def alt() -> int:
        return _alternating(rng.randint(max(1, d // 2), d), rng.getrandbits(1))
    return alt(), alt()


def _add_zero(d: int, rng: random.Random) -> Case:
    """`0 + x` or `x + 0` (order at random), `x` random: the answer is an operand copied."""
    x = rng.getrandbits(d)
    return (0, x) if rng.getrandbits(1) else (x, 0)


ADD_FAMILIES: dict[str, Generator] = {
    "random": _add_random,
    "leading zeros": _add_leading_zeros,
    "few set bits": _add_few_bits,
    "carry chain a + (2^k − a)": _add_power_chain,
    "one long carry chain": _add_one_long_chain,
    "all-ones sum": _add_all_ones,
    "a + a": _add_double,
    "alternating bits": _add_alternating,
    "zero + x": _add_zero,
}
"""Families of `badd` inputs, `FAMILIES["badd"]`."""


def _mul_alternating(d: int, rng: random.Random) -> Case:
    """`0101…` or `1010…` over the full width times a random operand: a product that is a sum of
    every other shift of `b`, with carries all along."""
    return _alternating(d, rng.getrandbits(1)), rng.getrandbits(d)


def _mul_all_ones(d: int, rng: random.Random) -> Case:
    """`(2^d − 1) × b`, `b` random: the product is `b · 2^d − b`, a borrow across the width."""
    return (1 << d) - 1, rng.getrandbits(d)


def _mul_near_power(d: int, rng: random.Random) -> Case:
    """`a × b` with `b` the nearest whole number to `t·2^k / a`: the product lies within `a` of
    `t·2^k`, so a run of up to `d − 2` zeros (or ones) sits in its middle, where the carries of
    the column sums must cancel exactly (every wrong one of 256 fresh 20-bit products of the shipped
    model had an inner run of at least 6 zeros)."""
    if d < 4:
        return rng.getrandbits(d), rng.getrandbits(d)
    k = rng.randint(d + 1, 2 * d - 2)
    a = rng.getrandbits(d) | (1 << (d - 1))
    t = rng.randrange(1, 1 << (2 * d - 1 - k))
    b = min((t << k) // a + rng.getrandbits(1), (1 << d) - 1)
    return (a, b) if rng.getrandbits(1) else (b, a)


def _documented(gen: Callable[[int, random.Random], Case], doc: str) -> Generator:
    def draw(d: int, rng: random.Random) -> Case:
        return gen(d, rng)
    draw.__doc__ = doc
    return draw


_MUL_DOCS = {
    "random": "Random operands of `d` bits: the reference the other families are compared with.",
    "few set bits": "Three set bits in each operand, the rest zeros.",
    "square a·a": "`a × a`, `a` random: both operands equal.",
    "runs of ones": "`(2^i − 1) × (2^j − 1)`, `i` and `j` from 1 to the width: runs of ones.",
    "powers of two": "`2^i × 2^j`: one set bit in each operand, the product one set bit.",
    "leading zeros": "Operands of at most a quarter of the width under leading zeros, as Price et "
                     "al.'s `000…002 × 000…002`.",
    "zero × x": "`0 × x` or `x × 0`, `x` random: the product is 0 at every width.",
    "one × x": "`1 × x` or `x × 1`, `x` random: the product is `x` itself.",
}

# --- structured strings of the one-operand tasks ----------------------------------------------------
# Each generator draws one string of `n` bits (reading order) with `rng`; `n` is the input length
# of the task at `digits` bits (`case_width`).

def _str_random(n: int, rng: random.Random) -> list[int]:
    """Random bits: the reference the other families are compared with."""
    return to_digits(rng.getrandbits(n), 2, n)


def _str_zeros(n: int, rng: random.Random) -> list[int]:
    """All zeros (one member per width): one symbol throughout, nothing to tell positions apart."""
    return [0] * n


def _str_ones(n: int, rng: random.Random) -> list[int]:
    """All ones (one member per width): one symbol throughout, nothing to tell positions apart."""
    return [1] * n


def _str_long_runs(n: int, rng: random.Random) -> list[int]:
    """Two to four runs of one symbol, each at least an eighth of the string, symbols alternating."""
    runs = min(rng.randint(2, 4), n)
    base = max(1, n // (2 * runs))
    cuts = sorted(rng.randint(0, n - runs * base) for _ in range(runs - 1))
    extra = [hi - lo for lo, hi in zip([0, *cuts], [*cuts, n - runs * base], strict=True)]
    symbol, out = rng.getrandbits(1), []
    for more in extra:
        out += [symbol] * (base + more)
        symbol ^= 1
    return out


def _str_alternating(n: int, rng: random.Random) -> list[int]:
    """0101… or 1010… (two members per width): every symbol differs from its neighbours."""
    phase = rng.getrandbits(1)
    return [(i + phase) % 2 for i in range(n)]


def _str_sorted(n: int, rng: random.Random) -> list[int]:
    """Zeros then ones (0…01…1, any number of ones): sort's answer is its input."""
    ones = rng.randint(0, n)
    return [0] * (n - ones) + [1] * ones


def _str_nearly_sorted(n: int, rng: random.Random) -> list[int]:
    """A sorted string (0…01…1) with one to three of its zeros swapped with as many ones: almost
    nothing to move, but what is out of place must travel far."""
    if n < 2:
        return _str_sorted(n, rng)
    ones = rng.randint(1, n - 1)
    out = [0] * (n - ones) + [1] * ones
    swaps = rng.randint(1, min(3, ones, n - ones))
    for i, j in zip(rng.sample(range(n - ones), swaps), rng.sample(range(n - ones, n), swaps),
                    strict=True):
        out[i], out[j] = 1, 0
    return out


def _str_one_differs(n: int, rng: random.Random) -> list[int]:
    """One symbol throughout but a single one of the other at a random place (0…010…0 or
    1…101…1): one position carries all the information."""
    symbol = rng.getrandbits(1)
    out = [symbol] * n
    out[rng.randrange(n)] ^= 1
    return out


STRING_FAMILIES: dict[str, Callable[[int, random.Random], list[int]]] = {
    "random": _str_random,
    "all zeros": _str_zeros,
    "all ones": _str_ones,
    "long runs": _str_long_runs,
    "alternating": _str_alternating,
    "sorted": _str_sorted,
    "nearly sorted": _str_nearly_sorted,
    "one differing symbol": _str_one_differs,
}
"""Families of strings for copy, reverse, duplicate and sort, as lists of `n` bits."""


def _on_string(gen: Callable[[int, random.Random], list[int]], task: str) -> Generator:
    """`gen` as a family of `task`: a string of the task's input length, as a case `(s,)`."""
    def draw(d: int, rng: random.Random) -> Case:
        return (from_digits(gen(case_width(task, d), rng), 2),)
    draw.__doc__ = gen.__doc__
    draw.__name__ = gen.__name__
    return draw


FAMILIES: dict[str, dict[str, Generator]] = {
    "badd": ADD_FAMILIES,
    "bmul": {**{name: _documented(gen, _MUL_DOCS[name]) for name, gen in MUL_FAMILIES.items()},
             "alternating bits": _mul_alternating, "all ones × random": _mul_all_ones,
             "product near t·2^k": _mul_near_power},
    **{task: {name: _on_string(gen, task) for name, gen in STRING_FAMILIES.items()}
       for task in ("copy", "reverse", "duplicate", "sort")},
}
"""`FAMILIES[task][family](digits, rng)` draws one case (a tuple of ints, see the module's
docstring) of `family` at `digits` bits; `family_doc(task, family)` says what it is."""


def _families_of(task: str | Task) -> dict[str, Generator]:
    t = get_task(task)
    if t.name not in FAMILIES:
        raise TaskError(f"no families for task {t.name!r}; tasks with families: {', '.join(FAMILIES)}")
    return FAMILIES[t.name]


def training_operands(task: str | Task, digits: int, rng: random.Random,
                      families: Sequence[str] = ()) -> tuple[list[int], list[int] | None]:
    """Operands of one structured training example, drawn with the training stream `rng`: a family
    of `task` other than `random` (or one of `families`, if named), chosen uniformly, written at
    `digits` digits. What `make_batch(..., structured=share)` mixes into training (beyond the
    paper, which trained on random operands only)."""
    known = _families_of(task)
    unknown = [f for f in families if f not in known]
    if unknown:
        raise TaskError(f"unknown family {unknown[0]!r} of {get_task(task).name}; "
                        f"families: {', '.join(known)}")
    gens = [g for name, g in known.items() if (name in families if families else name != "random")]
    return case_digits(task, rng.choice(gens)(digits, rng), digits)


def family_doc(task: str, family: str) -> str:
    """What `family` of `task` is and why it is there: its generator's docstring, on one line."""
    gens = _families_of(task)
    if family not in gens:
        raise TaskError(f"unknown family {family!r} of {get_task(task).name}; choose one of: "
                        f"{', '.join(gens)}")
    return " ".join((gens[family].__doc__ or "").split()).rstrip(".")


def case_width(task: str | Task, digits: int) -> int:
    """Digits each operand is written with: `digits` for badd and bmul; for one-operand tasks the
    string's length, `2·digits + 1` (`digits` for duplicate), as `tasks.random_operands` draws."""
    t = get_task(task)
    if t.operands == 2 or t.name == "duplicate":
        return digits
    return length_for(digits)


def case_digits(task: str | Task, case: Sequence[int], digits: int
                ) -> tuple[list[int], list[int] | None]:
    """The lower-endian digit lists `(a, b)` (`b` None for one-operand tasks) that `tasks.encode`
    takes for `case`, each written at `case_width(task, digits)` (leading zeros included)."""
    t = get_task(task)
    if len(case) != t.operands:
        raise TaskError(f"a {t.name} case has {t.operands} operand(s), got {len(case)}: {case!r}")
    width = case_width(t, digits)
    ops = [to_digits(x, t.base, width) for x in case]
    return ops[0], ops[1] if t.operands == 2 else None


def case_text(task: str | Task, case: Sequence[int], digits: int) -> str:
    """`case` as people type it (numbers most-significant digit first, strings in reading order),
    e.g. for `python -m ngpu_lite predict`."""
    t = get_task(task)
    a, b = case_digits(t, case, digits)
    if not t.numeric:
        return "".join(map(str, a))
    return " ".join("".join(map(str, reversed(x))) for x in (a, b) if x is not None)


def family_cases(task: str, family: str, digits: int, samples: int, seed: int = 0
                 ) -> list[Case]:
    """`samples` members of `family` at `digits` bits, from the families' own random stream
    (`tasks.eval_stream(seed, "families TASK FAMILY DIGITS")`), which training never draws from."""
    t = get_task(task)
    gens = _families_of(t)
    if family not in gens:
        raise TaskError(f"unknown family {family!r} of {t.name}; choose one of: {', '.join(gens)}")
    if not isinstance(digits, int) or isinstance(digits, bool) or digits < 1:
        raise TaskError(f"digits must be a whole number of at least 1, not {digits!r}")
    rng = eval_stream(seed, f"families {t.name} {family} {digits}")
    return [gens[family](digits, rng) for _ in range(samples)]


@torch.no_grad()
def evaluate_cases(model, task: str, pairs: Sequence[Case], digits: int, batch_size: int = 32,
                   bar: tqdm | None = None) -> dict:
    """Exact share, per-symbol share and the wrong cases of `model` on the cases given (operand
    pairs, or `(s,)` strings for one-operand tasks), each written at `digits` bits (leading zeros
    included); `right` counts the exact answers. `bar` (a tqdm bar) advances by each batch."""
    t = get_task(task)
    target = model.config.target
    dev = next(model.parameters()).device
    exact, right, total, wrong = 0, 0, 0, []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i : i + batch_size]
        enc = [encode(t, *case_digits(t, case, digits), target=target) for case in chunk]
        x, y, lengths = stack_examples(enc)
        pred = model.predict(x.to(dev), lengths.to(dev)).cpu()
        inside = torch.arange(x.shape[1])[None, :] < lengths[:, None]
        ok = ((pred == y) | ~inside).all(1)
        exact += int(ok.sum())
        right += int(((pred == y) & inside).sum())
        total += int(inside.sum())
        wrong += [case for case, good in zip(chunk, ok.tolist(), strict=True) if not good]
        if bar is not None:
            bar.update(len(chunk))
    return {"samples": len(pairs), "exact": exact / max(1, len(pairs)),
            "per_symbol": right / max(1, total), "wrong": wrong, "right": exact}


# --- the families table ---------------------------------------------------------------------------

TABLE_DIGITS = (20, 200, 2000)
TABLE_SAMPLES = {20: 64, 200: 64, 2000: 16}
SHOW_WRONG_UP_TO = 64  # digits: wrong cases are kept (as typed) in the table up to this width


def _batch_for(model, length: int) -> int:
    """Batch size: within the evaluation memory budget, and small at long lengths so that the
    progress bar moves every few cases (a 2000-bit case takes 10-45 s on one thread)."""
    from .evaluate import batch_size_for

    return max(1, min(32, batch_size_for(model, length), 12_000 // length))


def families_table(model_for: Callable[[str], torch.nn.Module], tasks: Iterable[str],
                   digits: Sequence[int] = TABLE_DIGITS,
                   samples: int | dict[int, int] | None = None, seed: int = 0,
                   families: Iterable[str] | None = None, progress: bool = True) -> dict:
    """Measure `model_for(task)` on every family of every task at every length in `digits`.

    Returns `{"rows": {task: {family: {str(digits): cell}}}, "models": ..., ...}`, where a cell
    holds `exact` (share of cases with every symbol right), `right` (how many), `samples` (distinct
    cases: a family with fewer members than asked, such as all zeros, is measured once per member),
    `per_symbol`, `seconds` and, up to 64 bits, a few `wrong` cases as typed. `samples` is a count
    per length (default 64, 16 at 2000 bits) or one count for all; `families` keeps only those named.
    """
    from .model import model_name

    tasks = [get_task(t).name for t in tasks]
    want = None if families is None else list(families)
    counts = dict(TABLE_SAMPLES) if samples is None else (
        dict(samples) if isinstance(samples, dict) else {d: int(samples) for d in digits})
    unknown = [f for f in want or () if not any(f in _families_of(t) for t in tasks)]
    if unknown:
        raise TaskError(f"unknown family {unknown[0]!r} of {', '.join(tasks)}")
    plan = []  # (task, family, digits, distinct cases)
    for task in tasks:
        names = [f for f in _families_of(task) if want is None or f in want]
        for family in names:
            for d in digits:
                cases = family_cases(task, family, d, counts.get(d, 64), seed)
                plan.append((task, family, d, list(dict.fromkeys(cases))))
    bar = tqdm(total=sum(len(c) for *_, c in plan), disable=not progress, unit="case")
    rows: dict[str, dict] = {}
    models: dict[str, str] = {}
    for task in tasks:
        model = None
        for t, family, d, cases in plan:
            if t != task:
                continue
            if model is None:
                model = model_for(task)
                models[task] = model_name(model.config) if hasattr(model, "config") else str(model)
            bar.set_description(f"{task} {family} {d} bits")
            start = time.time()
            res = evaluate_cases(model, task, cases, d, _batch_for(model, length_for(d)), bar=bar)
            cell = {"exact": res["exact"], "right": res["right"], "samples": res["samples"],
                    "per_symbol": res["per_symbol"], "seconds": round(time.time() - start, 1)}
            if d <= SHOW_WRONG_UP_TO:
                cell["wrong"] = [case_text(task, c, d) for c in res["wrong"][:3]]
            rows.setdefault(task, {}).setdefault(family, {})[str(d)] = cell
    bar.close()
    return {"command": "families_table", "started": time.strftime("%Y-%m-%d %H:%M"),
            "torch": str(torch.__version__), "threads": torch.get_num_threads(), "seed": seed,
            "stream": f"tasks.eval_stream({seed}, 'families TASK FAMILY DIGITS')",
            "models": models, "rows": rows,
            "families": {task: {f: family_doc(task, f) for f in rows.get(task, {})} for task in tasks}}


def update_families(old: dict, new: dict, families_only: bool = False) -> dict:
    """`new`'s tasks over an `old` families file: the other tasks keep their rows, models,
    family notes and the command that measured them (in `commands`, task by task). With
    `families_only` (a new family measured on an unchanged model) only `new`'s families of a task
    are replaced and its other families kept; their commands are both kept, joined by `; `."""
    commands = {t: old.get("commands", {}).get(t, old.get("command", "?")) for t in old["rows"]}
    for t in new["rows"]:
        command = new.get("command", "?")
        commands[t] = f"{commands[t]}; {command}" if families_only and t in commands else command
    merged = dict(new, commands=commands)
    for key in ("rows", "models", "families"):
        merged[key] = {**{t: v for t, v in old.get(key, {}).items() if t not in new["rows"]},
                       **new.get(key, {})}
        if families_only and key != "models":
            for t, fams in new.get(key, {}).items():
                merged[key][t] = {**old.get(key, {}).get(t, {}), **fams}
    order = list(old["rows"]) + [t for t in new["rows"] if t not in old["rows"]]
    merged["rows"] = {t: merged["rows"][t] for t in order}
    return merged


def families_markdown(res: dict) -> str:
    """The table as markdown: one row per task and family, `right of samples (share)` per length,
    then what each family is."""
    digits = sorted({int(d) for fams in res["rows"].values() for row in fams.values() for d in row})
    lines = ["| task (model) | family | " + " | ".join(f"{d} bits" for d in digits) + " |",
             "|---|---" + "|---" * len(digits) + "|"]
    for task, fams in res["rows"].items():
        label = f"{task} ({res['models'][task]})" if res.get("models", {}).get(task) else task
        for family, row in fams.items():
            cells = []
            for d in digits:
                c = row.get(str(d))
                cells.append("–" if c is None else
                             f"{c['right']} of {c['samples']} ({100 * c['exact']:.0f}%)")
            lines.append(f"| {label} | {family} | " + " | ".join(cells) + " |")
            label = ""
    lines += ["", "Exact answers (every output symbol right) of distinct cases drawn from "
              f"{res.get('stream', 'the families stream')}. Families:", ""]
    said: dict[tuple[str, str], list[str]] = {}  # one line for a family several tasks share
    for task, docs in res.get("families", {}).items():
        for family, doc in docs.items():
            said.setdefault((family, doc), []).append(task)
    lines += [f"- {', '.join(tasks)}, *{family}*: {doc}." for (family, doc), tasks in said.items()]
    return "\n".join(lines)


def families_plot(res: dict):
    """Heat map of the exact share: one row per task and family, one column per length, each cell
    annotated with `right/samples`."""
    import matplotlib.pyplot as plt

    digits = sorted({int(d) for fams in res["rows"].values() for row in fams.values() for d in row})
    labels, grid, notes = [], [], []
    for task, fams in res["rows"].items():
        for family, row in fams.items():
            labels.append(f"{task}: {family}")
            cells = [row.get(str(d)) for d in digits]
            grid.append([math.nan if c is None else 100 * c["exact"] for c in cells])
            notes.append(["" if c is None else f"{c['right']}/{c['samples']}" for c in cells])
    fig, ax = plt.subplots(figsize=(4.2 + 1.1 * len(digits), 1.0 + 0.24 * len(labels)))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="0.9")
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for i, row in enumerate(notes):
        for j, note in enumerate(row):
            dark = not math.isnan(grid[i][j]) and not 20 <= grid[i][j] <= 80
            ax.text(j, i, note, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    tasks = [label.split(":")[0] for label in labels]
    for i in range(1, len(tasks)):
        if tasks[i] != tasks[i - 1]:  # a line between tasks
            ax.axhline(i - 0.5, color="white", lw=2)
    ax.set_xticks(range(len(digits)), [f"{d} bits" for d in digits], fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.xaxis.tick_top()
    ax.set_title("Exact answers on structured families\n(right/samples; green: all exact)",
                 fontsize=9)
    fig.tight_layout()
    return fig


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ngpu_lite.families",
                                 description="Measure the shipped models on every family of "
                                             "structured inputs; write figures/NAME.{json,md,png}.")
    ap.add_argument("--tasks", default=",".join(FAMILIES), help="comma-separated (default: all)")
    ap.add_argument("--families", help="comma-separated family names (default: every family)")
    ap.add_argument("--digits", default=",".join(map(str, TABLE_DIGITS)))
    ap.add_argument("--samples", type=int, default=TABLE_SAMPLES[20],
                    help="cases per family at each length but 2000 bits")
    ap.add_argument("--samples-2000", type=int, default=TABLE_SAMPLES[2000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="families", help="output file stem")
    ap.add_argument("--out", type=Path, help="output folder (default: the repository's figures/)")
    ap.add_argument("--update", action="store_true",
                    help="keep the other tasks' rows of an existing file (a measured task's row "
                         "is replaced whole: its model may have changed; with --families only "
                         "those families' rows, for a family added on an unchanged model)")
    args = ap.parse_args(argv)
    from .checkpoints import pretrained
    from .zoo import FIGURES_DIR

    digits = tuple(int(d) for d in args.digits.split(","))
    res = families_table(lambda task: pretrained(task, "cpu"), args.tasks.split(","), digits,
                         {d: args.samples_2000 if d == 2000 else args.samples for d in digits},
                         seed=args.seed,
                         families=args.families.split(",") if args.families else None)
    res["command"] = "python -m ngpu_lite.families " + " ".join(
        argv if argv is not None else sys.argv[1:])
    from .checkpoints import hardware

    res["hardware"] = hardware()
    out = args.out or FIGURES_DIR
    out.mkdir(parents=True, exist_ok=True)
    if args.update and (out / f"{args.name}.json").exists():
        res = update_families(json.loads((out / f"{args.name}.json").read_text()), res,
                              families_only=bool(args.families))
    (out / f"{args.name}.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / f"{args.name}.md").write_text(families_markdown(res) + "\n")
    families_plot(res).savefig(out / f"{args.name}.png", dpi=120)
    print(families_markdown(res))
    print(f"wrote {out / args.name}.json, .md and .png")
    if args.out is None and args.name == "families":  # the repository's own table: the README too
        from .zoo import update_readme

        table = families_markdown(res).split("\n\n")[0]
        if update_readme(table + "\n\nMeasured by `python -m ngpu_lite.families` task by task (the "
                         "commands: `figures/families.json`); what each family is: "
                         "`figures/families.md`.", name="families"):
            print("updated the README's families table")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
