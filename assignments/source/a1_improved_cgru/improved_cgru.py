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
# # Assignment 1: the improved CGRU, backwards
#
# Chapter 10 writes the forward pass of the improved Neural GPU's unit (Freivalds & Liepins 2017):
# hard gates and a diagonal shift of the kept state. Here you derive and write its **backward
# pass by hand**, from the equations, and check it against PyTorch's autograd run through
# `ngpu_lite.cgru(..., hard=True, diagonal=True)`. On a state `s` `[batch, m, w, n]`:
#
# $$g = U_g * s + B_g,\quad u = \sigma_h(g_{1..m}),\quad r = \sigma_h(g_{m+1..2m}),\quad
# p = U * (r \odot s) + B,\quad c = \tanh_h(p),$$
# $$\mathrm{CGRU}(s) = u \odot \mathrm{shift}(s) + (1 - u) \odot c,$$
#
# with $\sigma_h(x) = \max(0, \min(1, 0.5x + 0.5))$, $\tanh_h(x) = \max(-1, \min(1, x))$, `*` a
# 2-D convolution with "same" zero padding (`gate_weight` $U_g$ is `[2m, m, kh, kw]`, update gate
# first; `cand_weight` $U$ is `[m, m, kh, kw]`), and `shift` = `ngpu_lite.model.cgru.diagonal_shift`:
# the first `m // 3` channels move one cell towards higher positions along `n`, the next `m // 3`
# one cell towards lower positions, the rest stay (zeros enter at the edges).
#
# **Learning objectives.** After this assignment you can
# 1. derive the gradient of a gated convolutional unit by the chain rule, gate by gate;
# 2. write the adjoint (transpose) of a linear map such as a shift or a convolution
#    (`torch.nn.grad.conv2d_input`, `torch.nn.grad.conv2d_weight`);
# 3. chain a one-step backward pass through the steps of a trained model (backpropagation
#    through time) and explain, with a measurement, how far and how strongly a gradient reaches
#    back, from the terms of your derivation.
#
# **Time.** About 3 hours: 1 h for the derivation on paper, 1 h for the code, 1 h for part 4.
#
# **Rules.** Write code only where it says `YOUR CODE HERE`. You may use `torch`,
# `torch.nn.functional` (`F.conv2d`, `F.pad`, ...), `torch.nn.grad` and, for the forward values,
# `ngpu_lite.model.cgru.hard_sigmoid`, `hard_tanh` and `diagonal_shift`. You may **not** use autograd
# (`.backward()`, `torch.autograd`, `requires_grad`) in parts 1–3: autograd is what your gradients
# are checked against, and the tests call your functions under `torch.no_grad()`. Each function is graded on
# its own, by visible tests below it and hidden ones (other shapes, kernels and random inputs).
#
# **Points (12).** `shift_adjoint` 2, `cgru_grad_state` 4, `cgru_grad_params` 3 (all
# autograded), part 4 written: 3, graded by hand with this rubric:
#
# | points | part 4: how far back does a gradient reach? |
# |---|---|
# | 1 | the gradient's norm and reach (lowest and highest cell where it is not zero) at the steps back from the end, for `k` = 0, 20 and 40, measured by chaining your `cgru_grad_state` through the shipped `badd` model, with the chain's largest difference from autograd printed |
# | 1 | how many cells the reach grows per step back, explained from the terms of your backward pass (which adjoint moves the gradient one cell, which path moves it two), and what it says about the input cells an output cell can depend on after `t` steps |
# | 1 | whether the gradient vanishes or explodes over the 41 steps, with the measured norms, explained by the factor of your backward pass that decides it (the update gate on the kept path, and what the hard units' derivatives are), compared with a soft gate at, say, 0.9 on the same path |

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import os

import torch
import torch.nn.functional as F

import ngpu_lite
from ngpu_lite.model.cgru import diagonal_shift, hard_sigmoid, hard_tanh

