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
# # Chapter 8. Looking inside: the state explorer
#
# A trained Neural GPU answers 2000-bit additions, but its answer is a read-out of a mental image
# that was rewritten `n` times. In this chapter we open the image up.
#
# **On a CPU: about 1 minute** in the default mode (measured: the stored run of this notebook on a
# 2-core machine). **Expect:** traces of the shipped improved Neural GPU (2017) models, the adder
# and the multiplier: the state and gates at every step, the step at which each answer bit settles,
# and the live explorer.
#
# **Learning objectives.** After this chapter you can
#
# 1. record a **trace** with the forward `hook`: the mental image `s`, the update gate `u` and the
#    reset gate `r` after every step and layer, and the answer the read-out would give at that
#    step, and check it against `explore.trace`;
# 2. draw and read the **static views** of a trace: the image at one step (`plot_step`), a
#    space-time picture of all steps (`plot_timeline`), and how many output symbols are right,
#    step by step (`plot_progress`);
# 3. find with `settle_steps` the step from which each output position stays right, for long
#    carries and random operands, and compare the mean update gate over the two operands;
# 4. use the **live explorer** (ipywidgets): type two numbers, step through the computation, and
#    drive the widgets from code.
#
# Everything lives in `ngpu_lite.interfaces.explore`; we write the trace in the open first and check it
# against the library's.

# %%
# %matplotlib inline
import random

import matplotlib.pyplot as plt
import torch
from IPython.display import Image, display

import ngpu_lite
from ngpu_lite import NeuralGPU, encode_text, evaluate
from ngpu_lite.book import fast_mode, pick, savefig, seed_everything
from ngpu_lite.interfaces import explore
from ngpu_lite.results.zoo import FIGURES_DIR

torch.set_num_threads(1)
seed_everything(0)
print("fast mode (NGPU_FAST=1): tiny budgets" if fast_mode() else "default mode")

# %%
# NBVAL_CHECK_OUTPUT
from ngpu_lite.book import fingerprint  # noqa: E402

print(fingerprint("badd", "bmul"))  # the shipped models this notebook's outputs come from

# %% [markdown]
# ## What there is to see
#
# The mental image after step `t` is `s_t = CGRU_l(… CGRU_1(s_(t−1)))`, an `m`-channel picture on a
# `w × n` grid, and one CGRU is
#
# $$u = \sigma'(U' * s + B'),\qquad r = \sigma'(U'' * s + B''),\qquad
# \mathrm{CGRU}(s) = u \odot s + (1-u)\odot \tanh(U * (r\odot s) + B).$$
#
# Where `u = 1` a cell keeps its value (the gate is closed to new content); where `u = 0` it is
# overwritten by the candidate. Where `r = 0` the candidate ignores that cell. The answer is read
# from the first row of the final image, `l_k = O · s_n[0, k, :]`; reading the same row out of an
# *intermediate* image `s_t` shows what the network "would answer" if it stopped after `t` steps.
#
# `NeuralGPU.forward` accepts a `hook(t, j, s, gates)` that it calls after every layer `j` of every
# step `t` with the first example's state `[1, m, w, n]` and its gates. A trace is that hook, a few
# stacks and the read-out:

# %%
def my_trace(model: NeuralGPU, x: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """States `[steps, l, m, w, n]`, update gates (same shape) and read-outs `[steps, n]`."""
    states, gates_u = {}, {}

    def hook(t, j, s, gates):
        states[t, j] = s[0].clone()
        gates_u[t, j] = gates["u"][0].clone()

    with torch.no_grad():
        model.eval()(torch.tensor([x]), hook=hook)
    steps, layers = len(x), model.config.l
    s = torch.stack([torch.stack([states[t, j] for j in range(layers)]) for t in range(steps)])
    u = torch.stack([torch.stack([gates_u[t, j] for j in range(layers)]) for t in range(steps)])
    with torch.no_grad():
        readout = model.output(s[:, -1, :, 0, :].transpose(1, 2)).argmax(-1)  # row 0 of each s_t
    return s, u, readout


# %% [markdown]
# The library's `explore.trace(model, task, a, b)` does the same from operands typed as people
# write them (it also keeps `r`, and stores states in half precision unless told otherwise, so a
# 200-bit input stays small). Same weights, same input, same numbers:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
probe = NeuralGPU(w=4, m=24)
x, y = encode_text("badd", "1011", "110")
s, u, readout = my_trace(probe, x)
tr = explore.trace(probe, "badd", "1011", "110", dtype=torch.float32)
torch.testing.assert_close(tr.s, s)
torch.testing.assert_close(tr.u, u)
assert torch.equal(tr.outputs, readout)
print("input symbols:", x)
print("trace of s:", tuple(tr.s.shape), "= (steps, l, m, w, n)")
print("read-outs:", tuple(tr.outputs.shape), "; true answer:", tr.answer())

# %% [markdown]
# ## A trained adder
#
# We need a model that has learned binary addition. The shipped checkpoint is used when there is
# one; without it, `explore.load_or_train` trains a small model here (about a minute and a half on
# a laptop CPU, seconds in fast mode) on short operands, and says so. Flip `RETRAIN` to train the
# full recipe of chapter 6 instead (a GPU helps). The shipped adder is the improved Neural GPU
# (2017) of chapters 6 and 10: one row ($w = 1$) and one CGRU per step ($l = 1$), so its pictures
# below have one band per view and one layer, and its diagonal gates can move a value one cell per
# step. We measure the model on short operands, at 20 bits and at 200 bits.

# %%
RETRAIN = False
if RETRAIN:
    res = ngpu_lite.train("badd", "fast", minutes=pick(0.2, 60), until=(200, 32), progress=True)
    add_model, source = res.model.cpu().eval(), f"trained now: {res.steps} steps, {res.seconds:.0f} s"
else:
    add_model, source = explore.load_or_train("badd")
print(source, "|", ngpu_lite.model.model_name(add_model.config),
      f"w = {add_model.config.w}, m = {add_model.config.m}, l = {add_model.config.l}")
if source.startswith("no shipped"):
    print("trained on operands of up to", explore.fallback_recipe("badd")["max_digits"], "bits")
add_acc = {}
for digits in (4, 20, 200):
    acc = add_acc[digits] = evaluate(add_model, "badd", digits, samples=pick(8, 64), seed=1)
    print(f"badd at {digits:>3} bits: exact {acc['exact']:.3f}, per symbol {acc['per_symbol']:.3f}"
          f" ({acc['samples']} fresh cases)")

# %% [markdown]
# ## One step, three pictures
#
# `explore.plot_step(trace, t, layer, view)` draws the state of one step: on top, the chosen view of
# the image (`pca`: the `m` channels of each cell projected onto the two directions along which the
# trace's states vary most; `state`: all channels; `u`, `r`: the gates), one band per row of the
# `w × n` grid and one column per position `k` (least-significant digit first, as the model sees
# numbers); in the middle, the symbols read out after that step, green where they match the true
# answer, red where not, grey for correct padding; at the bottom, how many of the `n` output
# symbols are right after each step, with the current step marked.
#
# A long carry is the hardest case for addition: `11…1 + 1` flips every bit, and the answer's top
# digit depends on every input digit. Here are the first step and the middle step of `1111 + 1`:

# %%
D = 4
carry = explore.trace(add_model, "badd", "1" * D, "1")
print(f"{'1' * D} + 1 = {carry.answer()}; read out after the last step: {carry.decoded(carry.steps)}")
fig = explore.plot_step(carry, t=1)
display(fig)
fig = explore.plot_step(carry, t=carry.steps // 2, view="u")
print(savefig(fig, "ch08_add_step.png").name)
display(fig)

# %% [markdown]
# ## All steps at once
#
# A space-time picture puts position `k` on the x-axis and step `t` down the y-axis. The left panel
# marks which output symbols are right after each step; the middle one the update gate `u`
# averaged over the channels and rows of each column; the right one how much each column of the
# image changed in that step. A signal travelling along the number, like a carry, shows up as a
# diagonal stripe: one cell further per step. We draw it for a longer carry, `1…1 + 1` with
# `LONG` ones.

# %%
LONG = pick(8, 12)
long_carry = explore.trace(add_model, "badd", "1" * LONG, "1")
print(f"{LONG} ones + 1: read out {long_carry.decoded(long_carry.steps)}, true {long_carry.answer()}")
fig = explore.plot_timeline(long_carry)
print(savefig(fig, "ch08_add_timeline.png").name)
display(fig)

# %% [markdown]
# When does each output symbol become right and stay right? `settle_steps()` answers that per
# position (−1: still wrong at the end). If the network computed the carry one position per step,
# the settle step of a long-carry case would grow with the position; for operands without long
# carries it can settle early everywhere. We compare both carry cases with random operands.

# %%
rand_a, rand_b = explore.random_example("badd", D, random.Random(1))
randt = explore.trace(add_model, "badd", rand_a, rand_b)
cases = {f"{D} ones + 1": carry, f"{LONG} ones + 1": long_carry, f"random {D}-bit": randt}
fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
for label, t_ in cases.items():
    ax.plot(range(t_.n), t_.settle_steps(), "o-", ms=3, label=label)
ax.set_xlabel("position k (least-significant first)")
ax.set_ylabel("settle step (−1: wrong at end)")
ax.legend(fontsize=8)
print(savefig(fig, "ch08_settle.png").name)
plt.show()
for label, t_ in cases.items():
    settle = t_.settle_steps()
    right = settle >= 0
    line = f"{label:>14}: {right.sum()}/{t_.n} positions right at the end"
    if right.any():
        line += f"; the last of them settles at step {settle[right].max()} of {t_.steps}"
    print(line)

# %%
settle = long_carry.settle_steps()
top = len(long_carry.answer()) - 1  # the answer's highest position (positions count from 0)
second = long_carry.x.index(ngpu_lite.data.tasks.ADD_SEP) + 1  # the cell where the second operand starts
print("What we saw: the adder was exact on "
      + ", ".join(f"{add_acc[d]['exact']:.0%}" for d in add_acc)
      + f" of fresh sums at {', '.join(map(str, add_acc))} bits.")
if settle[0] > 0 and settle[top] > 0:
    print(f"In {LONG} ones + 1 the second operand starts at cell {second}; answer position 0 settled at "
          f"step {settle[0]} and position {top}, the top one, at step {settle[top]} of {long_carry.steps}: "
          f"{(settle[top] - settle[0]) / top:.2f} steps per position on the way up.")
else:
    print(f"In {LONG} ones + 1, {(settle < 0).sum()} of {long_carry.n} positions are still wrong "
          "after the last step.")

# %% [markdown]
# Why a long carry takes nearly all the steps: answer bit 0 needs the lowest bit of the second
# operand, which sits just right of the separator, and that bit has to travel to cell 0. Compare
# the cell where the second operand starts with the step at which position 0 settled: it
# travels about one cell per step, the pace of the diagonal shift (a CGRU could move information
# up to two cells per step, chapter 3). Only then is the answer known at the bottom, and the
# carry climbs about one answer position per step, so the top bit settles after about twice the
# operand length in steps, just before the $n$ steps run out. The model needs the $n$ steps the Neural
# GPU gives it; a fixed, smaller number could not carry across a long number. Where a model is
# not exact (the small model trained here when no checkpoint is shipped, beyond the lengths it was
# trained on), the pictures show a network that has not found the rule for that length, and the
# red positions are where its computation goes wrong.
#
# Where do the gates close? We measure the mean update gate `u` of the last layer over all steps,
# separately for the columns that hold the first operand, the separator and the second operand:

# %%
u_col = explore.timeline(carry, "u").mean(axis=0)  # mean over steps, per position
sep = carry.x.index(ngpu_lite.data.tasks.ADD_SEP)
print(f"mean u over steps: first operand {u_col[:sep].mean():.3f}, separator {u_col[sep]:.3f}, "
      f"second operand {u_col[sep + 1:].mean():.3f}")

# %% [markdown]
# The three means are close: the gate does not single out a region of the tape. Its decisions are
# per channel and per cell, so we look at every gate value of the long carry, and at each channel's
# mean over all steps and cells:

# %%
u_all = long_carry.u[:, -1].float()  # [steps, m, w, n], the last layer
keep, wipe = (u_all > 0.99).float().mean().item(), (u_all < 0.01).float().mean().item()
per_channel = u_all.mean(dim=(0, 2, 3))
print(f"{LONG} ones + 1: of all {u_all.numel():,} gate values, {keep:.0%} keep the old state (u > 0.99), "
      f"{wipe:.0%} replace it (u < 0.01), {1 - keep - wipe:.0%} mix")
print(f"What we saw: {(per_channel > 0.99).sum().item()} of {len(per_channel)} channels keep their value "
      f"at almost every step and cell; the lowest channel mean is {per_channel.min():.2f}.")

# %% [markdown]
# Why: the mean update gate hides that most gate values sit at a bound. A gate that is exactly 1
# copies the state unchanged (the diagonal shift aside), which is how the model carries a digit
# across many steps without noise piling up; the rewriting happens in the few values below it, in
# some channels more than others. So the gate works channel by channel, not region by region: most
# channels hold their values, and the state changes through the few gate values that open.

# %% [markdown]
# ## Multiplication
#
# Binary multiplication needs much more than a carry: every digit of the product depends on all
# lower digits of both operands. The shipped multiplication model is the improved Neural GPU
# (2017) of chapter 7: one row, `m = 96` channels, products written with zeros to the full width,
# and 1.25 steps per input cell instead of one (chapter 7 measures why), so its timeline runs a
# quarter longer than the input. The same tools apply; here is a random 12-bit product, drawn from
# the evaluation stream.

# %%
mul_model, source = explore.load_or_train("bmul")
print(source, "|", ngpu_lite.model.model_name(mul_model.config), f"m = {mul_model.config.m},",
      f"{mul_model.config.step_factor:g} steps per input cell")
for digits in (8, 20):
    acc = evaluate(mul_model, "bmul", digits, samples=pick(8, 64), seed=1)
    print(f"bmul at {digits} bits: exact {acc['exact']:.3f}, per symbol {acc['per_symbol']:.3f}"
          f" ({acc['samples']} fresh products)")
ma, mb = explore.random_example("bmul", 12, ngpu_lite.data.tasks.eval_stream(2))
mul = explore.trace(mul_model, "bmul", ma, mb)
print(f"{ma} × {mb} = {mul.answer()} ({int(ma, 2)} × {int(mb, 2)} = {int(ma, 2) * int(mb, 2)}); "
      f"read out after the last step: {mul.decoded(mul.steps)}")
fig = explore.plot_timeline(mul)
print(savefig(fig, "ch08_mul_timeline.png").name)
display(fig)

# %%
fig = explore.plot_progress({"badd, 4 ones + 1": carry, f"badd, {LONG} ones + 1": long_carry,
                             "badd, random": randt, "bmul, random": mul})
print(savefig(fig, "ch08_progress.png").name)
display(fig)

# %% [markdown]
# ## The live explorer
#
# The explorer puts the same functions behind widgets. Type two numbers (most-significant digit
# first) and press Enter or *run*, or draw a *random example* of the chosen length (up to 200 bits).
# Move the *step* slider or press play: the model ran once for this input, and moving the slider
# only redraws from the stored trace. Choose the layer and the view (state projected to 2-D, all
# state channels, `u` or `r`). The answer line colours each digit read out at this step green if
# it matches the true answer and red if not. A digit outside the base, or an operand longer than
# 200 digits, shows a message instead of a traceback.
#
# Widgets live only while the notebook's kernel runs, so here first is a picture of the explorer
# as the cell after it draws it (taken in JupyterLab by the book's browser test, `make
# explorer-shot`): `1111 + 1` at its last step, the answer read out right.

# %%
display(Image(filename=str(FIGURES_DIR / "ch08_explorer.png"), width=760))

# %%
tasks = explore.shipped_tasks() or ["badd", "bmul"]
ex = explore.Explorer({"badd": add_model, "bmul": mul_model}, tasks=tasks, a="1" * D, b="1")
display(ex)

# %% [markdown]
# The widgets are ordinary Python objects, so the explorer can also be driven from code: set a
# value and the view follows.

# %%
ex.step.value = 1
print("after step 1:", ex.trace.decoded(1), "| after the last step:", ex.trace.decoded(ex.trace.steps))

# %% [markdown]
# ## Summary
#
# - A hook on `forward` gives every intermediate mental image and both gates; `explore.trace`
#   keeps them, with the answer the read-out would give after each step.
# - Views of one trace: the image at one step (`plot_step`), all steps as a space-time picture
#   (`plot_timeline`), the number of right symbols per step (`plot_progress`), and per position
#   the step from which its symbol stays right (`settle_steps`).
# - A long carry is where a step-by-step computation must show: information has to travel from the
#   lowest digit to the highest, at most a few cells per step.
# - The explorer (`explore.Explorer`) puts the same functions behind widgets, running the model
#   once per input and redrawing from the trace.
#
# ## Exercises
#
# 1. Trace `1…1 + 1` for 10, 20 and 40 bits and plot the last settle step against the length. Is
#    it linear? What slope would a carry moving one cell per step give?
# 2. Use the `state` view to find channels whose value in row 0 differs between columns that will
#    carry and columns that will not. Are they the same channels in every row of the image? (The
#    shipped models have one row; a Neural GPU (2016), e.g. a short `train("badd", "tiny")`, has two.)
# 3. In a Neural GPU (2016), which has two CGRUs per step (the shipped models have one), compare
#    the mean update gate of layer 1 and layer 2 (`explore.timeline(tr, "u", layer)`). Does one
#    layer keep the state while the other rewrites it?
# 4. Train a model for only a few hundred steps (`ngpu_lite.training`) and compare its space-time
#    pictures with the ones above. What appears first during training?
# 5. For multiplication, find an input whose answer is wrong and locate, with `settle_steps`, the
#    first position that never settles. Is it always the highest digits? (At its shipped 1.25 steps
#    per cell the multiplication model may answer every random 20-bit product right; run it at the
#    paper's one step per cell, `model.config.step_factor = 1.0`, which `trace` follows.)
#
# Answers: `answers/08_answers.ipynb`.
