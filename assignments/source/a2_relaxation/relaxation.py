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
# # Assignment 2: parameter-sharing relaxation
#
# A Neural GPU applies the same CGRUs at every step. Kaiser & Sutskever (2016, §4) found it easier
# to train when that sharing is *relaxed*: the model keeps `r` copies ("sets") of its CGRU
# parameters, step `t` uses set `t mod r`, and a cost pulls the sets together,
#
# $$\mathrm{pull} \cdot \sum_{i=1}^{r} \lVert p_i - \bar p \rVert^2, \qquad \bar p = \frac1r \sum_i p_i .$$
#
# The pull starts at 0.0005 and is multiplied by 1.2 at every curriculum advance; once it passes
# 0.1 the sets are replaced by their mean and training goes on with one shared set.
#
# In `ngpu_lite.NeuralGPU(..., relax_sets=r)` each CGRU parameter carries the sets as its leading
# dimension: `model.stacked_parameters()` lists the four tensors (`gate_weight` `[r, l, 2m, m, k, k]`,
# `gate_bias` `[r, l, 2m]`, `cand_weight` `[r, l, m, m, k, k]`, `cand_bias` `[r, l, m]`).
#
# Write your code only where it says `YOUR CODE HERE`. Do not call `ngpu_lite.pull_cost`,
# `ngpu_lite.average_sets` or `ngpu_lite.PullSchedule` in your answers.
#
# Points: `pull_cost` 3, `average_sets` 3, `advances_until_average` 2.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch
from torch import nn

import ngpu_lite

torch.set_num_threads(1)


def check_close(name, got, want, atol=1e-5):
    """Print the largest absolute difference between `got` and `want`; fail above `atol`."""
    got, want = torch.as_tensor(got), torch.as_tensor(want)
    assert got.shape == want.shape, f"{name}: shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    diff = (got.double() - want.double()).abs().max().item()
    print(f"{name:<34} largest |difference| = {diff:.2e}  {'ok' if diff <= atol else 'WRONG'}")
    assert diff <= atol, f"{name}: largest difference {diff:.3g} is above {atol:g}"
    return diff


def relaxed_model(r=4, m=6, seed=0):
    """A small Neural GPU with `r` sets that have drifted apart (as they do during training)."""
    torch.manual_seed(seed)
    model = ngpu_lite.NeuralGPU(w=2, m=m, relax_sets=r)
    with torch.no_grad():
        for p in model.stacked_parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model


# %% [markdown] nbgrader={"grade": false, "grade_id": "q1", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. The pull cost (3 points)
#
# Return $\sum_i \lVert p_i - \bar p \rVert^2$ summed over the four stacked parameters of `model`
# (without the factor `pull`), as a scalar tensor that gradients flow through.

# %% nbgrader={"grade": false, "grade_id": "pull_cost", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pull_cost(model):
    """Squared distance of every relaxation set from the sets' mean, summed over the parameters."""
    ### BEGIN SOLUTION
    total = torch.zeros(())
    for p in model.stacked_parameters():
        total = total + ((p - p.mean(dim=0, keepdim=True)) ** 2).sum()
    return total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_pull_cost", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
model = relaxed_model()
check_close("pull cost, r=4", pull_cost(model), ngpu_lite.pull_cost(model))
check_close("pull cost of one shared set", pull_cost(ngpu_lite.NeuralGPU(w=2, m=6)), torch.tensor(0.0))
### BEGIN HIDDEN TESTS
for r, m, seed in [(6, 8, 1), (2, 5, 2)]:
    model = relaxed_model(r, m, seed)
    mine = pull_cost(model)
    mine.backward()
    got = [p.grad.clone() for p in model.stacked_parameters()]
    model.zero_grad()
    ngpu_lite.pull_cost(model).backward()
    check_close(f"pull cost, r={r}", mine, ngpu_lite.pull_cost(model))
    for p, g in zip(model.stacked_parameters(), got, strict=True):
        check_close(f"its gradient, r={r}, {tuple(p.shape)}", g, p.grad)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q2", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Averaging the sets (3 points)
#
# Replace each stacked parameter by the mean of its sets, *in place on the model*, keeping a
# leading dimension of size 1, so the model runs with one shared set from then on. The new
# tensors must be `nn.Parameter`s (an optimiser has to be rebuilt afterwards) and
# `model.config.relax_sets` must become 1. Parameter names: `gate_weight`, `gate_bias`,
# `cand_weight`, `cand_bias`.

# %% nbgrader={"grade": false, "grade_id": "average_sets", "locked": false, "schema_version": 3, "solution": true, "task": false}
def average_sets(model):
    """Replace the `r` relaxation sets of `model` by their mean (one shared set)."""
    ### BEGIN SOLUTION
    with torch.no_grad():
        for name in ("gate_weight", "gate_bias", "cand_weight", "cand_bias"):
            p = getattr(model, name)
            setattr(model, name, nn.Parameter(p.mean(dim=0, keepdim=True).clone()))
    model.config.relax_sets = 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_average_sets", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
mine, ref = relaxed_model(), relaxed_model()
average_sets(mine)
ngpu_lite.average_sets(ref)
assert mine.relax_sets == 1 and mine.config.relax_sets == 1, "one shared set after averaging"
for (name, p), q in zip(mine.named_parameters(), ref.parameters(), strict=True):
    check_close(f"averaged {name}", p, q)
### BEGIN HIDDEN TESTS
mine, ref = relaxed_model(6, 8, 3), relaxed_model(6, 8, 3)
average_sets(mine)
ngpu_lite.average_sets(ref)
assert all(isinstance(p, nn.Parameter) for p in mine.stacked_parameters())
x, _, lengths = ngpu_lite.make_batch("badd", [3, 5, 4], __import__("random").Random(0))
with torch.no_grad():
    check_close("outputs of the averaged model", mine(x, lengths), ref(x, lengths))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q3", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. When are the sets averaged? (2 points)
#
# Return the number of curriculum advances after which the pull first exceeds `limit`, when it
# starts at `pull` and is multiplied by `factor` at every advance (the paper says "about 30"
# for the defaults).

# %% nbgrader={"grade": false, "grade_id": "advances_until_average", "locked": false, "schema_version": 3, "solution": true, "task": false}
def advances_until_average(pull=0.0005, factor=1.2, limit=0.1):
    """How many advances it takes for `pull · factor^k` to pass `limit`."""
    ### BEGIN SOLUTION
    k = 0
    while pull <= limit:
        pull *= factor
        k += 1
    return k
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_advances_until_average", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def library_advances(pull=0.0005, factor=1.2, limit=0.1):
    schedule, k = ngpu_lite.PullSchedule(pull, factor, limit), 1
    while not schedule.advance():
        k += 1
    return k


print("advances with the paper's defaults:", advances_until_average())
assert advances_until_average() == library_advances()
### BEGIN HIDDEN TESTS
for args in [(0.001, 1.5, 0.1), (0.01, 2.0, 1.0), (0.05, 1.1, 0.06)]:
    assert advances_until_average(*args) == library_advances(*args), args
### END HIDDEN TESTS
