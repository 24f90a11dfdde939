"""The model: shapes, parameter count, masking, CGRU, relaxation."""

import random

import pytest
import torch

from ngpu_lite import NeuralGPU, average_sets, pull_cost
from ngpu_lite.data.batches import make_batch
from ngpu_lite.model.cgru import CGRU, cgru, diagonal_shift, sigmoid_cutoff


def test_paper_configuration_has_31248_parameters_per_set():
    """The paper's count at m=24, l=2. Catches a missing or misshapen kernel or bias in a set."""
    model = NeuralGPU(w=4, m=24, l=2, kernel=3, relax_sets=6)
    assert model.params_per_set() == 31_248
    assert model.gate_weight.shape == (6, 2, 48, 24, 3, 3)


def test_logits_have_one_distribution_per_position(tiny_model):
    """Logits are [batch, n, symbols]. Catches a read-out over the wrong axis or width."""
    x, _, lengths = make_batch("badd", [3, 3], random.Random(0))
    assert tiny_model(x, lengths).shape == (2, 7, 13)


def test_padding_never_changes_an_answer(tiny_model):
    """Each example of a mixed-length batch gets its lone answer. Catches missing masking."""
    x, _, lengths = make_batch("bmul", [2, 9, 5, 1], random.Random(1))
    together = tiny_model(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = tiny_model(x[i:i + 1, :n])
        torch.testing.assert_close(together[i, :n], alone[0], atol=1e-5, rtol=1e-5)


def test_extra_padding_columns_change_nothing(tiny_model):
    """PAD columns past every length change nothing. Catches steps counted from the padded width."""
    x, _, lengths = make_batch("badd", [4], random.Random(2))
    wide = torch.nn.functional.pad(x, (0, 6))
    torch.testing.assert_close(tiny_model(wide, lengths)[:, :9], tiny_model(x, lengths))


def test_sigmoid_cutoff_is_1_2_sigmoid_minus_0_1_clipped_to_0_1():
    """The paper's 1.2·σ(x) − 0.1, clipped to [0, 1]. Catches a plain sigmoid, or another stretch."""
    v = sigmoid_cutoff(torch.tensor([-10.0, -2.0, 0.0, 1.0, 10.0]))
    assert v[0] == 0.0 and v[4] == 1.0 and abs(v[2] - 0.5) < 1e-6  # closes exactly, centred
    want = [1.2 * torch.sigmoid(torch.tensor(x)).item() - 0.1 for x in (-2.0, 1.0)]
    torch.testing.assert_close(v[[1, 3]], torch.tensor(want))


def test_cgru_module_matches_equations():
    """CGRU(s) = u*s + (1-u)*tanh(U*(r*s)+B). Catches u and r swapped, or the mix reversed."""
    torch.manual_seed(0)
    unit = CGRU(m=4)
    s = torch.randn(2, 4, 3, 5)
    conv = torch.nn.functional.conv2d
    gu, gr = conv(s, unit.gate_weight, unit.gate_bias, padding=1).chunk(2, 1)
    u, r = sigmoid_cutoff(gu), sigmoid_cutoff(gr)
    want = u * s + (1 - u) * torch.tanh(conv(r * s, unit.cand_weight, unit.cand_bias, padding=1))
    torch.testing.assert_close(unit(s), want)


def test_diagonal_shift_moves_two_thirds_of_the_channels():
    """Third 1 shifts up a position, third 2 down, the rest stays. Catches swapped directions."""
    s = torch.arange(6 * 5, dtype=torch.float).reshape(1, 6, 1, 5)
    d = diagonal_shift(s)
    assert d[0, 0, 0].tolist() == [0, 0, 1, 2, 3]
    assert d[0, 2, 0].tolist() == [11, 12, 13, 14, 0]
    assert torch.equal(d[0, 4:], s[0, 4:])


def test_reported_gates_are_the_update_gate_then_the_reset_gate():
    """`gates` holds u (first m gate channels) and r (the rest). Catches them swapped (which
    would mislead the explorer)."""
    torch.manual_seed(0)
    g = {}
    s = torch.randn(1, 4, 2, 3)
    gw, gb = torch.randn(8, 4, 3, 3), torch.randn(8)
    cgru(s, gw, gb, torch.randn(4, 4, 3, 3), torch.zeros(4), gates=g)
    pre = torch.nn.functional.conv2d(s, gw, gb, padding=1)
    torch.testing.assert_close(g["u"], sigmoid_cutoff(pre[:, :4]))
    torch.testing.assert_close(g["r"], sigmoid_cutoff(pre[:, 4:]))


def test_pull_is_zero_when_sets_agree_and_positive_when_not():
    """The pull sums squared deviations from the sets' mean. Catches |.|, a mean, a missed tensor."""
    model = NeuralGPU(m=8, relax_sets=3)
    assert float(pull_cost(model).detach()) < 1e-9  # zero up to float rounding
    with torch.no_grad():
        model.cand_bias[1] += 1.0
    # one set off by 1 in m=8 entries per layer: deviations 2/3 and 1/3, 1/3
    want = model.config.l * 8 * ((2 / 3) ** 2 + 2 * (1 / 3) ** 2)
    assert abs(float(pull_cost(model).detach()) - want) < 1e-4


def test_averaging_gives_the_mean_of_the_sets():
    """Averaging leaves one set, the mean, and a config saying so. Catches keeping set 0."""
    torch.manual_seed(0)
    model = NeuralGPU(m=8, relax_sets=4)
    with torch.no_grad():
        for p in model.stacked_parameters():
            p.add_(torch.randn_like(p))
    means = [p.mean(0).clone() for p in model.stacked_parameters()]
    average_sets(model)
    assert model.relax_sets == 1 and model.config_dict()["relax_sets"] == 1
    for p, m in zip(model.stacked_parameters(), means, strict=True):
        torch.testing.assert_close(p[0], m)


def test_step_t_uses_set_t_mod_r():
    """Step t uses relaxation set t mod r in every layer. Catches t // r, or always set 0."""
    torch.manual_seed(0)
    model = NeuralGPU(w=2, m=8, relax_sets=3).eval()
    used = []
    x, _, _ = make_batch("copy", [2], random.Random(0))  # length 5: 5 steps
    real = torch.nn.functional.conv2d

    def spy(s, w, *a, **k):
        for i in range(3):
            if any(w.data_ptr() == model.gate_weight[i, j].data_ptr() for j in range(2)):
                used.append(i)
        return real(s, w, *a, **k)

    torch.nn.functional.conv2d = spy
    try:
        model(x)
    finally:
        torch.nn.functional.conv2d = real
    assert used == [0, 0, 1, 1, 2, 2, 0, 0, 1, 1]


def test_one_row_image_uses_one_row_kernels_and_still_masks_padding():
    """w = 1 gets 1×k kernels, and masking holds with the improved model's options. Catches 3×3
    kernels on a one-row image (they would read the zero padding above and below) or padding
    that changes an answer under hard units, diagonal gates and candidate dropout."""
    model = NeuralGPU(w=1, m=12, l=1, hard=True, diagonal=True, dropout_on="candidate").eval()
    assert model.gate_weight.shape[-2:] == (1, 3)
    x = torch.tensor([[2, 1, 2, 11, 1, 2, 2]])
    padded = torch.cat([x, torch.zeros(1, 5, dtype=torch.long)], dim=1)
    a = model(x)[0]
    b = model(padded, torch.tensor([7]))[0, :7]
    torch.testing.assert_close(a, b)


def test_improved_model_starts_with_its_own_gate_biases():
    """hard=True starts with u-bias 0.7, r-bias 0.5; the paper's model +1. Catches them swapped."""
    model = NeuralGPU(w=1, m=6, l=1, hard=True, diagonal=True)
    assert torch.all(model.gate_bias[0, 0, :6] == 0.7) and torch.all(model.gate_bias[0, 0, 6:] == 0.5)
    assert torch.all(NeuralGPU(m=6).gate_bias == 1.0)  # the paper's code: both gates start at +1


def test_candidate_dropout_leaves_the_state_untouched_at_step_one():
    """With `dropout_on="candidate"` an update gate of 1 keeps the state exactly, dropout or not.
    Catches the improved model's dropout applied to the state."""
    torch.manual_seed(0)
    model = NeuralGPU(w=1, m=6, l=1, hard=True, dropout_on="candidate").train()
    with torch.no_grad():
        model.gate_bias[..., :6] = 10.0  # u = 1: the CGRU returns s unchanged
    x = torch.tensor([[2, 1, 2]])
    out = model(x, dropout=0.9)
    ref = model.eval()(x)
    torch.testing.assert_close(out, ref)


@pytest.mark.parametrize("dropout_on", ["state", "candidate"])
def test_dropout_acts_in_training_only(dropout_on):
    """Dropout changes a training forward pass and never an eval one. Catches dropout ignored, or
    left on at evaluation."""
    torch.manual_seed(0)
    model = NeuralGPU(w=2, m=8, dropout_on=dropout_on)
    x, _, lengths = make_batch("badd", [3, 3], random.Random(0))
    clean = model.eval()(x, lengths)
    torch.testing.assert_close(model(x, lengths, dropout=0.5), clean)
    torch.manual_seed(1)
    assert not torch.allclose(model.train()(x, lengths, dropout=0.5), clean)
    torch.testing.assert_close(model(x, lengths, dropout=0.0), clean)


def test_glibc_accepts_the_setting_that_keeps_freed_memory_for_the_next_step():
    """On glibc the import calls mallopt and it accepts; elsewhere it reports False (nothing
    changed). Catches libc or mallopt not found, or the call gone from the import."""
    import platform

    import ngpu_lite
    from ngpu_lite.memory import keep_freed_memory

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert keep_freed_memory() is False  # elsewhere it changes nothing and says so
        return
    assert ngpu_lite.KEEPS_FREED_MEMORY is True
    assert keep_freed_memory() is True


def test_the_model_refuses_nonsense_sizes_and_batches_with_one_clear_error():
    """Issue 17 item 9: m=0 divided by zero, relax_sets=0 raised IndexError, an empty batch
    failed inside torch.cat, negative lengths gave answers. Catches any of these back, or a
    nonsense size accepted without a ValueError."""
    import pytest

    from ngpu_lite import NeuralGPU, evaluate

    for bad in (dict(m=0), dict(relax_sets=0), dict(l=-1), dict(w=1.5), dict(dropout_on="nope"),
                dict(target="spaces")):
        with pytest.raises(ValueError):
            NeuralGPU(**bad)
    model = NeuralGPU(w=1, m=4, l=1)
    with pytest.raises(ValueError, match="non-empty"):
        model(torch.zeros(0, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="lengths"):
        model(torch.ones(2, 5, dtype=torch.long), torch.tensor([5, -1]))
    with pytest.raises(ValueError, match="samples"):
        evaluate(model, "copy", 3, samples=0)


def _old_step(s, mask, *weights, **kw):
    """The model's step before the hand-written backward: `cgru` through autograd, then the mask."""
    out = cgru(s, *weights, **kw)
    return out if mask is None else out * mask


@pytest.mark.parametrize("w, kernel", [(4, 3), (1, 3), (3, 5)])
def test_hand_written_cgru_backward_passes_gradcheck(w, kernel):
    """`_CGRUStep`'s backward against finite differences in float64, a mask with zeros, one-row
    (1×k) and wider kernels. Catches a wrong term (∂u, ∂r, the clamp, the tanh) or a transposed
    padding."""
    from ngpu_lite.model.cgru import cgru_masked

    torch.manual_seed(0)
    m, n = 3, 5
    kh = 1 if w == 1 else kernel
    s = torch.randn(2, m, w, n, dtype=torch.float64, requires_grad=True)
    mask = torch.ones(2, 1, 1, n, dtype=torch.float64)
    mask[1, ..., 3:] = 0
    params = [torch.randn(2 * m, m, kh, kernel, dtype=torch.float64),
              torch.randn(2 * m, dtype=torch.float64),
              torch.randn(m, m, kh, kernel, dtype=torch.float64),
              torch.randn(m, dtype=torch.float64)]
    params = [p.requires_grad_() for p in params]
    out = cgru_masked(s, mask, *params)
    assert type(out.grad_fn).__name__ == "_CGRUStepBackward"  # the hand-written path ran
    assert torch.autograd.gradcheck(lambda *a: cgru_masked(a[0], mask, *a[1:]), (s, *params))


def test_hand_written_backward_gives_autograds_values_and_gradients():
    """Against autograd through `cgru` in float64: the same output and the same gradients for the
    state and every weight (1e-10). Catches a backward that is only roughly right."""
    from ngpu_lite.model.cgru import cgru_masked

    torch.manual_seed(1)
    s = torch.randn(3, 4, 4, 6, dtype=torch.float64).contiguous(memory_format=torch.channels_last)
    mask = (torch.rand(3, 1, 1, 6) > 0.3).double()
    params = [torch.randn(8, 4, 3, 3, dtype=torch.float64), torch.randn(8, dtype=torch.float64),
              torch.randn(4, 4, 3, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64)]
    grads = []
    for f in (cgru_masked, _old_step):
        leaves = [t.clone().requires_grad_() for t in (s, *params)]
        out = f(leaves[0], mask, *leaves[1:], cutoff=1.2)
        (out * torch.randn_like(out, generator=torch.Generator().manual_seed(2))).sum().backward()
        grads.append([out.detach()] + [t.grad for t in leaves])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("extra", [dict(w=4, m=10, l=2, relax_sets=2, input_layer="conv"),
                                   dict(w=1, m=9, l=1, hard=True, diagonal=True,
                                        dropout_on="candidate")])
def test_the_models_training_step_is_unchanged_by_the_fast_backward(monkeypatch, extra):
    """The whole model, mixed lengths, dropout, several relaxation sets: logits and every
    parameter's gradient as with autograd through `cgru` (fp32, 1e-5); the improved unit does not
    take the hand-written path, so its numbers are identical. Catches the fast backward wired
    into the model wrongly (mask, relaxation set, dropout or the input layer's gradient lost), or
    taken by the improved unit it was not written for."""
    import ngpu_lite.model.neural_gpu as model_module

    torch.manual_seed(0)
    model = NeuralGPU(**extra).train()
    x, y, lengths = make_batch("badd", [4, 9, 1, 6, 9], random.Random(3))
    results = []
    for step in (model_module.cgru_masked, _old_step):
        monkeypatch.setattr(model_module, "cgru_masked", step)
        model.zero_grad(set_to_none=True)
        torch.manual_seed(5)
        logits = model(x, lengths, dropout=0.1)
        torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).backward()
        results.append([logits.detach()] + [p.grad.clone() for p in model.parameters()])
    exact = extra.get("hard", False)
    for a, b in zip(*results, strict=True):
        if exact:
            assert torch.equal(a, b)
        else:
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
