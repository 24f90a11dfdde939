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
# # 11. Many runs: seeds, grids and averaging
#
# Every model in this book so far is one training run. The paper's are not: Kaiser & Sutskever
# (2016) ran a grid of 729 runs for each task and kept the best; their code can also combine
# several trained models into an ensemble that sums their output probabilities (`--ensemble`),
# but it averages no weights. This chapter runs many training runs at once on
# [Ray](https://docs.ray.io) (Ray Tune schedules them, one per core, on a laptop or a cluster),
# measures how far runs of one recipe differ from seed to seed, and measures what selecting and
# averaging buy. Every model in this chapter is a small Neural GPU (2016) (the `tiny` preset,
# `w = 2`, `m = 16`), trained here.
#
# **On a CPU: about 7 minutes** in the default mode (measured: the stored run of this notebook on a
# 2-core machine). **Expect:** a Ray sweep of eight seeds of a small Neural GPU (2016) (two workers,
# both cores), how far its seeds land apart, and what picking, averaging and ensembling buy.
#
# **Learning objectives.** After this chapter you can
#
# 1. run a seed sweep (and a grid) with `ngpu_lite.interfaces.sweep` or `python -m ngpu_lite sweep`, and say
#    what a trial is: one ordinary `train` run, one thread, in its own resumable folder;
# 2. measure the spread between seeds of one recipe, and tell a recipe's effect from luck;
# 3. pick the best run by a stated criterion, and work out from a measured success rate $p$ how
#    many runs a grid needs, which is why the paper ran 729;
# 4. measure a weight average of the top $k$ runs (this project's choice, not the paper's: the
#    2016 code averages no weights) against the best single run and against an ensemble of their
#    predictions, and explain why averaging the weights of *independent* runs rarely helps;
# 5. run the same sweep on a Ray cluster (`ray start --head`, then `--address`).
#
# The sweep needs the optional extra: `pip install -e '.[sweep]'` (`make test` installs it).

# %%
import json
import math
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from ngpu_lite import evaluate, make_batch
from ngpu_lite.book import fast_mode, pick, savefig, seed_everything
from ngpu_lite.data.tasks import eval_stream
from ngpu_lite.interfaces.sweep import (
    average_top,
    best_run,
    describe_criterion,
    parse_grid,
    plot_spread,
    points,
    ranked,
    summary,
    sweep,
    table_markdown,
    trial_name,
)
from ngpu_lite.model import checkpoints

torch.set_num_threads(1)  # small models: one thread is as fast and leaves the rest of the CPU free
seed_everything(0)

# %% [markdown]
# ## One run is one draw
#
# A training run is a function of its recipe *and* of its seed: the seed picks the initial
# weights, the training examples and the dropout masks. Two runs of one recipe can end in
# different places, and for length generalisation the difference is often all or nothing: both
# fit the training lengths, one has learned the rule and the other a shortcut that breaks on
# longer inputs. If a recipe generalises in a share $p$ of its runs, the chance that at least one
# of $N$ independent runs does is
#
# $$P(\text{at least one of } N) = 1 - (1 - p)^N ,$$
#
# and the paper's way of reporting, "the best of many runs", measures that, not $p$.
#
# ## A sweep: many ordinary runs
#
# `ngpu_lite.interfaces.sweep.sweep(task, preset, seeds, grid, out, ...)` (and `python -m ngpu_lite sweep`)
# turns every combination of a grid's values and every seed into one *trial*: one ordinary
# `train` run, with the same recipe, checkpoints and log as `python -m ngpu_lite train`, in its own
# folder `out/trials/NAME`. Ray Tune runs the trials, one per CPU core; each trial sets torch to
# one thread, since several trials side by side use the cores better than one trial with many
# threads. A trial is scored on the same fresh cases from the evaluation stream as every other
# trial, 10 times longer than its training inputs by default (the paper's 20 and 200 bits).
# Running the sweep again resumes each trial where its last checkpoint stopped (a finished trial
# returns at once), and `out/sweep.json` records the options, so that another sweep cannot mix
# its trials into the folder.
#
# A grid is written as `key=v1,v2` for any field of the preset (`model.KEY` for a model option),
# and each value is parsed to the field's type. The paper's grid had 3 values for each of six
# settings:

