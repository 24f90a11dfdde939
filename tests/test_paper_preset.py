"""The `paper` preset against the 2016 code (first commit of openai/neural-gpu), point by point.

Each test pins one row of `ngpu_lite/PAPER_PRESET.md`; the numbers are worked by hand from
`neural_gpu.py`, `neural_gpu_trainer.py` and `data_utils.py`. The other presets keep their
behaviour: their new options stay at the old defaults.
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from ngpu_lite import NeuralGPU
from ngpu_lite.data.batches import make_batch
from ngpu_lite.model.relax import PullSchedule, assign_mean, average_sets
from ngpu_lite.training import PRESETS, get_preset, train
from ngpu_lite.training.schedule import (
    _end_epoch,
    bucket_2016,
    digits_for_length,
    dropout_rate,
    sample_length,
)

SMALL = dict(w=2, m=8, relax_sets=3, input_layer="conv", relax_init="independent")


def _epoch(wrong: int = 0, seen: int = 32, loss: float = 0.5) -> dict:
    """An epoch's counts as the training loop leaves them: `wrong` of `seen` counted sequences."""
    return {"loss": loss, "n": 1, "wrong": wrong, "seen": seen, "wrong_cur": wrong,
            "seen_cur": seen, "right_sym": 0, "sym": 1, "sat": 0.0, "loss_cur": loss, "n_cur": 1}


def _state(p, length: int = 6, pull: float = 0.0005, perplexities=None) -> dict:
    return {"step": 200, "seconds": 0.0, "digits": digits_for_length("badd", length),
            "length": length, "lr": p.lr, "pull": pull, "seq_err": 1.0,
            "perplexities": perplexities or [], "final_dropout": 0.0,
            "saturation_weight": 0.0, "losses": []}


# --- input layer ----------------------------------------------------------------------------
def test_paper_preset_has_input_convolution():
    """tanh(E[i]) then a learned 1×1 "input" convolution with bias, on the first row only.
    Catches the convolution missing or unused, its bias left out, tanh taken after it, or the
    input written into every row of the image."""
    torch.manual_seed(0)
    model = NeuralGPU(**PRESETS["paper"].model)
    assert tuple(model.input_weight.shape) == (24, 24) and tuple(model.input_bias.shape) == (24,)
    bound = 1.8 * math.sqrt(3 / 24)  # the 2016 code's unit scaling ×1.8, fan-in m of a 1×1 kernel
    assert model.input_weight.abs().max() <= bound and model.input_weight.abs().max() > bound / 2
    assert torch.equal(model.input_bias, torch.zeros(24))
    with torch.no_grad():
        model.input_bias.uniform_(-1, 1)
    x = torch.tensor([[3, 1, 11, 2, 2]])
    s = model.embed(x)  # [B, m, w, n]
    want = torch.tanh(model.embedding[x]) @ model.input_weight.T + model.input_bias
    torch.testing.assert_close(s[:, :, 0, :].transpose(1, 2), want)
    assert torch.equal(s[:, :, 1:, :], torch.zeros_like(s[:, :, 1:, :]))
    # the convolution is used: changing it changes the answer
    before = model.eval()(x)
    with torch.no_grad():
        model.input_weight.mul_(-1)
    assert not torch.allclose(before, model(x))


def test_input_convolution_bias_stays_out_of_padding():
    """The bias reaches PAD cells, but masking zeroes them past an example's length: a short
    example in a mixed batch gets the answer it gets alone. Catches the input bias left in the
    padding cells (a short example's answer would depend on its batch)."""
    torch.manual_seed(1)
    model = NeuralGPU(**SMALL).eval()
    with torch.no_grad():
        model.input_bias.fill_(0.7)
    x, _, lengths = make_batch("badd", [2, 5], random.Random(0))
    both = model(x, lengths)
    alone = model(x[:1, : int(lengths[0])])
    torch.testing.assert_close(both[:1, : int(lengths[0])], alone)


def test_other_input_layers_have_no_input_convolution():
    """The fast, tiny and dngpu presets and a default model have no 1×1 input convolution. Catches the 2016
    input layer leaking into other models (their shipped checkpoints would no longer load)."""
    for preset in ("fast", "tiny", "dngpu"):
        model = NeuralGPU(**PRESETS[preset].model)
        assert not hasattr(model, "input_weight")
    assert "input_weight" not in dict(NeuralGPU(w=2, m=8).named_parameters())


