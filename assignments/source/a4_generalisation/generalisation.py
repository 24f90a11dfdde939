# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Assignment 4: where does a trained Neural GPU fail?
#
# The paper's headline is *length generalisation*: trained on binary additions of at most 20 bits,
# its Neural GPU answered every 2000-bit test addition exactly (Table 1). Price, Zaremba &
# Sutskever (2016) then found inputs on which such models fail although they are right on random inputs of the same
# length: long carry chains such as `a + (2^k − a)`, or operands with many leading zeros such as
# `000…01 + 000…01`. You will measure a trained model's length
# generalisation yourself, then find an *input family* on which it fails.
#
# The model is `ngpu_lite.pretrained("badd")` when the library ships one. Until it does, the cell
# below trains a small model with `ngpu_lite.train`, once: it is cached in `~/.cache/ngpu_lite`,
# or in the folder named by `NGPU_ASSIGNMENT_CACHE`. Your code must work with either model.
#
# Write your code only where it says `YOUR CODE HERE`. Do not call `ngpu_lite.evaluate` in your
# answers: it is what your measurement is compared with.
#
# Points: `answer` 2, `exact_accuracy` 3, `failing_family` 4.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import os
import random
from pathlib import Path

import torch

import ngpu_lite

torch.set_num_threads(1)
TASK, SEED, TRAIN_STEPS = "badd", 0, 1500
RECIPE = dict(lr=0.005, threshold=0.15)  # the "tiny" preset (up to 6 bits), a little hotter


def shipped_or_trained():
    """The shipped model for TASK if there is one; else a small model trained here (and cached)."""
    try:
        return ngpu_lite.pretrained(TASK, device="cpu"), "the shipped checkpoint"
    except ngpu_lite.CheckpointError:
        pass
    folder = Path(os.environ.get("NGPU_ASSIGNMENT_CACHE", Path.home() / ".cache" / "ngpu_lite"))
    cache = folder / f"assignment4-{TASK}-tiny-seed{SEED}-{TRAIN_STEPS}.pt"
    if cache.exists():
        return ngpu_lite.load(cache, TASK)[0], "a small model trained earlier on this machine"
    res = ngpu_lite.train(TASK, "tiny", seed=SEED, steps=TRAIN_STEPS, progress=False,
                          **RECIPE)
    ngpu_lite.save(cache, res.model, TASK, meta={"preset": "tiny", "seed": SEED, "steps": res.steps,
                                                 "recipe": RECIPE})
    return res.model, f"a small model trained here ({res.steps} steps, {res.seconds:.0f} s)"


model, origin = shipped_or_trained()
print(f"model: {origin}; {sum(p.numel() for p in model.parameters()):,} parameters")

# %% [markdown] nbgrader={"grade": false, "grade_id": "q1", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. Ask the model (2 points)
#
# Return the model's answer to `a + b` for two binary numbers written as people write them
# (most-significant bit first), also as such a string. Use `ngpu_lite.encode_text` to build the
# input symbols, `model.predict` (it takes a batch `[B, n]`) and `ngpu_lite.decode`.

# %% nbgrader={"grade": false, "grade_id": "answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def answer(model, a, b):
    """The model's sum of the binary numbers `a` and `b` (strings, most-significant bit first)."""
    ### BEGIN SOLUTION
    x, _ = ngpu_lite.encode_text(TASK, a, b)
    return ngpu_lite.decode(TASK, model.predict(torch.tensor([x]))[0].tolist())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_answer", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def library_answer(model, a, b):
    x, _ = ngpu_lite.encode_text(TASK, a, b)
    return ngpu_lite.decode(TASK, model.predict(torch.tensor([x]))[0].tolist())


print("the model says 101 + 11 =", answer(model, "101", "11"))
assert isinstance(answer(model, "101", "11"), str)
assert answer(model, "101", "11") == library_answer(model, "101", "11")
### BEGIN HIDDEN TESTS
rng = random.Random(5)
for _ in range(20):
    d = rng.randint(1, 12)
    a, b = (format(rng.randrange(2**d), "b") for _ in range(2))
    assert answer(model, a, b) == library_answer(model, a, b), (a, b)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q2", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Measure length generalisation (3 points)
#
# Return the share of `samples` fresh random `digits`-bit additions that the model answers with
# every output symbol right (the paper's measure). Draw them from the evaluation stream, which
# training never draws from: `ngpu_lite.make_batch(TASK, [digits] * samples,
# ngpu_lite.tasks.eval_stream(seed))`, which returns `(x, y, lengths)`; positions at or beyond
# an example's length do not count.

# %% nbgrader={"grade": false, "grade_id": "exact_accuracy", "locked": false, "schema_version": 3, "solution": true, "task": false}
def exact_accuracy(model, digits, samples=64, seed=0):
    """Share of `samples` random `digits`-bit additions answered exactly."""
    ### BEGIN SOLUTION
    x, y, lengths = ngpu_lite.make_batch(TASK, [digits] * samples,
                                         ngpu_lite.tasks.eval_stream(seed))
    pred = model.predict(x, lengths)
    inside = torch.arange(x.shape[1])[None, :] < lengths[:, None]
    return float(((pred == y) | ~inside).all(dim=1).float().mean())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_exact_accuracy", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
