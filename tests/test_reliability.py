"""Faults a hostile user or a bad day brings (issue 17): tampered and malformed checkpoints, kills
during training and during checkpoint writes, two runs in one folder, nonsense numbers, oversized
inputs, files that are folders, closed pipes and full disks. Each ends in one line and exit
status 2 (a closed pipe: quietly), nothing is lost, and a killed run resumes as the same run."""

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ngpu_lite import CheckpointError, NeuralGPU, load, save, train
from ngpu_lite.interfaces.cli import main
from ngpu_lite.model import checkpoints
from ngpu_lite.model.checkpoints import SHIPPED_DIR, load_raw, write_pair
from ngpu_lite.training.run_folder import _RunLock

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", NGPU_FAST="1",
           PYTHONPATH=str(ROOT))


def _error(capsys, argv, after_progress: bool = False) -> str:
    """Run `argv`, expecting exit status 2, one line on stderr (after the progress bar's, when
    training had begun) and nothing on stdout."""
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (rc, err)
    assert out == "", out
    assert "Traceback" not in err
    if after_progress:
        assert err.count("error:") == 1 and err.strip().splitlines()[-1].startswith("error:"), err
        return err.strip().splitlines()[-1]
    assert len(err.strip().splitlines()) == 1, err
    return err


def _files(folder: Path) -> dict[str, bytes]:
    """Every file in `folder` with its bytes, to show that nothing changed."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _log_steps(folder: Path) -> list[int]:
    """The steps of the log's records, every line parsed (a torn line fails here)."""
    return [json.loads(line)["step"] for line in (folder / "log.jsonl").read_text().splitlines()]


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "badd.pt"
    save(path, NeuralGPU(w=2, m=8), "badd", meta={"steps": 1})
    return path


# --- 3: every load checks the sha256; the pair is written as one change --------------------------

def test_one_flipped_byte_in_the_weights_is_refused(capsys, ckpt):
    """The bug: a changed weight loaded and predicted silently (nothing compared the file with the
    manifest's sha256)."""
    model, _ = load(ckpt)
    data = bytearray(ckpt.read_bytes())
    at = bytes(data).find(model.output.weight.detach().numpy().tobytes())
    assert at > 0
    data[at + 5] ^= 0x01
    ckpt.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load(ckpt)
    assert "sha256" in _error(capsys, ["predict", "--task", "badd", "--checkpoint", str(ckpt),
                                       "1", "1"])


def test_missing_or_malformed_manifest_is_refused(ckpt):
    """Without the manifest nothing vouches for the file: catches loading a lone, unverified .pt."""
    manifest = ckpt.with_suffix(".json")
    manifest.write_text("{not json")
    with pytest.raises(CheckpointError, match="malformed"):
        load(ckpt)
    manifest.unlink()
    with pytest.raises(CheckpointError, match="no manifest"):
        load(ckpt)
    assert load(ckpt, verify=False)[1]["steps"] == 1


def test_every_shipped_checkpoint_matches_its_manifest():
    """The shipped files load as they are: catches a verification that refuses the package's own
    checkpoints (their manifests carry the sha256 already)."""
    shipped = sorted(SHIPPED_DIR.glob("*.pt"))
    assert len(shipped) >= 2
    for path in shipped:
        assert load_raw(path)["info"]["task"]


_KILL_DURING_SAVE = """
import os, sys, torch
from ngpu_lite import NeuralGPU
from ngpu_lite.model import checkpoints
path, at = sys.argv[1], int(sys.argv[2])
torch.manual_seed(2)
model = NeuralGPU(w=2, m=8)
real, calls = os.replace, [0]
def replace(a, b):
    calls[0] += 1
    if calls[0] == at:
        os._exit(9)  # killed: no cleanup, no finally
    real(a, b)
checkpoints.os.replace = replace
checkpoints.save(path, model, "badd", meta={"steps": 2})
"""


@pytest.mark.parametrize("at", [1, 2, 3, 4])
def test_a_kill_at_any_point_of_a_checkpoint_write_leaves_a_matching_pair(ckpt, at):
    """A process killed before each rename of a save (1: pending manifest, 2: weights, 3: final
    manifest; 4: not killed) leaves weights that load with the manifest that describes them.
    The bug: a kill between the .pt and its .json left a manifest of another step."""
    old, _ = load(ckpt)
    r = subprocess.run([sys.executable, "-c", _KILL_DURING_SAVE, str(ckpt), str(at)], env=ENV,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == (9 if at < 4 else 0), r.stderr
    model, info = load(ckpt)
    torch.manual_seed(2)
    new = NeuralGPU(w=2, m=8)
    want = new if at >= 3 else old  # the weights' rename is the moment the new pair counts
    assert info["steps"] == (2 if at >= 3 else 1)
    for k, v in want.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    checkpoints.repair(ckpt)  # what a resuming run does under its lock
    manifest = json.loads(ckpt.with_suffix(".json").read_text())
    assert manifest["sha256"] == checkpoints.sha256(ckpt) and manifest["steps"] == info["steps"]


# --- 4: configs and shapes are checked before anything is built ------------------------------------

def _rewrite_config(path: Path, **changes) -> None:
    """Rewrite a checkpoint's config (with a matching manifest, as a careful forger would)."""
    blob = load_raw(path)
    config = dict(blob["info"]["config"])
    for k, v in changes.items():
        if v is None:
            config.pop(k)
        else:
            config[k] = v
    blob["info"]["config"] = config
    write_pair(path, blob, blob["info"])


@pytest.mark.parametrize("changes, message", [
    ({"m": 1000}, "does not match its own config"),  # within the limits, tensors of m = 8
    ({"m": 20000}, "between 1 and 4096"),
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"m": None}, "missing key 'm'"),
    ({"m": "8"}, "whole number"),
    ({"hard": "yes"}, "true or false"),
    ({"cutoff": float("nan")}, "finite"),
    ({"dropout_on": "nope"}, "refuses"),
    ({"kernel": 4}, "refuses"),
])
def test_malformed_configs_are_refused_before_a_model_is_built(ckpt, monkeypatch, changes,
                                                               message):
    """The bug: a 93 kB file claiming m = 20000 allocated gigabytes before any check, and unknown,
    missing or mistyped keys ended in tracebacks. Here a real model is never built."""
    _rewrite_config(ckpt, **changes)
    built = []
    monkeypatch.setattr(checkpoints, "NeuralGPU", lambda *a, **k: (
        built.append(torch.empty(()).device.type) or NeuralGPU(*a, **k)))
    with pytest.raises(CheckpointError, match=message):
        load(ckpt)
    assert all(dev == "meta" for dev in built), built