# --- relaxation sets at the start -----------------------------------------------------------
def test_paper_relax_sets_differ_at_start():
    """Each set drawn on its own, as the 2016 code's variable scopes RX0..RX5 are, biases at their
    constants. Catches one draw copied into every set (`relax_init` ignored), a wider scaling, or
    biases drawn at random."""
    torch.manual_seed(0)
    model = NeuralGPU(**PRESETS["paper"].model)
    assert model.relax_sets == 6
    for p in (model.gate_weight, model.cand_weight):
        for i in range(6):
            for k in range(i + 1, 6):
                assert not torch.equal(p[i], p[k])
    bound = 1.8 * math.sqrt(3 / (24 * 9))  # every set drawn from the same unit scaling
    assert model.cand_weight.abs().max() <= bound
    # biases start at their constants in every set: +1 for the gates, 0 for the candidate
    assert torch.equal(model.gate_bias, torch.ones_like(model.gate_bias))
    assert torch.equal(model.cand_bias, torch.zeros_like(model.cand_bias))


def test_shared_relax_sets_still_start_identical():
    """By default (relax_init='shared') every relaxation set starts identical; an unknown relax_init is
    refused. Catches the paper's independent draw becoming the default, or a typo accepted."""
    torch.manual_seed(0)
    model = NeuralGPU(w=2, m=8, relax_sets=3)
    for p in model.stacked_parameters():
        assert all(torch.equal(p[0], p[k]) for k in range(3))
    with pytest.raises(ValueError, match="relax_init"):
        NeuralGPU(w=2, m=8, relax_init="random")


def test_config_without_the_new_keys_loads_as_before():
    """An old checkpoint's config (no relax_init, input_layer "embed") builds the old model, weight
    for weight. Catches a new default that would rebuild an old checkpoint as another model (its
    weights drawn in another order, or a layer it does not have)."""
    torch.manual_seed(3)
    old = NeuralGPU(w=2, m=8, relax_sets=2)
    config = old.config_dict()
    config.pop("relax_init")
    torch.manual_seed(3)
    again = NeuralGPU(**config)
    assert again.config.relax_init == "shared"
    for a, b in zip(old.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)


# --- averaging ------------------------------------------------------------------------------
def test_paper_averaging_assigns_the_mean_and_keeps_the_sets():
    """Past the pull's limit each fitted epoch gives every set the mean; the sets stay r
    separate parameters (the same tensors, so Adam's moments carry on) and drift apart again.
    Catches the library's merge (one set left), new parameter tensors (Adam's moments lost), or
    the pull reset after averaging."""
    p = get_preset("paper")
    torch.manual_seed(0)
    model = NeuralGPU(**SMALL)
    ids = [id(q) for q in model.parameters()]
    mean = model.cand_weight.detach().mean(0).clone()
    state = _state(p, length=9, pull=0.12)
    rec = _end_epoch(model, p, state, _epoch(), PullSchedule(0.12, 1.2, 0.1), [], task="badd")
    assert rec["averaged"] and model.relax_sets == 3
    assert [id(q) for q in model.parameters()] == ids
    for k in range(3):
        torch.testing.assert_close(model.cand_weight[k], mean)
    assert state["pull"] == 0.12  # the pull stays once it passed its limit


def test_paper_pull_grows_below_its_limit_without_averaging():
    """Below its limit a fitted epoch grows the pull ×1.2 and leaves the sets alone; from 0.0005 the 31st
    fitted epoch averages. Catches averaging before the limit, or grow-then-average in one epoch (30th)."""
    p = get_preset("paper")
    torch.manual_seed(0)
    model = NeuralGPU(**SMALL)
    before = model.cand_weight.detach().clone()
    state = _state(p, pull=0.09)
    rec = _end_epoch(model, p, state, _epoch(), PullSchedule(0.09, 1.2, 0.1), [], task="badd")
    assert "averaged" not in rec and torch.equal(model.cand_weight, before)
    assert state["pull"] == pytest.approx(0.108)
    # the 2016 order: 0.0005 × 1.2 thirty times passes 0.1; the 31st fitted epoch averages
    schedule = PullSchedule()
    fits = next(k for k in range(1, 100) if schedule.fitted())
    assert fits == 31


