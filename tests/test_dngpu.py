"""DNGPU's multiplication set-up, point by point: each test names the point of its code it pins."""

from __future__ import annotations

import math
import random

import pytest
import torch

from ngpu_lite import NeuralGPU
from ngpu_lite.data.batches import make_batch
from ngpu_lite.data.tasks import decode, encode, encode_text
from ngpu_lite.model.cgru import cgru
from ngpu_lite.model.optim import ClippedAdamax, dngpu_beta2
from ngpu_lite.training import get_preset, train
from ngpu_lite.training.batches import sample_bins
from ngpu_lite.training.presets import bin_digits

BINS = (8, 12, 16, 20, 25, 28, 31, 36, 41)


def test_clipped_adamax_follows_dngpus_update_rule_by_hand():
    """Two ClippedAdamax steps match DNGPU's rule by hand: clip ±(1.2·v + 1e-4), no bias correction of m, v =
    max(β2·v, |g|). Catches torch's bias-corrected Adamax, a bound from the new v, or no clip."""
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = ClippedAdamax([p], lr=0.1, beta2=0.5, eps=1e-8)
    # step 1: v = 0, so every gradient value is clipped to ±1e-4
    p.grad = torch.tensor([3.0, -0.00005])
    opt.step()
    g = torch.tensor([1e-4, -0.00005])
    m, v = 0.1 * g, g.abs()
    torch.testing.assert_close(p.detach(), torch.tensor([1.0, -2.0]) - 0.1 * m / (v + 1e-8))
    # step 2: the bound is 1.2·v + 1e-4; m has no bias correction; v = max(β2·v, |g|)
    before = p.detach().clone()
    p.grad = torch.tensor([1.0, 1e-5])
    opt.step()
    bound = 1.2 * v + 1e-4
    g2 = torch.minimum(torch.tensor([1.0, 1e-5]), bound)
    m2 = 0.9 * m + 0.1 * g2
    v2 = torch.maximum(0.5 * v, g2.abs())
    torch.testing.assert_close(p.detach(), before - 0.1 * m2 / (v2 + 1e-8))


def test_beta2_is_annealed_towards_one_with_a_floor():
    """β2 starts at 0.99, halves its distance to 1 every 2000 steps and stops at 1 − 0.0005. Catches a wrong
    half-life or a missing floor (β2 → 1, so v would never forget a large gradient)."""
    assert dngpu_beta2(0) == pytest.approx(0.99)
    assert dngpu_beta2(2000) == pytest.approx(0.995)
    assert dngpu_beta2(100_000) == pytest.approx(0.9995)  # 1 − max(0.0005, …)


def test_bins_pool_the_odd_lengths_up_to_each_bin():
    """`bin_digits` puts each operand size d in the first bin holding its length 2d + 1, covering 1..20 once.
    Catches an off-by-one at a bin edge (length equal to the bin) or a size dropped or counted twice."""
    groups = bin_digits(BINS)
    assert groups[0] == [1, 2, 3]  # lengths 3, 5, 7 in bin 8
    assert groups[1] == [4, 5]  # 9, 11 in bin 12
    assert groups[5] == [13]  # 27 in bin 28
    assert groups[-1] == [18, 19, 20]  # 37, 39, 41 in bin 41
    assert sorted(d for g in groups for d in g) == list(range(1, 21))


def test_every_bucket_every_step_with_about_5_percent_shorter():
    """`sample_bins` fills all 9 buckets with `batch` sizes every step, none longer than its bucket, about 5%
    from shorter buckets. Catches a skipped or short bucket, oversize examples, or `shorter` ignored."""
    p = get_preset("dngpu")
    rng = random.Random(0)
    shorter = total = 0
    groups = bin_digits(p.bins)
    for _ in range(40):
        step = sample_bins(p, rng)
        assert [len(s) for s in step] == [32] * 9
        for g, sizes in zip(groups, step, strict=True):
            assert max(sizes) <= max(g)
            shorter += sum(d < min(g) for d in sizes)
            total += len(sizes)
    assert 0.03 < shorter / (total - 40 * 32) < 0.07  # bin 8 has nothing shorter


def test_products_are_written_with_zeros_to_the_inputs_length():
    """target='zeros' writes the product with zeros to the input's length and decode drops them; the paper's
    format keeps a stray zero visible. Catches zeros padded as PAD, a model's error hidden, or '' for 0."""
    x, y = encode("bmul", [1, 1], [1, 0])  # 3 × 1 = 3, lower-endian
    assert len(x) == 5 and y == [2, 2, 0, 0, 0]
    x, y = encode("bmul", [1, 1], [1, 0], target="zeros")
    assert y == [2, 2, 1, 1, 1]  # digits 1 1 0 0 0
    assert decode("bmul", y, target="zeros") == "11"  # read as a number
    assert decode("bmul", [2, 2, 1, 0, 0]) == "011"  # the paper's format shows a stray zero
    _, y = encode_text("bmul", "0", "0", target="zeros")
    assert decode("bmul", y, target="zeros") == "0"