def test_a_tensor_of_the_wrong_shape_is_refused(ckpt):
    """Catches a state dict whose tensor shapes disagree with the config reaching the model."""
    blob = load_raw(ckpt)
    blob["state_dict"]["output.bias"] = torch.zeros(5)
    write_pair(ckpt, blob, blob["info"])
    with pytest.raises(CheckpointError, match="output.bias"):
        load(ckpt)


def test_the_lstm_baseline_given_to_predict_is_one_line(capsys):
    """The bug: the shipped lstm-badd.pt given to predict ended in a TypeError traceback."""
    err = _error(capsys, ["predict", "--task", "badd", "--checkpoint",
                          str(SHIPPED_DIR / "lstm-badd.pt"), "1", "1"])
    assert "not a Neural GPU" in err


def test_a_shipped_model_as_a_run_folder_checkpoint_is_refused(capsys, tmp_path):
    """The bug: a model without training state in a run folder crashed with KeyError on resume."""
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(SHIPPED_DIR / "badd.pt", out / "checkpoint.pt")
    shutil.copy(SHIPPED_DIR / "badd.json", out / "checkpoint.json")
    before = _files(out)
    seed = json.loads((out / "checkpoint.json").read_text())["seed"]  # the same run's settings
    err = _error(capsys, ["train", "--task", "badd", "--preset", "fast", "--seed", str(seed),
                          "--out", str(out), "--steps", "1"])
    assert "cannot be resumed" in err
    assert _files(out) == before


# --- 1: a run killed before its first checkpoint resumes; no .tmp is left -------------------------

class _Killed(BaseException):
    """Stands for a kill: not an Exception, so nothing in train catches it."""


def test_a_run_killed_during_its_first_checkpoint_write_resumes(tmp_path, monkeypatch):
    """The bug: a folder with a log but no checkpoint was 'not empty and holds no ngpu_lite run',
    and a kill during the first checkpoint write left a .tmp file behind."""
    out = tmp_path / "run"

    def killed_while_writing(path, *args, **kwargs):
        (Path(path).parent / f".{Path(path).name}.x1y2.tmp").write_bytes(b"half a checkpoint")
        raise _Killed

    monkeypatch.setattr(checkpoints, "save", killed_while_writing)
    with pytest.raises(_Killed):
        train("copy", "tiny", out=out, seed=0, steps=30, progress=False, checkpoint_every=1000)
    assert _log_steps(out) == [25] and not (out / "checkpoint.pt").exists()
    monkeypatch.undo()
    res = train("copy", "tiny", out=out, seed=0, steps=30, progress=False, checkpoint_every=1000)
    assert res.steps == 30
    assert _log_steps(out) == [25]  # logged once: the first attempt's record was redone
    assert not [p.name for p in out.iterdir() if p.name.endswith((".tmp", ".pending"))]
    assert load_raw(out)["info"]["steps"] == 30


def test_a_folder_where_another_run_started_is_refused(capsys, tmp_path):
    """A run stopped before its first checkpoint still owns its folder: catches a run of another
    seed adopting (and truncating) its log."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"task": "copy", "preset": "tiny", "seed": 0}))
    (out / "log.jsonl").write_text('{"step": 25}\n')
    before = _files(out)
    assert "another run" in _error(capsys, ["train", "--task", "copy", "--preset", "tiny",
                                            "--seed", "1", "--out", str(out), "--steps", "1"])
    assert _files(out) == before


# --- 2: one run per folder ------------------------------------------------------------------------

def test_a_second_run_into_a_locked_folder_gets_one_line(capsys, tmp_path):
    """The bug: two runs into one --out both went on, the log interleaved and the last writer's
    checkpoint won. Here the first run's lock is held while the second starts."""
    out = tmp_path / "run"
    assert main(["train", "--task", "copy", "--preset", "tiny", "--out", str(out),
                 "--steps", "3"]) == 0
    capsys.readouterr()
    before = _files(out)
    with _RunLock(out):
        err = _error(capsys, ["train", "--task", "copy", "--preset", "tiny", "--out", str(out),
                              "--steps", "6"])
    assert "in use by another training run" in err
    assert {k: v for k, v in _files(out).items() if k != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"}


def test_two_concurrent_runs_into_one_folder_one_wins(tmp_path):
    """Two processes, seeds 0 and 1, into one folder at once: exactly one succeeds, the other ends
    with one line and status 2, and the checkpoint and log are the winner's alone."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "ngpu_lite", "train", "--task", "copy", "--preset", "tiny",
           "--out", str(out), "--steps", "60"]
    procs = [subprocess.Popen(cmd + ["--seed", str(s)], env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for s in (0, 1)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert sorted(rc for rc, _ in results) == [0, 2], results
    winner = [s for s, (rc, _) in zip((0, 1), results, strict=True) if rc == 0][0]
    loser_err = [err for rc, err in results if rc == 2][0]
    assert len(loser_err.strip().splitlines()) == 1 and "Traceback" not in loser_err
    assert load_raw(out)["info"]["seed"] == winner
    assert _log_steps(out) == [25, 50]


# --- 5: the log and the run agree; a resumed run is the same run -----------------------------------

def test_a_resumed_run_is_the_same_run_step_for_step(tmp_path):
    """Stopped and resumed at steps 10, 20, 35 (inside an epoch) and 50, a run ends with the very
    weights, optimiser state and log of one uninterrupted run. The bug: data, dropout and noise
    were reseeded at the resume step, so losses diverged right after it."""
    whole = train("copy", "tiny", out=tmp_path / "a", seed=3, steps=60, progress=False,
                  checkpoint_every=10)
    for stop in (10, 20, 35, 50, 60):
        parts = train("copy", "tiny", out=tmp_path / "b", seed=3, steps=stop, progress=False,
                      checkpoint_every=10)
    for k, v in whole.model.state_dict().items():
        assert torch.equal(parts.model.state_dict()[k], v), k
    logs = [[{k: v for k, v in json.loads(line).items() if k != "seconds"}
             for line in (tmp_path / d / "log.jsonl").read_text().splitlines()] for d in "ab"]
    assert logs[0] == logs[1] and [r["step"] for r in logs[0]] == [25, 50]
    opt = [load_raw(tmp_path / d)["train_state"]["optimizer"]["state"] for d in "ab"]
    for key in opt[0]:
        for name, value in opt[0][key].items():
            assert torch.equal(torch.as_tensor(opt[1][key][name]), torch.as_tensor(value))


def test_records_past_the_checkpoint_and_a_torn_line_do_not_survive_a_resume(tmp_path):
    """The bugs: steps logged after the last checkpoint were logged again on resume, and a torn
    last line (a kill while writing) blocked the resume with a JSON error."""
    out = tmp_path / "run"
    train("copy", "tiny", out=out, seed=0, steps=50, progress=False)
    with open(out / "log.jsonl", "a") as f:
        f.write(json.dumps({"step": 75, "loss": 1.0}) + '\n{"step": 100, "lo')
    train("copy", "tiny", out=out, seed=0, steps=100, progress=False)
    assert _log_steps(out) == [25, 50, 75, 100]
    assert "loss" in json.loads((out / "log.jsonl").read_text().splitlines()[2])


def test_an_old_checkpoint_without_generator_states_resumes_with_a_note(tmp_path):
    """Checkpoints written before the generators were stored (the run in runs/zoo) still resume,
    and the log and the phase record say the streams changed there."""
    out = tmp_path / "run"
    train("copy", "tiny", out=out, seed=0, steps=20, progress=False)
    blob = load_raw(out)
    for key in ("rng", "epoch"):
        del blob["train_state"][key]
    write_pair(out / "checkpoint.pt", blob, blob["info"])
    train("copy", "tiny", out=out, seed=0, steps=30, progress=False)
    info = load_raw(out)["info"]
    assert "without the random generators" in info["phases"][-1]["note"]
    assert "without the random generators" in json.loads(
        (out / "log.jsonl").read_text().splitlines()[-1])["note"]


# --- 6: every number is checked; work past the length limit is refused ----------------------------

@pytest.mark.parametrize("argv, message", [
    (["train", "--task", "copy", "--steps", "-5"], "at least 1"),
    (["train", "--task", "copy", "--steps", "0"], "at least 1"),
    (["train", "--task", "copy", "--minutes", "-1"], "above 0"),
    (["train", "--task", "copy", "--minutes", "nan"], "finite"),
    (["train", "--task", "copy", "--minutes", "inf"], "finite"),
    (["train", "--task", "copy", "--until-digits", "-3"], "at least 1"),
    (["train", "--task", "copy", "--until-digits", "0"], "at least 1"),
    (["train", "--task", "copy", "--seed", "-1"], "at least 0"),
    (["train", "--task", "copy", "--out", "", "--steps", "1"], "--out is empty"),
    (["train", "--task", "copy", "--until-digits", "100000", "--steps", "1"], "limit of 10,000"),
    (["evaluate", "--task", "badd", "--bits", "0"], "at least 1"),
    (["evaluate", "--task", "badd", "--samples", "-2"], "at least 1"),
    (["evaluate", "--task", "badd", "--bits", "1000000000"], "limit of 10,000"),
    (["evaluate", "--task", "badd", "--bits", "12", "--max-digits", "0"], "at least 1"),
])
def test_numbers_that_make_no_sense_are_refused(capsys, tmp_path, monkeypatch, argv, message):
    """The bugs: --minutes nan never stopped, --steps -5, --minutes -1, --until-digits -3 or 0 and
    --out '' were accepted, and --bits 1000000000 ran for days without a word."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NGPU_MAX_DIGITS", raising=False)
    assert message in _error(capsys, argv)
    assert list(tmp_path.iterdir()) == []  # no run folder was made


