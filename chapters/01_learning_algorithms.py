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
# # 1. Learning algorithms from examples
#
# Can a neural network learn an *algorithm*, such as long addition, from nothing but examples of
# inputs and answers, and then run it on inputs far longer than any it has seen? That is the
# question of Kaiser & Sutskever's *Neural GPUs Learn Algorithms* (ICLR 2016), and this book
# rebuilds their answer piece by piece. This first chapter sets the stage.
#
# **On a CPU: about 1 minute** in the default mode (measured: the stored run of this notebook on a
# 2-core machine). **Expect:** the shipped LSTM + attention (a baseline, not a Neural GPU) exact on
# almost every fresh 20-bit sum and on none a few bits longer, with most of its bits still right.
#
# **Learning objectives.** After this chapter you can
#
# 1. write an example of each of the paper's tasks as symbols (digit `d` as `d + 1`, PAD 0, lowest
#    digit first, a separator between operands) with `ngpu_lite.data.tasks`, and decode it back;
# 2. say why *length generalisation*, exact answers on inputs longer than any in training, is the
#    test of a learned algorithm, and bound how many test inputs of a width training can have seen;
# 3. write an LSTM step from scratch and check it against `torch.nn.LSTM` on the same weights;
# 4. measure the LSTM + attention baseline, trained on binary addition up to 20 bits, on fresh
#    inputs at many lengths (exact and per symbol), and find where its wrong answers begin: the
#    measurement that the rest of the book repeats for the Neural GPU.

# %%
import json
import random
import time

import matplotlib.pyplot as plt
import matplotlib.ticker
import torch

from ngpu_lite import PAD, TASKS, decode, encode_text, length_for, make_batch
from ngpu_lite.book import pick, savefig, seed_everything
from ngpu_lite.data.tasks import ADD_SEP, MUL_SEP
from ngpu_lite.model.checkpoints import SHIPPED_DIR
from ngpu_lite.results.baselines import (
    LSTMBaseline,
    evaluate_baseline,
    load_baseline,
    train_baseline,
)

torch.set_num_threads(1)  # small models: one thread is as fast and leaves the rest of the CPU free
seed_everything(0)

# %%
# NBVAL_CHECK_OUTPUT
from ngpu_lite.book import fingerprint  # noqa: E402

print(fingerprint("lstm-badd"))  # the shipped models this notebook's outputs come from

# %% [markdown]
# ## The tasks and their encoding
#
# Every task maps an input sequence of symbols to an output sequence. The encoding follows the
# authors' code:
#
# - a digit `d` is the symbol `d + 1`, `PAD = 0` fills unused positions;
# - numbers are written **lower-endian**, least significant digit first, so that the first output
#   digit depends on the first input digits, as in long addition done by hand;
# - the two operands of addition or multiplication have equal width (leading zeros allowed) and
#   are joined by a separator symbol, so `d`-digit operands make an input of length `2d + 1`;
# - the output has the same length as the input: the answer, then PAD.
#
# One addition, typed as people write numbers (most significant digit first):

# %%
# NBVAL_CHECK_OUTPUT
a, b = "1011", "110"  # 11 + 6
x, y = encode_text("badd", a, b)
print("separators: addition", ADD_SEP, " multiplication", MUL_SEP, " PAD", PAD)
print("input  symbols", x)
print("target symbols", y)
print("decoded answer", decode("badd", y), "  check with Python:", f"{int(a, 2) + int(b, 2):b}")

# %% [markdown]
# Read the input from the left: `2 2 1 2` is `1 1 0 1`, the digits of `1011` lowest first, then the
# separator, then `110` padded to four digits and reversed. The target `2 1 1 1 2` is `10001`
# (17) lowest digit first, followed by PAD.
#
# The paper's tasks, each shown on one random example of "3 bits" (input length `2·3 + 1 = 7`;
# the one-operand tasks use strings of the same length, except `duplicate`, whose input of `d`
# symbols is written twice, so its sequences have length `2d`). The last column gives each task's
# sequence length at "20 bits", the paper's training limit:

# %%
rng = random.Random(0)
for name, task in TASKS.items():
    xb, yb, lengths = make_batch(name, [3], rng)
    at20 = make_batch(name, [20], random.Random(0))[0].shape[1]
    print(f"{name:9s} {task.doc:42s} in {xb[0].tolist()}")
    print(f"{'':9s} {'':42s} out {yb[0].tolist()}  -> {decode(name, yb[0])}")
    print(f"{'':9s} {'':42s} length at 20 bits: {at20}")

# %% [markdown]
# The binary tasks are the paper's; decimal `add` and `mul` come from its follow-up (Price et al.
# 2016). `make_batch` computes every answer with Python integers, so the targets are exact at any
# length.
#
# ## Why length generalisation is the test
#
# Fitting the training data says little here. There are $2^{40} \approx 10^{12}$ pairs of 20-bit
# numbers; a network sees a vanishing share of them, so doing well on fresh 20-bit inputs already
# means it found some rule. But many rules agree on every input up to 20 bits and differ beyond:
# "add digit by digit with a carry" and "add digit by digit, but give up on positions you never
# saw" are the same function on the training distribution. Only inputs *longer* than any in
# training tell an algorithm from a pattern that happens to fit. The paper therefore trains on
# numbers of up to 20 bits and tests at 25, 100, 200 and 2000 bits, counting an answer as right
# only when *every* output symbol is right.

# %%
pairs = 2 ** (2 * 20)
seen = 32 * 200_000  # batch 32 for 200,000 steps: a long training run
print(f"20-bit operand pairs: {pairs:.3e}; a long run sees at most {seen:.1e} of them "
      f"({seen / pairs:.1e} of the space)")
for bits in (20, 25, 100, 200, 2000):
    print(f"{bits:5d}-bit operands -> input length {length_for(bits)}")

# %% [markdown]
# ## A baseline: the sequence-to-sequence LSTM
#
# Before the Neural GPU, the standard network for sequence tasks was the LSTM (Hochreiter &
# Schmidhuber 1997), used as an *encoder–decoder* (Sutskever et al. 2014): one LSTM reads the input
# symbol by symbol into a state vector, a second LSTM starts from that state and emits the answer
# symbol by symbol, each time fed the symbol it emitted before. One LSTM step maps the input `x`
# and the state `(h, c)` to a new state:
#
# $$\begin{aligned}
# i &= \sigma(W_{ii} x + W_{hi} h + b_i), & f &= \sigma(W_{if} x + W_{hf} h + b_f), \\
# g &= \tanh(W_{ig} x + W_{hg} h + b_g), & o &= \sigma(W_{io} x + W_{ho} h + b_o), \\
# c' &= f \odot c + i \odot g, & h' &= o \odot \tanh(c').
# \end{aligned}$$
#
# The cell `c` is a memory that the forget gate `f` keeps and the input gate `i` writes; `h` is what
# the rest of the network sees. Written from scratch, and checked against the encoder of the
# library's baseline (a `torch.nn.LSTM`) on the same weights:

# %%
def lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step; PyTorch stacks the four gates' weights in the order i, f, g, o."""
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


lstm = LSTMBaseline(hidden=32)
enc = lstm.encoder
xb, _, lengths = make_batch("badd", [5, 5], random.Random(1))
emb = lstm.enc_embedding(xb).detach()  # [B, n, embed]
h = c = torch.zeros(2, 32)
states = []
for t in range(xb.shape[1]):
    h, c = lstm_step(emb[:, t], h, c, enc.weight_ih_l0, enc.weight_hh_l0, enc.bias_ih_l0, enc.bias_hh_l0)
    states.append(h)
with torch.no_grad():
    library_states, _ = enc(emb)
torch.testing.assert_close(torch.stack(states, dim=1).detach(), library_states)
print("from-scratch LSTM matches torch.nn.LSTM over", xb.shape[1], "steps; max abs difference",
      f"{(torch.stack(states, dim=1) - library_states).abs().max().item():.1e}")

