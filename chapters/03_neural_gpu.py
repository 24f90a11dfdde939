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
# # 3. The Neural GPU
#
# Chapter 2 built one convolutional GRU. This chapter stacks it into the whole Neural GPU of
# Kaiser & Sutskever (2016): a *mental image* that the input is written into, `n` steps of `l`
# CGRUs that rewrite it, and a read-out from its first row.
#
# **On a CPU: about 4 minutes** in the default mode (measured: the stored run of this notebook on a
# 2-core machine). **Expect:** the whole Neural GPU (2016) written from scratch and checked, and
# small ones trained here on *copy* and *reverse*: which of the two carries on far beyond its 13
# training bits.
#
# **Learning objectives.** After this chapter you can
#
# 1. write the embedding, the `n` steps of `l` CGRUs, the masking and the read-out from scratch, and
#    check the result against `ngpu_lite.NeuralGPU` on the same weights;
# 2. show how far one CGRU and one step move information (two and four cells), and why the model
#    runs as many steps as the input is long;
# 3. show that masking gives an example the same logits alone and inside a padded batch, and count
#    the parameters of the paper's configuration by hand (31,248 per parameter set);
# 4. train small Neural GPUs (2016) on *copy* and *reverse* with inputs of at most 13 bits, and
#    measure them, exact and per symbol, on fresh inputs up to 131 bits, ten times longer.

# %%
import random
import time

import matplotlib.pyplot as plt
import torch

from ngpu_lite import PAD, NeuralGPU, cgru, decode, evaluate, length_for, make_batch, train
from ngpu_lite.book import pick, savefig, seed_everything
from ngpu_lite.interfaces.diagrams import draw_unrolled

torch.set_num_threads(1)  # small models: one thread is as fast and leaves the rest of the CPU free
seed_everything(0)

# %% [markdown]
# ## The mental image
#
# The Neural GPU keeps its whole working memory in one tensor, the mental image
# $s \in \mathbb{R}^{w \times n \times m}$: a grid of width $w$ (4 in the paper) and length $n$
# (the length of the input), with $m$ channels in every cell (24 in the paper). Nothing else is
# carried from step to step: no stack, no attention, no separate memory.
#
# The input $i_1, \dots, i_n$ is written into the first row, index 0 along $w$ (the top row in the
# book's figures; the library's docstrings call the same cells the first column),
#
# $$s_0[0, k, :] = E[i_k], \qquad s_0[h, k, :] = 0 \text{ for } h > 0,$$
#
# where $E$ is an embedding matrix with one row of $m$ numbers per symbol. The authors' 2016 code
# embeds $\tanh(E[i_k])$, keeps the embedding of the padding symbol at zero, and then passes the
# first row through one more layer that the paper does not mention: a learned $1 \times 1$ "input"
# convolution with bias ($W \tanh(E[i_k]) + b$ in every cell of that row) before the first step.
# `ngpu_lite` embeds $\tanh(E[i_k])$ the same way; the $1 \times 1$ convolution is the option
# `input_layer="conv"`, which the `paper` preset uses. The models of this chapter follow the
# paper's equation and leave it out. PyTorch's convolutions want channels first, so the library
# stores a batch of images as `[batch, m, w, n]`.

# %%
model = NeuralGPU(w=4, m=24, l=2)
rng = random.Random(0)
x, y, lengths = make_batch("badd", [3, 5, 4], rng)  # three additions of 3, 5 and 4 bits
print("input symbols x:", tuple(x.shape), " lengths:", lengths.tolist())
print("embedding E:   ", tuple(model.embedding.shape), "(one row per symbol, row", PAD, "is PAD)")
print(x)


# %% [markdown]
# From scratch, one cell at a time, so nothing hides in a vectorised expression:

# %%
def embed_from_scratch(E: torch.Tensor, x: torch.Tensor, w: int) -> torch.Tensor:
    """The initial mental image `[B, m, w, n]`: tanh(E[i_k]) in row 0, zeros elsewhere."""
    B, n = x.shape
    m = E.shape[1]
    s = torch.zeros(B, m, w, n)
    for b in range(B):
        for k in range(n):
            if x[b, k] != PAD:
                s[b, :, 0, k] = torch.tanh(E[x[b, k]])
    return s


