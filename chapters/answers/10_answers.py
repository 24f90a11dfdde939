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
# # Answers to chapter 10: Beyond the paper
#
# One answer per exercise of chapter 10. Exercises 1, 2 and 5 train: the `fast` preset (an
# improved Neural GPU (2017)), with and without its diagonal gates, and the `paper` preset (a
# Neural GPU (2016)), with and without the improved optimiser. The chapter gives each run two
# minutes; here every run gets `STEPS` steps (a few with `NGPU_FAST=1`), a few hundred, so that
# nine runs fit in the notebook's three minutes. That is early in training: no run gets near
# 20-digit sums, and each answer says what so short a run can show and how long the full
# comparison would take. Exercises 3 and 4 need no training.

# %%
import statistics
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from ngpu_lite import PRESETS, evaluate, pretrained, train
from ngpu_lite.book import pick, savefig, seed_everything
from ngpu_lite.interfaces.explore import trace
from ngpu_lite.model import model_name
from ngpu_lite.model.cgru import cgru, diagonal_shift

torch.set_num_threads(1)  # small models: one thread is as fast and leaves the rest of the CPU free
seed_everything(0)
T0 = time.time()

STEPS = pick(10, 300)
SAMPLES = pick(16, 128)
FAST_MODEL = dict(PRESETS["fast"].model)
print("fast preset's model:", FAST_MODEL)

# %%
# NBVAL_CHECK_OUTPUT
from ngpu_lite.book import fingerprint  # noqa: E402

print(fingerprint("badd"))  # the shipped models this notebook's outputs come from

# %% [markdown]
# ## Exercise 1
#
# > Turn the diagonal gates off (`train("badd", "fast", model=dict(w=1, m=48, l=1, hard=True,
# > diagonal=False, dropout_on="candidate"), ...)`) and compare digits reached and the exact rate
# > at 20 digits with the same budget and seed. Repeat with three seeds before drawing a
# > conclusion.
#
# **Answer.** Six runs: seeds 0, 1 and 2, each with the diagonal gates on (the `fast` preset as it
# is) and off, everything else equal, `STEPS` steps each. Both arms are improved Neural GPUs
# (2017) in every other respect (`model_name` names a model by its architecture family; it prints
# the same for both). Each run is measured on the same fresh cases: at the length its curriculum
# reached and at 20 digits.

# %%
def measure(res, tag: str) -> dict:
    """Exact and per-symbol rates of a run's model where its curriculum is and at 20 digits."""
    there = evaluate(res.model, "badd", res.digits, SAMPLES, seed=10_000 + res.digits)
    at20 = evaluate(res.model, "badd", 20, SAMPLES, seed=10_020)
    last = res.history[-1] if res.history else {}
    out = {"tag": tag, "steps": res.steps, "seconds": res.seconds, "digits": res.digits,
           "there": there["exact"], "at20": at20["exact"], "sym20": at20["per_symbol"],
           "loss": last.get("loss", float("nan")), "name": model_name(res.model.config)}
    print(f"{tag:28s} ({out['name']}): {res.steps} steps in {res.seconds:4.1f} s, curriculum at "
          f"{res.digits} digits, exact there {out['there']:6.1%}; at 20 digits exact "
          f"{out['at20']:5.1%}, per symbol {out['sym20']:5.1%}; last epoch's loss {out['loss']:.3f}")
    return out


diag = {}
runs = {}
for seed in (0, 1, 2):
    for on in (True, False):
        res = train("badd", "fast", seed=seed, steps=STEPS, progress=False,
                    model=FAST_MODEL | {"diagonal": on})
        runs[seed, on] = res
        diag[seed, on] = measure(res, f"seed {seed}, diagonal {'on' if on else 'off'}")

