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
# # Assignment 3: design a curriculum, and defend it
#
# Kaiser & Sutskever (2016, §4) train the Neural GPU with a *curriculum*: short inputs first,
# longer ones once the short ones are mastered. Chapter 4 of the book gives the authors' rule
# (`curriculum_digits`: draw a size up to the current one, lean towards it, sometimes look ahead;
# advance one digit when the error is below a threshold) and ablates it. Here you **design your
# own** curriculum, train a small Neural GPU to **reverse** bit strings with it, and defend your
# design with a measured ablation.
#
# A curriculum is two functions. `sample_digits(cur, rng, lo, hi)` picks the operand size of the
# next batch while the curriculum stands at size `cur` (sizes run from `lo` to `hi`; the input
# length is `2d + 1`, `ngpu_lite.length_for`). `advance(cur, err, lo, hi)` returns the size for
# the next epoch, given `err`, the share of wrong answers in the last epoch's batches **at size
# `cur`** (1.0 when there were none). Training here runs from `lo = 1` to `hi = 5` digits.
#
# **Learning objectives.** After this assignment you can
# 1. state what a curriculum must guarantee (a contract) separately from the choices it leaves
#    open, and test an implementation against the contract;
# 2. run an ablation: the same training with one component changed, over several seeds;
# 3. defend a design choice with measurements and their spread, and say what they cannot show.
#
# **Time.** About 4 hours: 1 h to design and code, 1 h for the training runs (about 15 s each on
# one CPU thread; the ablation's nine take 2–3 minutes), 2 h for the ablation and the write-up.
#
# **Hand in** the notebook and `ablation.json`, the file the ablation writes next to it (part 4):
# the grader reads the ablation's results from it instead of training nine models again, so your
# notebook is graded in well under a minute (a notebook handed in without it is graded too, but
# trains the ablation again: minutes).
#
# **Rules.** Write code only where it says `YOUR CODE HERE`. Your curriculum must be your own:
# do not call or copy chapter 4's `curriculum_digits` or `ngpu_lite.training.schedule.sample_digits` (you
# may and should *compare* with them in part 4). The contract below is what the autograder checks;
# everything else about the design is yours.
#
# **Points (10).** `sample_digits` 2, `advance` 2, the trained model 2 (autograded), part 4
# written: 4, graded by hand with this rubric:
#
# | points | part 4: the ablation |
# |---|---|
# | 1 | the design stated in two or three sentences, with how it differs from chapter 4's rule and the reason for each difference |
# | 1 | an ablation measured by the code handed in (through `ablation_run`, its results in the `ablation.json` handed in): your curriculum against no curriculum (every size from `lo` to `hi` uniformly, the advance rule irrelevant) and against chapter 4's rule, at least 3 seeds each, 600 steps each; reported per seed: the step at which the curriculum first reached `hi`, and exact accuracy at `hi` and at `2 hi` digits on at least 128 fresh cases |
# | 1 | the claim about your design respects the spread: a difference is claimed only where it is larger than the seed-to-seed spread within an arm, otherwise the answer says the runs cannot tell the arms apart |
# | 1 | one limit of the measurement (task, model size, steps, seeds) and what you would run to remove it |

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import os
import random
import time

import torch
import torch.nn.functional as F

import ngpu_lite

torch.set_num_threads(1)
LO, HI = 1, 5
# The tests draw their random inputs (and the graded training run its seed) from this seed;
# the grader may run them with other seeds.
GRADE_SEED = int(os.environ.get("NGPU_GRADE_SEED", "0"))


def shares(draws, cur):
    """Shares of `draws` below, at and above `cur`."""
    n = len(draws)
    return (sum(d < cur for d in draws) / n, sum(d == cur for d in draws) / n,
            sum(d > cur for d in draws) / n)


# %% [markdown] nbgrader={"grade": false, "grade_id": "q1", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. Which size next? (2 points)
#
# Write `sample_digits(cur, rng, lo, hi)` (with `lo ≤ cur ≤ hi`). The contract:
#
# 1. it returns an `int` between `lo` and `hi`;
# 2. it draws only from `rng` (the same `rng` state gives the same sizes: runs are reproducible);
# 3. the current size gets at least 10% of the draws (the model practises where it stands);
# 4. when `cur > lo`, sizes below `cur` get at least 10% (it does not forget the short ones);
# 5. when `cur < hi`, sizes above `cur` get at most half the draws (it is still a curriculum).
#
# The test estimates the shares from 4000 draws and allows 0.03 for the estimate's noise (more
# than 6 standard deviations), so a design at exactly 10% passes. Within the contract the design
# is yours: how much to look back, whether and how far to look ahead, how to weight sizes.