# %% [markdown]
# A plain encoder–decoder must squeeze both numbers through one state vector and recall them in
# order, digit after digit. *Attention* (Bahdanau et al. 2015; here Luong et al.'s "general" score)
# lets each decoder step look back at every encoder state and take a weighted mix of them, so the
# decoder can fetch the two digits it needs now. The paper compares against exactly this,
# "LSTM + attention". Our baseline is `ngpu_lite.results.baselines.LSTMBaseline(attention=True)`; the
# shipped one reads the input left to right, and `bidirectional=True` (the model built below, used
# when you retrain) runs the encoder in both directions so each encoder state knows where it sits
# in the input. It is trained with teacher forcing (the decoder is fed the true previous symbol)
# and answers by greedy decoding.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
model = LSTMBaseline(hidden=128, attention=True, bidirectional=True)
print("parameters:", sum(p.numel() for p in model.parameters()))
print("logits for a batch of two 5-bit additions:", tuple(model(xb, lengths).shape))

# %% [markdown]
# ## Training on up to 20 bits
#
# `train_baseline` draws fresh random additions at every step, with a curriculum as the Neural GPU
# gets: it starts with up to 4-bit numbers and allows one more bit whenever the training batches
# at the current longest size are above 90% exact, up to 20 bits. Fitting all 20 bits takes about
# 25 minutes on one laptop CPU thread, so the book ships an LSTM + attention trained that way
# (`ngpu_lite/checkpoints/lstm-badd.pt`, the baseline row of the results table) and loads it here.
# Set `RETRAIN = True` to train one here instead, for a fixed number of steps (about two minutes;
# it will not reach 20 bits in that time, which is itself worth seeing).

# %%
RETRAIN = False
shipped = SHIPPED_DIR / "lstm-badd.pt"
start = time.time()
if shipped.exists() and not RETRAIN:
    model = load_baseline(shipped)
    info = json.loads(shipped.with_suffix(".json").read_text())
    reached, trained_steps = info["reached_digits"], info["steps"]
    print(f"loaded the shipped LSTM + attention: {trained_steps} steps, "
          f"{info['wall_seconds'] / 60:.0f} minutes of training; the curriculum reached {reached} bits")
else:
    history = train_baseline(model, "badd", max_digits=20, steps=pick(40, 3000), batch=32, lr=0.005,
                             seed=0)
    reached, trained_steps = history[-1]["cur"], len(history)
    print(f"{trained_steps} steps in {time.time() - start:.0f} s; the curriculum reached {reached} bits")

# %% [markdown]
# Now the measurement that matters: the share of *exactly* right answers on random additions at
# many lengths, inside and beyond the lengths the curriculum reached. The test inputs come from
# an evaluation stream separate from training's random stream, so they are drawn independently of
# the training data; that does not make them unseen. Whether a test input also occurred in training depends
# on how many inputs of its width exist, which the cell after the table counts.

# %%
bits = [2, 4, 6, 8, 10, 12, 15, 20, 25, 30, 40]
samples = pick(32, 512)
results = []
for d in bits:
    res = evaluate_baseline(model, "badd", d, samples=samples, seed=1000 + d)
    results.append(res)
    print(f"{d:3d} bits (length {res['length']:3d}): exact {res['exact']:6.1%}   "
          f"per symbol {res['per_symbol']:6.1%}")
fit = [d for d, r in zip(bits, results, strict=True) if r["exact"] >= 0.9]
gone = [d for d, r in zip(bits, results, strict=True) if r["exact"] == 0 and d > reached]
print(f"\ncurriculum reached {reached} bits; at least 90% exact up to "
      f"{max(fit) if fit else 'no tested length'} bits; no exact answer from "
      f"{min(gone) if gone else 'no tested length'} bits on"
      + (f", where {results[bits.index(min(gone))]['per_symbol']:.0%} of symbols are still right"
         if gone else ""))