# %%
first = PRESETS["fast"].start_digits
for seed in (0, 1, 2):
    on, off = diag[seed, True], diag[seed, False]
    better = "on" if on["there"] > off["there"] else "off" if off["there"] > on["there"] else "neither"
    print(f"seed {seed}: digits reached on/off {on['digits']}/{off['digits']}; exact at "
          f"{on['digits']}/{off['digits']} digits {on['there']:.0%}/{off['there']:.0%}; last loss "
          f"{on['loss']:.3f}/{off['loss']:.3f}: better fit with the diagonal {better}")
wins = sum(diag[s, True]["loss"] < diag[s, False]["loss"] for s in (0, 1, 2))
moved = [f"seed {s} {'on' if o else 'off'}" for (s, o), d in diag.items() if d["digits"] > first]
print(f"lower last loss with the diagonal gates on in {wins} of 3 seeds; curriculum past its first "
      f"length ({first} digits) in: {moved or 'no run'}")
print("seconds per step, mean over seeds: on "
      f"{statistics.mean(diag[s, True]['seconds'] / diag[s, True]['steps'] for s in (0, 1, 2)):.3f}, "
      f"off {statistics.mean(diag[s, False]['seconds'] / diag[s, False]['steps'] for s in (0, 1, 2)):.3f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for seed in (0, 1, 2):
    for on in (True, False):
        h = runs[seed, on].history
        ax.plot([r["step"] for r in h], [r["loss"] for r in h], "o-" if on else "s--", ms=3,
                color=f"C{seed}", alpha=1 if on else 0.6,
                label=f"seed {seed}, diagonal {'on' if on else 'off'}")
ax.set_xlabel("training step")
ax.set_ylabel("training loss per epoch")
ax.set_title(f"{diag[0, True]['name']}, fast preset, diagonal gates on and off", fontsize=9)
ax.legend(fontsize=7, ncol=2)
print("saved", savefig(fig, "ans10_diagonal_off.png").name)
plt.show()

# %% [markdown]
# The exercise's two measures do not separate the arms at this budget: 20-digit sums are far out
# of reach of every run after `STEPS` steps, and the curriculum, which moves at most once per
# 50-step epoch and only when an epoch's error falls below 15%, has barely started (the lines
# above say where each run is). What does separate them early is how well each fits the length
# it is training on. In the run stored here, the loss curves and the exact rates at the
# curriculum's length favour the diagonal gates in the seeds counted above, at about the same cost
# per step (printed; the shift moves values, it has no weights and almost no arithmetic, and the
# differences between runs are those of a shared machine). That fits what the
# chapter showed: with the gates, moving a value one cell per step is the default, and without
# them the convolution must learn to copy it, through the candidate and an open gate. Three seeds
# agreeing is a first result, not a verdict on the final model: whether the gates matter for
# *reaching* 20 digits and for length generalisation needs the chapter's two minutes or more per
# run (six runs: twelve minutes of one CPU thread), and for 2000-digit sums the full recipe
# (about ten minutes per seed, chapter 6).
#
# ## Exercise 2
#
# > Give the paper's model the improved optimiser only: `train("badd", "paper",
# > optimizer="adamax", lr=0.01, eps=1e-8, ...)`. Which part of the gap in the experiment does
# > this close?
#
# **Answer.** The chapter's gap has two parts: the improved recipe takes more steps in the same
# time (each of its steps costs less), and it may make more progress per step. An optimiser
# changes only the second. So we give the Neural GPU (2016) (`paper` preset, seed 0) `STEPS`
# steps with its own optimiser (Adam, lr $10^{-3}$) and with AdaMax at lr 0.01, and set both
# beside the `fast` run of seed 0 of exercise 1, which had the same number of steps. Every model
# answers the same fresh 2-digit (the `paper` curriculum's first length) and 3-digit sums.

# %%
opt_arms = {
    "paper (Adam 1e-3)": train("badd", "paper", seed=0, steps=STEPS, progress=False),
    "paper + AdaMax 0.01": train("badd", "paper", seed=0, steps=STEPS, progress=False,
                                 optimizer="adamax", lr=0.01, eps=1e-8),
    "fast (exercise 1, seed 0)": runs[0, True],
}
opt_rows = {}
print(f"after {STEPS} steps each, on {SAMPLES} fresh sums per length:")
for tag, res in opt_arms.items():
    row = {"name": model_name(res.model.config), "s_per_step": res.seconds / res.steps}
    for d in (2, 3):
        e = evaluate(res.model, "badd", d, SAMPLES, seed=10_100 + d)
        row[d] = (e["exact"], e["per_symbol"])
    opt_rows[tag] = row
    print(f"{tag:26s} ({row['name']}): {row['s_per_step']:.3f} s per step, epochs recorded: "
          f"{len(res.history)}, curriculum at {res.digits} digits; exact at 2 digits {row[2][0]:5.1%}, at 3 "
          f"digits {row[3][0]:5.1%} (per symbol {row[3][1]:5.1%})")

# %%
p0, p1, f0 = (opt_rows[t] for t in opt_arms)
for d in (2, 3):
    gap = f0[d][0] - p0[d][0]
    moved = p1[d][0] - p0[d][0]
    print(f"{d} digits: gap in exact answers after {STEPS} steps, fast minus paper {gap:+.1%}; "
          f"AdaMax moves the paper model by {moved:+.1%}"
          + (f", {moved / gap:.0%} of the gap" if gap > 0 else ""))
print(f"time per step, paper with AdaMax / fast: {p1['s_per_step'] / f0['s_per_step']:.1f}x "
      "(the optimiser does not change what a step costs)")

# %% [markdown]
# Read the two lengths apart. At 2 digits, the first length of the `paper` curriculum and one the
# `fast` run also trains on, the comparison is like for like; there the AdaMax line says how much of
# the gap in fitting per step the optimiser closes, and in the run stored here it closed most or all
# of it. At 3 digits it closed none in the stored run: neither `paper` arm had reached 3 digits,
# because the `paper` curriculum starts at 2 digits, moves by half a digit at a time and only
# between its 200-step epochs (the epochs and lengths are printed), while the `fast` one starts at 3
# digits with 50-step epochs. That part of the gap belongs to the curriculum, not the optimiser. And
# the time line shows the part no optimiser can touch: a step of the Neural GPU (2016) still costs
# more than a step of the improved model (the ratio printed, at these short lengths; the chapter
# measured it at 20 digits, where the arithmetic weighs more), so in the chapter's equal-time
# comparison the paper recipe would still get fewer steps. So the optimiser closes the gap in
# progress per step at the lengths being trained, in this short run; the cost per step (the model)
# and the pace of the curriculum (the recipe) remain. Two cautions: `STEPS` steps are one or two of
# the paper recipe's epochs, so its learning-rate rule has acted at most once; and AdaMax at 0.01 is
# the improved recipe's setting for the improved model, which may be too high for the 2016 model
# over a long run, which these steps cannot show. The chapter's two minutes per arm would be the
# next measurement (four minutes for the two `paper` arms).
#
# ## Exercise 3
#
# > In the tiny example, give the update gate a bias of 0.5 instead of 1 ($u = 0.75$). What happens
# > to the moving 1 after four steps, and where do the values that leave the diagonal come from?
#
# **Answer.** The chapter's tiny image: $m = 6$ channels, 11 cells, a 1 in every channel of cell 5,
# gate weights 0. Now the update-gate bias is 0.5, so $u = \sigma_h(0.5) = 0.75$ everywhere; the
# reset gate keeps its bias 1 ($r = 1$). One step is
# $u \odot \mathrm{shift}(s) + (1 - u) \odot c$: three quarters of every cell is the shifted old
# state, a quarter the candidate $c = \tanh_h(U * s + B)$. We run it twice: with a random
# candidate kernel $U$ (bias $B = 0$), and with $U = 0$, which turns the candidate off.

# %%
# NBVAL_CHECK_OUTPUT
m_tiny, n_tiny, steps = 6, 11, 4
gw = torch.zeros(2 * m_tiny, m_tiny, 1, 3)
gb = torch.ones(2 * m_tiny)
gb[:m_tiny] = 0.5  # the update gate: u = hard_sigmoid(0.5) = 0.75; the reset gate stays at 1
torch.manual_seed(10)
cw, cb = torch.randn(m_tiny, m_tiny, 1, 3), torch.zeros(m_tiny)
start = torch.zeros(1, m_tiny, 1, n_tiny)
start[0, :, 0, 5] = 1.0
diagonal_cells = [[5 + t, 5 + t, 5 - t, 5 - t, 5, 5] for t in range(steps + 1)]  # where the 1 goes

frames = {}
for label, kernel in (("random candidate", cw), ("candidate off (U = 0)", torch.zeros_like(cw))):
    s, frames[label] = start, [start[0, :, 0]]
    for _ in range(steps):
        s = cgru(s, gw, gb, kernel, cb, hard=True, diagonal=True)
        frames[label].append(s[0, :, 0])
    f = frames[label][-1]
    on = torch.tensor([f[c, diagonal_cells[steps][c]].item() for c in range(m_tiny)])
    off = f.clone()
    for c in range(m_tiny):
        off[c, diagonal_cells[steps][c]] = 0
    cells = f.abs().sum(0).nonzero().flatten().tolist()
    print(f"{label}, after {steps} steps: on the diagonal {[round(v, 4) for v in on.tolist()]}; "
          f"largest |value| off it {off.abs().max():.4f}; nonzero cells {cells}")
print(f"0.75^{steps} = {0.75 ** steps:.4f}")

# %% [markdown]
# With the candidate off, the 1 moves along its diagonal as before and shrinks to
# $0.75^4 \approx 0.32$: each step keeps three quarters of the shifted value and writes a quarter
# of a candidate that is 0. Nothing leaves the diagonal, so every off-diagonal value of the first
# run comes from the candidate. We check it on the first step, where the state is still the single
# cell: the new state minus the kept part $u \odot \mathrm{shift}(s)$ is exactly
# $(1 - u) \odot c$, and $c$ is nonzero only in cells 4, 5 and 6, those whose $1 \times 3$ window
# reaches cell 5.

# %%
# NBVAL_CHECK_OUTPUT
u = 0.75
kept = u * diagonal_shift(start)
cand = F.conv2d(start, cw, cb, padding=(0, 1)).clamp(-1, 1)  # r = 1: the candidate sees s itself
step1 = cgru(start, gw, gb, cw, cb, hard=True, diagonal=True)
torch.testing.assert_close(step1 - kept, (1 - u) * cand)
print("step 1 - u * shift(s) == (1 - u) * candidate: yes")
print("cells where the candidate is nonzero:", cand[0].abs().sum(0)[0].nonzero().flatten().tolist())
print(f"candidate values written into channel 0 (a 'moving up' channel), cells 4-6: "
      f"{[round(v, 3) for v in ((1 - u) * cand)[0, 0, 0, 4:7].tolist()]}")

# %%
fig, axes = plt.subplots(2, steps + 1, figsize=(12, 4.2), sharey=True)
vmax = max(f.abs().max().item() for fs in frames.values() for f in fs)
for row, (label, fs) in enumerate(frames.items()):
    for t, (ax, f) in enumerate(zip(axes[row], fs, strict=True)):
        ax.imshow(f, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
        ax.set_title(f"{label}, step {t}", fontsize=8)
        ax.set_xticks(range(0, n_tiny, 2))
    axes[row, 0].set_ylabel("channel")
for ax in axes[1]:
    ax.set_xlabel("cell")
fig.suptitle("Diagonal gates with u = 0.75: the moving 1 fades, the candidate spreads it", fontsize=10)
fig.tight_layout()
print("saved", savefig(fig, "ans10_update_bias.png").name)
plt.show()

# %% [markdown]
# So after four steps the 1 has moved as far as with $u = 1$ (four cells up in channels 0 and 1,
# four down in 2 and 3, still in cell 5 in 4 and 5), but it arrives at about a third of its size,
# plus whatever the candidate wrote onto the same cell. The values off the diagonal come from the
# quarter of each step that the candidate writes: the candidate is a $1 \times 3$ convolution that
# mixes all channels, so at each step it copies what a cell and its two neighbours hold into every
# channel of that cell; the shift then moves those copies on like everything else. That is why the
# nonzero region grows by exactly one cell per step on each side (cells 1 to 9 after four steps),
# the reach of one window, and why a gate that is not fully closed both weakens what it carries
# and smears it over its neighbours. A trained model closes $u$ to exactly 1 where it must carry a
# value unchanged, which a hard sigmoid can do and a sigmoid cannot (exercise 4).
#
# ## Exercise 4
#
# > Show that the saturation cost has zero gradient for pre-activations inside $[-1, 1]$ and that
# > the hard sigmoid's gradient is zero outside it. Why does a network with hard units need such a
# > cost?
#
# **Answer.** The cost of a pre-activation $x$ is $\max(0, |x| - 1)$ (averaged over the units;
# `ngpu_lite.model.cgru.saturation_cost`), and the hard sigmoid is $\max(0, \min(1, 0.5x + 0.5))$, linear
# exactly on $[-1, 1]$. Their gradients by autograd at points inside and outside the range (the
# kinks at $\pm 1$ left out, where the gradient is one-sided):

# %%
# NBVAL_CHECK_OUTPUT
xs = torch.tensor([-3.0, -1.5, -0.99, -0.5, 0.0, 0.5, 0.99, 1.5, 3.0], requires_grad=True)
grad_cost = torch.autograd.grad(F.relu(xs.abs() - 1).sum(), xs)[0]
grad_sig = torch.autograd.grad((0.5 * xs + 0.5).clamp(0, 1).sum(), xs)[0]
grad_tanh = torch.autograd.grad(xs.clamp(-1, 1).sum(), xs)[0]
print(f"{'x':>6s} {'d cost/dx':>10s} {'d hard sigmoid/dx':>18s} {'d hard tanh/dx':>15s}")
for x, gc, gs, gt in zip(xs.tolist(), grad_cost.tolist(), grad_sig.tolist(), grad_tanh.tolist(),
                         strict=True):
    print(f"{x:6.2f} {gc + 0.0:10.1f} {gs:18.2f} {gt:15.1f}")  # + 0.0: no "-0.0"

# %% [markdown]
# The two are complements: inside $[-1, 1]$ the unit passes gradient and the cost does not;
# outside, the unit passes none and the cost does, with slope $\pm 1$ towards the range. That is
# why the cost is needed. A hard unit whose input has left the linear range is flat: the loss
# cannot tell it to come back, however wrong its output is, because no gradient reaches its
# weights through it (a sigmoid's gradient is small there, but never zero). Without the cost, a
# unit pushed out by one large update can stay out for good, a dead gate. The cost gives exactly
# those units a way back, and does nothing to units in range, so it does not fight the loss where
# the loss can act. A single gate shows it: one weight $w$, input 1, gate $\sigma_h(w)$, loss
# $(\sigma_h(w) - 0.5)^2$, started saturated at $w = 3$ (the gate at exactly 1), trained by AdaMax
# at lr 0.01 with and without the cost at the `fast` preset's weight $10^{-4}$:

# %%
# NBVAL_CHECK_OUTPUT
def train_gate(weight: float, steps: int = 600) -> list[float]:
    w = torch.tensor(3.0, requires_grad=True)
    opt = torch.optim.Adamax([w], lr=0.01)
    path = []
    for _ in range(steps):
        gate = (0.5 * w + 0.5).clamp(0, 1)
        loss = (gate - 0.5) ** 2 + weight * F.relu(w.abs() - 1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(w.item())
    return path


for weight in (0.0, 1e-4):
    path = train_gate(weight)
    gate = min(1.0, max(0.0, 0.5 * path[-1] + 0.5))
    back = next((i + 1 for i, v in enumerate(path) if v < 1), None)
    print(f"saturation weight {weight:g}: w {path[0]:.3f} after one step, {path[-1]:.3f} after "
          f"{len(path)}; gate {gate:.3f}; back inside [-1, 1] "
          + (f"after {back} steps" if back else "never"))

# %% [markdown]
# Without the cost the weight never moves: the gate sits at 1, its loss stays at 0.25, and the
# gradient is exactly 0. With the cost it walks back into the range and then the loss takes over
# and sets the gate to 0.5. The weight $10^{-4}$ looks too small to matter, but AdaMax divides
# each gradient by its own running size, so a gradient that is the only one a weight receives
# moves it at the full learning rate however small it is; where the loss does pass gradient, the
# cost's share is negligible. The cost is not a ban on saturation: a trained model saturates many
# gates on purpose, since $u = 1$ exactly is what carries a value unchanged (exercise 3). The
# shipped addition model on one 20-bit sum:

# %%
add = pretrained("badd", device="cpu")
tr = trace(add, "badd", "10110011100011110000", "01101100111001001111", dtype=torch.float32)
u_all = tr.u.flatten()
print(f"shipped badd ({model_name(add.config)}), one 20-bit sum: update gates exactly 1 "
      f"{(u_all == 1).float().mean():.0%}, exactly 0 {(u_all == 0).float().mean():.0%}, "
      f"in between {((u_all > 0) & (u_all < 1)).float().mean():.0%} of {u_all.numel():,} values")

# %% [markdown]
# So the trained model keeps a large share of its update gates exactly at a limit (the printed
# shares), where neither the loss nor the unit passes gradient, and the saturation cost, at its
# small weight, is what can still move them when training needs them back.
#
# ## Exercise 5
#
# > The follow-up trained without a curriculum. Train the `fast` preset with `curriculum=False`
# > (every length up to 20 digits in every step) for the same budget and compare the exact rate
# > at 20 digits with the curriculum run.
#
# **Answer.** The curriculum run is seed 0 of exercise 1 (diagonal gates on, the `fast` preset
# as it is); the run without a curriculum gets the same seed and the same wall time, the seconds
# that run took. Chapter 6's answers asked the same question of the same preset (exercise 4
# there); this is a second draw.

# %%
cur = runs[0, True]
flat = train("badd", "fast", seed=0, minutes=cur.seconds / 60, progress=False, curriculum=False)
flat_m = measure(flat, "curriculum=False")
cur_m = diag[0, True]
print(f"same wall time ({cur.seconds:.0f} s): steps {cur.steps} with the curriculum, {flat.steps} "
      f"without; at 20 digits exact {cur_m['at20']:.1%} / {flat_m['at20']:.1%}, per symbol "
      f"{cur_m['sym20']:.1%} / {flat_m['sym20']:.1%}")
L20 = 2 * 20 + 1
print(f"for scale: the PAD tail right and every answer bit a coin toss gives "
      f"{(L20 - 21 + 21 / 2) / L20:.0%} of the symbols of a 20-digit sum")
print(f"notebook ran in {time.time() - T0:.0f} s")

# %% [markdown]
# Neither run answers 20-digit sums after so little training, so the exact rate at 20 digits cannot
# rank them yet; the per-symbol rates sit near the rate of a model that gets the PAD tail right and
# guesses the answer bits (printed for scale), and a difference of a point or two between them is
# one seed's noise. What the lines do show is the trade: in the same time the run without a
# curriculum takes several times fewer steps, each on batches of every length up to 20 digits, while
# the curriculum run spends its steps on short sums it can already learn. The follow-up's authors
# trained that way, on every length in every step. On one CPU thread a fair comparison runs each arm
# until it answers 20-digit sums, over several seeds: the `fast` preset with its curriculum gets
# there in a few minutes (chapter 6), and the chapter's benchmark gave each seed up to 15 minutes to
# pass its longer tests, so budget that per seed and arm. Their recipe, the `dngpu` preset of
# chapter 7, trains without a curriculum and learns multiplication, so a curriculum is not
# necessary; whether it is faster here is what that longer run would measure.