mine = exact_accuracy(model, 6, 64, seed=1)
ref = ngpu_lite.evaluate(model, TASK, 6, 64, seed=1)["exact"]
print(f"6 bits: yours {mine:.3f}, ngpu_lite.evaluate {ref:.3f}")
assert abs(mine - ref) < 1e-9
### BEGIN HIDDEN TESTS
# a model right on only some cases too, so that a constant answer cannot pass
half_trained = ngpu_lite.train(TASK, "tiny", seed=0, steps=60, progress=False).model.cpu()
for m, digits, samples, seed in [(model, 2, 50, 3), (model, 10, 40, 4), (model, 16, 24, 5),
                                 (half_trained, 2, 64, 6), (half_trained, 3, 64, 7)]:
    mine = exact_accuracy(m, digits, samples, seed)
    ref = ngpu_lite.evaluate(m, TASK, digits, samples, seed)["exact"]
    print(f"{digits} bits: yours {mine:.3f}, ngpu_lite.evaluate {ref:.3f}")
    assert abs(mine - ref) < 1e-9
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "curve", "locked": true, "schema_version": 3, "solution": false, "task": false}
# With your function, the model's length generalisation on random inputs:

# %% nbgrader={"grade": false, "grade_id": "curve_code", "locked": true, "schema_version": 3, "solution": false, "task": false}
for digits in (2, 4, 8, 16, 32):
    try:
        print(f"{digits:>3} bits (length {ngpu_lite.length_for(digits):>3}): "
              f"exact {exact_accuracy(model, digits, 64, seed=digits):.1%}")
    except NotImplementedError:
        print("implement exact_accuracy first")
        break

# %% [markdown] nbgrader={"grade": false, "grade_id": "q3", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. An input family on which it fails (4 points)
#
# Write `failing_family(digits, rng)`, which returns one member `(a, b)` of a family of
# `digits`-bit additions (strings of exactly `digits` characters `0`/`1`, most-significant bit
# first, leading zeros allowed), drawn with `rng`. Set `FAMILY_DIGITS` to a size at which the
# model is right on at least a quarter of random additions, and on your family's members at
# least 20 percentage points less often. (With the shipped model, look for a size where it is
# right on nearly all random inputs.) The family must have at least 8 different members among 32 draws: one bad
# case is not a family. Hint: chapter 9 measures several families on the shipped model; look at
# how far a carry has to travel, and at answers much shorter than the input.

# %% nbgrader={"grade": false, "grade_id": "failing_family", "locked": false, "schema_version": 3, "solution": true, "task": false}
def failing_family(digits, rng):
    """One member `(a, b)` of an addition family that the model gets wrong."""
    ### BEGIN SOLUTION
    # both operands below 2^(digits/4): the answer is far shorter than the input, and the model
    # has to write PAD, not zeros, over most of it (chapter 9: the shipped model writes zeros)
    top = 2 ** max(1, digits // 4)
    return format(rng.randrange(1, top), f"0{digits}b"), format(rng.randrange(1, top), f"0{digits}b")
    ### END SOLUTION


# Set FAMILY_DIGITS here (searching for it with your functions is welcome).
### BEGIN SOLUTION
def family_accuracy(model, digits, members=32, seed=0):
    """Share of family members the model adds exactly."""
    rng = random.Random(seed)
    pairs = [failing_family(digits, rng) for _ in range(members)]
    return sum(answer(model, a, b) == format(int(a, 2) + int(b, 2), "b") for a, b in pairs) / members


FAMILY_DIGITS = None
for digits in (2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32):
    on_random = exact_accuracy(model, digits, 128, seed=100 + digits)
    on_family = family_accuracy(model, digits, 64)
    print(f"{digits:>3} bits: random {on_random:.1%}, family {on_family:.1%}")
    if on_random >= 0.3 and on_family <= on_random - 0.25:
        FAMILY_DIGITS = digits
        break
### END SOLUTION
print("FAMILY_DIGITS =", FAMILY_DIGITS)

# %% nbgrader={"grade": true, "grade_id": "test_failing_family", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def check_family(model, digits, members=64, samples=128, seed=0):
    """Share of random and of family additions that the library's pipeline gets right."""
    rng = random.Random(seed)
    pairs = [failing_family(digits, rng) for _ in range(members)]
    for a, b in pairs:
        assert len(a) == len(b) == digits and set(a + b) <= {"0", "1"}, f"not {digits}-bit strings: {a}, {b}"
    assert len(set(pairs[:32])) >= 8, f"only {len(set(pairs[:32]))} different members in 32: not a family"
    right = sum(library_answer(model, a, b) == format(int(a, 2) + int(b, 2), "b") for a, b in pairs)
    on_random = ngpu_lite.evaluate(model, TASK, digits, samples, seed=seed)["exact"]
    print(f"{digits} bits: random additions {on_random:.1%} right, your family {right / members:.1%}")
    return on_random, right / members


on_random, on_family = check_family(model, FAMILY_DIGITS, seed=1)
assert on_random >= 0.25, "choose a size at which the model is right on a quarter of random inputs"
assert on_family <= on_random - 0.2, "the family should be at least 20 points harder than random inputs"
### BEGIN HIDDEN TESTS
on_random, on_family = check_family(model, FAMILY_DIGITS, members=128, samples=256, seed=2)
assert on_random >= 0.25 and on_family <= on_random - 0.2
### END HIDDEN TESTS
