"""Checkpoints: round trip, provenance, corrupt and mismatched files."""

import json

import pytest
import torch

from ngpu_lite import CheckpointError, NeuralGPU, load, pretrained, save
from ngpu_lite.model.checkpoints import sha256


def test_round_trip_keeps_weights_config_and_answers(tmp_path, tiny_model):
    """Catches a weight or config entry lost, provenance not kept, or a manifest hash of another file."""
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


def test_relaxed_model_round_trips_with_every_set(tmp_path):
    """Sets made to differ come back as saved: catches a config that drops relax_sets, or one set
    stored for all."""
    torch.manual_seed(0)
    model = NeuralGPU(w=2, m=8, relax_sets=3)
    with torch.no_grad():
        for p in model.stacked_parameters():
            p.add_(torch.randn_like(p))
    save(tmp_path / "r.pt", model, "copy")
    loaded, _ = load(tmp_path / "r.pt")
    assert loaded.relax_sets == 3
    for p, q in zip(model.stacked_parameters(), loaded.stacked_parameters(), strict=True):
        assert torch.equal(p, q)


def test_corrupt_checkpoint_is_reported(tmp_path, tiny_model):
    """A truncated file raises CheckpointError naming it corrupt, not an unpickling traceback."""
    path = tmp_path / "m.pt"
    save(path, tiny_model, "badd")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt"):
        load(path)


def test_foreign_file_is_not_a_checkpoint(tmp_path):
    """A torch file without our format tag is refused: catches loading any dict of tensors."""
    path = tmp_path / "x.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not an ngpu_lite checkpoint"):
        load(path)


def test_checkpoint_for_another_task_is_refused(tmp_path, tiny_model):
    """Catches a badd model silently answering bmul questions."""
    save(tmp_path / "m.pt", tiny_model, "badd")
    with pytest.raises(CheckpointError, match="trained for task 'badd'"):
        load(tmp_path / "m.pt", "bmul")


def test_missing_checkpoint_says_how_to_make_one(tmp_path):
    """Catches a bare FileNotFoundError instead of a message naming the train command."""
    with pytest.raises(CheckpointError, match="train"):
        load(tmp_path / "nothing.pt")


def test_code_in_a_checkpoint_is_never_run(tmp_path):
    """A pickle that would write a file is refused and the file never appears: catches
    `torch.load` without `weights_only=True`."""
    ran = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (exec, (f"open({str(ran)!r}, 'w').close()",))

    path = tmp_path / "evil.pt"
    torch.save({"info": {"format": "ngpu_lite-checkpoint-1"}, "x": Evil()}, path)
    with pytest.raises(CheckpointError):
        load(path)
    assert not ran.exists()


def test_pretrained_without_a_shipped_model_explains(monkeypatch, tmp_path):
    """Catches a bare FileNotFoundError when the package ships no model for the task."""
    import ngpu_lite.model.checkpoints as ck

    monkeypatch.setattr(ck, "SHIPPED_DIR", tmp_path)
    with pytest.raises(CheckpointError, match="no shipped checkpoint"):
        pretrained("badd")


def test_pretrained_paper_model_is_its_own_file(monkeypatch, tmp_path):
    """`model="paper"` loads `TASK-paper.pt`, the default `TASK.pt`: catches one name serving
    for both models, a paper model missing without a clear error, or an unknown model accepted."""
    import ngpu_lite.model.checkpoints as ck

    monkeypatch.setattr(ck, "SHIPPED_DIR", tmp_path)
    save(tmp_path / "badd.pt", NeuralGPU(w=1, m=8, l=1, hard=True, diagonal=True), "badd")
    with pytest.raises(CheckpointError, match="no shipped checkpoint 'badd-paper'"):
        pretrained("badd", model="paper")
    save(tmp_path / "badd-paper.pt", NeuralGPU(w=2, m=8), "badd")
    assert pretrained("badd", "cpu", model="paper").config.w == 2
    assert pretrained("badd", "cpu").config.w == 1
    with pytest.raises(ValueError, match="model must be one of"):
        pretrained("badd", model="lstm")


def test_shipped_names_split_back_into_task_and_model():
    """`split_name` inverts `shipped_name` for both models, and the improved model keeps the bare task name.
    Catches a suffix that `split_name` does not strip, or the default file renamed (e.g. 'badd-improved')."""
    from ngpu_lite.model.checkpoints import shipped_name, split_name

    for task in ("badd", "copy"):
        for model in ("improved", "paper"):
            assert split_name(shipped_name(task, model)) == (task, model)
    assert shipped_name("badd") == "badd" and shipped_name("badd", "paper") == "badd-paper"


def test_manifest_records_the_cpu_and_the_library_files_changed_since_its_commit(tmp_path):
    """Catches a manifest that cannot tell a run trained on a changed working tree, or on another
    CPU, from one the named commit re-makes (the shipped duplicate was such a run)."""
    from ngpu_lite.model import checkpoints as ck

    info = ck.save(tmp_path / "m.pt", NeuralGPU(w=1, m=6, l=1), "copy")
    assert isinstance(info["changed_files"], list) and info["cpu_model"]
    assert info["changed_files"] == ck.changed_library_files()
    assert not any(f.startswith("ngpu_lite/checkpoints/") for f in info["changed_files"])
