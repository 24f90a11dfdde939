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
# # Assignment 2: averaging relaxed parameters, and two gentler variants
#
# With parameter-sharing relaxation (Kaiser & Sutskever 2016, §4; chapter 5 of the book) a
# Neural GPU keeps `r` sets of CGRU parameters, step `t` uses set `t mod r`, and a pull cost
# $\text{pull}\cdot\sum_i \lVert p_i - \bar p\rVert^2$ draws the sets together. The pull grows by
# a factor at every *fitted* epoch (an epoch whose error at the current length is below the
# threshold), and once it reaches a limit the sets are averaged. The library does this two ways
# (`ngpu_lite/model/relax.py`): chapter 5 **merges** the sets once into one shared set
# (`average_sets`, `relax_average="merge"`); the authors' 2016 code **assigns** every set the mean
# at every fitted epoch once the pull has reached its limit (`assign_mean`, `PullSchedule.fitted`,
# `relax_average="assign"`), keeping `r` sets that drift apart again in between. You will write
# two variants the library does not have, a *partial* averaging that moves every set only part of
# the way to the mean, and a pull that *gives way* when an epoch is not fitted, check them against
# the library where they must agree with it, and then measure the library's two rules against
# each other.
#
# In `ngpu_lite.NeuralGPU(..., relax_sets=r)` each CGRU parameter carries the sets as its leading
# dimension: `model.stacked_parameters()` lists the four tensors (`gate_weight`
# `[r, l, 2m, m, kh, kw]`, `gate_bias` `[r, l, 2m]`, `cand_weight`, `cand_bias`).
#
# **Learning objectives.** After this assignment you can
# 1. change a model's parameters in place without breaking the optimiser that holds them, and
#    derive what an update does to a quantity (the sets' mean, the pull cost) before checking it;
# 2. turn a training schedule described in words into a precise rule, and check it against an
#    implementation on random inputs where the two must agree;
# 3. compare two training rules over several seeds and say what the measurement does and does not
#    show.
#
# **Time.** About 3 hours: 1 h for parts 1–2, 2 h for part 3 (six training runs of about ten
# seconds each, then the analysis).
#
# **Hand in** the notebook and `arms.pt`, the file part 3's `run_arm` writes next to it: the
# grader reads your six training runs from it instead of training them again, so your notebook is
# graded in well under a minute (a notebook handed in without it is graded too, but trains the six
# runs again: minutes).
#
# **Rules.** Write code only where it says `YOUR CODE HERE`. You may read and call
# `ngpu_lite.model.relax` (`assign_mean`, `average_sets`, `pull_cost`, `PullSchedule`), but what
# parts 1 and 2 ask for is not in it: the tests compare your functions with the library only at the
# settings where the two must agree (`alpha=1`, `decay=1`), and elsewhere with worked cases and
# with what the variant must do. Each function is graded on its own, by visible tests below it and
# hidden ones (other sizes, seeds, fractions and error sequences).
#
# **Points (10).** `shrink_to_mean` 3, `averaging_epochs` 3 (autograded), part 3 written: 4, graded
# by hand with this rubric:
#
# | points | part 3: assign or merge? |
# |---|---|
# | 1 | a table, per rule and seed (at least 3 seeds), of: the epochs at which the sets were averaged, the number of relaxation sets at the end, and exact accuracy at the training size and at twice it, every number produced by the code handed in |
# | 1 | the epochs at which each run averaged agree with what your `averaging_epochs` predicts from that run's own error sequence (checked in code) |
# | 1 | a measurement and an explanation of how far assigned sets drift apart between two averagings (pull cost after some more steps of training, see below) while merged ones cannot, and what keeping `r` sets costs at test time |
# | 1 | a conclusion that respects the seed-to-seed spread: a difference between the rules is claimed only if it is larger than the spread within one rule, otherwise the answer says the measurement cannot tell them apart, and what would |

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import copy
import hashlib
import json
import os
import random
from pathlib import Path

import torch

import ngpu_lite