def test_merge_averaging_still_merges_once():
    """`average_sets` still merges r sets into one, `assign_mean` keeps r equal sets, and tiny keeps `merge`.
    Catches assign_mean dropping sets, or the paper's assign rule leaking into other presets."""
    torch.manual_seed(0)
    model = NeuralGPU(w=2, m=8, relax_sets=3)
    average_sets(model)
    assert model.relax_sets == 1
    other = NeuralGPU(**SMALL)
    assign_mean(other)
    assert other.relax_sets == 3 and torch.equal(other.gate_weight[0], other.gate_weight[2])
    assert get_preset("tiny").relax_average == "merge"


# --- dropout --------------------------------------------------------------------------------
def test_paper_dropout_formula_values():
    """0.15 · 8 / L, L the padded bucket of the input length 2d + 1 (data_utils.bins), worked by
    hand. Catches L taken as the length itself (0.15 · 8 / 41 at 20 bits), the library's 8 / digits
    rule, or a bin missing (20 and 24 bits)."""
    p = get_preset("paper")
    for digits, length, bucket, rate in ((1, 3, 8, 0.15), (3, 7, 8, 0.15), (8, 17, 20, 0.06),
                                         (10, 21, 24, 0.05), (20, 41, 48, 0.025),
                                         (30, 61, 64, 0.01875)):
        assert bucket_2016(length) == bucket
        assert dropout_rate(p, digits) == pytest.approx(rate)


def test_paper_training_drops_at_the_batch_bucket_rate(monkeypatch):
    """The rate a training step passes to the model is the 2016 rate of that batch's length.
    Catches the rate of the curriculum's current length (not the drawn batch's) passed instead."""
    import sys

    tr = sys.modules["ngpu_lite.training.loop"]  # the package's `train` attribute is the function

    seen = []
    real = tr.forward_buckets

    def spy(model, x, lengths, dropout, buckets=1):
        seen.append((x.shape[1], dropout))
        return real(model, x, lengths, dropout, buckets)

    monkeypatch.setattr(tr, "forward_buckets", spy)
    train("badd", "paper", seed=0, steps=6, progress=False, device="cpu", model=SMALL, batch=4)
    assert len(seen) == 6
    for n, rate in seen:
        assert rate == pytest.approx(0.15 * 8 / bucket_2016(n))


# --- curriculum -----------------------------------------------------------------------------
def test_paper_curriculum_advances_one_length():
    """From length 6 (the 2016 trainer's 3 + 3) by one length per fitted epoch: an even length
    gives the digits of the odd one below it, so a digit takes two advances. Catches a digit per
    advance, an advance past length 41, or one after an epoch that did not fit."""
    p = get_preset("paper")
    model = NeuralGPU(**SMALL)
    state = _state(p, length=6)
    assert state["digits"] == 2
    seen = []
    for _ in range(4):
        _end_epoch(model, p, state, _epoch(), PullSchedule(), [], task="badd")
        seen.append((state["length"], state["digits"]))
    assert seen == [(7, 3), (8, 3), (9, 4), (10, 4)]
    state = _state(p, length=41)
    _end_epoch(model, p, state, _epoch(), PullSchedule(), [], task="badd")
    assert (state["length"], state["digits"]) == (41, 20)
    # not fitted: no advance (the threshold is 0.15 of the counted sequences)
    state = _state(p, length=6)
    _end_epoch(model, p, state, _epoch(wrong=5, seen=32), PullSchedule(), [], task="badd")
    assert state["length"] == 6


def test_paper_curriculum_in_training_starts_at_length_6_and_moves_by_one():
    """A paper run with every epoch fitted logs lengths 6, 7, 8 (digits 2, 3, 3) and ends at 4 digits. Catches
    the training loop starting at start_digits, or advancing a digit (not a length) per epoch."""
    res = train("badd", "paper", seed=0, steps=6, progress=False, device="cpu", model=SMALL,
                batch=4, epoch_steps=2, threshold=1.01)  # every epoch counts as fitted
    assert [r["length"] for r in res.history] == [6, 7, 8]
    assert [r["digits"] for r in res.history] == [2, 3, 3]
    assert res.digits == 4


