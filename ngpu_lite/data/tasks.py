"""The paper's tasks and their encoding (Kaiser & Sutskever 2016, code `data_utils.py`).

Numbers are lower-endian (least significant digit first) inside the model and written
most-significant digit first by people. A symbol is `digit + 1`; `PAD = 0`; the two operands of a
binary operation are joined by a separator symbol. Targets carry no leading zeros and are padded
with PAD to the input's length. Answers come from Python integers, so 2000-bit cases are exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

PAD = 0


ADD_SEP = 11


MUL_SEP = 12


N_SYMBOLS = 13  # PAD, ten digits, two separators: one vocabulary for every task


class TaskError(ValueError):
    """Bad input for a task: unknown name, a digit outside the base, an empty operand."""


@dataclass(frozen=True)
class Task:
    """One algorithmic task: its base, number of operands and how the answer is computed."""

    name: str
    base: int
    operands: int  # 1: a digit string; 2: two numbers joined by `separator`
    separator: int | None
    doc: str
    numeric: bool  # True when the operands are numbers (written most-significant digit first)

    @property
    def is_binary_op(self) -> bool:
        return self.operands == 2


def _sum(a: int, b: int) -> int:
    return a + b


def _product(a: int, b: int) -> int:
    return a * b


_OPS: dict[str, Callable[[int, int], int]] = {"badd": _sum, "add": _sum, "bmul": _product, "mul": _product}


TASKS: dict[str, Task] = {
    "copy": Task("copy", 2, 1, None, "copy a bit string", False),
    "reverse": Task("reverse", 2, 1, None, "reverse a bit string", False),
    "duplicate": Task("duplicate", 2, 1, None, "write a bit string twice", False),
    "sort": Task("sort", 2, 1, None, "sort the bits of a string (count the ones)", False),
    "badd": Task("badd", 2, 2, ADD_SEP, "binary addition", True),
    "bmul": Task("bmul", 2, 2, MUL_SEP, "binary multiplication", True),
    "add": Task("add", 10, 2, ADD_SEP, "decimal addition", True),
    "mul": Task("mul", 10, 2, MUL_SEP, "decimal multiplication", True),
}


def get_task(task: str | Task) -> Task:
    """Look a task up by name; an unknown name raises TaskError listing the known ones."""
    if isinstance(task, Task):
        return task
    if task not in TASKS:
        raise TaskError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    return TASKS[task]


def length_for(digits: int) -> int:
    """Sequence length for `digits`-digit operands: two operands and a separator, `2d + 1`.

    One-operand tasks use the same length so that "20 bits" means length 41 everywhere.
    """
    return 2 * digits + 1


def to_digits(x: int, base: int, width: int | None = None) -> list[int]:
    """Lower-endian digits of `x` (no leading zeros unless `width` pads them)."""
    digits = []
    while x:
        x, d = divmod(x, base)
        digits.append(d)
    if not digits:
        digits = [0]
    if width is not None:
        digits += [0] * (width - len(digits))
    return digits


def from_digits(digits: Sequence[int], base: int) -> int:
    """Integer value of lower-endian `digits`."""
    value = 0
    for d in reversed(digits):
        value = value * base + d
    return value


def parse_number(text: str, base: int) -> list[int]:
    """Lower-endian digits of a number written most-significant digit first, checked."""
    text = text.strip()
    if not text:
        raise TaskError("empty operand: give at least one digit")
    digits = []
    for ch in reversed(text):
        if ch not in "0123456789" or int(ch) >= base:  # ASCII only: '²'.isdigit() is True
            raise TaskError(f"digit {ch!r} in {text!r} is outside base {base} (use 0-{base - 1})")
        digits.append(int(ch))
    return digits


def answer_digits(task: str | Task, a: Sequence[int], b: Sequence[int] | None = None) -> list[int]:
    """The exact answer, as lower-endian digits (or the output string for one-operand tasks)."""
    t = get_task(task)
    if t.operands == 2:
        if b is None:
            raise TaskError(f"task {t.name} needs two operands")
        value = _OPS[t.name](from_digits(a, t.base), from_digits(b, t.base))
        return to_digits(value, t.base)
    a = list(a)
    if t.name == "copy":
        return a
    if t.name == "reverse":
        return a[::-1]
    if t.name == "duplicate":
        return a + a
    if t.name == "sort":
        return sorted(a)
    raise TaskError(f"no rule for task {t.name}")


TARGET_FORMATS = ("pad", "zeros")


def encode(
    task: str | Task, a: Sequence[int], b: Sequence[int] | None = None, length: int | None = None,
    target: str = "pad",
) -> tuple[list[int], list[int]]:
    """Input and target symbol lists for lower-endian operand digits `a` (and `b`).

    Two operands are padded to equal width; the target is the answer followed by PAD up to the
    input's length (or `length`, if longer). With `target="zeros"` a numeric answer is instead
    written with zero digits up to the input's length (DNGPU's multiplication format), then PAD.
    """
    t = get_task(task)
    if target not in TARGET_FORMATS:
        raise TaskError(f"target format must be one of {TARGET_FORMATS}, not {target!r}")
    for digits in (a, b) if t.operands == 2 else (a,):
        if digits is None or len(digits) == 0:
            raise TaskError("empty operand: give at least one digit")
        if any(not 0 <= d < t.base for d in digits):
            raise TaskError(f"digit outside base {t.base} in operand")
    if t.operands == 2:
        width = max(len(a), len(b))
        a = list(a) + [0] * (width - len(a))
        b = list(b) + [0] * (width - len(b))
        x = [d + 1 for d in a] + [t.separator] + [d + 1 for d in b]
    elif t.name == "duplicate":
        x = [d + 1 for d in a] + [PAD] * len(a)
    else:
        x = [d + 1 for d in a]
    y = [d + 1 for d in answer_digits(t, a, b)]
    if target == "zeros" and t.numeric:
        y += [1] * (len(x) - len(y))  # symbol 1 is the digit 0
    n = max(len(x), len(y), length or 0)
    return x + [PAD] * (n - len(x)), y + [PAD] * (n - len(y))


def decode(task: str | Task, symbols: Sequence[int], target: str = "pad") -> str:
    """Human-readable answer from output symbols: stops at the first PAD (or any non-digit).

    Numbers come out most-significant digit first, strings in reading order. With
    `target="zeros"` (answers written with zeros to the full width) leading zeros are dropped, so
    the answer reads as a number; in the paper's format they are kept, since writing them instead
    of PAD is an error of the model that a reader should see.
    """
    t = get_task(task)
    digits = []
    for s in symbols:
        s = int(s)
        if not 1 <= s <= t.base:
            break
        digits.append(s - 1)
    text = "".join(str(d) for d in digits)
    if not t.numeric:
        return text
    text = text[::-1]
    if target == "zeros":
        return text.lstrip("0") or ("0" if text else "")
    return text


def encode_text(task: str | Task, a: str, b: str | None = None,
                target: str = "pad") -> tuple[list[int], list[int]]:
    """Like `encode`, from operands typed as people write them (numbers most-significant first)."""
    t = get_task(task)
    if t.operands == 2 and b is None:
        raise TaskError(f"task {t.name} takes two operands, e.g. 1011 110")
    if t.operands == 1 and b is not None:
        raise TaskError(f"task {t.name} takes one operand, got two")
    if t.numeric:
        da = parse_number(a, t.base)
        db = parse_number(b, t.base) if b is not None else None
    else:
        da = parse_number(a, t.base)[::-1]  # strings keep reading order
        db = None
    return encode(t, da, db, target=target)


def train_stream(seed: int, step: int) -> random.Random:
    """The training data of run `seed` from `step` on (so a resumed run draws what it would have)."""
    return random.Random(seed * 1_000_003 + step)


def eval_stream(seed: int, purpose: str = "evaluate") -> random.Random:
    """Fresh test cases: seeded from a string, never from an integer as training is, so that the
    evaluation stream of any seed is a different stream from the training data of every run."""
    return random.Random(f"ngpu_lite {purpose} stream, seed {seed}")


def random_operands(task: str | Task, digits: int, rng: random.Random) -> tuple[list[int], list[int] | None]:
    """Random lower-endian operands of exactly `digits` digits (leading zeros allowed).

    One-operand tasks get a string of `2*digits + 1` symbols (`digits` for duplicate), so that every
    task's input has the same length for the same `digits` (`2*digits + 1`; duplicate's is `2*digits`).
    """
    t = get_task(task)
    if digits < 1:
        raise TaskError("digits must be at least 1")
    if t.operands == 2:
        a = to_digits(rng.randrange(t.base**digits), t.base, digits)
        b = to_digits(rng.randrange(t.base**digits), t.base, digits)
        return a, b
    n = digits if t.name == "duplicate" else length_for(digits)
    return to_digits(rng.getrandbits(n) if t.base == 2 else rng.randrange(t.base**n), t.base, n), None


def stack_examples(
    pairs: Sequence[tuple[list[int], list[int]]], width: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad encoded `(x, y)` pairs into a batch `(x, y, lengths)` as `make_batch` does."""
    if len(pairs) == 0:  # an empty batch is a caller's mistake, not an empty answer
        raise TaskError("an empty batch: give at least one example (make_batch takes one digit "
                        "count per example in `digits`)")
    n = max([len(x) for x, _ in pairs] + [width or 0])
    x = torch.zeros(len(pairs), n, dtype=torch.long)
    y = torch.zeros(len(pairs), n, dtype=torch.long)
    lengths = torch.tensor([len(xi) for xi, _ in pairs], dtype=torch.long)
    for i, (xi, yi) in enumerate(pairs):
        x[i, : len(xi)] = torch.tensor(xi)
        y[i, : len(yi)] = torch.tensor(yi)
    return x, y, lengths