# %%
# NBVAL_CHECK_OUTPUT
paper_grid = parse_grid(["lr=0.1,0.03,0.01", "model.init_scale=1.0,1.4,1.8", "pull_factor=1.1,1.2,1.3",
                         "threshold=0.1,0.15,0.2", "noise=0.0,0.0001,0.001",
                         "dropout=0.06,0.09,0.135"], "paper")
grid_points = points(paper_grid)
print(f"{len(grid_points)} grid points = 3^{len(paper_grid)}; the first two trials of seed 0:")
for point in grid_points[:2]:
    print(" ", trial_name(point, 0))

# %% [markdown]
# (Only the dropout values, 6%, 9% and 13.5%, are the paper's; it names the other five settings
# and their three values each, so the others here are illustrative. `model.init_scale` is the
# model's initialisation scale, 1.8 in the 2016 code.) Every one of the 729 points would run with
# each seed: with 8 seeds, 5,832 training runs.
#
# ## Eight seeds of one recipe
#
# Here is a small sweep: *reverse* with the `tiny` preset (inputs of at most 6 digits, a Neural
# GPU (2016) of `w = 2`, `m = 16`, one step per input cell), eight seeds, each stopped after 1,500
# steps or once 64 fresh 24-digit cases are exact, and scored on 64 fresh 24-digit cases, four
# times the training length. Four times, not the paper's ten: at ten times (60 digits) this small
# recipe's seeds all but fail alike, and the lottery, seeds of one recipe landing far apart, shows
# where some seeds hold and others do not (the cell after the table measures every seed at 60 too).
# With two workers it takes two to five minutes on a 2-core laptop CPU (fast mode: two seeds, 60
# steps).

# %%
TASK, PRESET = "reverse", "tiny"
SEEDS = pick([0, 1], list(range(8)))
STEPS = pick(60, 1500)
WORKERS = pick(1, 2)
DIGITS, SAMPLES = 24, 64  # the lottery's length: four times the training length
LONG = 60  # ten times the training length, the paper's ratio
# a temporary folder: give a folder of your own (say runs/ch11-sweep) to keep the trials and
# resume them when you run the cell again
SWEEP_DIR = Path(tempfile.mkdtemp(prefix="ch11-sweep-"))

res = sweep(TASK, PRESET, SEEDS, out=SWEEP_DIR, steps=STEPS, digits=DIGITS,
            samples=SAMPLES, workers=WORKERS)
runs = res["runs"]
print(f"{len(runs)} trials in {res['wall_minutes']:.1f} minutes, errors: {res['errors'] or 'none'}")

# %%
display(Markdown(table_markdown(res)))
fig = plot_spread(res)
print(savefig(fig, "ch11_spread.png").name)
plt.show()

# %% [markdown]
# **What we saw**, in words made from the records above (so they stay true when the cell is rerun):

# %%
rows = summary(runs)[0]
fit_all = [r["seed"] for r in runs if r["exact_train"] == 1.0]
general = [r["seed"] for r in runs if r["exact"] == 1.0]
failed = [r for r in runs if r["exact"] < 1.0]
p_hat = len(general) / len(runs)
print(f"{len(fit_all)} of {len(runs)} seeds are exact on every fresh {runs[0]['train_digits']}-digit "
      f"case (the training length): seeds {fit_all}")
print(f"{len(general)} of {len(runs)} are exact on every fresh {DIGITS}-digit case: seeds {general}")
if failed:
    print(f"the other {len(failed)}: exact at {DIGITS} digits {min(r['exact'] for r in failed):.0%} to "
          f"{max(r['exact'] for r in failed):.0%}, per symbol {min(r['per_symbol'] for r in failed):.0%} "
          f"to {max(r['per_symbol'] for r in failed):.0%}")
print(f"exact at {DIGITS} digits over the seeds: mean {rows['mean']:.1%}, standard deviation "
      f"{rows['sd']:.1%}")
at_long = {r["seed"]: evaluate(checkpoints.load(SWEEP_DIR / r["folder"], TASK)[0], TASK, LONG,
                               SAMPLES, seed=LONG) for r in runs}
print(f"the same runs at {LONG} digits (ten times the training length), exact per seed: "
      + ", ".join(f"{s}: {v['exact']:.0%}" for s, v in at_long.items()))

