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
# # Answers to chapter 8: Looking inside
#
# One answer per exercise of chapter 8. The shipped models, both improved Neural GPUs (2017),
# are traced with `ngpu_lite.interfaces.explore`; two exercises ask about features those models do not have
# (several rows, several layers), and for those a small Neural GPU (2016) is trained here for a
# few hundred steps (a few steps with `NGPU_FAST=1`). Each answer says which model it traced.

# %%
import random
import statistics
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import torch

from ngpu_lite import evaluate, load, pretrained, train
from ngpu_lite.book import pick, savefig, seed_everything
from ngpu_lite.data.tasks import eval_stream
from ngpu_lite.interfaces.explore import timeline, trace
from ngpu_lite.model import model_name
from ngpu_lite.model.evaluate import evaluate_cases
from ngpu_lite.training.run_folder import snapshots

torch.set_num_threads(1)
seed_everything(0)

add_model = pretrained("badd", device="cpu")
mul_model = pretrained("bmul", device="cpu")
for task, m in (("badd", add_model), ("bmul", mul_model)):
    c = m.config
    print(f"shipped {task}: {model_name(c)}, w = {c.w} row(s), m = {c.m} channels, "
          f"l = {c.l} CGRU(s) per step")

# %%
# NBVAL_CHECK_OUTPUT
from ngpu_lite.book import fingerprint  # noqa: E402

print(fingerprint("badd", "bmul"))  # the shipped models this notebook's outputs come from

# %% [markdown]
# ## Exercise 1
#
# > Trace `1…1 + 1` for 10, 20 and 40 bits and plot the last settle step against the length. Is
# > it linear? What slope would a carry moving one cell per step give?
#
# **Answer.** Traced with the shipped addition model (improved Neural GPU (2017)); 5 and 80 bits
# are added to make the line longer. For each trace: the last settle step over all positions,
# and the number of steps the model runs (the input length $2k + 1$).

# %%
KS = (5, 10, 20, 40, 80)
last_settle = {}
for k in KS:
    tr = trace(add_model, "badd", "1" * k, "1")
    settle = tr.settle_steps()
    right = bool((settle >= 0).all())
    last_settle[k] = int(settle.max())
    print(f"{k:2d} ones + 1: answer right: {right}; last settle step {last_settle[k]:3d} of "
          f"{tr.steps} steps; the top bit (position {k}) settles at step {settle[k]}")
slope, icept = np.polyfit(KS, [last_settle[k] for k in KS], 1)
resid = max(abs(last_settle[k] - (slope * k + icept)) for k in KS)
print(f"least-squares line: last settle step = {slope:.2f} x bits + {icept:.1f} "
      f"(largest deviation from the line {resid:.1f} steps)")

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot(KS, [last_settle[k] for k in KS], "o-", label="last settle step (traced)")
ax.plot(KS, [2 * k + 1 for k in KS], "k:", lw=0.8, label="steps the model runs, 2k + 1")
ax.plot(KS, list(KS), "--", color="grey", lw=0.8, label="one cell per step: k")
ax.set_xlabel("k (ones in the first operand)")
ax.set_ylabel("step")
ax.legend(fontsize=8)
ax.set_title("improved Neural GPU (2017), 1…1 + 1", fontsize=9)
print("saved", savefig(fig, "ans08_settle_vs_length.png").name)
plt.show()

# %% [markdown]
# A carry that moves one cell per step from the lowest bit (column 0) to the top bit (column $k$)
# arrives after $k$ steps: a slope of 1 step per bit. One CGRU can move information two cells per
# step (two 3-wide convolutions in a row), so the fastest possible is a slope of ½. The fitted
# slope and the largest deviation say whether the settle step is linear in the length and how fast
# the model's carry moves compared with one cell per step. Note what a settle step measures: the
# step from which the *read-out* of a position stays right, not when the information first reaches
# it; a model may hold the right bit in other channels earlier and write it into what the read-out
# sees later. Also, the input puts the second operand's lowest bit in column $k + 1$, right next
# to the top answer bit; the model must bring it to column 0 before a carry can start there, so
# the distance the information travels is not simply $k$.
#
# ## Exercise 2
#
# > Use the `state` view to find channels whose value in row 0 differs between columns that will
# > carry and columns that will not. Are they the same channels in every row of the image? (The
# > shipped models have one row; a Neural GPU (2016), e.g. a short `train("badd", "tiny")`, has two.)
#
# **Answer.** A column $k$ *will carry* when a carry leaves it for $k + 1$, that is when bit
# $k + 1$ of $(a + b) \oplus a \oplus b$ is 1. We trace random 20-bit sums with the shipped model,
# take the state of row 0 in the columns of the first operand (0 to 19) after step 1, after the
# middle step and after the last, and rank the channels by how well they separate the two kinds
# of column: the difference of the means over the pooled standard deviation (Cohen's $d$).

