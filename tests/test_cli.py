"""The command line: answers, and one clear line with exit status 2 on every bad input."""

import subprocess
import sys

import pytest
import torch

from ngpu_lite import NeuralGPU, save
from ngpu_lite.cli import main


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "badd.pt"
    save(path, NeuralGPU(w=2, m=8), "badd")
    return path


def _error(capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("argv, message", [
    (["predict", "--task", "divide", "1", "1"], "unknown task"),
    (["predict", "--task", "badd", "102", "1"], "outside base 2"),
    (["predict", "--task", "badd", "101"], "two operands"),
    (["evaluate", "--task", "nope"], "unknown task"),
    (["train", "--task", "badd", "--preset", "turbo"], "unknown preset"),
    (["predict"], "required"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_gets_one_line_and_status_2(capsys, ckpt, argv, message):
    if argv[0] == "predict" and "--task" in argv:
        argv = argv + ["--checkpoint", str(ckpt)]
    assert message in _error(capsys, argv)


def test_empty_operand_in_a_file(capsys, ckpt, tmp_path):
    f = tmp_path / "cases.txt"
    f.write_text("101 11\n101\n")
    assert "two operands" in _error(capsys, ["predict", "--task", "badd", "--checkpoint", str(ckpt),
                                             "--file", str(f)])


def test_missing_corrupt_and_foreign_checkpoints(capsys, ckpt, tmp_path):
    assert "not found" in _error(capsys, ["predict", "--task", "badd", "--checkpoint",
                                          str(tmp_path / "none.pt"), "1", "1"])
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert "corrupt" in _error(capsys, ["evaluate", "--task", "badd", "--checkpoint", str(bad)])
    assert "trained for task 'badd'" in _error(capsys, ["predict", "--task", "bmul", "--checkpoint",
                                                        str(ckpt), "1", "1"])


def test_out_folder_holding_another_run_is_not_overwritten(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--task", "copy", "--preset", "tiny", "--out", str(out), "--steps", "3"]) == 0
    capsys.readouterr()
    before = (out / "checkpoint.pt").read_bytes()
    assert "another run" in _error(capsys, ["train", "--task", "reverse", "--preset", "tiny", "--out",
                                            str(out), "--steps", "3"])
    assert (out / "checkpoint.pt").read_bytes() == before
    other = tmp_path / "notes"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    assert "not empty" in _error(capsys, ["train", "--task", "copy", "--out", str(other), "--steps", "1"])
    assert (other / "thesis.tex").read_text() == "precious"


def test_predict_answers_one_per_line_in_order(capsys, ckpt, tmp_path):
    f = tmp_path / "cases.txt"
    f.write_text("1011 110\n1 1\n111 0\n")
    assert main(["predict", "--task", "badd", "--checkpoint", str(ckpt), "--file", str(f)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert all(set(line) <= {"0", "1"} for line in lines)


def test_module_entry_point_reports_errors_without_traceback():
    r = subprocess.run([sys.executable, "-m", "ngpu_lite", "predict", "--task", "badd", "12", "1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "outside base 2" in r.stderr


def test_train_then_predict_from_that_run(capsys, tmp_path):
    out = tmp_path / "rev"
    assert main(["train", "--task", "reverse", "--preset", "tiny", "--out", str(out),
                 "--steps", "5"]) == 0
    assert main(["predict", "--task", "reverse", "--checkpoint", str(out), "1101"]) == 0
    answer = capsys.readouterr().out.splitlines()[-1]
    assert set(answer) <= {"0", "1"}
    assert main(["evaluate", "--task", "reverse", "--checkpoint", str(out), "--bits", "3",
                 "--samples", "4", "--json"]) == 0
    assert '"exact"' in capsys.readouterr().out