def test_an_operand_past_the_limit_says_the_limit_and_the_time(capsys, monkeypatch):
    """A 100,000-digit operand is refused before it is parsed, with the limit and an estimate;
    --max-digits and NGPU_MAX_DIGITS move the limit."""
    monkeypatch.delenv("NGPU_MAX_DIGITS", raising=False)
    err = _error(capsys, ["predict", "--task", "badd", "1" * 100_000, "1"])
    assert "limit of 10,000 digits" in err and "about" in err and "--max-digits" in err
    monkeypatch.setenv("NGPU_MAX_DIGITS", "4")
    assert "limit of 4 digits" in _error(capsys, ["predict", "--task", "badd", "11111", "1"])
    assert main(["predict", "--task", "badd", "--max-digits", "5", "11111", "1"]) == 0
    assert capsys.readouterr().out.strip() == "100000"
    monkeypatch.setenv("NGPU_MAX_DIGITS", "lots")
    assert "NGPU_MAX_DIGITS" in _error(capsys, ["predict", "--task", "badd", "1", "1"])


def test_the_python_api_refuses_nonsense_limits(tmp_path):
    """train(minutes=nan) would never stop, a negative step limit or a zero checkpoint interval
    would misbehave: each is a ValueError before any folder is made."""
    for kwargs in ({"minutes": float("nan")}, {"steps": -5}, {"steps": 3, "checkpoint_every": 0},
                   {"steps": 3, "seed": -1}, {"until": (0, 4)}):
        with pytest.raises(ValueError):
            train("copy", "tiny", out=tmp_path / "run", progress=False, **kwargs)
    assert not (tmp_path / "run").exists()


# --- 7: the operating system's refusals ----------------------------------------------------------

def test_file_a_folder_and_out_a_file_are_one_line(capsys, tmp_path):
    """The bugs: --file naming a folder and --out naming a file ended in tracebacks."""
    assert "is a folder" in _error(capsys, ["predict", "--task", "badd", "--file", str(tmp_path)])
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00garbage")
    assert "not UTF-8" in _error(capsys, ["predict", "--task", "badd", "--file",
                                          str(tmp_path / "binary.txt")])
    f = tmp_path / "notes.txt"
    f.write_text("precious")
    assert "is a file" in _error(capsys, ["train", "--task", "copy", "--preset", "tiny",
                                          "--out", str(f), "--steps", "1"])
    assert f.read_text() == "precious"


def test_a_bom_at_the_start_of_a_file_is_not_a_digit(capsys, tmp_path):
    """Files saved by some editors start with a byte-order mark: catches it reported as a digit."""
    f = tmp_path / "cases.txt"
    f.write_text("\ufeff101 11\n", encoding="utf-8")
    assert main(["predict", "--task", "badd", "--file", str(f)]) == 0
    assert capsys.readouterr().out.strip() == "1000"


def test_predict_into_a_closed_pipe_ends_quietly(tmp_path):
    """`predict --file F | head -1`: the bug was a BrokenPipeError traceback. Now nothing on
    stderr, and the status a Unix tool ended by SIGPIPE reports (141)."""
    f = tmp_path / "cases.txt"
    f.write_text("101 11\n" * 2000)
    p = subprocess.Popen([sys.executable, "-m", "ngpu_lite", "predict", "--task", "badd",
                          "--file", str(f)], env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"1000"
    p.stdout.close()
    rc = p.wait(timeout=300)
    assert p.stderr.read() == b""
    assert rc == 141


def test_a_full_disk_while_checkpointing_keeps_the_last_checkpoint(capsys, tmp_path, monkeypatch):
    """No space left during a checkpoint write: one line naming the kept checkpoint, the old pair
    intact and loadable, no temporary file left, and the rerun resumes. (A simulated ENOSPC: the
    test cannot mount a small filesystem everywhere.)"""
    out = tmp_path / "run"
    argv = ["train", "--task", "copy", "--preset", "tiny", "--out", str(out)]
    assert main(argv + ["--steps", "100"]) == 0
    capsys.readouterr()
    before = {k: v for k, v in _files(out).items() if k.startswith("checkpoint")}
    real = checkpoints._write_tmp

    def full(path, data):
        name = real(path, data[:100])  # part of it fits, then the disk is full
        os.unlink(name)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoints, "_write_tmp", full)
    err = _error(capsys, argv + ["--steps", "200"], after_progress=True)
    assert "No space left" in err and "checkpoint of step 100 is kept" in err
    assert {k: v for k, v in _files(out).items() if k.startswith("checkpoint")} == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert main(argv + ["--steps", "200"]) == 0
    steps = load_raw(out)["info"]["steps"]  # 200, or earlier once copy generalises (its until)
    assert steps > 100 and _log_steps(out)[-1] == steps