# %%
def carry_separation(model, digits: int, cases: int, seed: int) -> tuple[dict, float]:
    """Per (step name, row): Cohen's d of every channel between carrying and non-carrying columns."""
    rng = random.Random(seed)
    feats: dict[tuple[str, int], list] = {}
    labels = []
    for _ in range(cases):
        a, b = rng.getrandbits(digits), rng.getrandbits(digits)
        tr = trace(model, "badd", f"{a:0{digits}b}", f"{b:0{digits}b}", dtype=torch.float32)
        carry_out = ((a + b) ^ a ^ b) >> 1  # bit k: a carry leaves column k
        labels += [(carry_out >> k) & 1 for k in range(digits)]
        for name, t in (("step 1", 0), ("middle step", tr.steps // 2), ("last step", tr.steps - 1)):
            for row in range(model.config.w):
                feats.setdefault((name, row), []).append(tr.s[t, -1, :, row, :digits].numpy().T)
    y = np.array(labels, dtype=bool)
    out = {}
    for key, chunks in feats.items():
        v = np.concatenate(chunks)  # [columns, m]
        pooled = np.sqrt((v[y].var(0) + v[~y].var(0)) / 2) + 1e-6
        out[key] = (v[y].mean(0) - v[~y].mean(0)) / pooled
    return out, y.mean()


sep, share = carry_separation(add_model, 20, pick(4, 48), seed=8)
print(f"{model_name(add_model.config)}: {share:.0%} of the columns carry")
for (name, row), d in sep.items():
    top = np.argsort(-np.abs(d))[:5]
    print(f"{name:11s}, row {row}: channels {list(map(int, top))}, |d| = "
          + ", ".join(f"{abs(d[c]):.1f}" for c in top))

# %% [markdown]
# The printed channels carry the information "a carry leaves this column" in row 0: a $|d|$ of 2
# or more means the two kinds of column barely overlap in that channel. Comparing the step-1 line
# with the later ones shows whether the same channels hold it throughout; after step 1 only what
# the column's own neighbourhood says is known (a generate, both bits 1, always carries; a kill
# never), so an early separation is partial by construction.
#
# The second question has no answer for this model: the shipped improved Neural GPU (2017) has a
# one-row image, `w = 1` (printed at the top), so there is no other row to compare. The chapter's
# exercise assumes the paper's `w = 4` picture. To ask it at all, we train a small Neural GPU
# (2016) with two rows (the `tiny` preset, `w = 2`, `m = 16`, two CGRUs per step) on addition of
# up to 4 bits; the same small model serves exercise 3.

# %%
TINY_STEPS = pick(20, 1500)
tiny = train("badd", "tiny", seed=0, steps=TINY_STEPS, max_digits=4, progress=False).model.eval()
for d in (4, 8):
    acc = evaluate(tiny, "badd", d, pick(16, 128), seed=8_000 + d)
    print(f"{model_name(tiny.config)} (w = {tiny.config.w}, m = {tiny.config.m}, l = {tiny.config.l}), "
          f"{TINY_STEPS} steps: at {d} bits exact {acc['exact']:.0%}, per symbol {acc['per_symbol']:.0%}")
tiny_sep, tiny_share = carry_separation(tiny, 4, pick(8, 96), seed=9)
tops = {}
for (name, row), d in tiny_sep.items():
    tops[name, row] = set(np.argsort(-np.abs(d))[:3].tolist())
    print(f"{name:11s}, row {row}: top channels {sorted(tops[name, row])}, |d| up to {np.abs(d).max():.1f}")
for name in ("step 1", "middle step", "last step"):
    same = tops[name, 0] & tops[name, 1]
    print(f"{name}: channels among the top 3 of both rows: {sorted(same) or 'none'}")

# %% [markdown]
# For this two-row model, the last lines answer the question: each row has its own channels
# where the carry shows, and where the two sets share none, the rows are not copies of each
# other. Nothing in the architecture forces them to be: the convolutions mix rows (a 3 × 3 kernel
# reaches the row above and below), so the network is free to put the carry in different channels
# in different rows. Two cautions: this model is small and trained for `TINY_STEPS` steps on 4-bit
# sums (its accuracy is printed above), and with 4-bit operands there are only four columns per
# sum, so these rankings rest on few columns.
#
# ## Exercise 3
#
# > In a Neural GPU (2016), which has two CGRUs per step (the shipped models have one), compare
# > the mean update gate of layer 1 and layer 2 (`explore.timeline(tr, "u", layer)`). Does one
# > layer keep the state while the other rewrites it?
#
# **Answer.** Not with the shipped models: both are improved Neural GPUs (2017) with one CGRU
# per step (`l = 1`, printed at the top), so a trace of them has one layer only and
# `timeline(tr, "u", 1)` has nothing to show:

# %%
tr_add = trace(add_model, "badd", "1" * 8, "1")
print(f"shipped badd trace: u has shape {tuple(tr_add.u.shape)} = (steps, l, m, w, n); "
      f"layers: {tr_add.layers}")

# %% [markdown]
# The question makes sense for the Neural GPU (2016), which has two CGRUs per step. The small one
# of exercise 2, on a carry case and on random 4-bit sums: the mean of `u` over all cells and
# steps per layer, and the share of cells whose gate is nearly closed ($u > 0.9$, the cell keeps
# its value) or nearly open ($u < 0.1$, the cell is rewritten).

# %%
rng = random.Random(3)
tiny_traces = {"1111 + 1": trace(tiny, "badd", "1111", "1", dtype=torch.float32)}
for _ in range(pick(2, 8)):
    a, b = rng.getrandbits(4), rng.getrandbits(4)
    tiny_traces[f"{a:04b} + {b:04b}"] = trace(tiny, "badd", f"{a:04b}", f"{b:04b}", dtype=torch.float32)
for layer in range(tiny.config.l):
    u = torch.cat([t.u[:, layer].flatten() for t in tiny_traces.values()])
    print(f"layer {layer + 1}: mean u {u.mean():.2f}, cells kept (u > 0.9) {(u > 0.9).float().mean():.0%}, "
          f"rewritten (u < 0.1) {(u < 0.1).float().mean():.0%}")

# %%
carry4 = tiny_traces["1111 + 1"]
fig, axes = plt.subplots(1, tiny.config.l, figsize=(8, 3), sharey=True)
for layer, ax in enumerate(np.atleast_1d(axes)):
    im = ax.imshow(timeline(carry4, "u", layer), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_title(f"layer {layer + 1}: mean u per position", fontsize=9)
    ax.set_xlabel("position k")
np.atleast_1d(axes)[0].set_ylabel("step")
fig.colorbar(im, ax=axes, fraction=0.03)
fig.suptitle(f"{model_name(tiny.config)}, trained {TINY_STEPS} steps, 1111 + 1", fontsize=9)
print("saved", savefig(fig, "ans08_layers_u.png").name)
plt.show()

# %% [markdown]
# If one layer's gate is mostly closed and the other's mostly open, the first keeps the state
# while the second rewrites it; the numbers above show how far this small model divides the work
# that way. It is one small model, partly trained on short sums; a Neural GPU (2016) trained with
# the paper's recipe may split its two layers differently, and the improved model of the shipped
# checkpoints shows that one CGRU per step is enough for addition.
#
# ## Exercise 4
#
# > Train a model for only a few hundred steps (`ngpu_lite.training`) and compare its space-time
# > pictures with the ones above. What appears first during training?
#
# **Answer.** The chapter's recipe (`fast` preset, improved Neural GPU (2017)) for `EARLY_STEPS`
# steps, keeping a snapshot of the weights every `EVERY` steps, so that one run gives the model
# at several points of its training. Each snapshot answers the same random 6-bit sums (both top
# bits set, so that every sum has 7 bits and the positions line up); per output position we
# record how often it is right at the end, separately for the answer digits and for the PAD tail.

# %%
EARLY_STEPS, EVERY = pick(20, 400), pick(10, 50)
with tempfile.TemporaryDirectory() as out:
    early = train("badd", "fast", seed=0, steps=EARLY_STEPS, out=out, checkpoint_every=EVERY,
                  keep=EARLY_STEPS // EVERY, progress=False)
    snaps = {int(p.stem.split("-")[1]): load(p)[0] for p in snapshots(out)}
print(f"{EARLY_STEPS} steps, curriculum at {early.digits} bits; snapshots at steps {sorted(snaps)}")

rng = random.Random(4)
sums = [(rng.getrandbits(6) | 32, rng.getrandbits(6) | 32) for _ in range(pick(8, 64))]  # 7-bit sums
progress_rows = {}
for step, m in sorted(snaps.items()):
    digit_right, pad_right = [], []
    for a, b in sums:
        tr = trace(m, "badd", f"{a:06b}", f"{b:06b}")
        ok = tr.correct()[-1]
        is_digit = np.array(tr.y) != 0
        digit_right.append(ok[is_digit])
        pad_right.append(ok[~is_digit].mean())
    digits = np.array(digit_right)  # [cases, 7]: the 7 answer bits, lowest first
    progress_rows[step] = (digits.mean(0), float(np.mean(pad_right)), float(digits.all(1).mean()))
    print(f"step {step:3d}: PAD tail right {progress_rows[step][1]:5.0%} | answer bits right, lowest "
          f"first: " + " ".join(f"{v:4.0%}" for v in progress_rows[step][0])
          + f" | whole answers {progress_rows[step][2]:4.0%}")


def first_reached(values: dict[int, float], level: float = 0.9) -> int | None:
    """The first snapshot step at which a share reaches `level`."""
    return next((step for step, v in sorted(values.items()) if v >= level), None)


parts = {"PAD tail": {st: r[1] for st, r in progress_rows.items()}}
for k in range(len(next(iter(progress_rows.values()))[0])):
    parts[f"bit {k}"] = {st: r[0][k] for st, r in progress_rows.items()}
parts["whole answers"] = {st: r[2] for st, r in progress_rows.items()}
order = sorted((first_reached(v), name) for name, v in parts.items() if first_reached(v) is not None)
never = [name for name, v in parts.items() if first_reached(v) is None]
print("first snapshot at which each part is right in 90% of the sums: "
      + (", ".join(f"{name} at step {st}" for st, name in order) or "none reached 90%")
      + (f"; not by step {max(snaps)}: {', '.join(never)}" if never else ""))

# %%
first_step = min(snaps)
last_step = max(snaps)
fig, axes = plt.subplots(1, 3, figsize=(11, 3))
for ax, (label, m) in zip(axes, ((f"step {first_step}", snaps[first_step]),
                                 (f"step {last_step}", snaps[last_step]),
                                 ("shipped", add_model)), strict=True):
    tr = trace(m, "badd", "101101", "011011")
    ax.imshow(timeline(tr, "correct"), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_title(f"{label}: right after each step", fontsize=9)
    ax.set_xlabel("position k")
axes[0].set_ylabel("step of the computation")
fig.suptitle("improved Neural GPU (2017), fast preset: 101101 + 011011 (45 + 27)", fontsize=9)
print("saved", savefig(fig, "ans08_early_training.png").name)
plt.show()

# %% [markdown]
# The table reads from top to bottom as training goes on, and the last line orders the parts of
# the answer by when they are first right in 90% of the sums. What one expects first is what needs
# the least computation: the PAD tail (the output positions past the answer, about half of them,
# the same symbol whatever the operands) and the lowest answer bit, $a_0 \oplus b_0$, which needs
# no carry; then the higher bits, each of which needs carries from further below; whole answers
# last. The printed order says whether this run followed that. In the space-time pictures, the
# early model's right positions (green) are the parts it has learned, and the shipped model's
# picture fills in to the top bit. The run's curriculum only reached the length printed above in
# `EARLY_STEPS` steps, so the 6-bit sums asked here may be beyond what it was trained on; a bit
# that is never right in 90% of the sums has simply not been learned yet.
#
# ## Exercise 5
#
# > For multiplication, find an input whose answer is wrong and locate, with `settle_steps`, the
# > first position that never settles. Is it always the highest digits?
#
# **Answer.** We draw random 20-bit products from the evaluation stream and keep those the
# shipped multiplication model (improved Neural GPU (2017)) answers wrongly, first as it ships,
# at 1.25 steps per input cell (a factor chosen after training, chapter 7), then with the
# paper's one step per cell, the count it was trained with.

# %%
rng = eval_stream(8, "ans08")
pairs = [(rng.getrandbits(20), rng.getrandbits(20)) for _ in range(pick(64, 512))]
SHIPPED_FACTOR = mul_model.config.step_factor
wrong_at = {}
for factor in (SHIPPED_FACTOR, 1.0):
    mul_model.config.step_factor = factor
    wrong_at[factor] = evaluate_cases(mul_model, "bmul", pairs, 20)["wrong"]
    print(f"{model_name(mul_model.config)}, {factor:g} steps per cell: {len(wrong_at[factor])} of "
          f"{len(pairs)} random 20-bit products wrong")
mul_model.config.step_factor = SHIPPED_FACTOR

# %% [markdown]
# Where the shipped model gets none of these wrong, the wrong answers to trace are those of the
# same weights at one step per cell (`trace` runs `model.steps_for(n)` steps, so it follows
# `config.step_factor`). Each is traced at one step per cell, and beside it the shipped factor's
# answer to the same product:

# %%
found = []
for a, b in wrong_at[1.0][: pick(3, 12)]:
    mul_model.config.step_factor = 1.0
    try:
        tr = trace(mul_model, "bmul", f"{a:020b}", f"{b:020b}")
    finally:
        mul_model.config.step_factor = SHIPPED_FACTOR
    settle = tr.settle_steps()
    never = np.flatnonzero(settle < 0)
    top = (a * b).bit_length() - 1  # the product's highest set bit
    found.append((a, b, never, top))
    fixed = (a, b) not in wrong_at[SHIPPED_FACTOR]
    print(f"{a:020b} × {b:020b}: {tr.steps} steps; never settle at {never.tolist()}; product's "
          f"top bit {top} (of output positions 0..{tr.n - 1}); at {SHIPPED_FACTOR:g} steps per "
          f"cell {'right' if fixed else 'still wrong'}")

# %%
if found:
    firsts = [int(nv[0]) for _, _, nv, _ in found if len(nv)]
    rel = [int(nv[0]) / top for _, _, nv, top in found if len(nv) and top > 0]
    in_top = sum(int(nv[0]) >= top - 2 for _, _, nv, top in found if len(nv))
    print(f"first position that never settles: {sorted(firsts)}; as a share of the product's top "
          f"bit: median {statistics.median(rel):.2f}, from {min(rel):.2f} to {max(rel):.2f}; "
          f"within the top 3 bits of the product in {in_top} of {len(firsts)} cases")
else:
    print("no wrong product among these; draw more cases")

# %% [markdown]
# The printed positions answer the question for this model at one step per cell. If the first
# position that never settles were always among the highest digits, the shares would all be near
# 1 and the last count would equal the number of cases. Where instead it sits in the middle of the
# product, the error is of the kind chapter 7 printed: one or a few wrong bits inside the product,
# with right bits above them. Multiplication's answer bit $k$ depends on all lower bits of both
# operands, so one might expect a model that runs out of steps to fail at the top; this one drops
# a carry in the middle, where the most partial products meet, and the bits above can be right
# again when the wrong carry would have been absorbed by a later zero. The last column of the
# traces says that a quarter more steps lets the same weights settle those positions: the missing
# steps were the error, not the weights (chapter 7 measures this on 1,024 products). With a
# handful of wrong products this describes these cases, not a law; and the shipped model may be
# retrained, so the counts above are recomputed each run.
