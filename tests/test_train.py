"""Training: gradient noise is really applied, runs resume, a small model really learns."""

import json

import pytest
import torch

from ngpu_lite import NeuralGPU, evaluate, train
from ngpu_lite.training import get_preset
from ngpu_lite.training.schedule import add_gradient_noise, noise_sigma, sample_digits


def _grads(model):
    return [p.grad.clone() for p in model.parameters()]


def test_gradient_noise_changes_the_gradients():
    """`add_gradient_noise` changes every gradient in place with the std asked for. Catches noise added to
    copies (the 2016 code's loop bug), parameters skipped, or sigma² used for sigma."""
    torch.manual_seed(0)
    model = NeuralGPU(w=2, m=8)
    x = torch.randint(1, 3, (4, 7))
    model(x).sum().backward()
    before = _grads(model)
    add_gradient_noise(model.parameters(), 0.1, torch.Generator().manual_seed(0))
    after = _grads(model)
    assert all(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
    diff = torch.cat([(a - b).flatten() for b, a in zip(before, after, strict=True)])
    assert 0.08 < float(diff.std()) < 0.12  # the std asked for


def _noised_step(seed: int, global_seed: int, adam: bool = False) -> torch.Tensor:
    """How far one optimiser step moves every weight of a small model whose gradients are all 0
    but for `add_gradient_noise(σ=0.3)` drawn with a generator of `seed`, the global torch
    generator seeded `global_seed` meanwhile: SGD at lr 1, or Adam at lr 1e-3 and ε 1e-8."""
    torch.manual_seed(0)
    params = list(NeuralGPU(w=2, m=8).parameters())
    for p in params:
        p.grad = torch.zeros_like(p)
    before = torch.cat([p.detach().flatten() for p in params])
    torch.manual_seed(global_seed)
    add_gradient_noise(params, 0.3, torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-8) if adam else torch.optim.SGD(params, lr=1.0)
    opt.step()
    return torch.cat([p.detach().flatten() for p in params]) - before


def test_the_optimiser_steps_on_the_noised_gradient():
    """The TF code's `for grad in grads: grad += noise` only rebound the loop variable, so its
    optimiser never saw the noise. With every gradient 0 a step is the noise alone: an SGD step
    (lr 1) moves the 3,725 weights by −n, n of mean 0 and std 0.3 (within 5%), 68% of them by
    less than σ (a normal's share within one σ); Adam's first step moves each by
    −lr · n / (|n| + ε) (m̂ = n, √v̂ = |n|), n worked back from the SGD step: almost exactly lr.
    The generator given decides the draws, not the global one. Catches noise added to a copy
    the optimiser never reads (no weight moves), added twice (std 0.42 or 0.6), unscaled (std 1)
    or squared (std 0.09), or drawn from the global generator."""
    sgd = _noised_step(seed=4, global_seed=1)
    assert sgd.numel() == 3725 and bool((sgd != 0).all())
    assert 0.285 < float(sgd.std()) < 0.315 and abs(float(sgd.mean())) < 0.02
    assert 0.655 < float((sgd.abs() < 0.3).float().mean()) < 0.71
    assert torch.equal(sgd, _noised_step(seed=4, global_seed=2))  # the generator given decides
    assert not torch.equal(sgd, _noised_step(seed=5, global_seed=1))
    noise = -sgd
    adam = _noised_step(seed=4, global_seed=1, adam=True)
    torch.testing.assert_close(adam, -1e-3 * noise / (noise.abs() + 1e-8), rtol=1e-4, atol=1e-9)


def test_noise_follows_the_code_formula():
    """scale·sqrt(step^-0.55 · max(0, seq_err - 0.02)), worked by hand. Catches another step
    exponent (at step 1 every exponent gives 1), a missing square root, or no 0.02 floor."""
    assert noise_sigma(1.0, 1, 0.02) == 0.0  # no noise once (almost) all sequences are right
    assert noise_sigma(1.0, 1, 0.01) == 0.0
    assert abs(noise_sigma(2.0, 1, 0.27) - 2.0 * 0.5) < 1e-9
    assert noise_sigma(1.0, 10_000, 0.5) < noise_sigma(1.0, 100, 0.5)
    # step 100: 100^-0.55 = 10^-1.1; sqrt(10^-1.1 · 0.25) = 0.5 · 10^-0.55 = 0.14092...
    assert noise_sigma(1.0, 100, 0.27) == pytest.approx(0.5 * 10 ** -0.55, rel=1e-12)
    assert noise_sigma(3.0, 10_000, 1.02) == pytest.approx(3.0 * 10 ** -1.1, rel=1e-12)


def test_training_with_noise_differs_from_training_without():
    """Two runs of one seed give identical weights, and noise=1.0 changes them. Catches the training loop
    ignoring the `noise` option, or a run that is not reproducible."""
    a = train("copy", "tiny", seed=3, steps=5, progress=False)
    b = train("copy", "tiny", seed=3, steps=5, progress=False)
    c = train("copy", "tiny", seed=3, steps=5, progress=False, noise=1.0)
    pa, pb, pc = (torch.cat([p.flatten() for p in r.model.parameters()]) for r in (a, b, c))
    assert torch.equal(pa, pb)
    assert not torch.equal(pa, pc)


def test_curriculum_mixes_lengths_up_to_the_current_one(monkeypatch):
    """The digits curriculum of the `tiny` preset (which the training loop draws with
    `sample_digits`; the `paper` preset draws lengths with `sample_length`, pinned in
    test_paper_preset.py), worked by hand at current size 3 of 1..6: U[1, 3], with 60% the max
    with a second U[1, 3], with 25% the max with U[1, 6]. P(1) = (0.4/3 + 0.6/9) · (0.75 + 0.25/6)
    = 0.1583, P(≤ 3) = 0.75 + 0.25 · 3/6 = 0.875, P(6) = 0.25/6 = 0.0417; one size per batch.
    Without a curriculum a batch cycles through 1..6. Catches the 60% second draw missing
    (P(1) = 0.264), the 25% draw capped at the current size (no 6), a batch of mixed sizes, the
    loop drawing its `tiny` batches another way, or a non-curriculum batch of one size."""
    import random
    import sys

    p = get_preset("tiny")
    assert (p.min_digits, p.max_digits, p.batch) == (1, 6, 16)
    rng = random.Random(0)
    batches = [sample_digits(p, 3, rng) for _ in range(20_000)]
    assert all(len(b) == 16 and len(set(b)) == 1 for b in batches[:500])
    sizes = [b[0] for b in batches]
    share = {k: sum(s == k for s in sizes) / len(sizes) for k in range(1, 7)}
    assert abs(share[1] - 0.2 * (0.75 + 0.25 / 6)) < 0.012
    assert abs(share[1] + share[2] + share[3] - 0.875) < 0.01
    assert abs(share[6] - 0.25 / 6) < 0.006
    every = sample_digits(get_preset("tiny", curriculum=False), 1, rng)
    assert every == [1, 2, 3, 4, 5, 6] * 2 + [1, 2, 3, 4]
    # the loop draws a `tiny` run's batches with it, at the current size (start_digits = 2)
    tr = sys.modules["ngpu_lite.training.loop"]
    calls = []
    real = tr.sample_digits
    monkeypatch.setattr(tr, "sample_digits", lambda q, cur, r: calls.append(cur) or real(q, cur, r))
    train("copy", "tiny", seed=0, steps=3, progress=False)
    assert calls == [2, 2, 2]


def test_unknown_preset_or_option_is_refused():
    """An unknown preset or training option raises ValueError. Catches a misspelt option (learning_rate)
    silently ignored, so the run trains with the default."""
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("turbo")
    with pytest.raises(ValueError, match="unknown training option"):
        get_preset("paper", learning_rate=1.0)


def test_killed_run_resumes_from_its_checkpoint(tmp_path):
    """A rerun with more steps resumes at step 30 with one log and phase history; one with the same limit
    trains nothing. Catches a resume that restarts the step counter at 0, or doubled log lines."""
    out = tmp_path / "run"
    first = train("copy", "tiny", out=out, seed=1, steps=30, checkpoint_every=10, progress=False)
    assert first.steps == 30
    again = train("copy", "tiny", out=out, seed=1, steps=50, checkpoint_every=10, progress=False)
    assert again.steps == 50
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [25, 50]
    # the second call went on from step 30, not from scratch (its phase record says where)
    from ngpu_lite.model import checkpoints

    phases = checkpoints.load_raw(out)["info"]["phases"]
    assert [(ph["from_step"], ph["to_step"]) for ph in phases] == [(0, 30), (30, 50)]
    # resuming with the same limit does no more work: no steps, the very weights
    same = train("copy", "tiny", out=out, seed=1, steps=50, progress=False)
    assert same.steps == 50
    phases = checkpoints.load_raw(out)["info"]["phases"]
    assert (phases[-1]["from_step"], phases[-1]["to_step"]) == (50, 50)
    for a, b in zip(again.model.parameters(), same.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_relaxation_sets_are_averaged_when_the_pull_passes_its_limit():
    """Once the pull passes its limit a run merges its 3 relaxation sets into one, and not before.
    Catches averaging never triggered by the training loop, or triggered while the pull is low."""
    from ngpu_lite.training import Preset

    p = Preset("relaxed", model={"w": 2, "m": 8, "relax_sets": 3}, batch=8, max_digits=4,
               start_digits=2, epoch_steps=10, threshold=1.01, pull=0.09)
    res = train("copy", p, seed=0, steps=30, progress=False)
    assert res.model.relax_sets == 1
    assert any(r.get("averaged") for r in res.history)
    low = train("copy", p, seed=0, steps=30, progress=False, pull=0.01)
    assert low.model.relax_sets == 3
    assert not any(r.get("averaged") for r in low.history)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_neural_gpu_learns_copy_and_generalises_8x_longer(seed):
    """Trained on copy of at most 13 symbols for 600 steps, exact on 128 fresh 101-symbol inputs,
    on each of seeds 0, 1 and 2 (seeds 0-4 were tried and all five were exact; the curriculum
    reached 6 digits by step 150 on each). Catches a training loop, curriculum or model that no
    longer learns, or learns only what it was shown (an untrained model is exact on none)."""
    res = train("copy", "tiny", seed=seed, steps=600, progress=False)
    assert res.history[-1]["seq_err"] < 0.05
    longer = evaluate(res.model, "copy", 50, samples=128, seed=12345)  # length 101 > 4 x 13
    assert longer["exact"] == 1.0, longer


def test_until_checks_run_only_every_check_every_epochs(monkeypatch):
    """With check_every=3 the until-test runs only at every 3rd epoch's end, by default at every epoch.
    Catches check_every ignored, or counted off by one epoch."""
    import sys

    tr = sys.modules["ngpu_lite.training.loop"]  # the module: `ngpu_lite.training` names the function
    checked = []
    real_end = tr._end_epoch

    def end_without_errors(*args, **kwargs):
        rec = real_end(*args, **kwargs)
        rec["err_longest"] = 0.0  # as if the longest length were learned: a check is due
        return rec

    def fake_evaluate(model, task, digits, samples, seed=0, **kw):
        checked.append(seed)  # seed is the step of the check
        return {"exact": 0.0, "samples": samples}

    monkeypatch.setattr(tr, "_end_epoch", end_without_errors)
    monkeypatch.setattr(tr, "evaluate", fake_evaluate)
    train("copy", "tiny", seed=0, steps=150, progress=False, curriculum=False,
          until=(50, 8), check_every=3)
    assert checked == [75, 150]  # epochs of 25 steps: the 3rd and the 6th
    checked.clear()
    train("copy", "tiny", seed=0, steps=150, progress=False, curriculum=False, until=(50, 8))
    assert checked == [25, 50, 75, 100, 125, 150]


def test_a_list_of_until_tests_must_all_pass_at_one_check_in_order(tmp_path, monkeypatch):
    """A list of until-tests runs in order, the long one only once the short passes, and stops training only
    when all pass at one check. Catches a stop after the first test passes, or tests run out of order."""
    import sys

    tr = sys.modules["ngpu_lite.training.loop"]
    real_end = tr._end_epoch
    looked = []

    def end_without_errors(*args, **kwargs):
        rec = real_end(*args, **kwargs)
        rec["err_longest"] = 0.0
        return rec

    def fake_evaluate(model, task, digits, samples, seed=0, **kw):
        looked.append((digits, samples))
        step = looked_at_step[0]
        ok = digits == 20 or step >= 75  # the long test passes only from the 3rd epoch on
        return {"exact": 1.0 if ok else 0.0, "samples": samples}

    looked_at_step = [0]
    real_until = tr._until_passed

    def until_at(model, task, tests, step, rec):
        looked_at_step[0] = step
        return real_until(model, task, tests, step, rec)

    monkeypatch.setattr(tr, "_end_epoch", end_without_errors)
    monkeypatch.setattr(tr, "evaluate", fake_evaluate)
    monkeypatch.setattr(tr, "_until_passed", until_at)
    res = train("copy", "tiny", out=tmp_path, seed=0, steps=200, progress=False, curriculum=False,
                until=[(20, 16), (800, 4)])
    assert (res.stopped, res.steps) == ("generalised", 75)
    # in order: the short test, then the long one only once the short one passed
    assert looked[:2] == [(20, 16), (800, 4)]
    assert [h["until_passed"] for h in res.history] == [1, 1, 2]
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [h["until_digits"] for h in logged] == [800, 800, 800]
    again = train("copy", "tiny", out=tmp_path, seed=0, steps=200, progress=False,
                  curriculum=False, until=[(20, 16), (800, 4)])
    assert (again.stopped, again.steps) == ("generalised", 75)


def test_dropout_shrinks_with_length_unless_the_preset_keeps_it_constant():
    """The library's rule keeps the dropout up to 8 digits and scales it by 8/digits above;
    dropout_scaled=False keeps it. Catches scaling below 8 digits, or dropout_scaled ignored."""
    from ngpu_lite.training.schedule import dropout_rate

    scaled = get_preset("fast", dropout=0.5)
    constant = get_preset("fast", dropout=0.5, dropout_scaled=False)
    assert dropout_rate(scaled, 4) == dropout_rate(constant, 4) == 0.5
    assert dropout_rate(scaled, 20) == pytest.approx(0.2)  # the library's 8 / digits
    assert dropout_rate(constant, 20) == 0.5


def test_the_2016_rule_gives_the_2016_codes_numbers():
    """Against the 2016 code (neural_gpu.py: keep_prob = 1 - dropout * 8 / length, `length` the
    padded bucket of data_utils.bins), worked out by hand for dropout 0.15: 20-bit addition has
    length 41, padded to 48: 0.025; 3 bits, length 7 in bucket 8: 0.15; 10 bits, length 21 in
    bucket 24: 0.05; 30 bits, length 61 in bucket 64: 0.01875. The library's own rule differs.
    Catches the length itself taken for the bucket (0.029 at 20 bits), the library's 8 / digits
    rule under `dropout_rule="length"`, or an unknown rule accepted."""
    from ngpu_lite.training.schedule import dropout_rate

    code = get_preset("paper", dropout_rule="length")
    for digits, rate in ((20, 0.025), (3, 0.15), (10, 0.05), (30, 0.01875)):
        assert dropout_rate(code, digits) == pytest.approx(rate)
    # the library's own rule, now an option (the paper preset uses the 2016 code's)
    assert dropout_rate(get_preset("paper", dropout_rule="digits"), 20) == pytest.approx(0.06)
    with pytest.raises(ValueError, match="dropout_rule"):
        dropout_rate(get_preset("paper", dropout_rule="bits"), 20)


def test_final_dropout_applies_once_the_curriculum_reaches_the_longest_length():
    """dropout_final replaces the scaled rate once the curriculum level reaches max_digits, whatever the
    batch's digits. Catches it applied a level early, or keyed on the batch's digits."""
    from ngpu_lite.training.schedule import dropout_rate

    p = get_preset("fast", dropout=0.1, dropout_final=0.5)
    assert dropout_rate(p, 5, level=19) == pytest.approx(0.1)
    assert dropout_rate(p, 20, level=19) == pytest.approx(0.04)
    assert dropout_rate(p, 5, level=20) == dropout_rate(p, 20, level=20) == 0.5


def test_stepped_final_dropout_climbs_one_step_per_fitted_epoch_at_the_longest_length():
    """With dropout_step the final rate climbs one step per fitted epoch from the length's own rate, capped at
    dropout_final. Catches a jump straight to the final rate, climbs on unfitted epochs, or no cap."""
    from ngpu_lite.model.relax import PullSchedule
    from ngpu_lite.training.schedule import _end_epoch, dropout_rate

    p = get_preset("fast", dropout=0.1, dropout_final=0.5, dropout_step=0.2)
    state = {"step": 50, "seconds": 1.0, "digits": 20, "lr": 0.01, "pull": 0.0, "seq_err": 1.0,
             "perplexities": [], "final_dropout": 0.0}
    model = NeuralGPU(**p.model)
    seen = []
    for err in (0.5, 0.0, 0.5, 0.0, 0.0, 0.0):  # fitted epochs (error 0) raise the rate
        epoch = {"loss": 1.0, "n": 1, "wrong": int(err * 32), "seen": 32, "wrong_cur": int(err * 32),
                 "seen_cur": 32, "right_sym": 1, "sym": 1}
        rec = _end_epoch(model, p, state, epoch, PullSchedule(0.0, 1.2, 0.1), [])
        seen.append(round(rec["dropout"], 2))
    assert seen == [0.04, 0.04, 0.24, 0.24, 0.44, 0.5]  # from the length's own 0.1·8/20, capped
    assert dropout_rate(p, 5, level=20, final=state["final_dropout"]) == 0.5
    assert dropout_rate(p, 5, level=19, final=0.3) == pytest.approx(0.1)  # curriculum not done


def test_a_run_that_passed_its_until_test_stays_finished_when_rerun(tmp_path, monkeypatch):
    """A run that passed its until-test returns at once when rerun with that test, but trains on under
    another. Catches a finished run retrained on every rerun, or one that never trains again."""
    import sys

    tr = sys.modules["ngpu_lite.training.loop"]
    real_end = tr._end_epoch

    def end_without_errors(*args, **kwargs):
        rec = real_end(*args, **kwargs)
        rec["err_longest"] = 0.0
        return rec

    monkeypatch.setattr(tr, "_end_epoch", end_without_errors)
    monkeypatch.setattr(tr, "evaluate", lambda model, task, digits, samples, **kw: {
        "exact": 1.0, "samples": samples})
    first = train("copy", "tiny", out=tmp_path, seed=0, steps=200, progress=False,
                  curriculum=False, until=(50, 8))
    assert (first.stopped, first.steps) == ("generalised", 25)
    again = train("copy", "tiny", out=tmp_path, seed=0, steps=200, progress=False,
                  curriculum=False, until=(50, 8))
    assert (again.stopped, again.steps) == ("generalised", 25)
    longer = train("copy", "tiny", out=tmp_path, seed=0, steps=60, progress=False,
                   curriculum=False, until=(60, 8))  # another test: training goes on
    assert (longer.stopped, longer.steps) == ("generalised", 50)


def test_stop_on_error_grows_batches_from_one_case_so_a_wrong_model_costs_one_case():
    """stop_on_error stops a wrong model after one case; without it all 64 run. Catches a first batch of full
    size (a failing check costing every sample), or full evaluations cut short."""
    torch.manual_seed(0)
    untrained = NeuralGPU(w=1, m=8, l=1)
    quick = evaluate(untrained, "badd", 30, samples=64, stop_on_error=True)
    assert (quick["samples"], quick["exact"]) == (1, 0.0)
    full = evaluate(untrained, "badd", 30, samples=64)
    assert full["samples"] == 64


def test_the_checkpoint_records_every_phase_and_check_of_a_run(tmp_path, monkeypatch):
    """Provenance: a resumed run keeps one record per call of `train` and per until-check, so a
    manifest says how the model came to be (the bug: a manifest whose stop fell between checks).
    Catches a resume that overwrites the earlier phase, overrides or checks not recorded, or a
    check recorded at a step where none ran."""
    import sys

    from ngpu_lite.model import checkpoints

    tr = sys.modules["ngpu_lite.training.loop"]
    real_end = tr._end_epoch

    def end_without_errors(*args, **kwargs):
        rec = real_end(*args, **kwargs)
        rec["err_longest"] = 0.0  # a check is due at every epoch
        return rec

    monkeypatch.setattr(tr, "_end_epoch", end_without_errors)
    monkeypatch.setattr(tr, "evaluate", lambda model, task, digits, samples, **kw: {
        "exact": 0.0, "samples": 1})
    train("copy", "tiny", out=tmp_path, seed=0, steps=50, progress=False, curriculum=False,
          until=(30, 4))
    train("copy", "tiny", out=tmp_path, seed=0, steps=100, progress=False, curriculum=False,
          until=(30, 4), check_every=2, lr=0.002)
    info = checkpoints.load_raw(tmp_path)["info"]
    phases = info["phases"]
    assert [(ph["from_step"], ph["to_step"], ph["check_every"]) for ph in phases] == [
        (0, 50, 1), (50, 100, 2)]
    assert phases[1]["overrides"] == {"curriculum": False, "lr": 0.002}
    assert all(ph["stopped"] == "steps" for ph in phases)
    # epochs of 25 steps: checks at 25 and 50, then every 2nd epoch: 100
    assert [c["step"] for c in info["checks"]] == [25, 50, 100]
    assert all(c["passed"] == 0 and c["digits"] == 30 for c in info["checks"])


def test_ctrl_c_stops_after_the_step_saves_it_and_the_rerun_continues(tmp_path, monkeypatch):
    """Issue 17 item 8: Ctrl-C threw away up to 99 steps. Now the step in progress finishes, is
    saved, KeyboardInterrupt follows, and the rerun goes on from that step. Catches an interrupt
    that loses the steps since the last checkpoint, swallows the KeyboardInterrupt, or leaves the
    SIGINT handler replaced."""
    import signal
    import sys

    from ngpu_lite.model import checkpoints

    tr = sys.modules["ngpu_lite.training.loop"]
    real_end = tr._end_epoch

    def end_and_press_ctrl_c(*args, **kwargs):
        rec = real_end(*args, **kwargs)
        if rec["step"] == 25:
            signal.raise_signal(signal.SIGINT)  # as a terminal or a kernel interrupt does
        return rec

    monkeypatch.setattr(tr, "_end_epoch", end_and_press_ctrl_c)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt, match="step 25"):
        train("copy", "tiny", out=tmp_path, seed=0, steps=100, checkpoint_every=100,
              progress=False)
    assert checkpoints.load_raw(tmp_path)["info"]["steps"] == 25  # not 0: nothing was lost
    assert signal.getsignal(signal.SIGINT) == before  # the handler is given back
    monkeypatch.setattr(tr, "_end_epoch", real_end)
    again = train("copy", "tiny", out=tmp_path, seed=0, steps=50, progress=False)
    assert again.steps == 50
    phases = checkpoints.load_raw(tmp_path)["info"]["phases"]
    assert [(p["from_step"], p["to_step"], p["stopped"]) for p in phases] == [
        (0, 25, "interrupted"), (25, 50, "steps")]
