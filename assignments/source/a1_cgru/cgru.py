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
# # Assignment 1: the convolutional GRU
#
# You will implement the Neural GPU's one building block, the convolutional gated recurrent unit
# (CGRU) of Kaiser & Sutskever (2016), and check it against `ngpu_lite` on random weights.
#
# $$u = \sigma'(U' * s + B'), \qquad r = \sigma'(U'' * s + B''),$$
# $$\mathrm{CGRU}(s) = u \odot s + (1 - u) \odot \tanh(U * (r \odot s) + B),$$
#
# where $*$ is a 2-D convolution over the mental image $s$ (here channels first,
# `[batch, m, w, n]`, with "same" zero padding) and
# $\sigma'(x) = \max(0, \min(1, 1.2\,\sigma(x) - 0.1))$ is the *sigmoid cutoff*.
#
# Write your code only where it says `YOUR CODE HERE` (delete the `raise NotImplementedError()`).
# Each function is graded on its own, by visible tests (below each function) and hidden ones.
# Do not use `ngpu_lite.cgru`, `ngpu_lite.CGRU` or `ngpu_lite.sigmoid_cutoff` in your answers:
# they are what your code is compared with.
#
# Points: `sigmoid_cutoff` 2, `gates` 3, `cgru` 4.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch
import torch.nn.functional as F

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