# %% [markdown]
# **Why.** Nothing in the recipe differs between these runs; only the seed does. Runs that fit the
# training lengths can still fail at longer ones, each at its own length: the lines above say how
# many held at four and at ten times the training length. A model that fits short inputs can do
# so with the rule (move symbol `k` to position `n - 1 - k`,
# which works at any length) or with something that only works up to the lengths it saw, and which
# of the two a run finds depends here on nothing but its seed: its initial weights and batches. The spread
# over seeds is the noise floor against which any change of recipe has to be measured: with eight
# seeds, a recipe that generalised in 1 of 8 runs and one that did in 3 of 8 cannot be told apart
# (chapter 4's ablation met the same limit).
#
# ## The best run, by a stated criterion
#
# Selecting is only honest when the criterion is stated before looking. `best_run` compares the
# runs' records key by key: by default the exact rate at the test length, then the per-symbol
# rate, then fewer steps.

# %%
best = best_run(runs)
print("criterion:", describe_criterion())
print("ranked:", ", ".join(f"{r['trial']} ({r['exact']:.0%}, {r['per_symbol']:.1%})" for r in ranked(runs)))
print(f"best: {best['trial']}, exact {best['exact']:.0%} on {best['samples']} fresh {DIGITS}-digit cases")

# %% [markdown]
# The best run was scored on the very cases it was chosen by, so its score is biased upwards: with
# many runs, one can look good on 64 cases by luck. Measure the chosen run again on *new* cases
# (another seed of the evaluation stream) before reporting it; a run that was exact on the 64
# cases it was chosen by may well miss a few of 256 others:

# %%
model_best, _ = checkpoints.load(SWEEP_DIR / best["folder"], TASK)
fresh = evaluate(model_best, TASK, DIGITS, 256, seed=7)
print(f"best run on 256 other fresh {DIGITS}-digit cases: exact {fresh['exact']:.1%}, "
      f"per symbol {fresh['per_symbol']:.2%}")

# %% [markdown]
# ## The paper's 729 runs
#
# How many runs does a recipe need? If one run in `p` generalises, $N$ runs contain at least one
# such run with probability $1 - (1 - p)^N$. Our measured rate, and rates as low as the paper's
# "usually only a few" of 729:

# %%
ns = list(range(1, 1001))
fig, ax = plt.subplots(figsize=(6, 3.2))
for p in sorted({max(p_hat, 1 / len(runs) / 2), 0.05, 0.01, 0.003}, reverse=True):
    label = f"p = {p:.3f}" + (" (measured here)" if p == p_hat else "")
    ax.plot(ns, [1 - (1 - p) ** n for n in ns], label=label)
ax.axvline(len(runs), color="0.6", ls=":")
ax.axvline(729, color="0.3", ls="--")
ax.text(729, 0.05, " 729 runs", fontsize=8)
ax.text(len(runs), 0.05, f" {len(runs)}", fontsize=8)
ax.set_xscale("log")
ax.set_xlabel("runs N")
ax.set_ylabel("P(at least one generalises)")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
print(savefig(fig, "ch11_runs_needed.png").name)
plt.show()
for p in (p_hat, 0.01, 0.003):
    if 0 < p < 1:
        need = math.ceil(math.log(0.05) / math.log(1 - p))
        print(f"p = {p:.3f}: {need} runs give a 95% chance of at least one that generalises")

# %% [markdown]
# A grid does two things at once: it tries recipes, and, since every grid point has a different
# seed path, it also draws many seeds. With 729 runs, a recipe region where one run in a hundred
# generalises is found with near certainty; with the 8 runs above it would be found 8% of the
# time. That is why the paper's numbers are "the best of a grid" and why they say little about
# what a single run of the same code will do: the honest summary of a recipe is its success rate
# over seeds, with the number of runs.
#
# ## What averaging buys
#
# Averaging *weights* is this project's choice, not the paper's: the 2016 code averages no
# weights, and its `--ensemble` sums the output probabilities of several models (an ensemble,
# measured after this). The shipped models of this book that average anything average the weights
# of the last 4 snapshots of one run (their manifests say when). `average_top(runs, k, ...)`
# takes the top `k` runs that share the best run's architecture, averages their weights
# (`ngpu_lite.model.checkpoints.average`), scores the average beside the best single run on the same
# fresh cases, and keeps it only if it scores at least as well. Here both are measured at
# ten times the training length (`LONG`, 60 digits), where single runs of this recipe fail most.