torch.set_num_threads(1)
# The tests draw their random inputs from this seed; the grader may run them with other seeds.
GRADE_SEED = int(os.environ.get("NGPU_GRADE_SEED", "0"))


def check_close(name, got, want, atol=1e-6):
    """Print the largest absolute difference between `got` and `want`; fail above `atol`."""
    got, want = torch.as_tensor(got), torch.as_tensor(want)
    assert got.shape == want.shape, f"{name}: shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    diff = (got.double() - want.double()).abs().max().item() if got.numel() else 0.0
    print(f"{name:<44} largest |difference| = {diff:.2e}  {'ok' if diff <= atol else 'WRONG'}")
    assert diff <= atol, f"{name}: largest difference {diff:.3g} is above {atol:g}"
    return diff


def relaxed_model(r=4, m=6, w=2, seed=0):
    """A small Neural GPU with `r` sets that have drifted apart (as they do during training)."""
    torch.manual_seed(seed)
    model = ngpu_lite.NeuralGPU(w=w, m=m, relax_sets=r)
    with torch.no_grad():
        for p in model.stacked_parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model


# %% [markdown] nbgrader={"grade": false, "grade_id": "q1", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. Move the sets part of the way to their mean (3 points)
#
# The 2016 code's averaging gives every set the mean $\bar p$ at once. A gentler one moves every
# set a fraction `alpha` of the way there:
# $$p_i \leftarrow p_i + \alpha\,(\bar p - p_i) = (1 - \alpha)\,p_i + \alpha\,\bar p,$$
# with $\bar p$ the mean of the sets *before* the update. `alpha = 1` is the 2016 code's
# assignment (`ngpu_lite.model.relax.assign_mean`), `alpha = 0` changes nothing. Do it for every
# set of every stacked parameter, **in place**: the model keeps its `r` sets (`model.relax_sets`
# unchanged) and its parameters stay the very same tensors, so an optimiser built before (with its
# Adam moments) carries on with them. Nothing else in the model changes.
#
# Before you code it, work out on paper: what does the update do to the mean of the sets, and by
# what factor does it multiply the pull cost $\sum_i \lVert p_i - \bar p\rVert^2$
# (`ngpu_lite.pull_cost`)? The tests check both. Worked case: two sets holding 0 and 2, `alpha =
# 0.25`: the mean is 1, and the sets become 0.25 and 1.75.

# %% nbgrader={"grade": false, "grade_id": "shrink_to_mean", "locked": false, "schema_version": 3, "solution": true, "task": false}
def shrink_to_mean(model, alpha):
    """Move every relaxation set a fraction `alpha` of the way to the mean of the sets, in place,
    keeping `r` sets."""
    ### BEGIN SOLUTION
    with torch.no_grad():
        for p in model.stacked_parameters():
            p.lerp_(p.mean(dim=0, keepdim=True).expand_as(p).clone(), alpha)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_shrink_to_mean", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def filled_model(values, m=3, w=1):
    """A Neural GPU with `len(values)` sets; every entry of set i of every stacked parameter holds values[i]."""
    model = ngpu_lite.NeuralGPU(w=w, m=m, relax_sets=len(values))
    with torch.no_grad():
        for p in model.stacked_parameters():
            for i, v in enumerate(values):
                p[i] = v
    return model


def check_worked(values, alpha, want):
    model = filled_model(values)
    shrink_to_mean(model, alpha)
    for name, p in zip(("gate_weight", "gate_bias", "cand_weight", "cand_bias"), model.stacked_parameters(), strict=True):
        got = torch.stack([p[i].flatten() for i in range(len(values))])
        check_close(f"worked case {values}, alpha={alpha}: {name}", got,
                    torch.tensor(want)[:, None].expand_as(got), atol=1e-6)


