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
# # 2. The convolutional GRU
#
# The Neural GPU has exactly one kind of building block: the *convolutional gated recurrent
# unit* (CGRU). It takes a state `s`, a small image with `m` channels, and returns a new state of
# the same shape. This chapter writes it from scratch, one equation at a time, and checks every
# piece against `ngpu_lite` on the same weights. (The GRU itself is Cho et al.'s, 2014; textbook
# introductions to it are in Goodfellow, Bengio & Courville's *Deep Learning*, chapter 10, and in
# *Dive into Deep Learning*: see the references at the end of the book.)
#
# **On a CPU: about 1 minute** in the default mode (measured: the stored run of this notebook on a
# 2-core machine). **Expect:** every piece written from scratch equal to the library's on the same
# weights, and the gates of a briefly trained Neural GPU (2016), many of them exactly 0 or 1.
#
# **Learning objectives.** After this chapter you can
#
# 1. write the convolution `U * s + B` as a sum of shifted matrix products and check it against
#    `F.conv2d`;
# 2. write the update gate `u`, the reset gate `r`, the candidate and the CGRU itself, match
#    `ngpu_lite.CGRU` on the same weights, and count its parameters (15,624 at `m = 24`);
# 3. say where the paper's *sigmoid cutoff* reaches exactly 0 and 1 (`x = ∓ln 11`), compute how much
#    of a value a gate keeps after `T` steps with and without it, and what it costs in gradient;
# 4. record the gates of a briefly trained Neural GPU (2016) with the `hook` argument while it adds
#    two binary numbers, and count how many sit exactly at 0 or 1 against an untrained model.
#
# The equations (Kaiser & Sutskever 2016, §2), with `*` a convolution over the image:
#
# $$u = \sigma'(U' * s + B'), \qquad r = \sigma'(U'' * s + B''),$$
# $$\mathrm{CGRU}(s) = u \odot s + (1 - u) \odot \tanh\big(U * (r \odot s) + B\big),$$
# $$\sigma'(x) = \max\big(0, \min(1, 1.2\,\sigma(x) - 0.1)\big).$$

# %%
import math

import matplotlib.pyplot as plt
import matplotlib.ticker
import torch
import torch.nn.functional as F

from ngpu_lite import CGRU, NeuralGPU, cgru, decode, encode_text, evaluate, sigmoid_cutoff, train
from ngpu_lite.book import pick, savefig, seed_everything
from ngpu_lite.data.tasks import ADD_SEP, stack_examples
from ngpu_lite.interfaces.diagrams import draw_cgru, draw_mental_image
from ngpu_lite.model import Config, model_name

torch.set_num_threads(1)  # small models: one thread is as fast and leaves the rest of the CPU free
seed_everything(0)

# %% [markdown]
# ## The state and the convolution
#
# The Neural GPU's state, the *mental image*, is a grid of `w × n` cells (width `w = 4` in the
# paper, `n` the input length) with `m` channels in each cell. PyTorch's convolutions want
# channels first, so a batch of states is a tensor `[B, m, w, n]`.
#
# The picture below is drawn by `ngpu_lite.interfaces.diagrams` from a `Config` with the paper's
# `w = 4` and `m = 24`, for the addition `1011 + 0111` (the bits lowest first, the separator `+`
# between them): nine symbols, so `n = 9` columns. Each symbol is embedded into row 0 as a vector
# of `m` numbers, and every other cell starts at zero (chapter 3 builds this step). Here is the
# mental image before the first step, `w` rows by `n` columns with the `m` channels as depth:

# %%
x_example, _ = encode_text("badd", "1011", "0111")
fig = draw_mental_image(Config(w=4, m=24), x_example)
print("saved", savefig(fig, "ch02_mental_image.png").name)
plt.show()

# %% [markdown]
# A kernel bank `U` of shape `[m_out, m_in, k_h, k_w]` (3 × 3 in the paper) maps every cell to
# `m_out` new channels from its 3 × 3 neighbourhood. Written out, `(U * s)` at cell `(i, j)` is
# $\sum_{a,b} U[:, :, a, b] \cdot s[:, i + a - 1, j + b - 1]$, with zeros outside the image. Each
# of the nine terms is a matrix product of one kernel tap with a shifted copy of the state:

# %%
def conv(s: torch.Tensor, U: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """`U * s + B` from scratch: one matrix product per kernel tap, on a zero-padded state."""
    k = U.shape[-1]
    p = k // 2
    padded = F.pad(s, (p, p, p, p))  # zeros around the image, so the output keeps its size
    w, n = s.shape[-2:]
    out = B[None, :, None, None].expand(s.shape[0], -1, w, n)
    for a in range(k):
        for b in range(k):
            out = out + torch.einsum("oi,biwn->bown", U[:, :, a, b], padded[:, :, a:a + w, b:b + n])
    return out


m, w, n = 24, 4, 9
s = torch.randn(2, m, w, n)  # two random states
U = torch.randn(m, m, 3, 3) * 0.1
B = torch.randn(m)
torch.testing.assert_close(conv(s, U, B), F.conv2d(s, U, B, padding=1))
print("conv matches F.conv2d; max abs difference",
      f"{(conv(s, U, B) - F.conv2d(s, U, B, padding=1)).abs().max().item():.1e}")

# %% [markdown]
# From here on we use `F.conv2d`, which does the same sum faster.
#
# ## One CGRU, gate by gate
#
# Take the library's unit, `ngpu_lite.CGRU`, and read its weights. It stores the two gate banks
# `U'` and `U''` stacked into one tensor of `2m` output channels (one convolution instead of
# two: the same arithmetic), so the first `m` rows are the update gate's and the next `m` the
# reset gate's. Its initialisation follows the authors' code: kernels uniform with "unit
# scaling" × 1.8, gate biases `+1`, candidate bias 0.

# %%
# NBVAL_CHECK_OUTPUT
unit = CGRU(m=24)
U_u, U_r = unit.gate_weight[:m].detach(), unit.gate_weight[m:].detach()  # U', U''
B_u, B_r = unit.gate_bias[:m].detach(), unit.gate_bias[m:].detach()  # B', B''
U_c, B_c = unit.cand_weight.detach(), unit.cand_bias.detach()  # U, B of the candidate
for name, t in [("U'", U_u), ("B'", B_u), ("U''", U_r), ("B''", B_r), ("U", U_c), ("B", B_c)]:
    print(f"{name:4s} {tuple(t.shape)}")
per_unit = sum(p.numel() for p in unit.parameters())
print("parameters in one CGRU at m = 24:", per_unit)
print("two CGRUs (l = 2), the paper's count:", 2 * per_unit)

# %% [markdown]
# Three kernel banks of `m × m × 3 × 3` weights and three biases: `3 · (24·24·9 + 24) = 15,624`
# parameters, and the paper's two layers give the 31,248 it quotes.
#
# How the three banks connect: the state feeds both gates, the reset gate decides what the
# candidate sees, and the update gate mixes the old state with the candidate. The diagram is drawn
# by `draw_cgru` from `unit` itself (its channels, kernel size and cutoff), and the cells after it
# build its boxes one at a time, left to right. Here is one CGRU as a block diagram, from the state
# `s` to `CGRU(s)`:

# %%
fig = draw_cgru(unit)
print("saved", savefig(fig, "ch02_cgru.png").name)
plt.show()

# %% [markdown]
# ### The sigmoid cutoff
#
# The gates use $\sigma'(x) = \max(0, \min(1, 1.2\sigma(x) - 0.1))$ instead of the plain
# logistic $\sigma(x)$: the sigmoid stretched by 1.2 around ½ and clipped to `[0, 1]`.

# %%
def sigmoid_cutoff_scratch(x: torch.Tensor) -> torch.Tensor:
    """σ'(x) = max(0, min(1, 1.2·σ(x) − 0.1))."""
    return torch.clamp(1.2 * torch.sigmoid(x) - 0.1, min=0.0, max=1.0)


xs = torch.linspace(-8, 8, 1601)
torch.testing.assert_close(sigmoid_cutoff_scratch(xs), sigmoid_cutoff(xs))
print("sigmoid cutoff matches ngpu_lite.sigmoid_cutoff on", len(xs), "points")

# %% [markdown]
# ### The update gate `u` and the reset gate `r`
#
# Both gates look at the same state through their own kernel bank; the library returns the
# gates it used when it is given a `gates` dictionary, so each can be checked on its own.

# %%
u = sigmoid_cutoff_scratch(F.conv2d(s, U_u, B_u, padding=1))  # u = σ'(U' * s + B')
r = sigmoid_cutoff_scratch(F.conv2d(s, U_r, B_r, padding=1))  # r = σ'(U'' * s + B'')

library_gates: dict = {}
with torch.no_grad():
    library_out = unit(s, gates=library_gates)
torch.testing.assert_close(u, library_gates["u"])
torch.testing.assert_close(r, library_gates["r"])
print("u and r match the library's gates; shapes", tuple(u.shape), tuple(r.shape))

# %% [markdown]
# ### The candidate and the new state
#
# The reset gate decides which parts of the state the candidate sees: `tanh(U * (r ⊙ s) + B)`.
# The update gate then mixes: where `u = 1` the cell keeps its old value, where `u = 0` it takes
# the candidate.

# %%
candidate = torch.tanh(F.conv2d(r * s, U_c, B_c, padding=1))  # tanh(U * (r ⊙ s) + B)
new_s = u * s + (1 - u) * candidate  # CGRU(s)

torch.testing.assert_close(new_s, library_out)
with torch.no_grad():
    torch.testing.assert_close(new_s, cgru(s, unit.gate_weight, unit.gate_bias,
                                           unit.cand_weight, unit.cand_bias))
print("CGRU(s) matches ngpu_lite.CGRU and ngpu_lite.model.cgru; max abs difference",
      f"{(new_s - library_out).abs().max().item():.1e}")

# %% [markdown]
# The Neural GPU applies `l = 2` such units per step, `n` steps in a row, so the state passes
# through `2n` CGRUs: 82 for a 20-bit addition, 8002 for a 2000-bit one. From now on the book
# uses `ngpu_lite.model.cgru`.
#
# ## Why the cutoff lets a gate close exactly
#
# Suppose a cell must carry a value unchanged for many steps, say a carry bit waiting for its
# turn. With a plain sigmoid the update gate is never exactly 1, so after `T` steps only `u^T` of
# the value is left (plus whatever the candidate mixed in). With the cutoff, every pre-activation
# above the point where `1.2σ(x) − 0.1 = 1`, that is `σ(x) = 11/12` or `x = ln 11`, gives
# `u = 1` exactly, and the value survives any number of steps bit for bit. The same holds at the
# other end: below `x = −ln 11` the gate is exactly 0 and the old value is wiped completely.

# %%
x_open = math.log(11.0)
print(f"sigma'(x) reaches 1 at x = ln 11 = {x_open:.4f}: "
      f"sigma'({x_open + 1e-3:.4f}) = {sigmoid_cutoff(torch.tensor(x_open + 1e-3)).item()}, "
      f"sigma'({-x_open - 1e-3:.4f}) = {sigmoid_cutoff(torch.tensor(-x_open - 1e-3)).item()}")

# where does a plain float32 sigmoid first round to exactly 1?  never to exactly 0?
grid = torch.arange(0, 40, 0.01)
first_one = grid[torch.sigmoid(grid) == 1.0][0].item()
print(f"plain sigmoid: exactly 1.0 in float32 only from x = {first_one:.2f}; "
      f"sigma(-40) = {torch.sigmoid(torch.tensor(-40.0)).item():.2e} (not 0)")

print("\nfraction of a value kept after T steps with a gate pre-activation x = 3:")
print(f"{'T':>6s} {'sigmoid u^T':>14s} {'cutoff u^T':>12s}")
u_plain, u_cut = torch.sigmoid(torch.tensor(3.0)), sigmoid_cutoff(torch.tensor(3.0))
for T in (2, 82, 802, 8002):
    print(f"{T:6d} {(u_plain ** T).item():14.3e} {(u_cut ** T).item():12.3e}")

# %% [markdown]
# There is a price. Where the gate is clipped its derivative is exactly zero, so no gradient
# flows through that gate's pre-activation:

# %%
x = torch.tensor([0.0, 2.0, 3.0, -3.0], requires_grad=True)
sigmoid_cutoff(x).sum().backward()
print("x                  ", x.detach().tolist())
print("d sigma'(x) / dx   ", [round(g, 4) for g in x.grad.tolist()])
print("d sigma(x) / dx    ", [round(v * (1 - v), 4) for v in torch.sigmoid(x.detach()).tolist()])

# %% [markdown]
# A saturated gate is a decision the network has committed to; it can still change it through
# the gradients that reach the same weights from other cells and other steps. The figure shows
# both curves and what each does to a value kept for many steps.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
xs = torch.linspace(-6, 6, 601)
ax1.plot(xs, torch.sigmoid(xs), label="σ(x)")
ax1.plot(xs, sigmoid_cutoff(xs), label="σ'(x) = clip(1.2σ(x) − 0.1, 0, 1)")
for v in (x_open, -x_open):
    ax1.axvline(v, color="grey", lw=0.8, ls=":")
ax1.set_xlabel("gate pre-activation x")
ax1.set_ylabel("gate value")
ax1.set_title("the sigmoid cutoff reaches 0 and 1 at x = ∓ln 11")
ax1.legend(fontsize=8, loc="upper left")
T = torch.arange(0, 8003)
for x0 in (2.0, 3.0, 5.0):
    ax2.plot(T, torch.sigmoid(torch.tensor(x0)) ** T, label=f"σ, x = {x0:g}")
ax2.plot(T, sigmoid_cutoff(torch.tensor(3.0)) ** T, "k--", label="σ', any x > ln 11")
ax2.set_xscale("log")
ax2.set_yscale("log")
ax2.set_ylim(1e-12, 2)
ax2.set_xlabel("steps T (CGRU applications)")
ax2.set_ylabel("fraction of the value kept, u^T")
ax2.set_title("keeping a value for T steps")
ax2.legend(fontsize=8, loc="lower left")
fig.tight_layout()
print("saved", savefig(fig, "ch02_sigmoid_cutoff.png").name)
plt.show()

# %% [markdown]
# ## The gates on a real input
#
# What do the gates do inside a Neural GPU that has learned something? We train a small one
# (`w = 2`, `m = 16`, the library's `tiny` preset, with a learning rate of 0.006) on binary
# addition for a short while, its curriculum growing the numbers from two bits towards six, then
# watch its gates while it adds two numbers. The model's `hook` argument calls
# a function after every CGRU with the step `t`, the layer `j`, the new state and the gates
# `u` and `r` of the first example in the batch. (Chapter 3 builds the whole model; here it is
# only the thing whose gates we read.)

# %%
steps = pick(20, 2000)
result = train("badd", "tiny", steps=steps, seed=0, progress=False, lr=0.006)
model = result.model
print(f"model: {model_name(model.config)}")
print(f"trained {result.steps} steps in {result.seconds:.0f} s; curriculum reached "
      f"{result.digits} digits")
for digits in (4, 6, 12):
    res = evaluate(model, "badd", digits, samples=pick(16, 256), seed=1)
    print(f"fresh {digits:2d}-bit additions: exact {res['exact']:.1%}, per symbol {res['per_symbol']:.1%}")

# %% [markdown]
# Now one 4-bit addition with a carry that runs through three positions, `1011 + 0111` (11 + 7),
# and the gates at every step.

# %%
a, b = "1011", "0111"
x_list, y_list = encode_text("badd", a, b)
x, y, lengths = stack_examples([(x_list, y_list)])
record: list[tuple[int, int, torch.Tensor, torch.Tensor]] = []


def keep_gates(t: int, j: int, state: torch.Tensor, gates: dict) -> None:
    """Store the gates of the first example after step t, layer j."""
    record.append((t, j, gates["u"][0].detach().clone(), gates["r"][0].detach().clone()))


with torch.no_grad():
    answer = model(x, lengths, hook=keep_gates).argmax(-1)[0]
print(f"{a} + {b} = {decode('badd', answer)} (model), {int(a, 2) + int(b, 2):b} (Python)")
print("gate tensors recorded:", len(record), "(steps × layers); each of shape", tuple(record[0][2].shape))

# %% [markdown]
# How many gate values are *exactly* 0 or 1, in the trained model and in the same architecture
# with fresh random weights? Counting over every step, layer, channel and cell of this example:

# %%
def exact_shares(rec: list) -> dict[str, float]:
    """Share of gate values exactly 0 and exactly 1, for u and r, over a recorded forward pass."""
    us = torch.cat([u.flatten() for _, _, u, _ in rec])
    rs = torch.cat([r.flatten() for _, _, _, r in rec])
    return {"u = 0": (us == 0).float().mean().item(), "u = 1": (us == 1).float().mean().item(),
            "r = 0": (rs == 0).float().mean().item(), "r = 1": (rs == 1).float().mean().item()}


torch.manual_seed(1)
fresh = NeuralGPU(**model.config_dict()).eval()  # same architecture, fresh random weights
fresh_record: list = []
with torch.no_grad():
    fresh(x, lengths, hook=lambda t, j, st, g: fresh_record.append((t, j, g["u"][0], g["r"][0])))
for name, rec in (("trained", record), ("untrained", fresh_record)):
    shares = exact_shares(rec)
    print(f"{name:9s} " + "  ".join(f"{k}: {v:5.1%}" for k, v in shares.items()))

# %% [markdown]
# Compare the two lines: in the untrained model (almost) no gate sits exactly at 0 or 1, while in
# the trained one a large share of both gates does. Training has pushed them onto the clipped
# ends of the cutoff, where a gate is fully open or fully closed, which a plain sigmoid never is.
#
# **How to read the figure.** The four heat maps on the left show one gate of one layer each:
# the update gate `u` (top) and the reset gate `r` (bottom), layer 1 and layer 2. In each map a
# row is a step `t` of the computation (top row first, one row per step, as many steps as the input
# is long) and a column is a position `k` of the image's first row; the label under each column
# gives the input symbol that was embedded there: the bits of `1011` lowest first, the separator
# `+`, then the bits of `0111`. The colour is the gate's value at that cell *averaged over the
# `m` channels*: yellow means most channels of that cell keep their old state (`u` near 1) or show
# it to the candidate (`r` near 1); dark blue means they take the candidate (`u` near 0) or hide
# the state from it (`r` near 0). Look for vertical stripes (a position whose gates follow its
# input symbol at every step) and for changes down a column (the computation moving on). A middle
# colour does not mean "half open": the average of 16 channels, some exactly 0 and some exactly 1,
# is a middle value. The two panels on the right therefore count the exact ends directly: for
# each step, the share of all gate values (channels and cells) that are exactly 0 or exactly 1,
# one line per layer.

# %%
L = model.config.l
n_steps = max(t for t, _, _, _ in record) + 1
symbols = ["+" if v == ADD_SEP else str(v - 1) for v in x_list]  # the input at each position
fig, axes = plt.subplots(2, L + 1, figsize=(4.2 * (L + 1), 7), layout="constrained")
for j in range(L):
    u_map = torch.stack([u[:, 0, :].mean(0) for t, jj, u, _ in record if jj == j])  # [steps, n]
    r_map = torch.stack([r[:, 0, :].mean(0) for t, jj, _, r in record if jj == j])
    for row, (name, img) in enumerate((("u", u_map), ("r", r_map))):
        ax = axes[row, j]
        im = ax.imshow(img, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_title(f"layer {j + 1}: {name} (mean over {model.config.m} channels)", fontsize=10)
        ax.set_xticks(range(len(symbols)), [f"{k}\n{sym}" for k, sym in enumerate(symbols)])
        ax.set_xlabel("position k (input symbol below)")
        ax.set_ylabel("step t")
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
fig.colorbar(im, ax=axes[:, L - 1].tolist(), shrink=0.8,
             label="gate value, mean over channels (1: keep / show the state, 0: replace / hide it)")
for row, key in enumerate(("u", "r")):
    ax = axes[row, L]
    for j in range(L):
        for v, color in ((0.0, "C0"), (1.0, "C1")):
            share = [(g[key] == v).float().mean().item() for g in
                     ({"u": u, "r": r} for t, jj, u, r in record if jj == j)]
            ax.plot(range(n_steps), share, ["o-", "s--"][j % 2], color=color, mfc="none" if j else color,
                    label=f"layer {j + 1}, exactly {v:g}")
    ax.set_title(f"{key}: share of gate values exactly 0 or 1", fontsize=10)
    ax.set_xlabel("step t")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
fig.suptitle(f"gates of a small trained {model_name(model.config)} on {a} + {b} ({n_steps} steps), "
             "image row 0")
print("saved", savefig(fig, "ch02_gates_addition.png").name)
plt.show()

# %% [markdown]
# What the figure and the counts show, in one line:

# %%
def saturated(rec: list, t: int | None = None) -> float:
    """Share of update-gate values exactly 0 or 1 (at step `t`, or over all steps)."""
    us = torch.cat([u.flatten() for tt, _, u, _ in rec if t is None or tt == t])
    return ((us == 0) | (us == 1)).float().mean().item()


u_layer1 = torch.stack([u[:, 0, :].mean(0) for t, jj, u, _ in record if jj == 0]).mean(0)
k_top = int(u_layer1.argmax())
first_t, last_t = saturated(record, 0), saturated(record, n_steps - 1)
print(f"What we saw: in the trained {model_name(model.config)}, {saturated(record):.0%} of the update "
      f"gates sit exactly at 0 or 1 (untrained: {saturated(fresh_record):.1%}); that share "
      f"{'rises' if last_t > first_t else 'falls' if last_t < first_t else 'stays'} from "
      f"{first_t:.0%} at step 0 to {last_t:.0%} at step {n_steps - 1}; in layer 1 the update gate "
      f"keeps most at position {k_top} (input symbol {symbols[k_top]!r}).")

# %% [markdown]
# **Why.** An untrained gate's pre-activation sits near its bias of +1, inside the range where the
# cutoff is neither 0 nor 1, so almost no gate is saturated. Training pushes many pre-activations
# past $\pm\ln 11$, where the gate is exactly closed or open: the network has made hard
# decisions about which channels keep their value and which take the candidate. The embedding
# puts each input symbol at its own position, so a gate that depends mostly on that symbol shows
# up as a vertical stripe in the heat maps, and a column that stays bright down the steps is a
# position that keeps its state (in layer 1 here, the one named in the line above). The channel
# average in the heat maps mixes exact 0s and 1s
# into middle colours, which is why the counts on the right, not the colours, show the saturation.

# %% [markdown]
# ## Summary
#
# - A CGRU is a GRU whose matrix products are 3 × 3 convolutions over the mental image: an update
#   gate `u = σ'(U' * s + B')`, a reset gate `r = σ'(U'' * s + B'')` and a candidate
#   `tanh(U * (r ⊙ s) + B)`, mixed as `u ⊙ s + (1 − u) ⊙ candidate`. Every piece written here
#   matches `ngpu_lite` on the same weights.
# - One CGRU at `m = 24` has 15,624 parameters; the paper's two layers have 31,248.
# - The sigmoid cutoff `σ'(x) = clip(1.2σ(x) − 0.1, 0, 1)` reaches 0 and 1 at `x = ∓ln 11`. A gate
#   at exactly 1 keeps a value for any number of steps, where a plain sigmoid gate leaks a share
#   of it at every step; the price is a zero gradient through a saturated gate.
# - The `hook` argument of `NeuralGPU.forward` shows the gates at every step. In the briefly
#   trained Neural GPU (2016) a large share of both gates sits exactly at 0 or 1; in the untrained
#   one almost none does.
#
# ## Exercises
#
# 1. Replace the cutoff factor 1.2 by 1.0 (a plain sigmoid, `CGRU(cutoff=1.0)`) and by 2.0. For
#    each, at which pre-activation does the gate reach 1, and how much of a value is left after
#    8002 applications with pre-activation 3?
# 2. Write `conv` with `torch.nn.functional.unfold` (one matrix product instead of nine) and check
#    it against `F.conv2d` with `torch.testing.assert_close`.
# 3. Show with a 1-channel CGRU whose weights you set by hand that a state value can be carried
#    unchanged through 1000 applications (hint: a large update-gate bias).
# 4. A CGRU at a cell sees only its 3 × 3 neighbourhood. After how many applications can the value
#    at position 0 influence position 40? What does that say about the number of steps a Neural
#    GPU needs for an input of length `n`?
# 5. Rerun the gate figure on a different addition, one without carries (`1001 + 0100`). Which
#    parts of the picture change?
#
# Answers: `answers/02_answers.ipynb`.
