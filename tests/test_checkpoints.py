"""Checkpoints: round trip, provenance, corrupt and mismatched files."""

import json

import pytest
import torch

from ngpu_lite import CheckpointError, NeuralGPU, load, pretrained, save
from ngpu_lite.checkpoints import sha256


def test_round_trip_keeps_weights_config_and_answers(tmp_path, tiny_model):
    path = tmp_path / "m.pt"
    manifest = save(path, tiny_model, "badd", meta={"seed": 7, "steps": 12})
    model, info = load(path, "badd")
    for (k, a), (_, b) in zip(tiny_model.state_dict().items(), model.state_dict().items(),
                              strict=True):
        assert torch.equal(a, b), k
    x = torch.randint(1, 3, (2, 9))
    assert torch.equal(model.predict(x), tiny_model.predict(x))
    assert info["seed"] == 7 and info["config"]["m"] == 8
    for key in ("task", "config", "seed", "steps", "hardware", "library_version", "git_commit"):
        assert key in manifest
    on_disk = json.loads(path.with_suffix(".json").read_text())
    assert on_disk["sha256"] == sha256(path)


def test_relaxed_model_round_trips(tmp_path):
    model = NeuralGPU(w=2, m=8, relax_sets=3)
    save(tmp_path / "r.pt", model, "copy")
    loaded, _ = load(tmp_path / "r.pt")
    assert loaded.relax_sets == 3


def test_corrupt_checkpoint_is_reported(tmp_path, tiny_model):
    path = tmp_path / "m.pt"
    save(path, tiny_model, "badd")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load(path)


def test_foreign_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not an ngpu_lite checkpoint"):
        load(path)


def test_checkpoint_for_another_task_is_refused(tmp_path, tiny_model):
    save(tmp_path / "m.pt", tiny_model, "badd")
    with pytest.raises(CheckpointError, match="trained for task 'badd'"):
        load(tmp_path / "m.pt", "bmul")


def test_missing_checkpoint_says_how_to_make_one(tmp_path):
    with pytest.raises(CheckpointError, match="train"):
        load(tmp_path / "nothing.pt")


def test_code_in_a_checkpoint_is_never_run(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("raise SystemExit('ran')",))

    path = tmp_path / "evil.pt"
    torch.save({"info": {"format": "ngpu_lite-checkpoint-1"}, "x": Evil()}, path)
    with pytest.raises(CheckpointError):
        load(path)


def test_pretrained_without_a_shipped_model_explains(monkeypatch, tmp_path):
    import ngpu_lite.checkpoints as ck

    monkeypatch.setattr(ck, "SHIPPED_DIR", tmp_path)
    with pytest.raises(CheckpointError, match="no shipped checkpoint"):
        pretrained("badd")