# %% [markdown]
# How many of these test inputs can training have seen? At `d` bits there are $4^d$ operand
# pairs. The shipped run drew batches of 64 at every one of its training steps, a width from
# 1 bit up to the curriculum's current length each step, and half the time that length itself;
# its curriculum started at 4 bits, so every width up to 4 was drawn with probability at least
# $1/2 \cdot 1/20$ at every step. That gives a floor on how many training inputs had 2 or 4 bits,
# and the total number of inputs drawn gives a ceiling for every width:

# %%
train_batch = info["recipe"]["batch"] if shipped.exists() and not RETRAIN else 32
drawn = trained_steps * train_batch  # every training input, of all widths
print(f"training drew {drawn:,} inputs in all ({trained_steps:,} steps of {train_batch})")
print(f"{'bits':>4s} {'operand pairs':>14s} {'share of them seen in training (expected)':>42s}")
for d in bits:
    space = 4**d
    floor = trained_steps * train_batch / (2 * 20) if d <= 4 else 0  # inputs of exactly d bits
    seen_lo = 1 - (1 - 1 / space) ** floor  # expected share of pairs met at least once
    seen_hi = min(1.0, drawn / space)
    if d > 20:
        span = "none: longer than any training input"
    elif floor:
        span = f"at least {seen_lo:.1%}"
    else:
        span = f"at most {seen_hi:.2g}" if seen_hi < 1 else "not bounded by this count"
    print(f"{d:4d} {space:14.3g} {span:>42s}")

# %% [markdown]
# So the rows of 2 and 4 bits test inputs that training (almost surely) saw, many times: there
# they measure fitting, not generalisation (and with 16 or 256 pairs, the test repeats them).
# From 15 to 20 bits the ceiling shows that at most a tiny share of the test inputs can have
# occurred in training. In between, overlap is possible: the printed ceiling is all this count
# can say. Beyond 20 bits, the longest training width, no test input can have been seen.

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
# right symbols first, as large hollow squares, so the exact answers (filled dots) stay visible
# inside them where the two coincide
ax.plot(bits, [r["per_symbol"] for r in results], "s--", ms=10, mfc="none", color="C1",
        label="right symbols (hollow squares)")
ax.plot(bits, [r["exact"] for r in results], "o-", ms=5, color="C0", label="exact answers (dots)")
ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
ax.axvspan(0, reached, color="grey", alpha=0.15, label=f"lengths reached in training (≤ {reached} bits)")
ax.axvline(20, color="k", lw=0.8, ls=":", label="the paper's training limit, 20 bits")
ax.set_xlabel("operand length (bits)")
ax.set_ylabel("share on fresh inputs")
ax.set_ylim(-0.03, 1.03)
ax.set_title(f"LSTM + attention on binary addition ({trained_steps} training steps)")
ax.legend(fontsize=8, loc="center right")
print("saved", savefig(fig, "ch01_lstm_length.png").name)
plt.show()

# %% [markdown]
# Up to the trained length the two curves lie on top of each other near 100% (the dots sit inside
# the squares); beyond it they split. What the measurement shows, in one line:

# %%
longest = max(d for d in bits if d <= reached)
after = [d for d in bits if d > reached]
print(f"What we saw: the LSTM + attention, whose curriculum reached {reached} bits, is "
      f"{results[bits.index(longest)]['exact']:.0%} exact at {longest} bits"
      + (f" and {results[bits.index(after[0])]['exact']:.0%} exact at {after[0]} bits, "
         f"{after[0] - longest} bits further, while {results[bits.index(after[0])]['per_symbol']:.0%} "
         f"of its symbols there are still right" if after else "")
      + ".")

# %% [markdown]
# **Why.** The model fits the lengths it was trained on and loses exactness as soon as it leaves
# them: the attention has learned where the digits of *trained* lengths sit, not a rule that holds
# at every length. The share of right *symbols* stays far from zero even where no answer is
# exactly right, because about half of every target is the PAD tail and a guessed bit is right
# half the time. Per-symbol accuracy hides the failure; exact accuracy does not. The paper's
# LSTM + attention fits 20 bits and shows the same shape beyond them: 100% exact at 20 bits, 73% at
# 25 and 0% at 100.
#
# Where does it go wrong? Take fresh additions a few bits longer than the curriculum reached and
# find, in each wrong answer, the first wrong output position (position 0 is the lowest digit):

