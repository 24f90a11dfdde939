"""Sweeps: a real two-trial sweep on a local Ray, its clear errors, and the paper's selection."""

import json
import socket
import sys

import pytest
import torch

from ngpu_lite import NeuralGPU, pretrained, save
from ngpu_lite.interfaces.cli import main
from ngpu_lite.interfaces.sweep import (
    SweepError,
    average_top,
    best_run,
    parse_grid,
    parse_seeds,
    ranked,
    run_trial,
    trial_name,
)

TINY = ["sweep", "--task", "copy", "--preset", "tiny", "--seeds", "0-1", "--minutes", "1",
        "--steps", "30", "--digits", "12", "--samples", "16"]


def _error(capsys, argv):
    """Run `argv`, expecting exit status 2, one line on stderr and nothing on stdout."""
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (rc, out, err)
    assert out == "", out
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def test_seeds_take_ranges_and_lists():
    """Catches a range that drops its last seed, duplicates, or a backwards range accepted."""
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5,0-2,2") == [0, 1, 2, 5]
    for bad in ("3-1", "a", "1,,2", "-1"):
        with pytest.raises(SweepError):
            parse_seeds(bad)


def test_grid_values_take_the_type_of_their_preset_field():
    """Catches '0.003' passed to train as text, '32' as a float, or 'false' as a true string."""
    grid = parse_grid(["lr=0.003,0.01", "batch=8,16", "curriculum=false,true", "model.m=8",
                       "optimizer=adam,adamax"], "tiny")
    assert grid == {"lr": [0.003, 0.01], "batch": [8, 16], "curriculum": [False, True],
                    "model.m": [8], "optimizer": ["adam", "adamax"]}
    assert type(grid["batch"][0]) is int and type(grid["lr"][0]) is float
    assert trial_name({"lr": 0.003}, 1) == "lr=0.003,seed=1"


@pytest.mark.parametrize("grid, message", [
    ("nope=1,2", "unknown preset field"),
    ("lr=fast", "not a finite number"),
    ("batch=1.5", "not a whole number"),
    ("model=1", "cannot be swept"),
    ("model.nope=3", "not a NeuralGPU option"),
    ("curriculum_rule=sideways", "curriculum_rule must be one of"),
    ("lr", "key=v1,v2"),
])
def test_a_bad_grid_is_one_line_and_writes_nothing(capsys, tmp_path, grid, message):
    """Catches a typo in a grid key silently training the default recipe, or a traceback."""
    out = tmp_path / "sw"
    assert message in _error(capsys, TINY + ["--grid", grid, "--out", str(out)])
    assert not out.exists()


def test_without_ray_the_error_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    """Catches an ImportError traceback where a user needs the pip command."""
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    out = tmp_path / "sw"
    assert "pip install -e '.[sweep]'" in _error(capsys, TINY + ["--out", str(out)])
    assert not out.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_present(monkeypatch):
    """Let `sweep` pass its Ray import without Ray: the refusals below come before Ray is used,
    so these tests run (and can fail) on a machine without the optional `[sweep]` extra."""
    import ngpu_lite.interfaces.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "_import_ray", lambda: (None, None))


def test_an_unreachable_address_is_one_line_quickly(capsys, tmp_path, monkeypatch):
    """Catches a sweep that waits for minutes, or tracebacks, on a cluster that is not there."""
    _ray_present(monkeypatch)
    out = tmp_path / "sw"
    err = _error(capsys, TINY + ["--address", f"127.0.0.1:{_free_port()}", "--out", str(out)])
    assert "no Ray cluster answers" in err and "ray start --head" in err
    assert not out.exists()


def test_an_out_folder_holding_another_sweep_is_refused(capsys, tmp_path, monkeypatch):
    """Catches a second sweep mixing its trials and table into the folder of the first."""
    _ray_present(monkeypatch)
    out = tmp_path / "sw"
    out.mkdir()
    theirs = {"task": "reverse", "preset": "tiny", "seeds": [0], "grid": {}, "minutes": 1.0,
              "steps": None, "until": [24, 64], "check_every": 1, "digits": 60, "samples": 64,
              "eval_seed": 2024}
    (out / "sweep.json").write_text(json.dumps(theirs))
    assert "holds another sweep (task reverse" in _error(capsys, TINY + ["--out", str(out)])
    assert json.loads((out / "sweep.json").read_text()) == theirs
    (out / "sweep.json").unlink()
    (out / "notes.txt").write_text("mine")
    assert "holds no sweep" in _error(capsys, TINY + ["--out", str(out)])


