# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Answers to chapter 2: The convolutional GRU
#
# One answer per exercise of chapter 2: the exercise, the answer, and the cell that shows it.
# Only the last answer trains a model; it uses the chapter's own recipe (its time is printed; a
# few seconds with `NGPU_FAST=1`).

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from ngpu_lite import CGRU, cgru, decode, encode_text, sigmoid_cutoff, train
from ngpu_lite.book import pick, savefig, seed_everything
from ngpu_lite.data.tasks import stack_examples

torch.set_num_threads(1)  # small models: one thread is as fast and leaves the rest of the CPU free
seed_everything(0)

# %% [markdown]
# ## Exercise 1
#
# > Replace the cutoff factor 1.2 by 1.0 (a plain sigmoid, `CGRU(cutoff=1.0)`) and by 2.0. For
# > each, at which pre-activation does the gate reach 1, and how much of a value is left after
# > 8002 applications with pre-activation 3?
#
# **Answer.** With factor $c$ the gate is $\mathrm{clip}(c\,\sigma(x) - (c-1)/2, 0, 1)$, which
# reaches 1 where $\sigma(x) = (c+1)/(2c)$, that is at $x = \ln\frac{c+1}{c-1}$: never for
# $c = 1$ (only where float32 rounds $\sigma(x)$ to 1), $\ln 11 \approx 2.40$ for $c = 1.2$ and
# $\ln 3 \approx 1.10$ for $c = 2$. A pre-activation of 3 is past both finite points, so with 1.2 or
# 2.0 the gate is exactly 1 and the whole value survives; with 1.0 the gate is $\sigma(3)$ and
# $\sigma(3)^{8002}$ is left. Checked on a real one-channel `CGRU` whose update-gate pre-activation
# is 3 everywhere and whose candidate is 0, so that after $T$ applications exactly $u^T$ of the
# value is left:

# %%
# NBVAL_CHECK_OUTPUT
def carry_unit(cutoff: float, pre: float) -> CGRU:
    """One channel: gate pre-activations `pre` everywhere, candidate tanh(0) = 0."""
    unit = CGRU(m=1, cutoff=cutoff)
    with torch.no_grad():
        unit.gate_weight.zero_()
        unit.gate_bias.fill_(pre)
        unit.cand_weight.zero_()
        unit.cand_bias.zero_()
    return unit


for c in (1.0, 1.2, 2.0):
    ratio = (c + 1) / (c - 1) if c > 1 else math.inf
    reach = "no finite x" if c == 1.0 else f"x = ln({ratio:g}) = {math.log(ratio):.4f}"
    unit, s = carry_unit(c, 3.0), torch.ones(1, 1, 1, 1)
    with torch.no_grad():
        for _ in range(8002):
            s = unit(s)
    u = sigmoid_cutoff(torch.tensor(3.0, dtype=torch.float64), c).item()
    print(f"cutoff {c}: gate reaches 1 at {reach}; u(3) = {u:.6f}; after 8002 applications "
          f"{s.item():.3g} of the value is left in float32 (u^8002 = 10^{8002 * math.log10(u):.1f})")

# %% [markdown]
# So a plain sigmoid gate at pre-activation 3 keeps $10^{-169}$ of a value over a 2000-bit
# addition's 8002 CGRUs (float32 cannot hold that: it ends at the tiny denormal printed above, and
# the chapter's table, which raises $u$ to the power 8002 in one go, prints 0), where either cutoff
# keeps all of it. A larger factor
# closes the gate at a smaller pre-activation (1.10 instead of 2.40), so more of the gates sit
# exactly at 0 or 1, with zero gradient there.
#
# ## Exercise 2
#
# > Write `conv` with `torch.nn.functional.unfold` (one matrix product instead of nine) and check
# > it against `F.conv2d` with `torch.testing.assert_close`.
#
# **Answer.** `unfold` cuts every 3 × 3 neighbourhood (all `m` channels) into one column of
# `m · 9` numbers; the kernel bank, flattened to `[m_out, m · 9]`, multiplies all of them at once.