# %%
averages = {}
for k in sorted({1, 2, min(4, len(runs)), len(runs)}):
    a = average_top(runs, k, SWEEP_DIR, TASK, LONG, SAMPLES)
    averages[k] = a
    print(f"top {k} ({', '.join(a['members'])}): weight average exact {a['score_average']['exact']:.0%} "
          f"(per symbol {a['score_average']['per_symbol']:.1%}) vs best run "
          f"{a['score_best']['exact']:.0%}: {'kept' if a['kept'] else 'not kept'}")

# %% [markdown]
# For contrast, the other kind of averaging, the kind the 2016 code's `--ensemble` does: average
# the top `k` runs' *predictions* (their softmax outputs, symbol by symbol), an ensemble, which
# never mixes the weights.

# %%
x, y, lengths = make_batch(TASK, [LONG] * SAMPLES, eval_stream(123))
inside = torch.arange(y.shape[1])[None, :] < lengths[:, None]


def ensemble_exact(members: list[dict]) -> float:
    """Exact rate of the mean softmax of `members`' models on the batch above."""
    with torch.no_grad():
        probs = sum(checkpoints.load(SWEEP_DIR / r["folder"], TASK)[0](x, lengths).softmax(-1)
                    for r in members)
    ok = ((probs.argmax(-1) == y) | ~inside).all(1)
    return ok.float().mean().item()


for k in sorted(averages):
    members = ranked(runs)[:k]
    print(f"top {k}: ensemble of predictions exact {ensemble_exact(members):.0%}")

# %% [markdown]
# **What we saw**, from the scores above:

# %%
best_exact = averages[1]["score_best"]["exact"]
kept = [k for k, a in averages.items() if k > 1 and a["kept"]]
rates = ", ".join(f"top {k}: {a['score_average']['exact']:.0%}" for k, a in averages.items() if k > 1)
print(f"weight averages of k > 1 runs kept (at least as good as the best run's {best_exact:.0%}): "
      f"{kept or 'none'}; their exact rates: {rates}")
ensembles = {k: ensemble_exact(ranked(runs)[:k]) for k in averages}
print("ensembles of k > 1 runs as good as the best run:",
      [k for k in averages if k > 1 and ensembles[k] >= best_exact] or "none")
k_top = max(ensembles, key=lambda k: (ensembles[k], -k))
print(f"the best ensemble: top {k_top}, exact {ensembles[k_top]:.0%}, against {best_exact:.0%} for "
      f"the best of its members alone" + (" (better than any member)"
                                          if ensembles[k_top] > best_exact else ""))

# %% [markdown]
# **Why.** Two runs that both compute a rule need not compute it with the same units: channel 3
# of one run may do the job of channel 11 of another, and any permutation of a model's channels
# gives the same function with different weights. The mean of two such weight sets is a third
# model that computes neither, which is why the weight average of the best run with any other
# loses its exact answers. Weight averaging works between models that share their units' roles:
# checkpoints of *one* run a few hundred steps apart (chapter 7's `bmul` run: at its step 3,600
# the average of its last four checkpoints was exact on 98.4% of 64 fresh 200-bit products, the
# final weights on 96.9%; after its fine-tune the average scored lower, 95.3% against 100%, and
# the final weights were shipped), or runs started from one model (two fine-tunes of that `bmul` model
# from one checkpoint average to a model that scores as each alone; `benchmarks/README.md`,
# run H). The ensemble averages what the models *say*, not their weights, so it does not break
# that way. At each symbol it follows the weighted majority of its members: where failed runs
# get *different* symbols wrong, the majority can be right at every symbol more often than any
# one member, and an ensemble can be exact where none of its members is; where they fail alike,
# or a good run is outvoted, it loses. That is why `average_top` scores the average and keeps it
# only when it is at least as good as the best single run.
#
# ## From a laptop to a cluster
#
# The same sweep from the command line (the table is printed and written to `OUT/results.md`,
# with `results.json` and the figure `spread.png` beside it):
#
# ```bash
# python -m ngpu_lite sweep --task reverse --preset tiny --seeds 0-7 --steps 1500 \
#     --digits 60 --out runs/sweep-reverse
# python -m ngpu_lite sweep --task badd --seeds 0-3 --grid dropout_final=0.3,0.5 \
#     --grid lr=0.003,0.01 --minutes 20 --out runs/sweep-badd      # 2 x 2 x 4 = 16 trials
# ```
#
# Locally, Ray starts with one worker per core (`--workers N` for fewer). On a cluster, start Ray on
# one machine and join it from the others; every machine needs this repository installed
# (`pip install -e '.[sweep]'`), and `--out` should be a folder every machine sees at the same
# path (a shared file system), so that the trials' checkpoints can be averaged and resumed:
#
# ```bash
# ray start --head --port 6379                 # on the head machine; it prints its address
# ray get-auth-token                           # on the head: the cluster's token
# export RAY_AUTH_TOKEN=...                    # on every other machine: that token
# ray start --address HEAD:6379                # on every other machine
# python -m ngpu_lite sweep --task badd --seeds 0-63 --minutes 30 --address HEAD:6379 \
#     --out /shared/sweeps/badd               # from any machine of the cluster
# ```
#
# (Since Ray 2.59 a new cluster accepts only clients that present its token; `sweep` presents the
# one in `RAY_AUTH_TOKEN` or `~/.ray/auth_token`, as `ray start` does.)
#
# A cluster that does not answer is refused at once with one line, as is a folder that holds
# another sweep; a sweep interrupted halfway is resumed by running the same command again.