def test_a_local_sweep_runs_two_trials_prints_their_table_and_resumes(capsys, tmp_path):
    """The issue's acceptance run, smaller: two trials on a local Ray, a progress line each, the
    table, a folder per trial; a trial run again reuses its finished run instead of retraining."""
    pytest.importorskip("ray")
    out = tmp_path / "sw"
    argv = TINY + ["--out", str(out), "--workers", "2"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "[1/2] seed=" in printed and "[2/2] seed=" in printed
    assert "| seed=0 | 30 |" in printed and "| seed=1 | 30 |" in printed
    res = json.loads((out / "results.json").read_text())
    assert [r["trial"] for r in res["runs"]] == ["seed=0", "seed=1"] and res["errors"] == []
    assert res["best"] == best_run(res["runs"])["trial"]
    for r in res["runs"]:
        assert r["steps"] == 30 and r["digits"] == 12 and r["samples"] == 16
        assert (out / r["folder"] / "checkpoint.pt").exists()
    assert (out / "results.md").read_text().count("| seed=") == 2
    assert (out / "spread.png").stat().st_size > 0

    # run again, a trial is already done: it returns its record without training further (run
    # here in-process, as a Ray worker does it, to keep the test short)
    first = res["runs"][0]
    log = (out / first["folder"] / "log.jsonl").read_text()
    spec = json.loads((out / "sweep.json").read_text())
    again = run_trial({"name": first["trial"], "point": {}, "seed": first["seed"], "spec": spec,
                       "folder": str(out / first["folder"])})
    assert (again["steps"], again["exact"], again["per_symbol"]) == \
        (first["steps"], first["exact"], first["per_symbol"])
    assert (out / first["folder"] / "log.jsonl").read_text() == log


def test_a_failed_trial_is_one_line_and_the_others_still_count(capsys, tmp_path):
    """Catches one bad trial losing the whole sweep's table, a Ray traceback on the terminal, or
    exit status 0 when a trial failed."""
    pytest.importorskip("ray")
    out = tmp_path / "sw"
    (out / "trials").mkdir(parents=True)
    (out / "trials" / "seed=0").write_text("not a folder")  # train refuses to write there
    argv = TINY[:-6] + ["--steps", "5", "--digits", "8", "--samples", "8", "--out", str(out),
                        "--workers", "1"]
    assert main(argv) == 1
    printed, err = capsys.readouterr()
    assert "[1/2] seed=0: failed" in printed or "[2/2] seed=0: failed" in printed
    assert "Traceback" not in err and err.count("\n") == 1
    assert "trial seed=0 failed: " in err and "is a file, not a folder" in err
    res = json.loads((out / "results.json").read_text())
    assert [r["trial"] for r in res["runs"]] == ["seed=1"] and len(res["errors"]) == 1


# --- selection on fake runs -------------------------------------------------------------------

def _run(name, exact, per_symbol, steps, arch="a"):
    return {"trial": name, "exact": exact, "per_symbol": per_symbol, "steps": steps,
            "architecture": arch, "folder": name}


def test_best_run_follows_the_stated_criterion_in_order():
    """Catches ties broken the wrong way (more steps preferred) or a criterion ignored."""
    runs = [_run("a", 0.5, 0.9, 100), _run("b", 1.0, 0.99, 300), _run("c", 1.0, 0.99, 200),
            _run("d", 1.0, 0.98, 50)]
    assert best_run(runs)["trial"] == "c"
    assert [r["trial"] for r in ranked(runs)] == ["c", "b", "d", "a"]
    assert best_run(runs, criterion=("-steps",))["trial"] == "d"
    with pytest.raises(SweepError):
        best_run([])


@pytest.fixture
def fake_sweep(tmp_path):
    """Three runs on disk: the shipped copy model (best), a random model of the same
    architecture, and a random model of another architecture ranked between them."""
    good = pretrained("copy", "cpu")
    torch.manual_seed(0)
    save(tmp_path / "good" / "checkpoint.pt", good, "copy")
    noise = NeuralGPU(**good.config_dict())
    with torch.no_grad():
        for p in noise.parameters():
            p.normal_(0, 3.0)  # far from the trained weights: the average lands between them
    save(tmp_path / "noise" / "checkpoint.pt", noise, "copy")
    save(tmp_path / "other" / "checkpoint.pt", NeuralGPU(w=2, m=8), "copy")
    arch = json.dumps(good.config_dict(), sort_keys=True)
    return tmp_path, [_run("noise", 0.0, 0.1, 10, arch), _run("good", 1.0, 1.0, 10, arch),
                      _run("other", 0.2, 0.5, 10, "small")]


def test_average_of_one_run_is_that_run_and_is_kept(fake_sweep):
    """k=1 averages the best run with itself: catches a score or kept flag computed wrongly."""
    root, runs = fake_sweep
    res = average_top(runs, 1, root, "copy", digits=8, samples=16)
    assert res["members"] == ["good"] and res["best"] == "good"
    assert res["score_average"] == res["score_best"] and res["score_best"]["exact"] == 1.0
    assert res["kept"]


def test_average_takes_only_the_best_runs_architecture_and_is_dropped_when_worse(fake_sweep):
    """Catches models of another size averaged in (a crash), or a worse average kept."""
    root, runs = fake_sweep
    res = average_top(runs, 3, root, "copy", digits=8, samples=16)
    assert res["members"] == ["good", "noise"]  # "other" ranks second but has another shape
    assert res["score_average"]["exact"] < res["score_best"]["exact"]
    assert not res["kept"]
    best = pretrained("copy", "cpu")
    for a, b in zip(res["model"].state_dict().values(), best.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