# --- fault injection: kill -9 at random moments of a real run ----------------------------------------

@pytest.mark.parametrize("wait", [0.5, 2.0, 4.0])
def test_kill_9_anywhere_in_a_run_then_the_folder_resumes(tmp_path, wait):
    """A training process killed at a moment in its run (before, during or after checkpoint
    writes): the rerun finishes, the checkpoint loads, the log has each epoch once, in order,
    and no temporary file is left. The moments are not timed assertions: any of them must pass."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "ngpu_lite", "train", "--task", "copy", "--preset", "tiny",
           "--out", str(out), "--steps", "150"]
    p = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(wait)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=60)
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    steps = load_raw(out)["info"]["steps"]  # 150, or earlier once copy generalises (its until)
    assert _log_steps(out) == list(range(25, steps + 1, 25)) and steps > 100
    assert not [q.name for q in out.iterdir() if q.name.endswith((".tmp", ".pending"))]


def test_a_real_full_disk_while_checkpointing_keeps_the_last_checkpoint(capsys, tmp_path):
    """The same on a real, small filesystem (a tmpfs with room for one checkpoint and a half),
    where the test may mount one (root on Linux); skipped elsewhere."""
    argv = ["train", "--task", "copy", "--preset", "tiny", "--steps"]
    assert main(argv + ["100", "--out", str(tmp_path / "first")]) == 0
    capsys.readouterr()
    size = sum(p.stat().st_size for p in (tmp_path / "first").iterdir())
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size * 3 // 2 // 4096 * 4096}",
                            "tmpfs", str(disk)], capture_output=True)
    if mount.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = disk / "run"
        shutil.copytree(tmp_path / "first", out)
        before = {k: v for k, v in _files(out).items() if k.startswith("checkpoint")}
        err = _error(capsys, argv + ["300", "--out", str(out)], after_progress=True)
        assert "No space left" in err and "checkpoint of step 100 is kept" in err
        assert {k: v for k, v in _files(out).items() if k.startswith("checkpoint")} == before
        assert load_raw(out)["info"]["steps"] == 100
        assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# --- 8: smaller things ---------------------------------------------------------------------------

def test_every_file_is_fsynced_before_its_rename_and_the_folder_after(tmp_path, monkeypatch):
    """A rename is atomic, but without an fsync a crash can leave the new name on an empty file:
    catches a write path (weights, manifest, pending manifest) renamed before its data reached
    the disk, or a rename whose folder is never synced."""
    events: list[tuple] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_ino))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.stat(src).st_ino, os.stat(Path(dst).parent).st_ino))
        real_replace(src, dst)

    monkeypatch.setattr(checkpoints.os, "fsync", fsync)
    monkeypatch.setattr(checkpoints.os, "replace", replace)
    save(tmp_path / "m.pt", NeuralGPU(w=2, m=8), "badd", meta={"steps": 1})
    renames = [i for i, e in enumerate(events) if e[0] == "replace"]
    assert len(renames) == 3  # pending manifest, weights, final manifest
    for n, i in enumerate(renames):
        _, src, folder = events[i]
        assert ("fsync", src) in events[:i], f"rename {n} before its file was synced"
        until = renames[n + 1] if n + 1 < len(renames) else len(events)
        assert ("fsync", folder) in events[i + 1:until], f"rename {n}: folder not synced"
    load(tmp_path / "m.pt")


def test_orphans_of_a_killed_snapshot_write_are_cleaned(tmp_path):
    """The bug: a kill while writing a snapshot left `.step-N.pt.*.tmp` and a pending manifest
    in `snapshots/` for ever (only the run folder itself was tidied)."""
    out = tmp_path / "run"
    train("copy", "tiny", out=out, seed=0, steps=20, progress=False, keep=2, checkpoint_every=10)
    snaps = out / "snapshots"
    (snaps / ".step-30.pt.k1ll.tmp").write_bytes(b"half a snapshot")
    (snaps / ".step-30.json.pending").write_text("{}")
    (snaps / ".step-20.json.pending").write_text("{}")  # not the manifest of step-20.pt
    train("copy", "tiny", out=out, seed=0, steps=40, progress=False, keep=2, checkpoint_every=10)
    assert sorted(p.name for p in snaps.iterdir()) == [
        "step-30.json", "step-30.pt", "step-40.json", "step-40.pt"]
    for p in snaps.glob("*.pt"):
        load(p)


def test_the_help_hint_names_the_command_once(capsys):
    """The bug: the hint read 'see ngpu_lite ngpu_lite --help' (argparse's prog from -m)."""
    for argv, hint in ((["frobnicate"], "'python -m ngpu_lite --help'"),
                       (["train", "--task", "copy", "--steps", "x"],
                        "'python -m ngpu_lite train --help'")):
        err = _error(capsys, argv)
        assert hint in err and "ngpu_lite ngpu_lite" not in err, err


def test_a_fast_mode_figures_folder_is_gone_when_the_process_ends(tmp_path):
    """The bug: every fast-mode chapter run left an ngpu-figures-* folder in the temporary
    directory. A process that saves a figure there leaves nothing behind."""
    env = {k: v for k, v in ENV.items() if k != "NGPU_FIGURES"} | {"TMPDIR": str(tmp_path)}
    code = ("from ngpu_lite import book; p = book.figures_dir(); (p / 'a.png').write_bytes(b'x'); "
            "print(p)")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    made = Path(r.stdout.strip())
    assert made.parent == tmp_path and made.name.startswith("ngpu-figures-")
    assert not made.exists() and list(tmp_path.iterdir()) == []


# --- 9: the Python API names the argument and its allowed values ---------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "sgd"}, "optimizer must be one of"),  # the bug: silently Adam
    ({"batch": 0}, "batch must be a whole number"),  # the bug: 'max() arg is an empty sequence'
    ({"epoch_steps": 0}, "epoch_steps must be"),  # the bug: ZeroDivisionError
    ({"lr": float("nan")}, "lr must be a finite number"),
    ({"dropout": 2.0}, "dropout is a probability"),
    ({"precision": "fp8"}, "precision must be one of"),
    ({"model": {"m": 0}}, "m must be a whole number"),
    ({"model": {"colour": 1}}, "not a NeuralGPU option"),
    ({"device": "gpu0"}, "device must name a torch device"),
])
def test_train_refuses_a_nonsense_recipe_before_making_a_folder(tmp_path, kwargs, message):
    """Each ends in a ValueError naming the option, before a run folder is made (the bugs: an
    unknown optimiser trained with Adam; a zero batch or epoch ended in unrelated errors after
    the folder was made and locked)."""
    with pytest.raises(ValueError, match=message):
        train("copy", "tiny", out=tmp_path / "run", steps=2, progress=False, **kwargs)
    assert not (tmp_path / "run").exists()