# %%
def conv_unfold(s: torch.Tensor, U: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """`U * s + B` as one matrix product over unfolded 3 × 3 neighbourhoods."""
    batch, _, w, n = s.shape
    k = U.shape[-1]
    cols = F.unfold(s, kernel_size=k, padding=k // 2)  # [B, m_in·k·k, w·n]
    out = U.flatten(1) @ cols + B[None, :, None]  # [B, m_out, w·n]
    return out.view(batch, U.shape[0], w, n)


torch.manual_seed(0)
s = torch.randn(2, 24, 4, 9)
U, B = torch.randn(24, 24, 3, 3) * 0.1, torch.randn(24)
torch.testing.assert_close(conv_unfold(s, U, B), F.conv2d(s, U, B, padding=1))
print("unfold version == F.conv2d; max abs difference",
      f"{(conv_unfold(s, U, B) - F.conv2d(s, U, B, padding=1)).abs().max().item():.1e}")

# %% [markdown]
# The order of `unfold`'s rows (channel, then kernel row, then kernel column) is the order of
# `U.flatten(1)`, which is why a plain reshape of the kernel bank is enough.
#
# ## Exercise 3
#
# > Show with a 1-channel CGRU whose weights you set by hand that a state value can be carried
# > unchanged through 1000 applications (hint: a large update-gate bias).
#
# **Answer.** Set the update gate's kernel to zero and its bias to 10: $u = \sigma'(10) = 1$
# exactly, so $\mathrm{CGRU}(s) = 1 \cdot s + 0 \cdot \text{candidate} = s$ whatever the reset
# gate and the candidate do (they keep random weights here). With a plain sigmoid
# (`cutoff=1.0`) the same bias gives $u = \sigma(10) < 1$ and the value drifts towards the
# candidate.

# %%
torch.manual_seed(1)
for c in (1.2, 1.0):
    unit = CGRU(m=1, cutoff=c)  # random reset-gate and candidate weights
    with torch.no_grad():
        unit.gate_weight[0].zero_()  # row 0: the update gate u (row 1 is the reset gate r)
        unit.gate_bias[0] = 10.0
    s0 = torch.tensor([0.7314, -0.25, 0.0, 0.5, -0.9]).view(1, 1, 1, 5)  # one row of five cells
    s = s0.clone()
    with torch.no_grad():
        for _ in range(1000):
            s = unit(s)
    print(f"cutoff {c}: u = {sigmoid_cutoff(torch.tensor(10.0), c).item():.8f}; after 1000 applications "
          f"the state is bit for bit unchanged: {torch.equal(s, s0)} "
          f"(max change {(s - s0).abs().max().item():.3g})")

# %% [markdown]
# ## Exercise 4
#
# > A CGRU at a cell sees only its 3 × 3 neighbourhood. After how many applications can the value
# > at position 0 influence position 40? What does that say about the number of steps a Neural GPU
# > needs for an input of length `n`?
#
# **Answer.** Not 40 but 20: one CGRU applies two 3 × 3 convolutions in a row (the reset gate
# `r` at cell `k ± 1` is itself a convolution of `s` at `k ± 2`, and the candidate convolves
# `r ⊙ s`), so a change travels up to two cells per application (chapter 3 shows it for one and two
# applications). Measured on one random CGRU (`m = 24`) over a 41-cell image: the derivative of
# the image after `T` applications in the direction of a change of cell 0 (forward-mode autograd,
# float64), and the farthest position where it is not zero.

# %%
torch.manual_seed(2)
unit = CGRU(m=24).double()
weights = tuple(p.detach() for p in (unit.gate_weight, unit.gate_bias, unit.cand_weight, unit.cand_bias))
s0 = torch.randn(1, 24, 4, 41, dtype=torch.float64)
change = torch.zeros_like(s0)
change[0, :, 0, 0] = 1.0  # every channel of cell 0, first row


def applications(T: int):
    """s -> the image after T applications of the same CGRU."""
    def run(s: torch.Tensor) -> torch.Tensor:
        for _ in range(T):
            s = cgru(s, *weights)
        return s
    return run


print(f"{'T':>3s} {'farthest position reached':>26s} {'largest effect on position 40':>31s}")
for T in (1, 2, 3, 10, 19, 20, 21, 24):
    _, effect = torch.func.jvp(applications(T), (s0,), (change,))
    where = (effect != 0).any(dim=1).any(dim=1)[0].nonzero().flatten()
    print(f"{T:3d} {int(where.max()):26d} {effect[0, :, :, 40].abs().max().item():31.1e}")

# %% [markdown]
# So position 0 can influence position 40 after 20 CGRU applications, 10 steps of the paper's two
# layers, and not before. But only barely: the first influence is a product of about 20 small
# factors, around $10^{-30}$ of the change here, far below what float32 resolves (a plain
# comparison of two perturbed images, `a != b`, first sees it a few applications later). Reach is
# a lower bound on the steps, not a guarantee that information arrives intact; a trained model
# moves it with gates near 0 and 1, which keep it whole. For an input of length `n`, information
# must cross `n − 1` cells, which takes at least $\lceil (n-1)/4 \rceil$ steps at two CGRUs per
# step: a fixed number of steps cannot serve every length, the count has to grow with `n`. The
# Neural GPU runs `n` steps, about four times what reach alone needs; the rest is time to compute
# (a carry, for instance, is decided cell by cell, and a reversed symbol must travel the whole
# length).
#
# ## Exercise 5
#
# > Rerun the gate figure on a different addition, one without carries (`1001 + 0100`). Which parts
# > of the picture change?
#
# **Answer.** The same model as the chapter's (same preset, seed, learning rate and steps), its
# gates recorded on the chapter's addition `1011 + 0111` (carries through
# three positions) and on `1001 + 0100` (no carry).

# %%
result = train("badd", "tiny", steps=pick(20, 2000), seed=0, progress=False, lr=0.006)
model = result.model
print(f"trained {result.steps} steps in {result.seconds:.0f} s; curriculum reached {result.digits} digits")


def gate_maps(a: str, b: str) -> tuple[str, dict]:
    """The model's answer to a + b and its gates u, r (mean over channels, image row 0) per layer:
    `maps[(name, j)]` is a [steps, n] tensor."""
    x, _, lengths = stack_examples([encode_text("badd", a, b)])
    rec: list = []
    with torch.no_grad():
        out = model(x, lengths, hook=lambda t, j, st, g: rec.append((j, g["u"][0], g["r"][0])))
    maps = {(name, j): torch.stack([g[i][:, 0, :].mean(0) for jj, *g in rec if jj == j])
            for i, name in enumerate("ur") for j in range(model.config.l)}
    return decode("badd", out.argmax(-1)[0]), maps


cases = [("1011", "0111"), ("1001", "0100")]
maps = {}
for a, b in cases:
    answer, maps[a, b] = gate_maps(a, b)
    print(f"{a} + {b} = {answer} (model), {int(a, 2) + int(b, 2):b} (Python)")

# %%
L = model.config.l
fig, axes = plt.subplots(3, 2 * L, figsize=(3.2 * 2 * L, 8), layout="constrained")
keys = [(name, j) for name in "ur" for j in range(L)]
for col, key in enumerate(keys):
    for row, case in enumerate(cases):
        im = axes[row, col].imshow(maps[case][key], vmin=0, vmax=1, cmap="viridis", aspect="auto")
        axes[row, col].set_title(f"{' + '.join(case)}: {key[0]}, layer {key[1] + 1}", fontsize=9)
    diff = maps[cases[0]][key] - maps[cases[1]][key]
    dm = axes[2, col].imshow(diff, vmin=-1, vmax=1, cmap="RdBu", aspect="auto")
    axes[2, col].set_title(f"difference: {key[0]}, layer {key[1] + 1}", fontsize=9)
    axes[2, col].set_xlabel("position k (lowest digit first)")
for row in range(3):
    axes[row, 0].set_ylabel("step t")
fig.colorbar(im, ax=axes[:2, -1].tolist(), shrink=0.8, label="gate (mean over channels)")
fig.colorbar(dm, ax=axes[2, -1], shrink=0.8, label="carry − no carry")
print("saved", savefig(fig, "ans02_gates_no_carry.png").name)
plt.show()

# %% [markdown]
# Where, along the input, do the two pictures differ? The mean absolute difference of the gates
# at each position (over steps, layers and both gates), next to the two inputs, lowest digit
# first:

# %%
xs = [stack_examples([encode_text("badd", a, b)])[0][0].tolist() for a, b in cases]
by_pos = torch.stack([(maps[cases[0]][k] - maps[cases[1]][k]).abs().mean(0) for k in keys]).mean(0)
print("position        " + " ".join(f"{k:5d}" for k in range(len(by_pos))))
for (a, b), x in zip(cases, xs, strict=True):
    print(f"{a} + {b} input " + " ".join(f"{v:5d}" for v in x))
print("mean |change|   " + " ".join(f"{v:5.2f}" for v in by_pos.tolist()))
same = [k for k in range(len(by_pos)) if xs[0][k] == xs[1][k]]
differ = [k for k in range(len(by_pos)) if xs[0][k] != xs[1][k]]
print(f"mean |change| at positions whose input symbol differs: {by_pos[differ].mean():.2f}; "
      f"where it is the same: {by_pos[same].mean():.2f}; largest at positions "
      f"{sorted(by_pos.argsort(descending=True)[:3].tolist())}")

# %% [markdown]
# The gates are computed from the image, so every cell whose input symbol differs changes from
# step 0 on, and what it writes spreads by up to four cells per step: the two pictures can differ
# anywhere after a step or two. The printed rows say where they differ most in this model;
# whether the difference is larger where the input differs or where the carry travels (the
# positions 0 to 3 of the first operand in `1011 + 0111`) is read from the last line. This is one
# small model after a short training run: the chapter's model of `4` digits at most, trained for
# a minute. Telling a "carry" signal apart from the plain difference of the inputs would need
# pairs that differ only in whether a carry happens, and a model that adds reliably; chapter 8's
# explorer is built for that.