# %% nbgrader={"grade": false, "grade_id": "sample_digits", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sample_digits(cur, rng, lo=LO, hi=HI):
    """Operand size of the next batch when the curriculum stands at `cur`."""
    ### BEGIN SOLUTION
    # half the batches at the current size, a third reviewing smaller ones uniformly, and the
    # rest one size ahead (only one: a glimpse of what comes next, not of the longest inputs)
    u = rng.random()
    if u < 0.5 or (cur == lo and u < 0.85):
        return cur
    if u < 0.85:
        return rng.randint(lo, cur - 1)
    return min(hi, cur + 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sample_digits", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_sampler(cur, lo, hi, seed, n=4000):
    rng = random.Random(seed)
    draws = [sample_digits(cur, rng, lo, hi) for _ in range(n)]
    again = random.Random(seed)
    assert draws[:200] == [sample_digits(cur, again, lo, hi) for _ in range(200)], "same rng, same sizes"
    assert all(isinstance(d, int) and lo <= d <= hi for d in draws), f"sizes outside {lo}..{hi}"
    below, at, above = shares(draws, cur)
    print(f"cur={cur} in {lo}..{hi}: below {below:.1%}, at {at:.1%}, above {above:.1%}")
    assert at >= 0.10 - 0.03, f"the current size gets {at:.1%} of the draws (at least 10%)"
    assert cur == lo or below >= 0.10 - 0.03, f"sizes below cur get {below:.1%} (at least 10%)"
    assert cur == hi or above <= 0.50 + 0.03, f"sizes above cur get {above:.1%} (at most half)"


check_sampler(cur=3, lo=1, hi=5, seed=GRADE_SEED)
### BEGIN HIDDEN TESTS
for cur, lo, hi in [(1, 1, 5), (5, 1, 5), (2, 1, 5), (7, 1, 20), (4, 4, 41), (20, 3, 20)]:
    check_sampler(cur, lo, hi, seed=GRADE_SEED + cur + hi)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q2", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. When to move (2 points)
#
# Write `advance(cur, err, lo, hi)`, the size for the next epoch. The contract:
#
# 1. it returns an `int` between `lo` and `hi`, and depends only on its arguments;
# 2. with no mistakes (`err = 0`) it moves up when `cur < hi`;
# 3. with only mistakes (`err = 1`) it does not move up;
# 4. it is monotone: a smaller error never gives a smaller next size.
#
# Within the contract the design is yours: the threshold, whether it may step back, by how much.

# %% nbgrader={"grade": false, "grade_id": "advance", "locked": false, "schema_version": 3, "solution": true, "task": false}
def advance(cur, err, lo=LO, hi=HI):
    """The curriculum size for the next epoch."""
    ### BEGIN SOLUTION
    if err < 0.1:
        return min(hi, cur + 1)
    if err > 0.6:  # lost at this size: step back one and consolidate
        return max(lo, cur - 1)
    return cur
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_advance", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_advance(lo, hi):
    errs = [i / 40 for i in range(41)]
    for cur in range(lo, hi + 1):
        nxt = [advance(cur, e, lo, hi) for e in errs]
        assert all(isinstance(v, int) and lo <= v <= hi for v in nxt), f"cur={cur}: {nxt}"
        assert cur == hi or nxt[0] > cur, f"cur={cur}: no mistakes, yet {nxt[0]}"
        assert nxt[-1] <= cur, f"cur={cur}: only mistakes, yet {nxt[-1]}"
        assert all(a >= b for a, b in zip(nxt, nxt[1:], strict=False)), f"cur={cur}: not monotone in the error: {nxt}"
        assert nxt == [advance(cur, e, lo, hi) for e in errs], f"cur={cur}: not repeatable"
    print(f"sizes {lo}..{hi}: advance keeps the contract; from {lo} with no mistakes: {advance(lo, 0.0, lo, hi)}")


check_advance(1, 5)
### BEGIN HIDDEN TESTS
rng = random.Random(GRADE_SEED)
for lo, hi in [(1, 2), (3, 20), (rng.randint(1, 4), rng.randint(6, 12))]:
    check_advance(lo, hi)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q3", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Train with your curriculum (2 points)
#
# The loop below trains `NeuralGPU(w=2, m=16)` on reverse with your two functions: batches of 16,
# Adam (learning rate 0.003), gradient clipping at 1, 5% dropout, epochs of 25 steps, 600 steps
# (about 15 s). It starts at `cur = LO`. **Graded:** the trained model's per-symbol accuracy on
# 256 fresh 5-digit strings (length 11) must be at least 90%.
#
# How that band was set: with this loop and 5 training seeds (0–4), evaluated on 256 strings of
# evaluation seed 7, chapter 4's rule reached 99.9–100% per-symbol accuracy at 5 digits, no
# curriculum (uniform sizes) 98.9–100%, the current size only 99.7–100%, and this assignment's
# reference design 99.8–100% (it first stood at 5 digits at step 500–525); a broken curriculum
# that only ever draws size 1 reached 48–58%. A curriculum that keeps the contract and gets to
# 5 digits within 600 steps passes with a wide margin; one that never trains on long strings
# fails.

# %% nbgrader={"grade": false, "grade_id": "train", "locked": true, "schema_version": 3, "solution": false, "task": false}
STEPS, BATCH, EPOCH = 600, 16, 25


def train_reverse(seed, sample=None, adv=None, steps=STEPS):
    """Train on reverse with a curriculum (default: yours); returns (model, log of epochs)."""
    sample, adv = sample or sample_digits, adv or advance
    torch.manual_seed(seed)
    model = ngpu_lite.NeuralGPU(w=2, m=16)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003, eps=1e-4)
    rng = random.Random(seed)
    cur, wrong, seen, log = LO, 0, 0, []
    for step in range(1, steps + 1):
        d = sample(cur, rng, LO, HI)
        x, y, lengths = ngpu_lite.make_batch("reverse", [d] * BATCH, rng)
        logits = model(x, lengths, dropout=0.05)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if d == cur:
            wrong, seen = wrong + int((logits.argmax(-1) != y).any(dim=1).sum()), seen + BATCH
        if step % EPOCH == 0:
            err = wrong / seen if seen else 1.0
            log.append({"step": step, "digits": cur, "err": err})
            cur = adv(cur, err, LO, HI)
            wrong = seen = 0
    return model.eval(), log