def check_shrink(r, m, w, alpha, seed):
    model = relaxed_model(r, m, w, seed)
    ref = copy.deepcopy(model)
    tensors = {name: (p, p.data_ptr()) for name, p in model.named_parameters()}
    others = {name: p.detach().clone() for name, p in model.named_parameters()
              if not any(p is q for q in model.stacked_parameters())}
    means = [p.detach().mean(dim=0).clone() for p in model.stacked_parameters()]
    cost = ngpu_lite.pull_cost(model).item()
    shrink_to_mean(model, alpha)
    assert model.relax_sets == r, f"{model.relax_sets} sets after shrinking; keep all {r}"
    for name, p in model.named_parameters():
        assert p is tensors[name][0] and p.data_ptr() == tensors[name][1], f"{name}: not the same tensor"
    for name, p in others.items():
        check_close(f"{name} is untouched", dict(model.named_parameters())[name], p, atol=0.0)
    for p, mean in zip(model.stacked_parameters(), means, strict=True):
        check_close(f"mean of the sets unchanged, r={r}, m={m}", p.mean(dim=0), mean, atol=1e-6)
    after = ngpu_lite.pull_cost(model).item()
    check_close(f"pull cost / (1 - alpha)^2 before, alpha={alpha:.2f}", after / cost, (1 - alpha) ** 2, atol=1e-5)
    if alpha == 1:  # the 2016 code's assignment: the library's assign_mean
        ngpu_lite.model.relax.assign_mean(ref)
        for (name, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
            check_close(f"alpha=1 against assign_mean: {name}", p, q)
    return model


check_worked([0.0, 2.0], 0.25, [0.25, 1.75])
check_shrink(r=4, m=6, w=2, alpha=0.3, seed=GRADE_SEED)
check_shrink(r=4, m=6, w=2, alpha=1.0, seed=GRADE_SEED)
### BEGIN HIDDEN TESTS
check_worked([0.0, 3.0, 6.0], 0.5, [1.5, 3.0, 4.5])
check_worked([1.0, -1.0, 2.0, 2.0], 0.0, [1.0, -1.0, 2.0, 2.0])
rng = random.Random(GRADE_SEED)
for r, m, w in [(6, 8, 4), (2, 5, 1), (3, 24, 2)]:
    alpha = rng.uniform(0.05, 0.95)
    model = relaxed_model(r, m, w, GRADE_SEED + r)
    want = [((1 - alpha) * p + alpha * p.mean(dim=0, keepdim=True)).detach().clone() for p in model.stacked_parameters()]
    check_shrink(r, m, w, alpha, seed=GRADE_SEED + r)
    shrink_to_mean(model, alpha)
    for p, q in zip(model.stacked_parameters(), want, strict=True):
        check_close(f"(1 - alpha) p + alpha mean, r={r}, alpha={alpha:.2f}", p, q)
    check_shrink(r, m, w, 1.0, seed=GRADE_SEED + r)
# an optimiser built before shrinking still moves the model's parameters afterwards
model = relaxed_model(4, 6, 2, GRADE_SEED)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
x, y, lengths = ngpu_lite.make_batch("reverse", [3] * 4, random.Random(GRADE_SEED))
torch.nn.functional.cross_entropy(model(x, lengths).flatten(0, 1), y.flatten()).backward()
opt.step()
shrink_to_mean(model, 0.5)
before = [p.detach().clone() for p in model.stacked_parameters()]
opt.zero_grad()
torch.nn.functional.cross_entropy(model(x, lengths).flatten(0, 1), y.flatten()).backward()
opt.step()
assert all((p - b).abs().max() > 0 for p, b in zip(model.stacked_parameters(), before, strict=True)), \
    "after shrink_to_mean, the optimiser built before no longer updates the model"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q2", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. When is each rule averaging, with a pull that gives way? (3 points)
#
# Given a run's sequence of epoch errors `errors` (one per epoch, epochs numbered from 0), return
# the list of epochs at which the sets are averaged. At a fitted epoch (`error < threshold`) the
# library's two rules do this:
#
# * `rule="merge"` (the library's default): first multiply the pull by `factor`; if it is now
#   **above** `limit`, merge the sets. After the merge there is one set, so nothing more happens:
#   the list has at most one epoch.
# * `rule="assign"` (the 2016 code's order): if the pull is **below** `limit`, multiply it by
#   `factor` and do nothing else; otherwise (it has reached the limit) leave it and assign the
#   mean. This goes on to the end of training.
#
# In the library an epoch that is not fitted changes nothing, so a run that has just moved to a
# length it cannot handle yet keeps its full pull. The variant you write lets the pull **give
# way**: at an epoch that is not fitted (under either rule, until a merge), divide the pull by
# `decay`, but never below the pull it started with (the argument `pull`). `decay = 1` is the
# library's schedule. Worked case: with `pull=0.025, factor=2, limit=0.1, decay=2` and fitted (F)
# or not fitted (U) epochs `F F U F F F U F F`, the pull after each epoch is 0.05, 0.1, 0.05, 0.1,
# then 0.1 (assign), 0.1 (assign), 0.05, 0.1, 0.1 (assign): `assign` averages at epochs
# `[4, 5, 8]`; the library's schedule (`decay=1`) at `[3, 4, 5, 7, 8]`.
#
# Before you code it: with the paper's pull 0.0005, factor 1.2 and limit 0.1, at which fitted
# epoch does each rule average first when every epoch is fitted?

# %% nbgrader={"grade": false, "grade_id": "averaging_epochs", "locked": false, "schema_version": 3, "solution": true, "task": false}
def averaging_epochs(errors, rule, threshold=0.15, pull=0.0005, factor=1.2, limit=0.1, decay=1.0):
    """Epochs (indices into `errors`) at which the relaxation sets are averaged under `rule`, with
    the pull divided by `decay` (not below its start) at every epoch that is not fitted."""
    ### BEGIN SOLUTION
    if rule not in ("merge", "assign"):
        raise ValueError(f"rule must be 'merge' or 'assign', not {rule!r}")
    start, out = pull, []
    for epoch, err in enumerate(errors):
        if err >= threshold:
            pull = max(start, pull / decay)
            continue
        if rule == "merge":
            pull *= factor
            if pull > limit:
                return [epoch]
        elif pull < limit:
            pull *= factor
        else:
            out.append(epoch)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_averaging_epochs", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def library_epochs(errors, rule, threshold=0.15, pull=0.0005, factor=1.2, limit=0.1):
    """The library's schedule (decay = 1), driven by `ngpu_lite.PullSchedule` as the trainer does."""
    schedule, out = ngpu_lite.PullSchedule(pull, factor, limit), []
    for epoch, err in enumerate(errors):
        if err < threshold:
            if rule == "merge":
                if schedule.advance():
                    return [epoch]
            elif schedule.fitted():
                out.append(epoch)
    return out


def check_epochs(errors, rule, want, show=True, **kw):
    mine = averaging_epochs(errors, rule, **kw)
    if show:
        print(f"{rule:>6}, {len(errors)} epochs, {kw}: yours {list(mine)[:8]}, expected {want[:8]}")
    assert list(mine) == want, f"{rule}, errors {errors}, {kw}: yours {mine}, expected {want}"


F, U = 0.0, 0.5  # a fitted epoch, and one that is not
worked = [F, F, U, F, F, F, U, F, F]
check_epochs(worked, "assign", [4, 5, 8], pull=0.025, factor=2.0, limit=0.1, decay=2.0)
check_epochs(worked, "merge", [4], pull=0.025, factor=2.0, limit=0.1, decay=2.0)
for rule in ("merge", "assign"):  # decay = 1: the library's schedule
    check_epochs(worked, rule, library_epochs(worked, rule, pull=0.025, factor=2.0, limit=0.1),
                 pull=0.025, factor=2.0, limit=0.1, decay=1.0)
    check_epochs([F] * 40, rule, library_epochs([F] * 40, rule))
### BEGIN HIDDEN TESTS
# never below the starting pull
check_epochs([U, U, F, F, F], "assign", [3, 4], pull=0.05, factor=2.0, limit=0.1, decay=4.0)
check_epochs([U, U, F, F, F], "merge", [3], pull=0.05, factor=2.0, limit=0.1, decay=4.0)
check_epochs([F, F, U, U, U, F, F, F], "assign", [7], pull=0.025, factor=2.0, limit=0.1, decay=2.0)


def reference_epochs(errors, rule, threshold, pull, factor, limit, decay):
    start, out = pull, []
    for epoch, err in enumerate(errors):
        if err >= threshold:
            pull = max(start, pull / decay)
        elif rule == "merge":
            pull *= factor
            if pull > limit:
                return [epoch]
        elif pull < limit:
            pull *= factor
        else:
            out.append(epoch)
    return out


rng = random.Random(GRADE_SEED)
for _ in range(200):
    n = rng.randint(0, 60)
    errors = [rng.choice([0.0, 0.05, 0.1, 0.15, 0.2, 0.5, 1.0]) for _ in range(n)]
    kw = dict(threshold=rng.choice([0.05, 0.15, 0.3]), pull=rng.choice([0.0005, 0.02, 0.1, 0.3]),
              factor=rng.choice([1.2, 2.0]), limit=rng.choice([0.1, 0.5]))
    for rule in ("merge", "assign"):  # where the variant must agree with the library
        check_epochs(errors, rule, library_epochs(errors, rule, **kw), show=False, decay=1.0, **kw)
    # powers of two: the arithmetic is exact, so any correct order of the operations agrees
    kw = dict(threshold=kw["threshold"], pull=rng.choice([0.0125, 0.025, 0.05, 0.1]), factor=2.0,
              limit=rng.choice([0.1, 0.4]), decay=rng.choice([2.0, 4.0]))
    for rule in ("merge", "assign"):
        check_epochs(errors, rule, reference_epochs(errors, rule, **kw), show=False, **kw)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q3", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Assign or merge? (4 points, written; rubric at the top)
#
# The cell below trains the `tiny` recipe (`w = 2`, `m = 16`) on **reverse** with `r = 4` relaxed
# sets under either rule, with a pull schedule shortened so that averaging happens within a short
# run (pull 0.05, doubled at each fitted epoch, limit 0.1, fitted = error below 0.3; up to 4 digits,
# 600 steps, about ten seconds). `run_arm(rule, seed)` returns the library's `TrainResult`:
# `.model`, and `.history`, one record per epoch with its `"err_longest"` (the error the schedule
# looks at), `"relax_sets"` and `"averaged": True` at the epochs where the sets were averaged.
# It keeps every run in `arms.pt` next to the notebook and reads it back from there when the same
# run (rule, seed, steps) is asked for again, so running the notebook again, yourself or the
# grader, trains nothing twice. Hand the file in with the notebook.
# Measure, for both rules and at least three seeds, what the rubric asks, in the code cell after
# it (the library trains with its own schedule: your `averaging_epochs` with `decay=1` must
# predict its averaging epochs), and write your answer in the cell after that. To see the sets drift, continue training a
# finished run for one epoch, `ngpu_lite.train("reverse", "tiny", start_model=res.model, steps=25,
# ...)` with the same options, and measure `ngpu_lite.pull_cost` of the result (the trainer
# averages only at the end of a fitted epoch, so measure after a number of steps that is not a
# multiple of its 25, say 20).

# %% nbgrader={"grade": false, "grade_id": "arms", "locked": true, "schema_version": 3, "solution": false, "task": false}
RECIPE = dict(model=dict(w=2, m=16, relax_sets=4), pull=0.05, pull_factor=2.0, pull_limit=0.1,
              threshold=0.3, max_digits=4)
TRAIN_DIGITS, STEPS = RECIPE["max_digits"], 600
ARMS_FILE = Path("arms.pt")


def run_arm(rule, seed, steps=STEPS):
    """Train reverse with relaxation averaged by `rule` ("merge" or "assign"), once: the run is
    kept in `arms.pt` under a key made of all that determines it (rule, seed, steps, RECIPE, the
    library's version) and read back from there when asked for again. The file holds plain data
    (weights, history), so reading it runs no code."""
    what = json.dumps([rule, seed, steps, RECIPE, ngpu_lite.__version__], sort_keys=True)
    key = hashlib.sha256(what.encode()).hexdigest()[:16]
    saved = torch.load(ARMS_FILE, weights_only=True) if ARMS_FILE.exists() else {}
    if key not in saved:
        res = ngpu_lite.train("reverse", "tiny", seed=seed, steps=steps, progress=False,
                              relax_average=rule, **RECIPE)
        saved[key] = {"config": res.model.config_dict(), "weights": res.model.state_dict(),
                      "result": {k: getattr(res, k) for k in ("history", "steps", "seconds", "digits", "stopped")}}
        torch.save(saved, ARMS_FILE)
    model = ngpu_lite.NeuralGPU(**saved[key]["config"])
    model.load_state_dict(saved[key]["weights"])
    return ngpu_lite.TrainResult(model.eval(), **saved[key]["result"])


# %% nbgrader={"grade": false, "grade_id": "compare_code", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
rows = []
for rule in ("merge", "assign"):
    for seed in (0, 1, 2):
        res = run_arm(rule, seed)
        h = res.history
        averaged = [i for i, rec in enumerate(h) if rec.get("averaged")]
        predicted = averaging_epochs([rec["err_longest"] for rec in h], rule, threshold=RECIPE["threshold"],
                                     pull=RECIPE["pull"], factor=RECIPE["pull_factor"],
                                     limit=RECIPE["pull_limit"])
        more = ngpu_lite.train("reverse", "tiny", seed=seed, steps=20, progress=False, relax_average=rule,
                               start_model=copy.deepcopy(res.model), **RECIPE).model
        spread = ngpu_lite.pull_cost(more).item() if more.relax_sets > 1 else 0.0  # after 20 more steps
        acc = [ngpu_lite.evaluate(res.model, "reverse", d, 128, seed=99)["exact"]
               for d in (TRAIN_DIGITS, 2 * TRAIN_DIGITS)]
        rows.append((rule, seed, averaged, averaged == predicted, res.model.relax_sets, spread, *acc))
print(f"{'rule':>6} {'seed':>4}  {'averaged at epochs':<28} {'= predicted':>11} {'sets':>4} "
      f"{'drift':>9} {'exact 4':>7} {'exact 8':>7}")
for rule, seed, averaged, agree, sets, spread, a4, a8 in rows:
    print(f"{rule:>6} {seed:>4}  {str(averaged)[:28]:<28} {str(agree):>11} {sets:>4} {spread:>9.4f} "
          f"{a4:>7.1%} {a8:>7.1%}")
### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "compare_answer", "locked": false, "points": 4, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# Reference answer (the numbers are those the cell above prints; what is graded is the
# reasoning). With pull 0.05 doubled per fitted epoch both rules average first at the second
# fitted epoch (merge: 0.05 → 0.1, not above the limit, → 0.2; assign: 0.05 < 0.1 → 0.1, then
# 0.1 is not below the limit: assign), and the epochs each run printed are those
# `averaging_epochs` predicts from its own errors. Merge then has one set; assign goes on
# assigning the mean at every fitted epoch and keeps four sets, four times the CGRU parameters at
# test time. Right after an assignment the sets are equal (pull cost 0), but the four sets are
# used at different steps (set t mod 4 at step t), so they get different gradients: after 20
# more steps their pull cost is clearly above zero, while a merged model has nothing to drift.
# Exact accuracy at 4 digits is at or near 100% for both rules; at 8 digits it varies between
# seeds within each rule by tens of points, more than the difference between the rules'
# averages, so three seeds cannot tell the rules apart. Telling them apart would take many more
# seeds per rule (chapter 11's sweeps), a task where relaxation matters (the paper's
# multiplication) and the paper's full pull schedule.
# ### END SOLUTION