# %%
shutil.rmtree(SWEEP_DIR, ignore_errors=True)  # this chapter's trials were for reading only
print("fast mode" if fast_mode() else "default mode", "| trials:", json.dumps([r["trial"] for r in runs]))

# %% [markdown]
# ## Summary
#
# * One training run is one draw from a recipe: runs of one recipe that differ only in their seed
#   can land far apart once the test is longer than the training inputs (the counts below).
# * A sweep runs every (grid point, seed) as an ordinary, resumable `train` run in its own folder,
#   one thread each, on Ray: locally one per core, on a cluster with `--address`.
# * The best run must be chosen by a criterion stated in advance and re-measured on new cases; if
#   one run in $p$ generalises, $N$ runs hold one with probability $1 - (1 - p)^N$, which is what
#   the paper's 729-run grids bought.
# * Averaging the weights of independent runs rarely helps, since their units play different
#   roles; average checkpoints of one run instead, and keep an average only when it measures at
#   least as well as the best single run.
#
# What this run measured (reverse, a tiny Neural GPU (2016), one step per input cell, eight seeds
# of one recipe), from its variables:

# %%
print(f"- {len(fit_all)} of {len(runs)} seeds exact at the training length; {len(general)} of {len(runs)} "
      f"exact on every fresh {DIGITS}-digit case (p = {p_hat:.2f}); at {LONG} digits "
      f"{sum(v['exact'] == 1.0 for v in at_long.values())} of {len(runs)}, and the best seed there "
      f"{max(v['exact'] for v in at_long.values()):.0%}.")
print(f"- The best run by the stated criterion, {best['trial']}, re-measured on 256 new {DIGITS}-digit "
      f"cases: {fresh['exact']:.1%} exact.")
print(f"- At {LONG} digits, weight averages of k > 1 runs kept: {kept or 'none'}; the best ensemble of "
      f"predictions (top {k_top}) {ensembles[k_top]:.0%} exact against {best_exact:.0%} for the best run "
      "of its members alone.")

# %% [markdown]
# ## Exercises
#
# 1. Rerun the sweep with 16 seeds (`SEEDS = list(range(16))`). How close is the new success rate
#    to the one above? Give an interval: with 8 runs, which rates $p$ are consistent with what you
#    saw?
# 2. Add a grid: `grid=["dropout=0.0,0.05,0.15"]` with four seeds each. Do the grid points differ
#    by more than the spread between seeds within one point?
# 3. Train one seed with `train(..., keep=4)` and average its last four checkpoints with
#    `checkpoints.average_checkpoints`. Does averaging checkpoints of one run hurt, as averaging
#    independent runs did?
# 4. Make two runs share their units' roles: train one seed for 300 steps, then continue it twice
#    with `start_model=` and different seeds. Is the weight average of the two continuations as
#    good as either?
# 5. With access to a few machines, start a Ray cluster and run the `badd` grid above with
#    `--address`. How long does it take compared with your laptop, and does the best run change?
#
# Answers: `answers/11_answers.ipynb`.