start = time.time()
model, log = train_reverse(GRADE_SEED)
first_hi = next((e["step"] for e in log if e["digits"] == HI), None)
print(f"trained {STEPS} steps in {time.time() - start:.0f} s (seed {GRADE_SEED}); the curriculum "
      f"first stood at {HI} digits at step {first_hi}, and ended at {log[-1]['digits']}")

# %% nbgrader={"grade": true, "grade_id": "test_trained", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
res = ngpu_lite.evaluate(model, "reverse", HI, samples=256, seed=2024)
print(f"reverse, {HI} digits (length {res['length']}): per-symbol {res['per_symbol']:.1%}, "
      f"exact {res['exact']:.1%}")
assert res["per_symbol"] >= 0.90, "at least 90% of the symbols right at the longest training size"

# %% [markdown] nbgrader={"grade": false, "grade_id": "q4", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. The ablation (4 points, written; rubric at the top)
#
# Compare your curriculum with no curriculum and with chapter 4's rule, at least 3 seeds each, at
# the size of part 3: `NeuralGPU(w=2, m=16)`, 600 steps of the loop above per run, sizes 1 to 5
# digits. That is nine trainings for three arms and three seeds, 2–3 minutes on one CPU thread
# (more seeds are welcome: they cost you time, not the grader). Chapter 4's rule, for the
# comparison only: `ngpu_lite.training.schedule.sample_digits(ngpu_lite.training.get_preset("tiny",
# min_digits=LO, max_digits=HI, batch=1), cur, rng)[0]` draws its sizes, and it advances by one
# when the error is below 0.05 (the `tiny` preset's threshold).
#
# Run every training of the ablation through `ablation_run(sample, adv, seed, measure)` (the cell
# below): it trains `train_reverse(seed, sample, adv)`, calls your `measure(model, log)`, which
# returns a dict of numbers (the rubric's measures, and any other you want), and keeps the result
# in `ablation.json` next to the notebook, under a key made of the code of `sample`, `adv` and
# `measure`, the seed and the steps. Running the notebook again (yourself, or the grader) reads
# the results back instead of training again; change one of those functions and its runs train
# again. Hand the file in with the notebook. Measure what the rubric asks in the code cell, and
# write your answer in the cell after it.

# %% nbgrader={"grade": false, "grade_id": "ablation_run", "locked": true, "schema_version": 3, "solution": false, "task": false}
import hashlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

ABLATION_FILE = Path("ablation.json")


