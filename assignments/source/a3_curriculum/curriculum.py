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
# # Assignment 3: the curriculum
#
# Kaiser & Sutskever (2016, §4) train the Neural GPU with a *curriculum*: start with short inputs
# and move to longer ones only once the short ones are mastered. You will implement the authors'
# curriculum and use it to train a small Neural GPU to **reverse** bit strings, then check that it
# reverses longer strings than any it was trained on, without a single mistake.
#
# Operand sizes are counted in *digits* `d`; the input has length `2d + 1`
# (`ngpu_lite.length_for`). Training sizes run from 1 to `MAX_DIGITS = 5` (length 11); the test
# uses 8 digits (length 17).
#
# Write your code only where it says `YOUR CODE HERE`.
#
# Points: `sample_digits` 3, `advance` 2, the trained model reverses longer strings 4.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math
import random
import time

import torch
import torch.nn.functional as F

import ngpu_lite
from ngpu_lite.train import get_preset

torch.set_num_threads(1)
MIN_DIGITS, START_DIGITS, MAX_DIGITS, TEST_DIGITS = 1, 2, 5, 8

# %% [markdown] nbgrader={"grade": false, "grade_id": "q1", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. Mixing lengths (3 points)
#
# Training only on the current size `cur` makes the model forget the shorter ones and never
# prepares it for the longer ones. The authors' code draws each batch's size like this, and you
# must make **exactly these calls on `rng`, in this order** (so that a run is reproducible):
#
# 1. `d = rng.randint(min_digits, cur)`;
# 2. if `rng.random() < 0.6`: `d = max(d, rng.randint(min_digits, cur))` (lean towards `cur`);
# 3. if `rng.random() < 0.25`: `d = max(d, rng.randint(min_digits, max_digits))` (a look ahead).
#
# Return `d`.

# %% nbgrader={"grade": false, "grade_id": "sample_digits", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sample_digits(cur, rng, min_digits=MIN_DIGITS, max_digits=MAX_DIGITS):
    """Operand size for the next batch at curriculum size `cur`."""
    ### BEGIN SOLUTION
    d = rng.randint(min_digits, cur)
    if rng.random() < 0.6:
        d = max(d, rng.randint(min_digits, cur))
    if rng.random() < 0.25:
        d = max(d, rng.randint(min_digits, max_digits))
    return d
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sample_digits", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
rng = random.Random(0)
sizes = [sample_digits(3, rng) for _ in range(4000)]
print("share of each size at cur = 3:", {d: round(sizes.count(d) / len(sizes), 3) for d in range(1, 6)})
assert set(sizes) == {1, 2, 3, 4, 5}, "sizes 1..cur, and with the look ahead up to max_digits"
assert sizes.count(3) > sizes.count(1), "the draw leans towards the current size"
### BEGIN HIDDEN TESTS
from ngpu_lite.train import sample_digits as reference_sample_digits  # noqa: E402

for cur, lo, hi, seed in [(3, 1, 5, 1), (7, 1, 20, 2), (4, 3, 41, 3)]:
    mine, ref = random.Random(seed), random.Random(seed)
    preset = get_preset("paper", min_digits=lo, max_digits=hi, batch=1)
    got = [sample_digits(cur, mine, lo, hi) for _ in range(500)]
    want = [reference_sample_digits(preset, cur, ref)[0] for _ in range(500)]
    differ = sum(g != w for g, w in zip(got, want, strict=True))
    print(f"cur={cur}, sizes {lo}..{hi}: {differ} of 500 draws differ from the reference code")
    assert differ == 0
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q2", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. When to move on (2 points)
#
# At the end of each epoch the curriculum advances by one digit when the share of wrong answers
# (`err`, counted on the examples of the current size) is below `threshold`, unless it has
# already reached `max_digits`. Return the new size.