def random_cgru_weights(m, kernel=3, seed=0):
    """Random CGRU weights in the library's layout: gates `[2m, m, k, k]` (U' on U''), candidate `[m, m, k, k]`."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(2 * m, m, kernel, kernel, generator=g) * 0.3, torch.randn(2 * m, generator=g),
            torch.randn(m, m, kernel, kernel, generator=g) * 0.3, torch.randn(m, generator=g))


# %% [markdown] nbgrader={"grade": false, "grade_id": "q1", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. The sigmoid cutoff (2 points)
#
# Implement $\sigma'(x) = \max(0, \min(1, c\,\sigma(x) - (c - 1)/2))$ with cutoff $c = 1.2$ by
# default. Unlike the plain sigmoid it reaches exactly 0 and 1, so a gate can close completely.

# %% nbgrader={"grade": false, "grade_id": "sigmoid_cutoff", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sigmoid_cutoff(x, cutoff=1.2):
    """The sigmoid stretched by `cutoff` and clipped to [0, 1]."""
    ### BEGIN SOLUTION
    return torch.clamp(cutoff * torch.sigmoid(x) - (cutoff - 1.0) / 2, 0.0, 1.0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sigmoid_cutoff", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
x = torch.linspace(-8, 8, 101)
check_close("sigmoid_cutoff", sigmoid_cutoff(x), ngpu_lite.sigmoid_cutoff(x))
assert float(sigmoid_cutoff(torch.tensor(-10.0))) == 0.0, "the gate must close exactly"
### BEGIN HIDDEN TESTS
x = torch.randn(3, 5, 7) * 4
check_close("sigmoid_cutoff (random)", sigmoid_cutoff(x), ngpu_lite.sigmoid_cutoff(x))
check_close("sigmoid_cutoff (cutoff 1.5)", sigmoid_cutoff(x, 1.5), ngpu_lite.sigmoid_cutoff(x, 1.5))
assert float(sigmoid_cutoff(torch.tensor(10.0))) == 1.0
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "q2", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. The gates (3 points)
#
# Return the update gate `u` and the reset gate `r` for a state `s` of shape `[batch, m, w, n]`.
# `gate_weight` has shape `[2m, m, k, k]`: its first `m` output channels are $U'$ (the update
# gate), its last `m` are $U''$ (the reset gate); `gate_bias` has shape `[2m]` in the same order.
# Pad so that the image keeps its size (`k` is odd). Use your `sigmoid_cutoff`.

# %% nbgrader={"grade": false, "grade_id": "gates", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gates(s, gate_weight, gate_bias):
    """The update and reset gates `(u, r)`, each shaped like `s`."""
    ### BEGIN SOLUTION
    g = F.conv2d(s, gate_weight, gate_bias, padding=gate_weight.shape[-1] // 2)
    gu, gr = g.chunk(2, dim=1)
    return sigmoid_cutoff(gu), sigmoid_cutoff(gr)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_gates", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Graded on its own: the library's sigmoid cutoff stands in for yours while these tests run.
_yours, sigmoid_cutoff = sigmoid_cutoff, ngpu_lite.sigmoid_cutoff
try:
    gw, gb, cw, cb = random_cgru_weights(m=4)
    s = torch.randn(2, 4, 3, 6)
    u, r = gates(s, gw, gb)
    want = {}
    ngpu_lite.cgru(s, gw, gb, cw, cb, gates=want)
    check_close("update gate u", u, want["u"])
    check_close("reset gate r", r, want["r"])
    ### BEGIN HIDDEN TESTS
    for m, kernel, seed in [(6, 3, 1), (3, 5, 2)]:
        gw, gb, cw, cb = random_cgru_weights(m, kernel, seed)
        s = torch.randn(3, m, 4, 9)
        u, r = gates(s, gw, gb)
        want = {}
        ngpu_lite.cgru(s, gw, gb, cw, cb, gates=want)
        check_close(f"u (m={m}, kernel {kernel})", u, want["u"])
        check_close(f"r (m={m}, kernel {kernel})", r, want["r"])
    ### END HIDDEN TESTS
finally:
    sigmoid_cutoff = _yours

# %% [markdown] nbgrader={"grade": false, "grade_id": "q3", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. One CGRU application (4 points)
#
# Put it together: $\mathrm{CGRU}(s) = u \odot s + (1 - u) \odot \tanh(U * (r \odot s) + B)$ with
# `cand_weight` $U$ of shape `[m, m, k, k]` and `cand_bias` $B$ of shape `[m]`. Use your `gates`.

# %% nbgrader={"grade": false, "grade_id": "cgru", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cgru(s, gate_weight, gate_bias, cand_weight, cand_bias):
    """One CGRU application to `s` `[batch, m, w, n]`; returns the new state, same shape."""
    ### BEGIN SOLUTION
    u, r = gates(s, gate_weight, gate_bias)
    c = torch.tanh(F.conv2d(r * s, cand_weight, cand_bias, padding=cand_weight.shape[-1] // 2))
    return u * s + (1 - u) * c
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cgru", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
# Graded on its own: the library's gates stand in for yours while these tests run.
def _library_gates(s, gate_weight, gate_bias):
    m, k = s.shape[1], gate_weight.shape[-1]
    want = {}
    ngpu_lite.cgru(s, gate_weight, gate_bias, torch.zeros(m, m, k, k), torch.zeros(m), gates=want)
    return want["u"], want["r"]


_yours, gates = gates, _library_gates
try:
    weights = random_cgru_weights(m=4)
    s = torch.randn(2, 4, 3, 6)
    check_close("CGRU(s), m=4", cgru(s, *weights), ngpu_lite.cgru(s, *weights))
    ### BEGIN HIDDEN TESTS
    for m, kernel, seed in [(8, 3, 3), (5, 5, 4)]:
        weights = random_cgru_weights(m, kernel, seed)
        s = torch.randn(4, m, 4, 11)
        check_close(f"CGRU(s), m={m}, kernel {kernel}", cgru(s, *weights), ngpu_lite.cgru(s, *weights))
    unit = ngpu_lite.CGRU(m=6)
    s = torch.randn(2, 6, 4, 7)
    with torch.no_grad():
        check_close("library CGRU module weights", cgru(s, unit.gate_weight, unit.gate_bias,
                                                      unit.cand_weight, unit.cand_bias), unit(s))
    ### END HIDDEN TESTS
finally:
    gates = _yours

# %% [markdown] nbgrader={"grade": false, "grade_id": "outro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Going further (not graded)
#
# Run your `cgru` 20 times on a random state and plot how the share of update-gate entries at
# exactly 0 or 1 grows with the step: the cutoff lets the network hold a value for ever.