def test_paper_error_counts_every_batch_up_to_the_current_length():
    """The 2016 trainer counts a batch when its drawn length is not past the current one, and
    the draw mixes shorter lengths in (60%: max of two) and longer ones (25%: any up to 41).
    Catches the error taken over every batch (4/32 here, 30/40 with the longer ones), draws
    capped at the current length, or the longer ones left out."""
    p = get_preset("paper")
    rng = random.Random(0)
    drawn = [sample_length(p, 9, "badd", rng) for _ in range(4000)]
    assert min(drawn) == 3 and max(drawn) == 41
    counted = sum(n <= 9 for n in drawn) / len(drawn)
    assert 0.75 < counted < 0.85  # about 1 − 0.25 · 32 / 39 ≈ 0.79 (lengths 10..41 of 3..41)
    # an epoch's error is over the counted batches, all lengths up to the current one
    model = NeuralGPU(**SMALL)
    state = _state(p, length=9)
    epoch = _epoch(wrong=4, seen=32) | {"wrong": 30, "seen": 40}  # the uncounted are worse
    rec = _end_epoch(model, p, state, epoch, PullSchedule(), [], task="badd")
    assert rec["err_longest"] == pytest.approx(4 / 32) and state["length"] == 10
    assert [digits_for_length("badd", n) for n in (3, 4, 5, 41)] == [1, 1, 2, 20]
    assert [digits_for_length("duplicate", n) for n in (2, 3, 4)] == [1, 1, 2]


def test_digits_curriculum_is_the_default_of_the_other_presets():
    """fast, tiny and dngpu keep the digits curriculum, merge averaging and mean loss; an unknown
    curriculum_rule is refused. Catches the paper preset's 2016 options leaking into the others' defaults."""
    for name in ("fast", "tiny", "dngpu"):
        p = PRESETS[name]
        assert (p.curriculum_rule, p.relax_average, p.loss_norm) == ("digits", "merge", "mean")
        assert p.lr_rule in ("perplexity", "plateau")
    with pytest.raises(ValueError, match="curriculum_rule"):
        get_preset("tiny", curriculum_rule="bits")


# --- learning rate --------------------------------------------------------------------------
def test_paper_advance_writes_a_large_perplexity_so_no_decay_follows():
    """An advancing epoch writes 10⁶ into the perplexity memory, so a worse perplexity does not decay the lr;
    without the advance it decays ×0.98. Catches the 2016 'forget last perplexities' step missing."""
    p = get_preset("paper")
    model = NeuralGPU(**SMALL)
    worse = _epoch(loss=3.0)  # perplexity e³ ≈ 20, above the remembered 1, 1, 1
    state = _state(p, perplexities=[1.0, 1.0, 1.0])
    _end_epoch(model, p, state, worse, PullSchedule(), [], task="badd")
    assert state["lr"] == p.lr and state["perplexities"][-2] == 1e6  # advanced: 10⁶ written
    state = _state(p, perplexities=[1.0, 1.0, 1.0])
    _end_epoch(model, p, state, worse | {"wrong_cur": 20}, PullSchedule(), [], task="badd")
    assert state["lr"] == pytest.approx(p.lr * 0.98)  # not fitted, no advance: decayed


def test_paper_averaging_decays_the_learning_rate_when_the_error_is_low():
    """Averaging under `assign` also decays the lr when the error is below threshold/3 (1/32), not at 3/32.
    Catches that decay missing, or its bound taken as the threshold itself."""
    p = get_preset("paper")
    model = NeuralGPU(**SMALL)
    for wrong, lr in ((1, p.lr * 0.98), (3, p.lr)):  # 1/32 < 0.05 = 0.15/3; 3/32 is not
        state = _state(p, length=41, pull=0.12, perplexities=[1e6] * 3)
        _end_epoch(model, p, state, _epoch(wrong=wrong), PullSchedule(0.12, 1.2, 0.1), [],
                   task="badd")
        assert state["lr"] == pytest.approx(lr)