torch.set_num_threads(1)
# The tests draw their random inputs from this seed; the grader may run them with other seeds.
GRADE_SEED = int(os.environ.get("NGPU_GRADE_SEED", "0"))


def check_close(name, got, want, atol=1e-6):
    """Print the largest absolute difference between `got` and `want`; fail above `atol`."""
    got, want = torch.as_tensor(got), torch.as_tensor(want)
    assert got.shape == want.shape, f"{name}: shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    diff = (got.double() - want.double()).abs().max().item()
    print(f"{name:<40} largest |difference| = {diff:.2e}  {'ok' if diff <= atol else 'WRONG'}")
    assert diff <= atol, f"{name}: largest difference {diff:.3g} is above {atol:g}"
    return diff


def random_case(m, w, n, kernel=3, batch=2, seed=0):
    """A random state, weights in the library's layout and an upstream gradient, in float64.
    The weights are large enough that many gate entries saturate (exactly 0 or 1)."""
    g = torch.Generator().manual_seed(seed)
    kh = 1 if w == 1 else kernel  # a one-row image has 1 x k kernels, as in ngpu_lite.NeuralGPU

    def rand(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    s = rand(batch, m, w, n)
    weights = (rand(2 * m, m, kh, kernel, scale=0.5), rand(2 * m, scale=0.5),
               rand(m, m, kh, kernel, scale=0.5), rand(m, scale=0.5))
    return s, weights, rand(batch, m, w, n)


def autograd_grads(s, weights, grad_out):
    """What your code is compared with: autograd through the library's improved CGRU.
    Returns (d s, (d gate_weight, d gate_bias, d cand_weight, d cand_bias))."""
    with torch.enable_grad():
        leaves = [t.detach().clone().requires_grad_() for t in (s, *weights)]
        out = ngpu_lite.cgru(*leaves, hard=True, diagonal=True)
        grads = torch.autograd.grad(out, leaves, grad_out)
    return grads[0], tuple(grads[1:])


# %% [markdown] nbgrader={"grade": false, "grade_id": "q1", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. The adjoint of the shift (2 points)
#
# `diagonal_shift` is linear, so its backward pass is its adjoint: the map $\mathrm{shift}^\top$
# with $\langle \mathrm{shift}(s), g\rangle = \langle s, \mathrm{shift}^\top(g)\rangle$ for every
# `s` and `g` of the same shape. Write it for any `m` (also when `m` is not a multiple of 3).

# %% nbgrader={"grade": false, "grade_id": "shift_adjoint", "locked": false, "schema_version": 3, "solution": true, "task": false}
def shift_adjoint(g):
    """The adjoint of `ngpu_lite.model.cgru.diagonal_shift`, applied to `g` `[batch, m, w, n]`."""
    ### BEGIN SOLUTION
    k = g.shape[1] // 3
    return torch.cat([F.pad(g[:, :k, :, 1:], (0, 1)),  # what moved up comes back down
                      F.pad(g[:, k:2 * k, :, :-1], (1, 0)),  # and what moved down comes back up
                      g[:, 2 * k:]], dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_shift_adjoint", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def check_adjoint(m, w, n, seed):
    gen = torch.Generator().manual_seed(seed)
    s, g = (torch.randn(2, m, w, n, generator=gen, dtype=torch.float64) for _ in range(2))
    with torch.no_grad():
        mine = shift_adjoint(g)
    assert mine.shape == g.shape, f"shape {tuple(mine.shape)}, expected {tuple(g.shape)}"
    lhs, rhs = (diagonal_shift(s) * g).sum(), (s * mine).sum()
    check_close(f"<shift(s), g> - <s, shift^T(g)>, m={m}", lhs - rhs, torch.tensor(0.0, dtype=torch.float64))
    check_close(f"shift^T(g) against autograd, m={m}", mine, autograd_shift_adjoint(g))


def autograd_shift_adjoint(g):
    with torch.enable_grad():
        x = torch.zeros_like(g, requires_grad=True)
        return torch.autograd.grad(diagonal_shift(x), x, g)[0]


check_adjoint(m=6, w=1, n=9, seed=GRADE_SEED)
### BEGIN HIDDEN TESTS
for m, w, n in [(7, 1, 5), (8, 3, 6), (4, 2, 2), (48, 1, 41)]:
    check_adjoint(m, w, n, seed=GRADE_SEED + m)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q2", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. The gradient with respect to the state (4 points)
#
# Given the upstream gradient `grad_out` $= \partial L / \partial\, \mathrm{CGRU}(s)$, return
# $\partial L / \partial s$. The state reaches the output along four paths: through the kept
# (shifted) state, through the update gate, through the reset gate, and through $r \odot s$ in the
# candidate. Recompute the forward values you need. Where a hard unit sits exactly on a corner
# of its clip, use PyTorch's convention (the gradient passes: `clamp` lets it through for
# $x$ in the closed interval); random inputs never land there.
#
# Hints: the adjoint of `F.conv2d(x, W, padding=p)` with respect to `x` is
# `torch.nn.grad.conv2d_input(x.shape, W, grad, padding=p)`; use your `shift_adjoint`.

# %% nbgrader={"grade": false, "grade_id": "cgru_grad_state", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cgru_grad_state(s, gate_weight, gate_bias, cand_weight, cand_bias, grad_out):
    """d L / d s for one improved CGRU (hard, diagonal), given d L / d CGRU(s) = `grad_out`."""
    ### BEGIN SOLUTION
    m = s.shape[1]
    pad = (gate_weight.shape[-2] // 2, gate_weight.shape[-1] // 2)
    g = F.conv2d(s, gate_weight, gate_bias, padding=pad)
    u, r = hard_sigmoid(g).chunk(2, dim=1)
    p = F.conv2d(r * s, cand_weight, cand_bias, padding=pad)
    c = hard_tanh(p)
    d_kept = grad_out * u
    d_p = grad_out * (1 - u) * (p.abs() <= 1)
    d_u = grad_out * (diagonal_shift(s) - c)
    d_rs = torch.nn.grad.conv2d_input(s.shape, cand_weight, d_p, padding=pad)
    d_r = d_rs * s
    d_g = 0.5 * torch.cat([d_u, d_r], dim=1) * (g.abs() <= 1)
    assert d_g.shape[1] == 2 * m
    return (shift_adjoint(d_kept) + d_rs * r
            + torch.nn.grad.conv2d_input(s.shape, gate_weight, d_g, padding=pad))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cgru_grad_state", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Graded on its own: autograd's adjoint of the shift stands in for your shift_adjoint here.
_yours, shift_adjoint = shift_adjoint, autograd_shift_adjoint
try:
    s, weights, grad_out = random_case(m=6, w=1, n=9, seed=GRADE_SEED)
    with torch.no_grad():
        mine = cgru_grad_state(s, *weights, grad_out)
    check_close("d s, m=6, one row of 9", mine, autograd_grads(s, weights, grad_out)[0])
    ### BEGIN HIDDEN TESTS
    for m, w, n, kernel in [(7, 1, 13, 3), (9, 3, 8, 3), (5, 4, 6, 5), (48, 1, 21, 3)]:
        s, weights, grad_out = random_case(m, w, n, kernel, batch=3, seed=GRADE_SEED + 10 * m)
        with torch.no_grad():
            mine = cgru_grad_state(s, *weights, grad_out)
        check_close(f"d s, m={m}, {w}x{n}, kernel {kernel}", mine, autograd_grads(s, weights, grad_out)[0])
    ### END HIDDEN TESTS
finally:
    shift_adjoint = _yours

# %% [markdown] nbgrader={"grade": false, "grade_id": "q3", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. The gradients with respect to the weights (3 points)
#
# Return $\partial L/\partial U_g$, $\partial L/\partial B_g$, $\partial L/\partial U$,
# $\partial L/\partial B$ (shaped like `gate_weight`, `gate_bias`, `cand_weight`, `cand_bias`),
# summed over the batch. Hint: `torch.nn.grad.conv2d_weight(input, weight.shape, grad,
# padding=p)`; a bias gradient is the output gradient summed over everything but its channel.

# %% nbgrader={"grade": false, "grade_id": "cgru_grad_params", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cgru_grad_params(s, gate_weight, gate_bias, cand_weight, cand_bias, grad_out):
    """(d gate_weight, d gate_bias, d cand_weight, d cand_bias) for one improved CGRU."""
    ### BEGIN SOLUTION
    pad = (gate_weight.shape[-2] // 2, gate_weight.shape[-1] // 2)
    g = F.conv2d(s, gate_weight, gate_bias, padding=pad)
    u, r = hard_sigmoid(g).chunk(2, dim=1)
    p = F.conv2d(r * s, cand_weight, cand_bias, padding=pad)
    c = hard_tanh(p)
    d_p = grad_out * (1 - u) * (p.abs() <= 1)
    d_u = grad_out * (diagonal_shift(s) - c)
    d_r = torch.nn.grad.conv2d_input(s.shape, cand_weight, d_p, padding=pad) * s
    d_g = 0.5 * torch.cat([d_u, d_r], dim=1) * (g.abs() <= 1)
    return (torch.nn.grad.conv2d_weight(s, gate_weight.shape, d_g, padding=pad), d_g.sum((0, 2, 3)),
            torch.nn.grad.conv2d_weight(r * s, cand_weight.shape, d_p, padding=pad), d_p.sum((0, 2, 3)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cgru_grad_params", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
NAMES = ("d gate_weight", "d gate_bias", "d cand_weight", "d cand_bias")
s, weights, grad_out = random_case(m=6, w=1, n=9, seed=GRADE_SEED)
with torch.no_grad():
    mine = cgru_grad_params(s, *weights, grad_out)
assert len(mine) == 4, "four gradients, in the order of the weights"
for name, got, want in zip(NAMES, mine, autograd_grads(s, weights, grad_out)[1], strict=True):
    check_close(f"{name}, m=6", got, want, atol=1e-5)
### BEGIN HIDDEN TESTS
for m, w, n, kernel in [(7, 1, 13, 3), (9, 3, 8, 3), (5, 4, 6, 5)]:
    s, weights, grad_out = random_case(m, w, n, kernel, batch=3, seed=GRADE_SEED + 20 * m)
    with torch.no_grad():
        mine = cgru_grad_params(s, *weights, grad_out)
    for name, got, want in zip(NAMES, mine, autograd_grads(s, weights, grad_out)[1], strict=True):
        check_close(f"{name}, m={m}, {w}x{n}, kernel {kernel}", got, want, atol=1e-5)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q4", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. How far back does a gradient reach? (3 points, written; rubric at the top)
#
# Your `cgru_grad_state` is one step of backpropagation through time. Chain it through a trained
# model. Load the shipped improved model in float64, `model = ngpu_lite.pretrained("badd",
# device="cpu").double()` (a one-row image, `m = 48`, one hard diagonal CGRU per step and one
# relaxation set, so every step uses the weights `[p[0, 0] for p in model.stacked_parameters()]`),
# and take one 20-bit addition, `x, _, lengths = ngpu_lite.make_batch("badd", [20],
# random.Random(0))`: 41 cells, so 41 steps. Record the state before every step: `model.embed(x)`
# is the state before step 0, and the forward pass's `hook(t, j, s, gates)` sees the state `s`
# after step `t`. Start from the gradient of the sum of the final state's 48 channels at one cell
# `k` (zeros, and ones at cell `k`), carry it back to the state before step 0 with your
# `cgru_grad_state`, and record at every step its norm and the lowest and highest cell where it is
# not zero, for `k` = 0, 20 and 40. Check the whole chain once against autograd through 41 steps
# of `ngpu_lite.cgru(..., hard=True, diagonal=True)` (autograd is allowed here, in this ungraded
# cell, as the check). Then answer in the cell after the code: how many cells the gradient's reach
# grows per step back, which terms of your backward pass make it so, and what that says about the
# input cells an output cell can depend on; and whether the gradient vanishes or explodes over the
# 41 steps, and which factor of your backward pass decides it.

# %% nbgrader={"grade": false, "grade_id": "reach_code", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
import random  # noqa: E402

model = ngpu_lite.pretrained("badd", device="cpu").double()
x, _, lengths = ngpu_lite.make_batch("badd", [20], random.Random(0))
states, gates_u = [model.embed(x)], []


def record(t, j, s, gates):
    states.append(s)
    gates_u.append(gates["u"])


with torch.no_grad():
    model(x, lengths, hook=record)
weights = [p[0, 0] for p in model.stacked_parameters()]
steps = len(states) - 1
u_all = torch.cat([u.flatten() for u in gates_u])
print(f"{steps} steps; update gate exactly 1 in {(u_all == 1).double().mean():.0%} of its entries, "
      f"exactly 0 in {(u_all == 0).double().mean():.0%}")


def carry_back(k):
    """The gradient of the final state's cell k (all channels) carried back to every step."""
    g = torch.zeros_like(states[-1])
    g[..., k] = 1.0
    out = {steps: g}
    with torch.no_grad():
        for t in reversed(range(steps)):
            g = cgru_grad_state(states[t], *weights, g)
            out[t] = g
    return out


print(f"{'k':>3} {'before step':>11} {'norm':>6} {'cells':>8}")
for k in (0, 20, 40):
    grads = carry_back(k)
    for t in (steps, 40, 39, 38, 35, 30, 20, 10, 0):
        nz = (grads[t].abs().sum((0, 1, 2)) > 0).nonzero().flatten().tolist()
        print(f"{k:>3} {t:>11} {grads[t].norm():>6.2f} {f'{nz[0]}..{nz[-1]}':>8}")

with torch.enable_grad():  # the check: autograd through 41 steps of the library's unit
    s0 = states[0].clone().requires_grad_()
    s = s0
    for _ in range(steps):
        s = ngpu_lite.cgru(s, *weights, hard=True, diagonal=True)
    want = torch.autograd.grad(s[..., 20].sum(), s0)[0]
print(f"chain of cgru_grad_state against autograd, k = 20: largest difference "
      f"{(carry_back(20)[0] - want).abs().max():.1e}")
### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "reach_answer", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# ### BEGIN SOLUTION
# Reference answer (the numbers are those the cell above prints). The chain of `cgru_grad_state`
# agrees with autograd through all 41 steps to about 1e-16, so the measurement is of the model,
# not of a bug. Reach: from cell 20 the gradient covers cells 18..22 one step back, 8..32 six
# steps back: two cells per step on each side, until it fills the 41 cells (from cell 0 or 40 it
# grows towards the inside only). In the backward pass `shift_adjoint(grad_out * u)` moves the
# gradient one cell, and each `conv2d_input` of a width-3 kernel one cell; the two gate paths of
# `d_p` pass through one convolution (the candidate's) and the reset gate's path through two in a
# row (the candidate's, then, through `d_r`, the gate's), hence two cells. Read forwards, it is
# the same cone: after t steps an output cell can depend on input cells at most 2t away, so 41
# steps let every output cell see every input cell of a 20-bit sum. Size: the norm starts at
# $\sqrt{48} \approx 6.9$ and stays between about 4.4 and 7.7 over the 41 steps: it neither
# vanishes nor explodes. The factor that decides it is `grad_out * u` on the kept path: the shipped
# model's update gate is exactly 1 in most entries (the printed share), and there
# `shift_adjoint(grad_out * u)` moves the gradient one cell unchanged in size, a permutation; the
# hard units' derivatives are exactly 0, 0.5 or 1 and never shrink it a little at every step. A
# sigmoid gate at u = 0.9 on the same path would multiply it by $0.9^{41} \approx 0.013$ (at 0.99,
# 0.66): that is why the 2016 unit, with its soft gates, has a harder time carrying a gradient
# (and a value) over thousands of steps.
# ### END SOLUTION
