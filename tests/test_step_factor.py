"""`Config.step_factor`: a model that runs more steps than its input has cells (beyond the paper)."""

import json
import math

import pytest
import torch
import torch.nn.functional as F

from ngpu_lite import NeuralGPU
from ngpu_lite.data.batches import make_batch
from ngpu_lite.data.tasks import eval_stream
from ngpu_lite.interfaces.explore import trace
from ngpu_lite.model import checkpoints


def improved(**extra) -> NeuralGPU:
    torch.manual_seed(0)
    return NeuralGPU(w=1, m=12, l=1, hard=True, diagonal=True, dropout_on="candidate",
                     input_layer="linear", target="zeros", **extra).eval()


def test_more_steps_equal_a_longer_run_on_dead_padding_cells():
    """With step_factor f each example runs ceil(f·length) steps on its own cells: the same logits
    as the paper's rule on the input padded with dead cells to that many. Catches extra steps that
    touch the cells past an example's length, or examples of a mixed batch read out too early."""
    model = improved(step_factor=1.3)
    x, _, lengths = make_batch("bmul", [6, 6, 3, 2], eval_stream(1), target="zeros")
    with torch.no_grad():
        got = model(x, lengths)
        plain = improved()
        for b in range(len(x)):
            n = int(lengths[b])
            steps = math.ceil(1.3 * n)
            xp = F.pad(x[b : b + 1, :n], (0, steps - n))
            mask = torch.zeros(1, steps, dtype=torch.bool)
            mask[0, :n] = True
            want = plain(xp, torch.tensor([steps]), mask=mask)[0, :n]
            assert torch.allclose(got[b, :n], want, atol=1e-5), b


def test_the_step_count_follows_the_factor_and_one_keeps_the_papers_rule():
    """An input of n cells runs n steps at factor 1 and ceil(f·n) at f (counted by the hook).
    Catches a factor that is stored but never changes the loop, or that rounds down."""
    for f, n in ((1.0, 9), (1.25, 9), (2.0, 5)):
        model = improved(step_factor=f)
        seen: list[int] = []
        with torch.no_grad():
            model(torch.ones(1, n, dtype=torch.long), hook=lambda t, j, s, g, seen=seen: seen.append(t))
        assert len(seen) == model.steps_for(n) == math.ceil(f * n - 1e-9)
    assert improved().steps_for(41) == 41


@pytest.mark.parametrize("bad", [0.5, 0.0, 5.0, True, "2"])
def test_a_step_factor_outside_1_to_4_is_refused(bad):
    """Fewer steps than cells cannot carry information across the input. Catches a silent
    shortening of the run or a string that slips into the loop."""
    with pytest.raises(ValueError, match="step_factor"):
        improved(step_factor=bad)


def test_the_factor_travels_with_the_checkpoint_and_the_explorer_keeps_every_step(tmp_path):
    """A saved model loads with its factor, and the explorer's trace has one state per step run.
    Catches a checkpoint that drops the field (the model would lose its extra steps on load) and a
    trace sized by the input length (an index error on the extra steps)."""
    model = improved(step_factor=1.5)
    checkpoints.save(tmp_path / "m.pt", model, "bmul")
    back, _ = checkpoints.load(tmp_path / "m.pt", "bmul")
    assert back.config.step_factor == 1.5
    assert json.loads((tmp_path / "m.json").read_text())["config"]["step_factor"] == 1.5
    tr = trace(back, "bmul", 5, 3)
    assert tr.steps == back.steps_for(len(tr.x)) > len(tr.x)


def test_the_shipped_bmul_runs_a_quarter_more_steps_and_needs_them():
    """The shipped bmul, loaded as users load it, runs ceil(1.25 · 41) = 52 steps on a 41-cell
    input (counted by the hook), and answers 568543 × 789495 = 568543 · 800000 − 568543 · 10505
    = 448861855785, a product it gets wrong at one step per cell (found among 64 fresh products;
    the factor-1.0 run gets about 3% of 20-bit products wrong). Catches a re-ship or a loader that
    drops the factor, which brings back the products it gets wrong at one step per cell."""
    from ngpu_lite import pretrained
    from ngpu_lite.data.tasks import decode, encode_text

    model = pretrained("bmul", device="cpu")
    a, b = "10001010110011011111", "11000000101111110111"  # 568543 and 789495, 20 bits each
    assert int(a, 2) * int(b, 2) == 448_861_855_785
    x, _ = encode_text("bmul", a, b, target="zeros")
    x = torch.tensor([x])
    seen: list[int] = []
    with torch.no_grad():
        model(x, hook=lambda t, j, s, g: seen.append(t))
        right = decode("bmul", model.predict(x)[0], target="zeros")
        model.config.step_factor = 1.0
        one_step = decode("bmul", model.predict(x)[0], target="zeros")
    assert x.shape[1] == 41 and len(set(seen)) == 52
    assert right == bin(448_861_855_785)[2:]
    assert one_step != right