def test_a_bucket_batch_is_padded_to_the_bin_width():
    """`make_batch(width=8)` pads to the bin width but keeps each example's own length, its zeros target
    ending at that length. Catches width ignored, lengths set to the width, or target zeros in the padding."""
    x, y, lengths = make_batch("bmul", [2, 3], random.Random(0), target="zeros", width=8)
    assert x.shape == (2, 8) and lengths.tolist() == [5, 7]
    assert (y[0, :5] > 0).all() and (y[0, 5:] == 0).all()


def test_linear_input_layer_is_hard_tanh_of_an_affine_map():
    """The linear input layer writes hard_tanh(E[x] + b) into the first column. Catches tanh in place of hard
    tanh, the bias left out, or the clamp taken before the bias is added."""
    torch.manual_seed(0)
    model = NeuralGPU(w=1, m=12, l=1, hard=True, diagonal=True, input_layer="linear",
                      init="glorot")
    with torch.no_grad():
        model.input_bias.fill_(0.5)
    x = torch.tensor([[2, 12, 1]])
    s = model.embed(x)  # [1, m, 1, 3]
    want = torch.clamp(model.embedding[x[0]] + 0.5, -1, 1).T
    torch.testing.assert_close(s[0, :, 0], want)


def test_glorot_init_bounds_every_kernel():
    """init='glorot' draws the CGRU kernels up to ±sqrt(6 / (fan_in + fan_out)), fans 3·m, while unit init is
    wider. Catches the option ignored (unit scaling kept) or fans computed without the kernel width."""
    torch.manual_seed(0)
    m = 96
    model = NeuralGPU(w=1, m=m, l=1, hard=True, init="glorot")
    bound = math.sqrt(6 / (2 * 3 * m))  # fan_in = fan_out = 3·m for a width-3 kernel
    for w in (model.gate_weight, model.cand_weight):
        assert float(w.detach().abs().max()) <= bound
        assert float(w.detach().abs().max()) > 0.95 * bound
    unit = NeuralGPU(w=1, m=m, l=1, hard=True)
    assert float(unit.cand_weight.detach().abs().max()) > 1.5 * bound  # 1.8 × unit scaling is wider


def test_a_short_example_in_a_bucket_holds_zeros_beyond_its_end():
    """Under DNGPU's mask a short example runs the bucket's 8 steps, its cells past its end exactly 0 at every
    step. Catches the mask applied only at the start (state leaking into padding) or steps cut short."""
    torch.manual_seed(0)
    model = NeuralGPU(w=1, m=12, l=1, hard=True, diagonal=True, input_layer="linear")
    x, y, lengths = make_batch("bmul", [2, 3], random.Random(1), target="zeros", width=8)
    seen = []
    with torch.no_grad():
        model(x[:1], torch.tensor([8]), mask=(x[:1] != 0) | (y[:1] != 0),
              hook=lambda t, j, s, g: seen.append(s.clone()))
    assert len(seen) == 8  # the bucket's length of steps, not the example's 5
    assert all(float(s[0, :, 0, 5:].abs().max()) == 0 for s in seen)
    assert float(seen[-1][0, :, 0, :5].abs().max()) > 0


def test_saturation_sum_counts_every_unit_past_the_limit():
    """`saturation_sum` is DNGPU's sum, by hand, of every gate, candidate and input pre-activation past ±0.9
    (input × length). Catches a mean for the sum, a term left out, or the limit ignored."""
    torch.manual_seed(0)
    model = NeuralGPU(w=1, m=6, l=1, hard=True, diagonal=True, input_layer="linear",
                      saturation_limit=0.9)
    with torch.no_grad():
        model.cand_weight.mul_(50)  # drive the candidate far past ±0.9
        model.input_bias.fill_(1.0)  # and the input layer past it too
    x = torch.tensor([[2, 3, 12, 2, 2]])
    model(x)
    assert float(model.saturation_sum.detach()) > 0
    assert float(model.saturation_sum.detach()) > float(model.saturation.detach())  # a sum, not a mean
    # by hand: every gate and candidate pre-activation of every step past ±0.9, plus the input
    # layer's, weighted by the length (5 steps), as DNGPU sums it
    def past(t):
        return torch.relu(t.abs() - 0.9).sum()

    s = model.embed(x)
    want = past(model.embedding[x] + model.input_bias) * 5
    weights = [p[0, 0] for p in model.stacked_parameters()]
    for _ in range(5):
        g = torch.nn.functional.conv2d(s, weights[0], weights[1], padding=(0, 1))
        r = torch.clamp(0.5 * g[:, 6:] + 0.5, 0, 1)  # hard sigmoid: r is the second half
        pre = torch.nn.functional.conv2d(r * s, weights[2], weights[3], padding=(0, 1))
        want = want + past(g) + past(pre)
        s = cgru(s, *weights, hard=True, diagonal=True)
    # the candidate's and the input layer's terms are part of the sum checked
    assert float(past(pre).detach()) > 0 and float(model.input_saturation.detach()) > 0
    torch.testing.assert_close(model.saturation_sum.detach(), want.detach())