# --- gradient noise, optimiser, loss ---------------------------------------------------------
def _first_step(monkeypatch, **overrides) -> dict:
    """One step of a `paper` run, watched: the raw gradient, the gradient after clipping, the one
    the optimiser steps on, and the weights before and after its step."""
    import sys

    tr = sys.modules["ngpu_lite.training.loop"]
    seen: dict = {}
    real_clip, real_step = tr.clip_gradient, tr.optimizer_step

    def clip(model, norm):
        seen["raw"] = [q.grad.clone() for q in model.parameters()]
        real_clip(model, norm)
        seen["clipped"] = [q.grad.clone() for q in model.parameters()]

    def step(optimizer, n):
        params = [q for group in optimizer.param_groups for q in group["params"]]
        seen["stepped"] = [q.grad.clone() for q in params]
        seen["before"] = [q.detach().clone() for q in params]
        real_step(optimizer, n)
        seen["after"] = [q.detach().clone() for q in params]

    monkeypatch.setattr(tr, "clip_gradient", clip)
    monkeypatch.setattr(tr, "optimizer_step", step)
    torch.manual_seed(0)
    start = NeuralGPU(**SMALL)
    with torch.no_grad():  # confident answers: a first gradient of norm about 4, past the clip
        start.output.weight.mul_(10)
    train("badd", "paper", seed=0, steps=1, progress=False, device="cpu", model=SMALL, batch=4,
          start_model=start, **overrides)
    return seen


def test_paper_first_step_is_adam_on_the_clipped_gradient_without_noise(monkeypatch):
    """The 2016 code's update, worked by hand on the first step of a `paper` run: the gradient
    scaled to norm at most 1.0 (g · min(1, 1 / ‖g‖)), no noise added (the code's scale is 0),
    then Adam's first step, which moves each weight by −lr · g / (|g| + ε) with lr 1e-3 and
    ε 1e-4 (m̂ = g, √v̂ = |g| after one step). The run starts from a model whose output weights are
    ×10, so that its first gradient (norm about 4) is clipped. Catches gradient noise switched on
    in the preset, clipping at another norm or off, or Adam's lr or ε other than the code's."""
    seen = _first_step(monkeypatch)
    norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in seen["raw"]))
    assert norm > 1.0  # clipping is at work on this step
    for raw, clipped, stepped in zip(seen["raw"], seen["clipped"], seen["stepped"], strict=True):
        torch.testing.assert_close(clipped, raw / norm, rtol=1e-5, atol=1e-9)
        assert torch.equal(stepped, clipped)  # no noise between clipping and the step
    for before, after, g in zip(seen["before"], seen["after"], seen["stepped"], strict=True):
        torch.testing.assert_close(after, before - 1e-3 * g / (g.abs() + 1e-4), rtol=0, atol=1e-7)
    # the check has teeth: with the noise option on, the optimiser steps on another gradient
    noisy = _first_step(monkeypatch, noise=1.0)
    assert not all(torch.equal(a, b) for a, b in zip(noisy["clipped"], noisy["stepped"],
                                                      strict=True))


def test_paper_loss_is_divided_by_the_bucket_length(monkeypatch):
    """perp_loss = Σ xent over the positions inside the examples / batch / bucket, worked by hand
    on a hand-built batch: 1 + 1 (3 long) and 11 + 01 (5 long), padded to 5, bucket 8
    (`data_utils.bins`), every logit 0 so each position costs ln 13. The 8 positions inside give
    8 · ln 13 / (2 · 8) = ln 13 / 2; the library's mean rule gives ln 13. Catches a division by
    the batch's padded width (0.8 · ln 13), by the positions counted (ln 13), the padding of the
    short example counted (10 · ln 13 / 16), or the mean rule left on."""
    import sys

    tr = sys.modules["ngpu_lite.training.loop"]
    x = torch.tensor([[2, 11, 2, 0, 0], [2, 2, 11, 2, 1]])
    y = torch.tensor([[1, 2, 0, 0, 0], [1, 1, 2, 0, 0]])  # 10 and 100, lower-endian, then PAD
    lengths = torch.tensor([3, 5])
    assert bucket_2016(5) == 8
    real = tr.forward_buckets
    monkeypatch.setattr(tr, "make_batch", lambda *a, **k: (x, y, lengths))
    monkeypatch.setattr(tr, "forward_buckets",  # uniform logits, still attached to the weights
                        lambda model, xx, ll, *a: 0.0 * real(model, xx, ll, *a))
    kw = dict(seed=2, steps=1, progress=False, device="cpu", model=SMALL, batch=2, epoch_steps=1)
    bucket = train("badd", "paper", **kw).history[0]["loss"]
    mean = train("badd", "paper", loss_norm="mean", **kw).history[0]["loss"]
    assert bucket == pytest.approx(math.log(13) / 2, rel=1e-6)
    assert mean == pytest.approx(math.log(13), rel=1e-6)


