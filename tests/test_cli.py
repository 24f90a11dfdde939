"""The command line: answers, and one clear line with exit status 2 on every bad input."""

import json
import random
import subprocess
import sys

import pytest
import torch

from ngpu_lite import NeuralGPU, decode, encode_text, evaluate, load, save
from ngpu_lite.interfaces.cli import main


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "badd.pt"
    save(path, NeuralGPU(w=2, m=8), "badd")
    return path


def _error(capsys, argv):
    """Run `argv`, expecting exit status 2, one line on stderr and nothing (no answer) on stdout."""
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == "", out
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
    """Catches a traceback, an argparse usage dump, or exit status 1 for each kind of bad input."""
    if argv[0] == "predict" and "--task" in argv:
        argv = argv + ["--checkpoint", str(ckpt)]
    assert message in _error(capsys, argv)


def test_a_file_line_missing_an_operand_stops_before_any_answer(capsys, ckpt, tmp_path):
    """Catches answers printed for the good lines before the bad one is found."""
    f = tmp_path / "cases.txt"
    f.write_text("101 11\n101\n")
    assert "two operands" in _error(capsys, ["predict", "--task", "badd", "--checkpoint", str(ckpt),
                                             "--file", str(f)])


def test_missing_corrupt_and_foreign_checkpoints(capsys, ckpt, tmp_path):
    """Each is named in one line: catches a traceback, or a badd model answering a bmul question."""
    assert "not found" in _error(capsys, ["predict", "--task", "badd", "--checkpoint",
                                          str(tmp_path / "none.pt"), "1", "1"])
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert "corrupt" in _error(capsys, ["evaluate", "--task", "badd", "--checkpoint", str(bad)])
    assert "trained for task 'badd'" in _error(capsys, ["predict", "--task", "bmul", "--checkpoint",
                                                        str(ckpt), "1", "1"])


def test_out_folder_holding_another_run_is_not_overwritten(capsys, tmp_path):
    """Catches a run folder of another task, or a folder of someone's files, being written over."""
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


def test_predict_answers_every_case_of_a_file_in_order(capsys, tmp_path):
    """40 cases (two batches of 32) with the shipped badd model: line i is a_i + b_i, most-significant
    digit first. Catches answers out of order, reversed digits, or a batch left out."""
    rng = random.Random(0)
    cases = [(rng.randrange(2 ** rng.randint(1, 10)), rng.randrange(2 ** rng.randint(1, 10)))
             for _ in range(40)]
    f = tmp_path / "cases.txt"
    f.write_text("".join(f"{a:b} {b:b}\n" for a, b in cases))
    assert main(["predict", "--task", "badd", "--file", str(f)]) == 0  # the shipped model
    assert capsys.readouterr().out.splitlines() == [f"{a + b:b}" for a, b in cases]


def test_module_entry_point_reports_errors_without_traceback():
    """`python -m ngpu_lite` passes main's status to the shell: catches `main()` not in sys.exit."""
    r = subprocess.run([sys.executable, "-m", "ngpu_lite", "predict", "--task", "badd", "12", "1"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "outside base 2" in r.stderr


def test_train_then_predict_and_evaluate_with_that_run(capsys, tmp_path):
    """A run folder as --checkpoint means that run's model: catches the shipped model, or a fresh
    one, answering instead, and --bits/--samples ignored."""
    out = tmp_path / "rev"
    assert main(["train", "--task", "reverse", "--preset", "tiny", "--out", str(out),
                 "--steps", "5"]) == 0
    model, _ = load(out, "reverse")
    capsys.readouterr()
    assert main(["predict", "--task", "reverse", "--checkpoint", str(out), "1101"]) == 0
    x, _ = encode_text("reverse", "1101")
    assert capsys.readouterr().out.strip() == decode("reverse", model.predict(torch.tensor([x]))[0])
    assert main(["evaluate", "--task", "reverse", "--checkpoint", str(out), "--bits", "3",
                 "--samples", "4", "--json"]) == 0
    want = json.loads(json.dumps(evaluate(model, "reverse", 3, 4, seed=0)))  # JSON's str keys
    assert json.loads(capsys.readouterr().out) == want


def test_model_paper_answers_with_the_shipped_2016_model(capsys, tmp_path, monkeypatch):
    """`--model paper` uses `TASK-paper.pt`: catches the flag ignored (the improved model
    answering) or a missing paper model ending in a traceback instead of one line."""
    import ngpu_lite.interfaces.cli as cli

    monkeypatch.setattr(cli, "SHIPPED_DIR", tmp_path)
    torch.manual_seed(0)
    save(tmp_path / "badd.pt", NeuralGPU(w=1, m=8, l=1, hard=True, diagonal=True), "badd")
    assert "no shipped paper model" in _error(capsys, ["evaluate", "--task", "badd", "--model",
                                                       "paper", "--bits", "3", "--samples", "4"])
    torch.manual_seed(2)  # an untrained model that writes digits (seed 0's writes only PAD)
    paper = NeuralGPU(w=2, m=8)
    save(tmp_path / "badd-paper.pt", paper, "badd")
    assert main(["predict", "--task", "badd", "--model", "paper", "101", "11"]) == 0
    got = capsys.readouterr().out.strip()
    from ngpu_lite.data.tasks import stack_examples

    x, _, lengths = stack_examples([encode_text("badd", "101", "11")])
    want = decode("badd", paper.predict(x, lengths)[0, :lengths[0]].tolist(), paper.config.target)
    assert got == want
    assert main(["evaluate", "--task", "badd", "--model", "paper", "--bits", "3", "--samples",
                 "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 4