# %% [markdown]
# ## References
#
# **The paper and its code**
#
# * Łukasz Kaiser and Ilya Sutskever. *Neural GPUs Learn Algorithms.* ICLR 2016.
#   [arXiv:1511.08228](https://arxiv.org/abs/1511.08228). The Neural GPU (2016) of chapters 2–5.
# * The authors' code, in TensorFlow: [openai/neural-gpu](https://github.com/openai/neural-gpu)
#   (the 2016 code of chapter 4), and a later copy in
#   [tensorflow/models, `research/neural_gpu`](https://github.com/tensorflow/models/tree/0cc25b5ae440378243bd26dc0bf88b3b32c9fed1/research/neural_gpu)
#   (link to a fixed commit; this copy also trains the extended model of Kaiser & Bengio 2016).
#
# **Follow-up work on the Neural GPU**
#
# * Eric Price, Wojciech Zaremba and Ilya Sutskever. *Extensions and Limitations of the Neural
#   GPU.* 2016. [arXiv:1611.00736](https://arxiv.org/abs/1611.00736). Chapters 1, 6, 7 and 9.
# * Kārlis Freivalds and Renārs Liepiņš. *Improving the Neural GPU Architecture for Algorithm
#   Learning.* 2017. [arXiv:1702.08727](https://arxiv.org/abs/1702.08727); code:
#   [LUMII-Syslab/DNGPU](https://github.com/LUMII-Syslab/DNGPU). The improved Neural GPU (2017)
#   of chapters 6, 7 and 10.
# * Kārlis Freivalds, Emīls Ozoliņš and Agris Šostaks. *Neural Shuffle-Exchange Networks:
#   Sequence Processing in O(n log n) Time.* NeurIPS 2019.
#   [arXiv:1907.07897](https://arxiv.org/abs/1907.07897). Chapter 9.
#
# **The gated recurrent unit (chapter 2), and textbooks**
#
# * Kyunghyun Cho, Bart van Merriënboer, Caglar Gulcehre, Dzmitry Bahdanau, Fethi Bougares, Holger
#   Schwenk and Yoshua Bengio. *Learning Phrase Representations using RNN Encoder–Decoder for
#   Statistical Machine Translation.* EMNLP 2014. [arXiv:1406.1078](https://arxiv.org/abs/1406.1078).
#   The GRU that the CGRU makes convolutional.
# * Ian Goodfellow, Yoshua Bengio and Aaron Courville. *Deep Learning.* MIT Press, 2016.
#   [deeplearningbook.org](https://www.deeplearningbook.org/): chapter 10 (recurrent networks,
#   gated units) and chapter 8 (optimisation: Adam, gradient clipping).
# * Aston Zhang, Zachary C. Lipton, Mu Li and Alexander J. Smola. *Dive into Deep Learning.*
#   Cambridge University Press, 2023. [d2l.ai](https://d2l.ai/): its chapters on modern recurrent
#   networks (the GRU, in PyTorch) and on convolutions.
#
# **Sequence models used as the baseline (chapter 1)**
#
# * Sepp Hochreiter and Jürgen Schmidhuber. *Long Short-Term Memory.* Neural Computation 9(8),
#   1735–1780, 1997. [doi:10.1162/neco.1997.9.8.1735](https://doi.org/10.1162/neco.1997.9.8.1735).
# * Ilya Sutskever, Oriol Vinyals and Quoc V. Le. *Sequence to Sequence Learning with Neural
#   Networks.* NIPS 2014. [arXiv:1409.3215](https://arxiv.org/abs/1409.3215).
# * Dzmitry Bahdanau, Kyunghyun Cho and Yoshua Bengio. *Neural Machine Translation by Jointly
#   Learning to Align and Translate.* ICLR 2015. [arXiv:1409.0473](https://arxiv.org/abs/1409.0473).
# * Minh-Thang Luong, Hieu Pham and Christopher D. Manning. *Effective Approaches to
#   Attention-based Neural Machine Translation.* EMNLP 2015.
#   [arXiv:1508.04025](https://arxiv.org/abs/1508.04025).