s0 = embed_from_scratch(model.embedding, x, w=4)
torch.testing.assert_close(s0, model.embed(x))
print("s0:", tuple(s0.shape), "| same as NeuralGPU.embed; non-zero cells per row:",
      [int((s0[:, :, h, :].abs().sum(1) > 0).sum()) for h in range(4)])

# %% [markdown]
# ## `n` steps of `l` layers
#
# One *step* applies $l$ CGRUs (2 in the paper), each with its own weights, and the model takes as
# many steps as the input is long:
#
# $$s_{t+1} = \mathrm{CGRU}_l(\dots\mathrm{CGRU}_1(s_t)\dots), \qquad t = 0, \dots, n-1.$$
#
# The same weights are used at every step: the Neural GPU is a recurrent network whose "time" is
# depth. How far does information move in one CGRU? A 3×3 convolution reaches one cell to each
# side, and a CGRU applies two of them in a row: the gates $u, r$ are convolutions of $s$, and the
# candidate is a convolution of $r \odot s$, so cell $k$ of the candidate hears from $r$ and $s$ at
# $k \pm 1$, and $r$ there from $s$ at $k \pm 2$. One CGRU can move information up to two cells,
# one step of the Neural GPU (2016), with $l = 2$ CGRUs, up to four. Check it on the model above:
# change one cell of a random image and see which cells differ after one CGRU and after one step.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(3)
s = torch.randn(1, model.config.m, model.config.w, 21)  # a random image, 21 cells long
k0 = 10
nudged = s.clone()
nudged[0, :, 0, k0] += 1.0  # change every channel of one cell, row 0, position 10


def reached(a: torch.Tensor, b: torch.Tensor) -> list[int]:
    """Positions along the length at which two images differ, in any channel or row."""
    return (a != b).any(dim=1).any(dim=1)[0].nonzero().flatten().tolist()


with torch.no_grad():
    layers = [[p[0, j] for p in model.stacked_parameters()] for j in range(model.config.l)]
    a, b = s, nudged
    for j, weights in enumerate(layers, start=1):
        a, b = cgru(a, *weights), cgru(b, *weights)
        where = reached(a, b)
        print(f"after {j} CGRU{'s' if j > 1 else ''}: the change has reached positions "
              f"{where[0]}..{where[-1]} (changed: {k0}), at most {max(k0 - where[0], where[-1] - k0)} "
              "cells away")

# %% [markdown]
# Information spreads up to two cells per CGRU, so after $n$ steps any cell of an $n$-long image
# can have heard from any other, with room to spare: that is why it runs $n$ steps.
#
# ## Read-out
#
# After the last step, the first row is read out: the logits at position $k$ are
# $O\, s_n[0, k, :]$ (a linear layer `model.output`), and the answer is the argmax at each
# position. The loss is the cross-entropy over all positions, so the model must also learn to
# write PAD after the answer.
#
# ## Masking
#
# A batch mixes inputs of different lengths, padded with PAD to the longest. The authors' code
# makes the padding invisible: after every CGRU the image is multiplied by a mask that is zero
# beyond each example's own length, and each example is read out after its *own* number of steps.
#
# The picture is drawn by `draw_unrolled` from this chapter's `model` and its own forward pass, on
# the shortest example of the batch above (length 7 in a batch padded to 11). Each image is the
# $w \times 11$ grid of cells, coloured by the mean $|s|$ over the $m$ channels of this untrained
# model; the hatched cells are the padding, zero after every CGRU; the middle steps are left out;
# the red box is the row read out after the example's own 7 steps, while the longer examples of
# the batch run on. Here is the network unrolled, the image $s_0$ and the image after each step:

# %%
short = int(lengths.argmin())
fig = draw_unrolled(model, x[short, :lengths[short]], padded_to=x.shape[1])
print("saved", savefig(fig, "ch03_unrolled.png").name)
plt.show()

# %% [markdown]
# Here is the whole forward pass with all four pieces (the `t % r` picks the parameter set for
# step `t`; with one set it is always 0, and chapter 5 explains the rest).