def test_symbols_outside_the_alphabet_are_refused():
    """The bug: symbol -1 indexed the embedding from its end and gave an answer; 99 and a float
    tensor ended in IndexErrors."""
    model = NeuralGPU(w=1, m=4, l=1)
    for x in (torch.full((2, 5), -1), torch.full((2, 5), 99), torch.ones(2, 5)):
        with pytest.raises(ValueError, match="symbols from 0 to"):
            model.predict(x)
    assert model.predict(torch.ones(2, 5, dtype=torch.long)).shape == (2, 5)


# === issue 38: no silent wrong answer, no folder refused for good, every read bounded ============

def _no_ray(monkeypatch):
    """Fail the test if a sweep gets as far as Ray: every refusal below must come before it (and
    these tests run, and can fail, on a machine without the optional `[sweep]` extra)."""
    import ngpu_lite.interfaces.sweep as sweep_module

    def reached(*args, **kwargs):
        raise AssertionError("the sweep reached Ray before refusing")

    monkeypatch.setattr(sweep_module, "_import_ray", reached)
    monkeypatch.setattr(sweep_module, "start_ray", reached)


SWEEP = ["sweep", "--task", "copy", "--preset", "tiny", "--minutes", "1"]


# --- 1: an output that decodes to nothing is no answer, never an empty line ------------------------

@pytest.mark.parametrize("a, b", [("0" * 170, "0" * 170), ("0" * 170, "00")])
def test_an_output_that_decodes_to_nothing_is_no_answer(capsys, a, b):
    """The bug: the shipped badd model reads 170 zeros + 170 zeros (or + 00) as padding and
    `predict` printed an empty line with status 0. Now one line saying the model gave no answer,
    status 1 and nothing on stdout; with --file, the answers before that case are printed."""
    rc = main(["predict", "--task", "badd", a, b])
    out, err = capsys.readouterr()
    assert (rc, out) == (1, ""), (rc, out)
    assert len(err.strip().splitlines()) == 1 and "gave no answer" in err and "Traceback" not in err
    assert main(["predict", "--task", "badd", "0" * 160, "0" * 160]) == 0  # right up to 160
    assert capsys.readouterr().out == "0\n"


def test_a_file_stops_at_the_case_without_an_answer(capsys, tmp_path):
    f = tmp_path / "cases.txt"
    f.write_text(f"101 11\n{'0' * 170} 00\n1 1\n")
    assert main(["predict", "--task", "badd", "--file", str(f)]) == 1
    out, err = capsys.readouterr()
    assert out == "1000\n" and "case 2" in err and "1 answers before it" in err, (out, err)


# --- 2: non-finite weights are refused; a diverging run stops, its last checkpoint kept ------------

def test_a_checkpoint_of_nan_weights_is_refused(capsys, ckpt):
    """The bug: a diverged run's checkpoint (NaN weights, a matching manifest) loaded and
    predicted an empty line with status 0."""
    blob = load_raw(ckpt)
    blob["state_dict"]["output.weight"] = torch.full_like(blob["state_dict"]["output.weight"],
                                                          float("nan"))
    write_pair(ckpt, blob, blob["info"])
    with pytest.raises(CheckpointError, match="not finite"):
        load(ckpt)
    assert "not finite" in _error(capsys, ["predict", "--task", "badd", "--checkpoint", str(ckpt),
                                           "1", "1"])
    model = NeuralGPU(w=2, m=8)
    with torch.no_grad():
        model.output.bias.fill_(float("inf"))
    with pytest.raises(CheckpointError, match="not finite"):
        save(ckpt, model, "badd")  # nor is one written


@pytest.mark.parametrize("poison", ["loss", "weights"])
def test_a_run_whose_loss_or_weights_turn_nan_stops_keeping_its_last_checkpoint(
        tmp_path, monkeypatch, poison):
    """The bug: a NaN loss (or NaN weights after a step) trained on and wrote NaN checkpoints.
    Now the run stops with one line at the first non-finite loss, and the folder's checkpoint is
    the last good one (step 10), which loads."""
    from ngpu_lite.training import loop

    steps = [0]
    if poison == "loss":
        real_pull = loop.relaxation_pull

        def pull(model, weight):
            steps[0] += 1
            return float("nan") if steps[0] == 13 else real_pull(model, weight)

        monkeypatch.setattr(loop, "relaxation_pull", pull)
    else:
        real_step = loop.optimizer_step

        def step(optimizer, at):
            real_step(optimizer, at)
            if at == 12:  # the update of step 13 overflows
                with torch.no_grad():
                    optimizer.param_groups[0]["params"][0].fill_(float("inf"))

        monkeypatch.setattr(loop, "optimizer_step", step)
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="diverged at step 1[34].*checkpoint of step 10") as e:
        train("copy", "tiny", out=out, seed=0, steps=40, progress=False, checkpoint_every=5)
    assert "\n" not in str(e.value)
    model, info = load(out)
    assert info["steps"] == 10
    assert all(bool(torch.isfinite(v).all()) for v in model.state_dict().values())


# --- 3: a snapshot lost to a kill is written again on resume ---------------------------------------