def code_text(fn):
    """The source of `fn` (its bytecode where Python keeps no source): what identifies a run."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        code = fn.__code__
        return repr((code.co_code, code.co_names, [c for c in code.co_consts if not inspect.iscode(c)]))


def ablation_run(sample, adv, seed, measure, steps=STEPS):
    """`measure(*train_reverse(seed, sample, adv, steps))`, a dict of numbers, kept in
    `ablation.json`: read back from there when the same code has run before."""
    parts = [code_text(f) for f in (sample, adv, measure, train_reverse)] + [str(seed), str(steps)]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    saved = json.loads(ABLATION_FILE.read_text()) if ABLATION_FILE.exists() else {}
    if key not in saved:
        model, log = train_reverse(seed, sample, adv, steps)
        saved[key] = {"seed": seed, "steps": steps, "result": measure(model, log)}
        ABLATION_FILE.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n")
    return saved[key]["result"]


# %% nbgrader={"grade": false, "grade_id": "ablation_code", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
from ngpu_lite.training import get_preset  # noqa: E402
from ngpu_lite.training.schedule import sample_digits as library_sample  # noqa: E402

TINY = get_preset("tiny", min_digits=LO, max_digits=HI, batch=1)


def uniform_sample(cur, rng, lo, hi):
    return rng.randint(lo, hi)


def stay_at_hi(cur, err, lo, hi):
    return hi


def chapter4_sample(cur, rng, lo, hi):
    return library_sample(TINY, cur, rng)[0]


def chapter4_advance(cur, err, lo, hi):
    return min(hi, cur + 1) if err < 0.05 else cur


def measure(model, log):
    """When the curriculum first stood at HI, when it first had under 10% wrong there, and the
    exact and per-symbol accuracy at HI and 2 HI digits on 128 fresh strings."""
    at_hi = [e for e in log if e["digits"] == HI]
    out = {"first_hi": at_hi[0]["step"] if at_hi else None,
           "mastered_hi": next((e["step"] for e in at_hi if e["err"] < 0.1), None)}
    for d in (HI, 2 * HI):
        res = ngpu_lite.evaluate(model, "reverse", d, 128, seed=77)
        out[f"exact_{d}"], out[f"per_symbol_{d}"] = res["exact"], res["per_symbol"]
    return out


ARMS = {"mine": (sample_digits, advance), "none": (uniform_sample, stay_at_hi),
        "chapter 4": (chapter4_sample, chapter4_advance)}
start = time.time()
print(f"{'arm':>10} {'seed':>4} {'at 5 from':>9} {'<10% wrong':>10} {'exact 5':>8} {'exact 10':>8} "
      f"{'symbols 10':>10}")
for name, (sample, adv) in ARMS.items():
    for seed in (0, 1, 2):
        r = ablation_run(sample, adv, seed, measure)
        print(f"{name:>10} {seed:>4} {r['first_hi']!s:>9} {r['mastered_hi']!s:>10} {r['exact_5']:>8.1%} "
              f"{r['exact_10']:>8.1%} {r['per_symbol_10']:>10.1%}")
print(f"({time.time() - start:.0f} s; the results are in {ABLATION_FILE})")
### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "ablation_answer", "locked": false, "points": 4, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# Reference answer (numbers from the cell above; what is graded is the reasoning). Design: half
# the batches at the current size, a third reviewing smaller sizes uniformly, the rest exactly
# one size ahead; advance when under 10% of the current size's answers are wrong, step back when
# over 60% are. Against chapter 4: its look-ahead reaches any size up to the longest, mine only
# the next one (the next size is the one the model must learn next; the longest is noise early
# on); its draw leans towards the current size through a max of two draws, mine fixes the shares
# so that they can be stated and tested; it never steps back, mine does, so that a model knocked
# off by a size it cannot yet handle consolidates instead of training on failures. The ablation
# (3 seeds per arm, 600 steps each, read from `ablation.json`): every arm gets 91–100% of the
# 5-digit strings exactly right. At 10 digits the seeds of each arm spread over tens of points
# (mine 22–80% exact, no curriculum 9–100%, chapter 4 1–77%), far more than the differences
# between the arms' means, so these runs cannot tell the three curricula apart on reverse; reverse
# is easy enough for this model that even no curriculum works. What does differ is the pace, by
# design: no curriculum trains at 5 digits from the second epoch, mine first stood there at
# steps 475–525, chapter 4's stricter threshold (0.05) took one seed of three there by step 600;
# and yet the arms end up alike. The column "under 10% wrong at 5 digits" (the first epoch at 5
# digits with under 10% wrong) would be the measure of speed, but most runs never get there
# within 600 steps (2 of 3 seeds of mine, 1 of 3 of the others). Limit and remedy: a harder task
# (binary addition to 20 bits, where the paper found the curriculum necessary), more seeds per
# arm (16 or more, a sweep as in chapter 11) and longer runs, so that steps to a fixed accuracy
# can be measured for every run.
# ### END SOLUTION