# %%
rng = random.Random(7)
d = min(reached + 4, 40)
xb, yb, lengths = make_batch("badd", [d] * pick(64, 512), rng)
pred = model.predict(xb, lengths)
wrong = pred != yb
first = [int(row.nonzero()[0]) for row in wrong if row.any()]
print(f"{d}-bit additions: {len(first)} of {len(yb)} answers wrong")
if first:
    share = sum(f >= reached for f in first) / len(first)
    print(f"first wrong position: median {sorted(first)[len(first) // 2]}, lowest {min(first)}; "
          f"{share:.0%} of wrong answers are right at every position below {reached}, "
          f"the length the curriculum reached")
for i in range(3):
    want, got = decode("badd", yb[i]), decode("badd", pred[i])
    marks = "".join(" " if p == q else "^" for p, q in zip(got.rjust(len(want)), want, strict=False))
    print(f"want {want}\ngot  {got.rjust(len(want))}\n     {marks}")

# %% [markdown]
# In one line, against the length the curriculum reached:

# %%
if first:
    median_first = sorted(first)[len(first) // 2]
    print(f"What we saw: at {d} bits {len(first)} of {len(yb)} answers are wrong, and the first "
          f"error sits at position {median_first} in the median wrong answer, "
          + (f"{reached - median_first} positions below the {reached} bits the curriculum reached: "
             "the longer input disturbs digits the model gets right in training"
             if median_first < reached else
             f"at or above the {reached} bits the curriculum reached: the low digits survive"))
else:
    print(f"What we saw: every {d}-bit answer is right.")

# %% [markdown]
# **Why.** If the LSTM had learned "add digit `k` of each operand, with the carry", a longer input
# would only add new positions at the top, and the low digits would still come out right. Errors
# that begin below the trained length mean the longer input has disturbed even the digits the model
# handled in training. Its attention finds "the `k`-th digit
# of each operand" through encoder states that also encode how far into the input they sit, and
# a longer input moves them into ranges never seen in training. The Neural GPU
# (chapter 3) takes a different route: it runs `n` steps of the *same* local, convolutional rule
# over the whole input, so a rule that works at one place works at any place and any length.
#
# ## Summary
#
# - The paper's tasks map symbol sequences to symbol sequences: digits are `d + 1`, PAD is 0,
#   numbers are lower-endian and two operands are joined by a separator; `d`-bit operands give
#   inputs of length `2d + 1`.
# - The test of a learned algorithm is *length generalisation*: exact answers on fresh inputs
#   longer than any seen in training. Exact accuracy, every symbol right, is the measure.
# - An LSTM step, written from scratch, matches `torch.nn.LSTM`; the library's baseline
#   `LSTMBaseline` is an encoder–decoder with optional attention, trained by `train_baseline`.
# - Measured here on fresh inputs, the LSTM + attention answers the additions its curriculum
#   reached and fails a few bits beyond them, with its first errors below the trained length: it
#   fits, it does not generalise.
#
# ## Exercises
#
# 1. Train the baseline without attention (`attention=False`) for the same number of steps. How
#    far does the curriculum get, and how does exact accuracy against length compare?
# 2. Give the training more time (say 20 minutes, `steps=30_000`). How far does the curriculum
#    get now, and how many bits beyond it does the model still answer?
# 3. Encode the numbers big-endian instead (reverse each operand and the answer). Why would that
#    be harder for the decoder, which must emit the lowest digit first in the lower-endian form?
# 4. Train the baseline on `copy` and `reverse` up to 20 bits and measure it at 40 bits. Which of
#    the two is harder for an encoder–decoder, and why?
# 5. Why is per-symbol accuracy a misleading measure for addition? Compute the per-symbol accuracy
#    of a "model" that always answers PAD at 20 bits.
#
# Answers: `answers/01_answers.ipynb`.