def test_a_snapshot_cut_off_by_a_kill_is_written_again(tmp_path, monkeypatch):
    """The bug: a kill inside the write of snapshot 20 (keep=2) lost it for good: the resumed run
    ended with snapshots 10 and 30, not 20 and 30. Now the resumed run ends with the snapshots of
    an uninterrupted one, weight for weight, and no temporary file."""
    kw = dict(seed=0, progress=False, keep=2, checkpoint_every=10)
    whole = tmp_path / "whole"
    train("copy", "tiny", out=whole, steps=30, **kw)
    real_save = checkpoints.save

    def killed_in_snapshot(path, *args, **kwargs):
        path = Path(path)
        if path.name == "step-20.pt":  # what a kill halfway through write_pair leaves
            (path.parent / f".{path.name}.k1llx9q2.tmp").write_bytes(b"half a snapshot")
            (path.parent / ".step-20.json.pending").write_text("{}")
            (path.parent / "..step-20.json.pending.k1llx9q3.tmp").write_text("{")
            raise _Killed
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "save", killed_in_snapshot)
    out = tmp_path / "run"
    with pytest.raises(_Killed):
        train("copy", "tiny", out=out, steps=30, **kw)
    monkeypatch.undo()
    train("copy", "tiny", out=out, steps=30, **kw)
    names = sorted(p.name for p in (out / "snapshots").iterdir())
    assert names == sorted(p.name for p in (whole / "snapshots").iterdir()) == [
        "step-20.json", "step-20.pt", "step-30.json", "step-30.pt"]
    for name in ("step-20.pt", "step-30.pt"):
        mine, theirs = load(out / "snapshots" / name)[0], load(whole / "snapshots" / name)[0]
        for k, v in theirs.state_dict().items():
            assert torch.equal(mine.state_dict()[k], v), (name, k)


# --- 4: a run never writes through a symbolic link -------------------------------------------------

@pytest.mark.parametrize("name", ["log.jsonl", ".lock", "checkpoint.pt", "snapshots"])
def test_a_run_file_that_is_a_symlink_is_refused(capsys, tmp_path, name):
    """The bug: a `log.jsonl` (or `.lock`) linked to a file outside the folder made `train`
    append to (or create) that file. Now one line, and the outside is as it was."""
    out, outside = tmp_path / "run", tmp_path / "outside"
    out.mkdir()
    target = outside if name != "snapshots" else tmp_path / "elsewhere"
    if name == "log.jsonl":
        outside.write_text("")  # an empty log: the run would append its first epoch to it
    (out / name).symlink_to(target)
    before = outside.read_bytes() if outside.exists() else None
    err = _error(capsys, ["train", "--task", "copy", "--preset", "tiny", "--out", str(out),
                          "--steps", "25"])
    assert "symbolic link" in err
    assert (outside.read_bytes() if outside.exists() else None) == before
    assert (out / name).is_symlink() and not (tmp_path / "elsewhere").exists()