# %%
def forward_from_scratch(model: NeuralGPU, x: torch.Tensor, lengths: torch.Tensor,
                         masked: bool = True) -> torch.Tensor:
    """Logits `[B, n, symbols]`: embed, `n` steps of `l` CGRUs, read row 0 out.

    With `masked`, the image is zeroed beyond each example's length after every layer and example
    `b` is read out after `lengths[b]` steps; without it, everything runs the full `n` steps.
    """
    B, n = x.shape
    w, l, r = model.config.w, model.config.l, model.relax_sets
    s = embed_from_scratch(model.embedding, x, w)
    if masked:
        mask = (torch.arange(n)[None, :] < lengths[:, None]).float()[:, None, None, :]  # [B,1,1,n]
    else:
        mask = torch.ones(B, 1, 1, n)
        lengths = torch.full((B,), n)
    s = s * mask
    final = torch.zeros(B, model.config.m, n)
    for t in range(n):
        k = t % r
        for j in range(l):
            s = cgru(s, model.gate_weight[k, j], model.gate_bias[k, j],
                     model.cand_weight[k, j], model.cand_bias[k, j]) * mask
        done = lengths == t + 1  # these examples have run their own number of steps
        final[done] = s[done, :, 0, :]
    return model.output(final.transpose(1, 2))  # O · s_fin[0, k, :] at every position k


with torch.no_grad():
    mine = forward_from_scratch(model, x, lengths)
    lib = model(x, lengths)
torch.testing.assert_close(mine, lib)
print("logits:", tuple(mine.shape), "| from scratch == NeuralGPU.forward, max |diff| =",
      f"{(mine - lib).abs().max().item():.1e}")

# %% [markdown]
# What does the mask buy? Run the shortest example alone and inside the batch. With the mask the
# answer must not depend on its neighbours; without it, the padding cells fill up with whatever
# the CGRUs write there, leak back into the answer, and the example runs too many steps.

# %%
short = int(lengths.argmin())
with torch.no_grad():
    alone = forward_from_scratch(model, x[short:short + 1, :lengths[short]], lengths[short:short + 1])
    n0 = int(lengths[short])
    in_batch = forward_from_scratch(model, x, lengths)[short:short + 1, :n0]
    unmasked = forward_from_scratch(model, x, lengths, masked=False)[short:short + 1, :n0]
print(f"example of length {n0} in a batch padded to {x.shape[1]}:")
print(f"  masked,   max |logit difference| from running it alone: {(in_batch - alone).abs().max():.1e}")
print(f"  unmasked, max |logit difference| from running it alone: {(unmasked - alone).abs().max():.1e}")

# %% [markdown]
# ## How big is it?
#
# One CGRU has two gate kernels and a candidate kernel, each $k \times k \times m \times m$, plus a
# bias of $m$ for each: $3(k^2 m^2 + m)$ numbers. The paper's configuration ($m = 24$, $k = 3$,
# $l = 2$) has two of them per step. Counted by hand and by the library:

# %%
# NBVAL_CHECK_OUTPUT
m, k, l = 24, 3, 2
per_cgru = 3 * (k * k * m * m + m)
paper = NeuralGPU(w=4, m=m, l=l, kernel=k)
print("one CGRU:                ", per_cgru)
print("one parameter set (l = 2):", l * per_cgru, "| library:", paper.params_per_set())
print("embedding E:             ", paper.embedding.numel())
print("output layer O (+ bias): ", sum(p.numel() for p in paper.output.parameters()))
print("whole model:             ", sum(p.numel() for p in paper.parameters()))

# %% [markdown]
# About 31 thousand weights, the "about 30k" of the paper: tiny by today's standards (the 2016
# code's $1 \times 1$ input convolution, `input_layer="conv"`, adds $m^2 + m = 600$). The same
# weights run at every step and at every position, so the model has no size limit on its input:
# a 2000-bit input uses the same 31,248 numbers as a 20-bit one, only more steps on a bigger image.
#
# ## Training on copy and reverse
#
# Now let it learn. `ngpu_lite.training` runs the paper's training loop (Adam, a curriculum over
# lengths, dropout, gradient clipping; chapter 4 takes them apart). We use the small `tiny`
# preset (inputs of at most 6 "digits", which for these one-operand tasks means strings of at most
# `length_for(6)` = 13 bits) with the paper's width $w = 4$ and $m = 16$ channels. Each training
# run below takes a minute or two on a laptop CPU.

# %%
train_digits = 6
train_len = length_for(train_digits)
steps = pick(40, 2500)