# --- the January 2016 release (`paper-jan`) -----------------------------------------------------
def test_january_preset_has_the_first_releases_defaults():
    """paper-jan: batch 64, 100-step epochs, threshold 0.12, clipping at 0.05, dropout 0.2 at every
    length (not 0.15·8/L), the pull grown to 1.0, output read after the dropout, noise off.
    Catches the June defaults leaking into the January arm of the seed screen."""
    p = get_preset("paper-jan")
    assert (p.batch, p.epoch_steps, p.threshold, p.clip, p.pull_limit) == (64, 100, 0.12, 0.05, 1.0)
    assert [dropout_rate(p, d) for d in (3, 8, 20)] == [0.2, 0.2, 0.2]
    assert dropout_rate(get_preset("paper"), 20) == pytest.approx(0.15 * 8 / 48)
    assert p.model["readout_dropout"] and p.noise == 0.0 and p.model["m"] == 24


def test_january_lr_rule_skips_the_check_on_fitted_epochs_and_decays_at_every_averaging():
    """January 2016: a fitted epoch (error below 0.12) writes 10⁶ and is not checked, even at the
    longest length, and once the pull reached 1.0 every fitted epoch averages the sets and decays
    the lr (no threshold/3 condition); an unfitted worse epoch decays. Catches the June rule
    (decay only below threshold/3, no 10⁶ at the longest length) used for the January arm."""
    p = get_preset("paper-jan")
    model = NeuralGPU(**SMALL)
    state = _state(p, length=41, pull=1.0, perplexities=[1.0, 1.0, 1.0])
    rec = _end_epoch(model, p, state, _epoch(wrong=3, seen=32, loss=3.0), PullSchedule(1.0, 1.2, 1.0),
                     [], task="badd")  # 3/32 < 0.12 but not < 0.04
    assert rec.get("averaged") and state["lr"] == pytest.approx(p.lr * 0.98)
    assert state["perplexities"][-1] == 1e6
    state = _state(p, length=41, pull=0.5, perplexities=[1.0, 1.0, 1.0])
    rec = _end_epoch(model, p, state, _epoch(wrong=3, loss=3.0), PullSchedule(0.5, 1.2, 1.0), [],
                     task="badd")
    assert not rec.get("averaged") and state["lr"] == p.lr and state["pull"] == pytest.approx(0.6)
    state = _state(p, length=41, perplexities=[1.0, 1.0, 1.0])
    _end_epoch(model, p, state, _epoch(wrong=20, loss=3.0), PullSchedule(), [], task="badd")
    assert state["lr"] == pytest.approx(p.lr * 0.98)


def test_readout_after_dropout_changes_training_outputs_only():
    """`readout_dropout=True` drops the state the output reads in training; in eval mode, or with no
    dropout, the model is the one without it. Catches the January readout applied at evaluation."""
    torch.manual_seed(0)
    a = NeuralGPU(**(SMALL | {"readout_dropout": True}))
    b = NeuralGPU(**SMALL)
    b.load_state_dict(a.state_dict())
    x = torch.tensor([[3, 1, 11, 2, 2, 1, 2]])
    torch.testing.assert_close(a.eval()(x), b.eval()(x))
    a.train(), b.train()
    torch.testing.assert_close(a(x, dropout=0.0), b(x, dropout=0.0))
    torch.manual_seed(1)
    out_a = a(x, dropout=0.3)
    torch.manual_seed(1)
    out_b = b(x, dropout=0.3)
    assert not torch.allclose(out_a, out_b)
