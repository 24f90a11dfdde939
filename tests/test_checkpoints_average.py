"""Averaging the weights of several checkpoints of one architecture (this project's remedy; the
2016 code's `--ensemble` sums output probabilities instead)."""

import pytest
import torch

from ngpu_lite import NeuralGPU
from ngpu_lite.model import checkpoints


def _saved(tmp_path, name, seed, **config):
    torch.manual_seed(seed)
    model = NeuralGPU(**config)
    checkpoints.save(tmp_path / f"{name}.pt", model, "badd")
    return model


def test_average_of_checkpoints_is_the_mean_of_every_weight(tmp_path):
    """Averaging three checkpoints gives every parameter's elementwise mean, in eval mode. Catches a sum not
    divided by the count, weights paired under the wrong names, or the average left in training mode."""
    a = _saved(tmp_path, "a", 0, w=1, m=8, l=1)
    b = _saved(tmp_path, "b", 1, w=1, m=8, l=1)
    c = _saved(tmp_path, "c", 2, w=1, m=8, l=1)
    avg = checkpoints.average_checkpoints([tmp_path / f"{n}.pt" for n in "abc"], "badd")
    for (name, p), pa, pb, pc in zip(avg.named_parameters(), a.parameters(), b.parameters(),
                                     c.parameters(), strict=True):
        torch.testing.assert_close(p, (pa + pb + pc) / 3, msg=name)
    assert not avg.training


def test_models_of_different_sizes_cannot_be_averaged(tmp_path):
    """Models of different configs, or no models at all, are refused with a clear CheckpointError. Catches a
    raw load_state_dict shape error (or a silent average of mismatched models) instead of the message."""
    _saved(tmp_path, "a", 0, w=1, m=8, l=1)
    _saved(tmp_path, "b", 0, w=1, m=12, l=1)
    with pytest.raises(checkpoints.CheckpointError, match="share one config"):
        checkpoints.average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"])
    with pytest.raises(checkpoints.CheckpointError, match="nothing to average"):
        checkpoints.average([])


def test_a_run_keeps_the_weights_of_its_last_checkpoints(tmp_path):
    """`keep=k` leaves exactly the last k checkpoints' weights in the run folder, named by step
    (the bug: old snapshots piling up, or the current one missing)."""
    from ngpu_lite import train
    from ngpu_lite.training.run_folder import snapshots

    train("copy", "tiny", out=tmp_path, seed=0, steps=50, checkpoint_every=10, keep=3,
          progress=False)
    assert [p.stem for p in snapshots(tmp_path)] == ["step-30", "step-40", "step-50"]
    last = checkpoints.load(snapshots(tmp_path)[-1], "copy")[0]
    final = checkpoints.load(tmp_path, "copy")[0]
    for a, b in zip(last.parameters(), final.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    again = train("copy", "tiny", out=tmp_path, seed=0, steps=60, checkpoint_every=10, keep=3,
                  progress=False)  # the folder with its snapshots resumes
    assert again.steps == 60 and len(snapshots(tmp_path)) == 3