t0 = time.time()
MODEL = {"w": 4, "m": 16}
copy_run = train("copy", "tiny", seed=0, steps=steps, progress=False, model=MODEL)
last = copy_run.history[-1]
print(f"copy: {copy_run.steps} steps in {time.time() - t0:.0f} s; last epoch: loss {last['loss']:.4f}, "
      f"wrong sequences {last['seq_err']:.1%}, curriculum at {copy_run.digits} digits")

# %%
t0 = time.time()
reverse_run = train("reverse", "tiny", seed=0, steps=steps, progress=False, model=MODEL)
last = reverse_run.history[-1]
print(f"reverse: {reverse_run.steps} steps in {time.time() - t0:.0f} s; last epoch: loss {last['loss']:.4f}, "
      f"wrong sequences {last['seq_err']:.1%}, curriculum at {reverse_run.digits} digits")

# %% [markdown]
# ## Ten times longer
#
# The real test is on lengths the model has never seen. `evaluate` draws fresh random inputs
# (with a seed the training never used) and reports the share of inputs answered exactly, every
# symbol right (the paper's measure), and the share of right symbols. The longest test, 65
# "digits", is a string of 131 bits: ten times the 13 bits of training. (At the training lengths
# there are only $2^{13}$ strings, so the model has seen many of them; of the 131-bit strings it has
# seen none.)