# --- 5: settings that would silently do something else are refused --------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"cutoff": float("nan")}, "cutoff must be a finite number"),  # the bug: predicted only PAD
    ({"hard": "yes"}, "hard must be True or False"),
    ({"diagonal": 1}, "diagonal must be True or False"),
])
def test_the_model_refuses_settings_that_do_something_else(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NeuralGPU(w=1, m=4, l=1, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"threshold": float("nan")}, "threshold must be a finite number"),  # never advanced
    ({"clip": float("nan")}, "clip must be a finite number"),  # turned clipping off
    ({"noise": float("nan")}, "noise must be a finite number"),
    ({"start_digits": 50}, "start_digits \\(50\\) must be from min_digits"),  # trained at 50
    ({"min_digits": 3}, "start_digits \\(2\\) must be from min_digits \\(3\\)"),  # randrange()
    ({"curriculum": "no"}, "curriculum must be True or False"),
])
def test_train_refuses_settings_that_do_something_else(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train("copy", "tiny", out=tmp_path / "run", steps=2, progress=False, **kwargs)
    assert not (tmp_path / "run").exists()


# --- 6: every temporary name a write can leave is recognised and tidied ----------------------------

def test_a_kill_during_the_first_pending_manifest_write_leaves_a_resumable_folder(
        tmp_path, monkeypatch):
    """The bug: a kill while the first checkpoint's pending manifest was written left
    `..checkpoint.json.pending.XXXX.tmp`, and every rerun refused the folder as 'not empty and
    holds no ngpu_lite run'; such files (and `..step-N.json.pending.*.tmp` in snapshots/) stayed
    for ever. Now the rerun resumes and removes them."""
    real = checkpoints._atomic_write

    def killed(path, write):
        path = Path(path)
        if path.name == ".checkpoint.json.pending":  # as a kill leaves it: both temporary files
            (path.parent / f".{path.name}.ab12cd34.tmp").write_text('{"half')
            (path.parent / ".checkpoint.pt.ef56gh78.tmp").write_bytes(b"the weights")
            raise _Killed
        return real(path, write)

    monkeypatch.setattr(checkpoints, "_atomic_write", killed)
    out = tmp_path / "run"
    with pytest.raises(_Killed):
        train("copy", "tiny", out=out, seed=0, steps=10, progress=False, checkpoint_every=1000)
    assert (out / "..checkpoint.json.pending.ab12cd34.tmp").exists()
    monkeypatch.undo()
    snaps = out / "snapshots"
    snaps.mkdir()
    (snaps / "..step-10.json.pending.ij90kl12.tmp").write_text("{")
    (snaps / ".step-10.pt.mn34op56.tmp").write_bytes(b"half")
    res = train("copy", "tiny", out=out, seed=0, steps=10, progress=False, checkpoint_every=1000)
    assert res.steps == 10 and load_raw(out)["info"]["steps"] == 10
    left = [p.name for p in out.rglob("*") if p.name.endswith((".tmp", ".pending"))]
    assert left == [], left


# --- 7: a sweep's size is bounded, with an estimate ------------------------------------------------

def test_a_sweep_of_billions_of_seeds_is_refused_at_once(capsys, tmp_path, monkeypatch):
    """The bugs: `--seeds 0-4294967295` built a set of 4.3 billion seeds; `--seeds 0-100000`
    silently started 100,001 trials. Now one line, the count, the limit and an estimate, before
    any list is made or Ray starts; `--max-trials` moves the limit."""
    _no_ray(monkeypatch)
    out = tmp_path / "sw"
    started = time.monotonic()
    err = _error(capsys, SWEEP + ["--seeds", "0-4294967295", "--out", str(out)])
    assert "4,294,967,296 trials" in err and "--max-trials" in err
    assert time.monotonic() - started < 5
    err = _error(capsys, SWEEP + ["--seeds", "0-100000", "--out", str(out)])
    assert "100,001 trials" in err and "limit of 1,000" in err and "about" in err
    err = _error(capsys, SWEEP + ["--seeds", "0-3", "--grid", "lr=0.001,0.002", "--max-trials",
                                  "7", "--out", str(out)])
    assert "8 trials" in err and "limit of 7" in err
    assert not out.exists()


# --- 8: an address that is not a Ray cluster fails in seconds, writing nothing ---------------------

def _serve(reply):
    """A one-connection TCP server on loopback that reads what comes and answers `reply` (bytes,
    or None: never answer); returns its port."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def run():
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            if reply is not None:
                conn.sendall(reply)
            time.sleep(6)
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


_H2_404 = (b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # SETTINGS, then HEADERS of stream 1: :status 404
           b"\x00\x00\x01\x01\x05\x00\x00\x00\x01\x8d")


@pytest.mark.parametrize("reply, why", [
    (None, "no answer"),  # the bug: Ray retried for more than 60 s
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "does not speak HTTP/2"),
    (_H2_404, "status 404"),  # a proxy: the bug took 27 s and 20 lines of Ray warnings
])
def test_an_address_that_answers_but_is_not_ray_is_one_line_in_seconds(
        capsys, tmp_path, monkeypatch, reply, why):
    _no_ray(monkeypatch)
    out = tmp_path / "sw"
    started = time.monotonic()
    err = _error(capsys, SWEEP + ["--seeds", "0", "--address", f"127.0.0.1:{_serve(reply)}",
                                  "--out", str(out)])
    assert "not a Ray cluster" in err and why in err, err
    assert time.monotonic() - started < 10
    assert not out.exists()  # the bug: --out held a sweep record


# --- 9: only regular files are read, their size checked first --------------------------------------

@pytest.mark.parametrize("option", ["--file", "--checkpoint"])
def test_a_fifo_is_refused_not_waited_on(capsys, tmp_path, option):
    """The bug: a FIFO given as --file or --checkpoint blocked for ever. (A writer opens it after
    5 s, so that the unfixed code ends, and fails, instead of hanging the test run.)"""
    import threading

    fifo = tmp_path / "cases"
    os.mkfifo(fifo)

    def unblock():
        time.sleep(5)
        try:  # fails at once when no reader waits (the fixed code never opens it)
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    threading.Thread(target=unblock, daemon=True).start()
    started = time.monotonic()
    argv = ["predict", "--task", "badd", option, str(fifo)] + (["1", "1"] if option != "--file"
                                                               else [])
    assert "not a regular file" in _error(capsys, argv)
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("option", ["--file", "--checkpoint"])
def test_a_device_or_a_huge_sparse_file_is_refused_before_reading(capsys, tmp_path, option):
    """The bug: --file /dev/zero, --checkpoint /dev/zero and a 20 GB sparse .pt ended in a
    MemoryError traceback after filling the memory."""
    argv = ["predict", "--task", "badd", option]
    tail = ["1", "1"] if option == "--checkpoint" else []
    assert "not a regular file" in _error(capsys, argv + ["/dev/zero"] + tail)
    big = tmp_path / "big.pt"
    with open(big, "wb") as f:
        f.truncate(20 * 10**9)  # sparse: no disk used
    shutil.copy(SHIPPED_DIR / "badd.json", tmp_path / "big.json")
    assert "past the limit" in _error(capsys, argv + [str(big)] + tail)


# --- 10: evaluations are bounded, with an estimate -------------------------------------------------

def test_an_evaluation_past_the_limits_is_refused_with_an_estimate(capsys, monkeypatch):
    """The bugs: `evaluate --samples 1000000000` and `evaluate(net, "badd", 10**6)` ran without
    a word for days. Now one line with the limit and an estimate; --max-samples,
    NGPU_MAX_SAMPLES and max_digits=/max_samples= move the limits."""
    from ngpu_lite import evaluate
    from ngpu_lite.model import evaluate as evaluate_module

    net = NeuralGPU(w=1, m=4, l=1)

    def began(*args, **kwargs):
        raise AssertionError("the evaluation began: days of work without a word")

    monkeypatch.setattr(evaluate_module, "make_batch", began)
    monkeypatch.delenv("NGPU_MAX_SAMPLES", raising=False)
    monkeypatch.delenv("NGPU_MAX_DIGITS", raising=False)
    err = _error(capsys, ["evaluate", "--task", "badd", "--samples", "1000000000"])
    assert "limit of 100,000 cases" in err and "about" in err and "--max-samples" in err
    assert "limit of 3 cases" in _error(capsys, ["evaluate", "--task", "badd", "--samples", "4",
                                                 "--max-samples", "3"])
    monkeypatch.setenv("NGPU_MAX_SAMPLES", "3")
    assert "limit of 3 cases" in _error(capsys, ["evaluate", "--task", "badd", "--samples", "4"])
    monkeypatch.delenv("NGPU_MAX_SAMPLES")
    with pytest.raises(ValueError, match="limit of 10,000 digits.*about"):
        evaluate(net, "badd", 10**6)
    with pytest.raises(ValueError, match="limit of 100,000 cases"):
        evaluate(net, "badd", 4, 10**9)
    monkeypatch.undo()
    assert evaluate(net, "badd", 3, 4, max_samples=4, max_digits=3)["samples"] == 4


# --- 11, 12: a bad NGPU_THREADS and a closed stdout are one line ---------------------------------

def test_a_bad_ngpu_threads_is_one_line_not_an_import_traceback(capsys, monkeypatch):
    """The bug: NGPU_THREADS=abc, 0 or -2 raised a ValueError at import (`threads.apply`), a
    traceback for every command. Now the import warns and keeps torch's threads; every command
    refuses it in one line."""
    from ngpu_lite import threads

    for bad in ("abc", "0", "-2"):
        monkeypatch.setenv("NGPU_THREADS", bad)
        with pytest.warns(UserWarning, match="NGPU_THREADS"):
            assert threads.apply() is None
        assert "NGPU_THREADS" in _error(capsys, ["predict", "--task", "badd", "1", "1"])


def test_a_closed_stdout_is_one_line(capsys, monkeypatch):
    """The bug: `predict … >&-` ended in an AttributeError traceback (Python's stdout is None)."""
    monkeypatch.setattr(sys, "stdout", None)
    assert main(["predict", "--task", "badd", "1", "1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "standard output is closed" in err


# --- 13: memory is estimated before a model is built ------------------------------------------------

def test_a_huge_model_is_refused_with_its_size_before_allocating(capsys, tmp_path, monkeypatch):
    """The bugs: a 20 kB checkpoint of stride-0 tensors within the config limits claimed a 31 TB
    model and died in the allocator; so did NeuralGPU(m=10**9), train(model={"m": 100000}) and
    sweep --grid model.m=100000. Now each is refused with the estimate, before allocating."""
    from ngpu_lite.model import neural_gpu

    config = dict(NeuralGPU(w=2, m=8).config_dict(), w=64, m=4096, l=16, kernel=15, relax_sets=64)
    monkeypatch.setattr(neural_gpu, "MAX_WEIGHT_BYTES", 10**18, raising=False)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in NeuralGPU(**config).state_dict().items()}
    monkeypatch.undo()
    info = {"format": checkpoints.FORMAT, "task": "badd", "config": config}
    path = tmp_path / "huge.pt"
    write_pair(path, {"info": info, "state_dict": {k: torch.zeros(()).expand(s)
                                                   for k, s in shapes.items()}}, info)
    assert path.stat().st_size < 100_000
    with pytest.raises(CheckpointError, match="TB"):
        load(path)
    for kwargs in ({"m": 10**9}, {"m": 100_000}):
        with pytest.raises(ValueError, match="weights .*past the limit"):
            NeuralGPU(**kwargs)
    with pytest.raises(ValueError, match="past the limit"):
        train("copy", "tiny", out=tmp_path / "run", steps=1, progress=False,
              model={"m": 100_000})
    _no_ray(monkeypatch)
    assert "past the limit" in _error(capsys, SWEEP + ["--grid", "model.m=100000", "--out",
                                                       str(tmp_path / "sw")])


# --- 14, 15: devices and arguments are checked and named -------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: train("copy", "tiny", steps=1, progress=False, device="cuda:99"), "device 'cuda:99'"),
    (lambda: pretrained_model("badd", device="tpu"), "device must name a torch device"),
    (lambda: load(SHIPPED_DIR / "badd.pt", device="cuda:99"), "device 'cuda:99'"),
])
def test_a_device_that_is_not_here_is_a_value_error_naming_it(call, message):
    """The bug: torch's AssertionError ('Torch not compiled with CUDA') or RuntimeError."""
    with pytest.raises(ValueError, match=message):
        call()


def pretrained_model(*args, **kwargs):
    from ngpu_lite import pretrained

    return pretrained(*args, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a build without CUDA")
def test_cuda_on_a_cpu_only_build_says_what_is_available():
    with pytest.raises(ValueError, match="device 'cuda' is not available here; this machine has cpu"):
        train("copy", "tiny", steps=1, progress=False, device="cuda")


def test_arguments_of_the_wrong_kind_are_named():
    """The bugs: deep AttributeErrors and RuntimeErrors from inside torch."""
    from ngpu_lite import evaluate

    net = NeuralGPU(w=1, m=4, l=1)
    x = torch.ones(1, 5, dtype=torch.long)
    for call, error, message in (
            (lambda: NeuralGPU(init_scale=float("inf")), ValueError, "init_scale"),
            (lambda: net.predict(x, [5]), TypeError, "lengths must be a tensor"),
            (lambda: net.predict([[1, 2, 3]]), TypeError, "x must be a tensor"),
            (lambda: net.predict(x, torch.tensor([5.0])), TypeError, "lengths must hold whole"),
            (lambda: train("copy", "tiny", steps=1, progress=False, start_model="str"), TypeError,
             "start_model must be a NeuralGPU"),
            (lambda: evaluate(None, "badd", 5), TypeError, "model must be a NeuralGPU")):
        with pytest.raises(error, match=message):
            call()


# --- 16: Ctrl-C while the command starts ------------------------------------------------------------

_INTERRUPT_IN_IMPORT = """
import os, signal, sys
class Interrupt:  # Ctrl-C at the moment the command starts loading torch
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
"""


def test_ctrl_c_during_start_up_is_one_line(tmp_path):
    """The bug: Ctrl-C while `python -m ngpu_lite` loaded torch printed a KeyboardInterrupt
    traceback. (A sitecustomize sends the SIGINT when torch's import begins.)"""
    (tmp_path / "sitecustomize.py").write_text(_INTERRUPT_IN_IMPORT)
    r = subprocess.run([sys.executable, "-m", "ngpu_lite", "predict", "--task", "badd", "1", "1"],
                       env=dict(ENV, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}"),
                       capture_output=True, text=True, timeout=120,
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert r.returncode == 130 and r.stdout == "", (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.strip().splitlines() == [
        "interrupted while starting; nothing was done"], r.stderr


# --- 17: every grid value is checked before Ray starts ---------------------------------------------

def test_an_unknown_grid_value_is_refused_before_ray(capsys, tmp_path, monkeypatch):
    """The bug: `--grid dropout_rule=bogus` started Ray and failed 37 s later in every trial."""
    _no_ray(monkeypatch)
    err = _error(capsys, SWEEP + ["--grid", "dropout_rule=bogus", "--out", str(tmp_path / "sw")])
    assert "dropout_rule must be one of" in err and not (tmp_path / "sw").exists()


# --- 18: smaller things ------------------------------------------------------------------------------

def test_a_bare_pickle_is_one_line_without_torch_warnings(capsys, tmp_path):
    """The bug: a protocol-4 pickle (with a manifest of its sha256) printed two torch warnings
    before the error line."""
    import pickle
    import warnings

    path = tmp_path / "p4.pt"
    path.write_bytes(pickle.dumps({"info": {}}, protocol=4))
    path.with_suffix(".json").write_text(json.dumps({"sha256": checkpoints.sha256(path)}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        err = _error(capsys, ["predict", "--task", "badd", "--checkpoint", str(path), "1", "1"])
    assert "not an ngpu_lite checkpoint" in err and [str(w.message) for w in caught] == []


def test_a_truncated_checkpoint_is_a_sha256_mismatch(tmp_path):
    """The bug: reported as 'corrupt (ValueError)': the bytes were unpickled before they were
    checked against the manifest."""
    path = tmp_path / "badd.pt"
    path.write_bytes((SHIPPED_DIR / "badd.pt").read_bytes()[:20_000])
    shutil.copy(SHIPPED_DIR / "badd.json", tmp_path / "badd.json")
    with pytest.raises(CheckpointError, match="sha256 does not match"):
        load(path)


def test_a_system_error_after_a_checkpoint_does_not_claim_nothing_was_written(capsys, tmp_path,
                                                                              monkeypatch):
    """The bug: 'nothing was overwritten' after a run that had written its checkpoint (here the
    closing line goes to a full disk, `> /dev/full`)."""
    class Full:
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Full())
    out = tmp_path / "run"
    assert main(["train", "--task", "copy", "--preset", "tiny", "--out", str(out), "--steps",
                 "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "nothing was overwritten" not in err and "checkpoint is kept" in err, err
    assert load_raw(out)["info"]["steps"] == 5


def test_a_callers_mistake_is_an_error_not_an_empty_result():
    """The bugs: evaluate(batch_size=-1) blamed `x`; family_cases(samples=-1),
    evaluate_cases(pairs=[]) and make_batch(digits=[]) returned empty results."""
    import random

    from ngpu_lite import evaluate, make_batch
    from ngpu_lite.data.families import family_cases
    from ngpu_lite.model.evaluate import evaluate_cases

    net = NeuralGPU(w=1, m=4, l=1)
    for call, message in (
            (lambda: evaluate(net, "badd", 3, 4, batch_size=-1), "batch_size must be"),
            (lambda: family_cases("badd", "random", 5, -1), "samples must be"),
            (lambda: evaluate_cases(net, "badd", [], 5), "pairs must be a non-empty"),
            (lambda: make_batch("badd", [], random.Random(0)), "empty batch")):
        with pytest.raises(ValueError, match=message):
            call()
