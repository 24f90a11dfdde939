"""Structured inputs: what a random test of an algorithmic task almost never contains.

Price et al. (2016) found that Neural GPUs exact on random inputs fail on structured ones
(`000…002 × 000…002`, long carries). `FAMILIES[task][family]` draws members of such families for
every binary task, from seeded streams of their own and with exact answers from Python integers;
`results/families_table.py` measures a model on each (`make families`).

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

import random
from collections.abc import Callable, Sequence

from .tasks import Task, TaskError, eval_stream, from_digits, get_task, length_for, to_digits

__all__ = ["FAMILIES", "MUL_FAMILIES", "carry_chains", "case_digits", "case_text", "case_width",
           "family_cases", "family_doc", "training_operands"]


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
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise TaskError(f"samples must be a whole number of at least 1, not {samples!r}")
    rng = eval_stream(seed, f"families {t.name} {family} {digits}")
    return [gens[family](digits, rng) for _ in range(samples)]