# %%
test_digits = [3, 6, 10, 20, 40, 65]
samples = pick(8, 128)
results = {}
for name, run in [("copy", copy_run), ("reverse", reverse_run)]:
    results[name] = [evaluate(run.model, name, d, samples=samples, seed=1000 + d) for d in test_digits]
    for r in results[name]:
        print(f"{name:8s} length {r['length']:4d}: exact {r['exact']:7.1%}   "
              f"per symbol {r['per_symbol']:7.1%}   ({r['samples']} fresh inputs)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for ax, name in zip(axes, ["copy", "reverse"], strict=True):
    lens = [r["length"] for r in results[name]]
    ax.plot(lens, [r["exact"] for r in results[name]], "o-", label="exact (every symbol right)")
    ax.plot(lens, [r["per_symbol"] for r in results[name]], "s--", label="per symbol")
    ax.axvspan(0, train_len, color="0.9", label="training lengths")
    ax.set_xscale("log")
    ax.set_xlabel("input length (bits)")
    ax.set_title(f"{name}, Neural GPU (2016): trained on length ≤ {train_len}", fontsize=10)
    ax.set_ylim(-0.05, 1.05)
axes[0].set_ylabel("accuracy on fresh inputs")
axes[0].legend(loc="lower left", fontsize=8)
fig.tight_layout()
print(savefig(fig, "ch03_length_generalisation.png").name)

# %% [markdown]
# Here are the answers themselves on one fresh 131-bit input per task, printed in reading order
# (`^` marks a wrong symbol):

# %%
def show(name: str, model: NeuralGPU, digits: int, seed: int) -> None:
    """Print one fresh input, the right answer and the model's answer, marking wrong symbols."""
    x1, y1, len1 = make_batch(name, [digits], random.Random(seed))
    out = model.predict(x1, len1)[0]
    want, got = decode(name, y1[0]), decode(name, out)
    marks = "".join(" " if i < len(got) and got[i] == c else "^" for i, c in enumerate(want))
    print(f"{name}, length {int(len1[0])}")
    print("  input :", decode(name, x1[0]))
    print("  target:", want)
    print("  model :", got)
    print("          " + marks)
    print(f"  {'exactly right' if got == want else 'wrong: ' + str(marks.count('^')) + ' symbols'}")


show("copy", copy_run.model, 65, seed=7)
show("reverse", reverse_run.model, 65, seed=7)

# %% [markdown]
# **What we saw**, in lines made from the measurements above (so they stay true when rerun):

# %%
for name in ("copy", "reverse"):
    rs = results[name]
    longest = None  # the longest tested length up to which every tested length was all exact
    for r in rs:
        if r["exact"] < 1.0:
            break
        longest = r["length"]
    worst = min(rs, key=lambda r: r["per_symbol"])
    print(f"{name}: exact on every fresh input up to length {longest} (trained on ≤ {train_len})"
          if longest else f"{name}: exact on every fresh input at no tested length", end="; ")
    print(f"at length {rs[-1]['length']}: exact {rs[-1]['exact']:.0%}, per symbol "
          f"{rs[-1]['per_symbol']:.1%}; lowest per-symbol share {worst['per_symbol']:.1%} "
          f"(length {worst['length']})")
gap = {n: results[n][-1]["per_symbol"] - results[n][-1]["exact"] for n in results}
print("per symbol minus exact at the longest length: "
      + ", ".join(f"{n} {g:+.0%}" for n, g in gap.items()))

# %% [markdown]
# **Why.** Copy is the easier task: every symbol stays where it is, so the gates can close and keep the
# first row as it was. Reverse is harder: the symbol at position $k$ must travel to position
# $n - 1 - k$, up to $n - 1$ cells, and the model must learn to move information at a speed that
# matches its number of steps.
#
# Read the two measures together. An exact answer needs all 131 symbols right, so exact accuracy
# punishes rare mistakes hard: with 99% of symbols right and independent errors, only about
# $0.99^{131} \approx 27\%$ of 131-bit answers would be exactly right. A model can have learned
# almost all of the algorithm and still fail most long tests; the paper's claim, *no* error found
# up to length 4001, is much stronger than anything a minute of training gives here. Whatever the
# numbers above say for your run, they were measured on inputs the model never saw, of lengths it
# never trained on, and a different seed can give quite different long-length numbers (exercise 5).
# Chapters 4 and 5 look at what in the training recipe makes such generalisation more likely, and
# chapter 6 does the same for addition.

# %% [markdown]
# ## Summary
#
# * The Neural GPU's memory is one mental image $s$ of shape $w \times n \times m$; the input is
#   embedded into its first row and everything else starts at zero.
# * It applies $l$ CGRUs per step, with shared weights, for $n$ steps (as many as the input is
#   long), then reads the answer from the first row with one linear layer.
# * Masking zeroes the image beyond each example's length after every layer and reads each
#   example out after its own number of steps, so padding never changes an answer.
# * The paper's model has 31,248 CGRU parameters per set, whatever the input length.
#
# What this run measured, from the variables above (a small Neural GPU (2016), $w = 4$, $m = 16$,
# one step per input cell, seed 0, trained on strings of at most 13 bits):

# %%
for name in ("copy", "reverse"):
    rs = results[name]
    held = [r["length"] for r in rs if r["exact"] == 1.0]
    failed = [r for r in rs if r["exact"] < 1.0]
    print(f"- {name}, after {steps:,} steps: "
          + (f"every fresh input exact up to length {max(held)}" if held else "exact at no tested length")
          + ("" if not failed else f"; not at length {failed[0]['length']} "
             f"({failed[0]['exact']:.0%} exact, {failed[0]['per_symbol']:.1%} of symbols)")
          + f"; at {rs[-1]['length']} bits {rs[-1]['exact']:.0%} exact, "
          f"{rs[-1]['per_symbol']:.1%} of symbols right.")
misses = [(n, r) for n in results for r in results[n] if r["exact"] < 1.0]
if misses:
    n, r = max(misses, key=lambda nr: nr[1]["per_symbol"] - nr[1]["exact"])
    print(f"- The exact rate falls long before the per-symbol rate: {n} at length {r['length']}, "
          f"{r['exact']:.0%} exact but {r['per_symbol']:.1%} of symbols right, since one wrong "
          "symbol makes an answer wrong (at 50% of symbols right a model does no better than "
          "guessing bits).")
else:
    print("- Both tasks held at every tested length, to ten times the training length.")

# %% [markdown]
# ## Exercises
#
# 1. Remove the `* mask` inside the loop of `forward_from_scratch` but keep the per-example
#    read-out. Does the shortest example still get the same logits alone and in the batch? Why?
# 2. Change `embed_from_scratch` to write the input into *every* row instead of the first.
#    Train copy with `start_model=` a model using it (subclass `NeuralGPU` and override `embed`)
#    and compare the accuracy at length 131.
# 3. The model runs `n` steps for an input of length `n`. Subclass `NeuralGPU` so it runs `n // 2`
#    steps and train reverse again. How far can it generalise, and why can it not be perfect?
# 4. Work out by hand how the parameter count changes with $w$ and with the input length $n$, then
#    check with `NeuralGPU(w=8).params_per_set()`.
# 5. Train reverse with three more seeds (`seed=1, 2, 3`). How much do the accuracies at length
#    131 differ from seed to seed?
#
# Answers: `answers/03_answers.ipynb`.