def test_dngpu_preset_trains_and_reports_its_adaptive_saturation_weight(monkeypatch):
    """In a dngpu run each epoch's end sets the saturation weight to min(saturation, lr · mean
    loss / mean raw cost) over that epoch's steps, and the next epoch's steps train with it: worked
    by hand from the cross-entropy and raw cost of every step, read off the run (loss − weight ·
    cost, the pull being 0 with one set). The cap is lifted (saturation=1.0) so that the rule, about
    0.15 here, decides; the cap is checked below by hand. Catches the weight never updated (every
    step would train at 1.0), taken from the summed cost (half the value over 2-step epochs),
    applied to the wrong epoch, or not logged."""
    import sys

    tr = sys.modules["ngpu_lite.training.loop"]  # the package's `train` attribute is the function
    small = get_preset("dngpu", model=dict(get_preset("dngpu").model, m=12), bins=(8, 12),
                       batch=4, epoch_steps=2, saturation=1.0)
    steps, losses = [], []
    real_term, real_stop = tr.saturation_term, tr.stop_if_diverged

    def term(p, state, sat):
        steps.append((state["saturation_weight"], float(sat.detach()), state["lr"]))
        return real_term(p, state, sat)

    def stop(run, loss):
        losses.append(float(loss.detach()))
        return real_stop(run, loss)

    monkeypatch.setattr(tr, "saturation_term", term)
    monkeypatch.setattr(tr, "stop_if_diverged", stop)
    res = train("bmul", small, steps=6, progress=False)
    assert res.steps == 6 and len(steps) == len(losses) == 6 and res.model.config.target == "zeros"
    weight = 1.0  # the preset's saturation, where a run starts
    for epoch in range(3):
        part = range(2 * epoch, 2 * epoch + 2)
        assert all(steps[i][0] == pytest.approx(weight, rel=1e-6) for i in part)
        ce = [losses[i] - steps[i][0] * steps[i][1] for i in part]
        raw = [steps[i][1] for i in part]
        weight = min(1.0, steps[part[0]][2] * (sum(ce) / 2) / (sum(raw) / 2))
        assert res.history[epoch]["saturation_weight"] == pytest.approx(weight, rel=1e-5)
        assert 0.01 < weight < 0.9  # the rule, not the cap, decided
    # the rule at an epoch's end, by hand, and its cap at `saturation` (1e-3 in the preset)
    from ngpu_lite.model.relax import PullSchedule
    from ngpu_lite.training.schedule import _end_epoch

    state = {"step": 2, "seconds": 0.0, "digits": 20, "lr": 0.01, "pull": 0.0, "seq_err": 1.0,
             "perplexities": [], "final_dropout": 0.0, "saturation_weight": 1e-3, "losses": []}
    epoch = {"loss": 4.0, "n": 2, "wrong": 1, "seen": 2, "wrong_cur": 1, "seen_cur": 2,
             "right_sym": 1, "sym": 2, "sat": 500.0}
    capped = get_preset("dngpu", model=small.model, bins=(8, 12), batch=4, epoch_steps=2)
    model = NeuralGPU(**capped.model)
    rec = _end_epoch(model, capped, state, epoch, PullSchedule(0.0, 1.2, 0.1), [])
    assert rec["saturation_weight"] == state["saturation_weight"] == pytest.approx(0.01 * 2 / 250)
    rec = _end_epoch(model, capped, state, epoch | {"sat": 0.5}, PullSchedule(0.0, 1.2, 0.1), [])
    assert rec["saturation_weight"] == 1e-3  # 0.01 · 2 / 0.25 = 0.08, capped at `saturation`


# --- beyond DNGPU: hard-example replay -------------------------------------------------------------

def _small(**overrides):
    return get_preset("dngpu", model=dict(get_preset("dngpu").model, m=12), bins=(8, 12), batch=8,
                      epoch_steps=5, **overrides)