# %% nbgrader={"grade": false, "grade_id": "advance", "locked": false, "schema_version": 3, "solution": true, "task": false}
def advance(cur, err, threshold=0.05, max_digits=MAX_DIGITS):
    """The curriculum size for the next epoch."""
    ### BEGIN SOLUTION
    return cur + 1 if err < threshold and cur < max_digits else cur
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_advance", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
assert advance(3, 0.01) == 4
assert advance(3, 0.5) == 3
### BEGIN HIDDEN TESTS
assert advance(5, 0.0) == 5, "never past max_digits"
assert advance(3, 0.05) == 3, "strictly below the threshold"
assert advance(2, 0.1, threshold=0.15, max_digits=20) == 3
assert advance(20, 0.1, threshold=0.15, max_digits=20) == 20
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q3", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Train with your curriculum (4 points)
#
# The loop below is the library's recipe for the `tiny` preset (`ngpu_lite.train`), written out so
# that it calls your two functions: batches of 16, Adam with learning rate 0.003, gradient
# clipping at 1, 5% dropout, epochs of 25 steps, and a learning rate that decays by 2% whenever an
# epoch's perplexity is worse than the three before. It stops as soon as the model reverses 256
# fresh 8-digit strings (length 17) without a mistake, or after `MAX_STEPS` steps.
#
# Whether a Neural GPU generalises depends on its seed (the paper ran 729 trainings and kept the
# best); with this seed a correct curriculum gets there well within `MAX_STEPS`.

# %% nbgrader={"grade": false, "grade_id": "train", "locked": true, "schema_version": 3, "solution": false, "task": false}
SEED, MAX_STEPS, BATCH, EPOCH = 3, 1500, 16, 25


def train_reverse(seed=SEED, max_steps=MAX_STEPS):
    """Train `NeuralGPU(w=2, m=16)` on reverse with the curriculum above; returns (model, log)."""
    torch.manual_seed(seed)
    model = ngpu_lite.NeuralGPU(w=2, m=16)
    lr = 0.003
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-4)
    rng = random.Random(seed * 1_000_003)
    cur, log, perplexities = START_DIGITS, [], []
    wrong = seen = wrong_cur = seen_cur = 0
    loss_sum = 0.0
    for step in range(1, max_steps + 1):
        d = sample_digits(cur, rng)
        x, y, lengths = ngpu_lite.make_batch("reverse", [d] * BATCH, rng)
        logits = model(x, lengths, dropout=0.05)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        bad = int((logits.argmax(-1) != y).any(dim=1).sum())
        wrong, seen, loss_sum = wrong + bad, seen + BATCH, loss_sum + loss.item()
        if d == cur:
            wrong_cur, seen_cur = wrong_cur + bad, seen_cur + BATCH
        if step % EPOCH:
            continue
        err = wrong_cur / seen_cur if seen_cur else wrong / seen
        log.append({"step": step, "digits": cur, "err": err})
        cur = advance(cur, err)
        perplexity = math.exp(min(loss_sum / EPOCH, 50.0))
        if len(perplexities) == 3 and perplexity > max(perplexities):
            lr *= 0.98
            for group in optimizer.param_groups:
                group["lr"] = lr
        perplexities = (perplexities + [perplexity])[-3:]
        wrong = seen = wrong_cur = seen_cur = 0
        loss_sum = 0.0
        if err == 0.0 and ngpu_lite.evaluate(model.eval(), "reverse", TEST_DIGITS, 256, seed=step,
                                             stop_on_error=True)["exact"] == 1.0:
            break
        model.train()
    return model.eval(), log


start = time.time()
model, log = train_reverse()
print(f"trained {log[-1]['step']} steps in {time.time() - start:.0f} s; "
      f"curriculum reached {log[-1]['digits']} digits (length {ngpu_lite.length_for(log[-1]['digits'])})")

# %% nbgrader={"grade": true, "grade_id": "test_trained", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
for digits in (MAX_DIGITS, TEST_DIGITS):
    res = ngpu_lite.evaluate(model, "reverse", digits, samples=128, seed=2024)
    print(f"reverse, {digits} digits (length {res['length']}): exact {res['exact']:.1%}")
assert log[-1]["digits"] == MAX_DIGITS, "the curriculum should reach the longest training size"
### BEGIN HIDDEN TESTS
res = ngpu_lite.evaluate(model, "reverse", TEST_DIGITS, samples=256, seed=31337)
print(f"hidden check, {TEST_DIGITS} digits: exact {res['exact']:.1%}")
assert res["exact"] == 1.0, "every fresh string longer than the training ones is reversed"
### END HIDDEN TESTS