def test_replay_puts_the_examples_a_step_got_wrong_back_into_the_next_steps_batches():
    """An untrained model gets most products wrong; with replay 0.25 those wrong examples (input
    and target rows, length) are pooled, and the next step's first rows of each bucket are them,
    oldest first; the rest of the batch is the usual fresh stream. Catches wrong examples not
    pooled (or right ones pooled), a pool never drawn from, or replayed rows out of order."""
    from ngpu_lite.training.batches import bucket_step

    p = _small(replay=0.25)
    torch.manual_seed(0)
    model = NeuralGPU(**p.model)
    pool: dict[int, list] = {}
    rng = random.Random(5)
    _, _, scored = bucket_step(model, "bmul", p, rng, 0.0, torch.device("cpu"), pool)
    wrong = [int((~((pr == y) | (torch.arange(y.shape[1]) >= n[:, None])).all(1)).sum())
             for pr, y, n in scored]
    assert [len(pool[b]) for b in p.bins] == wrong and min(wrong) >= 2
    first = {b: [list(e) for e in pool[b][:2]] for b in p.bins}
    seen = {}

    def spy(m, x, lengths, **kw):
        seen[x.shape[1]] = x.clone()
        return real(m, x, lengths, **kw)

    real = NeuralGPU.forward
    NeuralGPU.forward = spy
    try:
        bucket_step(model, "bmul", p, rng, 0.0, torch.device("cpu"), pool)
    finally:
        NeuralGPU.forward = real
    for b in p.bins:  # round(0.25 · 8) = 2 replayed rows at the top of each bucket
        assert [seen[b][i].tolist() for i in range(2)] == [e[0] for e in first[b]]


def test_replay_is_refused_without_buckets_and_outside_0_to_1():
    """Replay needs bucket training and a share below 1. Catches replay silently ignored by a preset without
    bins, or a share of 1 that would train on old examples only."""
    with pytest.raises(ValueError, match="bucket training only"):
        get_preset("fast", replay=0.25)
    with pytest.raises(ValueError, match="replay is a share"):
        _small(replay=1.0)


def test_a_run_with_replay_resumes_as_the_same_run_its_pool_saved_in_the_checkpoint(tmp_path):
    """A replay run resumed twice ends with the uninterrupted run's weights, its bounded pool in the
    checkpoint. Catches a pool not saved (the resume starts it empty and diverges) or one that grows
    without bound."""
    kw = dict(seed=1, progress=False, checkpoint_every=4)
    whole = train("bmul", _small(replay=0.25), out=tmp_path / "a", steps=12, **kw)
    for stop in (4, 8, 12):
        parts = train("bmul", _small(replay=0.25), out=tmp_path / "b", steps=stop, **kw)
    for k, v in whole.model.state_dict().items():
        assert torch.equal(parts.model.state_dict()[k], v), k
    from ngpu_lite.model.checkpoints import load_raw

    pool = load_raw(tmp_path / "a")["train_state"]["replay"]
    assert set(pool) == {"8", "12"} and all(0 < len(q) <= 4 * 8 for q in pool.values())


# --- beyond DNGPU: every example its own steps -----------------------------------------------------

def test_own_bucket_steps_train_each_example_as_it_is_evaluated():
    """With `bucket_steps="own"` a bucket's loss is the cross-entropy of the model run as `evaluate`
    runs it (each example its own `ceil(f·n)` steps on its own cells), over the positions inside each
    example; DNGPU's default runs the bucket's steps and differs. Catches the step factor or the
    example's own length dropped in training, or the loss taken over the padding."""
    import torch.nn.functional as F

    from ngpu_lite.training.batches import bucket_step

    for factor in (1.0, 1.25):
        p = _small(bucket_steps="own", structured=0.5)
        p.model["step_factor"] = factor
        torch.manual_seed(0)
        model = NeuralGPU(**p.model)
        ce, _, scored = bucket_step(model, "bmul", p, random.Random(3), 0.0, torch.device("cpu"))
        rng = random.Random(3)
        from ngpu_lite.training.batches import sample_bins

        want = 0.0
        for b, sizes in zip(p.bins, sample_bins(p, rng), strict=True):
            x, y, n = make_batch("bmul", sizes, rng, target="zeros", width=b, structured=0.5)
            logits = model(x, n)
            inside = torch.arange(x.shape[1])[None, :] < n[:, None]
            want = want + F.cross_entropy(logits[inside], y[inside])
        torch.testing.assert_close(ce, want / len(p.bins))
        assert any(int(n.min()) < b for (_, _, n), b in zip(scored, p.bins, strict=True))
    dngpu = _small()
    torch.manual_seed(0)
    ce_bucket, _, _ = bucket_step(NeuralGPU(**dngpu.model), "bmul", dngpu, random.Random(3), 0.0,
                                  torch.device("cpu"))
    assert abs(ce_bucket.item() - (want / len(p.bins)).item()) > 1e-4
    with pytest.raises(ValueError, match="bucket_steps"):
        _small(bucket_steps="mine")
