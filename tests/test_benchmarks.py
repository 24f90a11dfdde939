"""The benchmark's smoke run: every part runs at toy sizes and writes its JSON and figure.

No timing is asserted: only that the parts ran, and that the library's fast path gives the plain
reference loop's answers on the same weights.
"""

import json
import random
import sys
from pathlib import Path

import pytest
import torch

from ngpu_lite import NeuralGPU, make_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `benchmarks` lives at the root
from benchmarks.run import PlainNeuralGPU, main  # noqa: E402


def test_library_gives_the_reference_loops_logits_on_the_same_weights():
    """An independent plain loop (no masking, no fused gates, no channels-last) agrees: catches
    a fast path that computes something else."""
    torch.manual_seed(0)
    model = NeuralGPU(w=4, m=12, l=2)
    x, _, _ = make_batch("badd", [5] * 3, random.Random(0))
    with torch.no_grad():
        torch.testing.assert_close(model(x), PlainNeuralGPU.from_library(model)(x),
                                   atol=1e-5, rtol=1e-5)


def test_library_step_gives_the_reference_loops_gradients_on_the_same_weights():
    """The training step the benchmark times (forward, cross-entropy, backward) gives the plain
    loop's gradients for every weight: catches a faster backward that learns something else."""
    torch.manual_seed(0)
    model = NeuralGPU(w=4, m=12, l=2)
    ref = PlainNeuralGPU.from_library(model)
    x, y, _ = make_batch("badd", [5] * 3, random.Random(0))
    for logits in (model(x, None), ref(x)):
        torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).backward()
    m = model.config.m
    close = dict(atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(model.embedding.grad, ref.embedding.weight.grad, **close)
    torch.testing.assert_close(model.output.weight.grad, ref.output.weight.grad, **close)
    for j, cell in enumerate(ref.cells):
        gate_w, gate_b = model.gate_weight.grad[0, j], model.gate_bias.grad[0, j]
        torch.testing.assert_close(gate_w[:m], cell.u.weight.grad, **close)
        torch.testing.assert_close(gate_w[m:], cell.r.weight.grad, **close)
        torch.testing.assert_close(gate_b[:m], cell.u.bias.grad, **close)
        torch.testing.assert_close(gate_b[m:], cell.r.bias.grad, **close)
        torch.testing.assert_close(model.cand_weight.grad[0, j], cell.c.weight.grad, **close)
        torch.testing.assert_close(model.cand_bias.grad[0, j], cell.c.bias.grad, **close)


def test_smoke_benchmark_writes_every_part(tmp_path):
    """Catches a benchmark part dropped, renamed or failing (chapters and README read these keys)."""
    torch.set_num_threads(1)
    result = main(["--smoke", "--threads", "1", "--out", str(tmp_path), "--name", "bench"])
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert (tmp_path / "bench.png").stat().st_size > 0
    assert saved["smoke"] is True and saved["command"] == result["command"]
    row = saved["steps"]["rows"][0]
    assert set(row["times"]) == {"reference", "library", "library_bf16", "fast_model",
                                 "fast_model_bf16", "preset_model"}
    assert set(saved["buckets"]["times"]) == {"1", "2"}
    assert set(saved["precision"]["runs"]) == {"fp32", "bf16"}
    assert [r["batch"] for r in saved["inference"]] == [1, 1, 2, 2]
    assert all(r["finished"] and "peak_extra_mb" in r for r in saved["inference"])
    assert saved["generalise"]["rows"][0]["task"] == "copy"


def test_final_dropout_figure_draws_each_arm_and_its_2000_bit_checks(tmp_path):
    """Catches the 2000-bit checks missing from the figure or an arm drawn without its seed."""
    import json

    from benchmarks import final_dropout

    path = tmp_path / "fd.json"
    recs = [{"arm": "scratch", "seed": 0, "steps": 10, "minutes": 5.0, "exact_800": 0.5},
            {"arm": "scratch", "seed": 0, "steps": 20, "minutes": 10.0, "exact_800": 1.0,
             "exact_2000": 1.0}]
    path.write_text(json.dumps({"records": recs}))
    fig = final_dropout.plot(path)
    assert path.with_suffix(".png").exists()
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["scratch (seed 0): 800 bits", "scratch: 8 fresh 2000-bit sums"]


def test_final_dropout_arms_that_continue_a_run_need_its_folder(tmp_path):
    """Catches a fine-tuning arm that silently starts from scratch without --start."""
    from benchmarks import final_dropout

    with pytest.raises(SystemExit, match="needs --start"):
        final_dropout.run_arm("finetune", 1.0, 1.0, 0, None, tmp_path, tmp_path / "x.json")


def test_gpu_check_stops_with_one_clear_line_without_cuda(capsys, monkeypatch):
    """Catches `make gpu-check` silently measuring the CPU on a machine without a GPU."""
    from benchmarks import gpu_check

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--skip-notebooks"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("make gpu-check: no CUDA device")


def test_gpu_check_runs_every_chapter_and_answer_notebook():
    """Catches the GPU check leaving out notebooks that `make test` runs."""
    from benchmarks import gpu_check

    names = [p.name for p in gpu_check.notebooks()]
    assert "01_learning_algorithms.ipynb" in names and "01_answers.ipynb" in names
    assert len(names) == len(set(names)) >= 12


def test_bmul_validation_streams_are_none_of_the_others(monkeypatch):
    """The validation cases must be none of those the results table, the zoo and the CLI score:
    the evaluation seeds `bmul_validate.score` passes are compared with the seeds those modules
    actually pass (captured by running them), and the 20-bit products drawn are compared case by
    case. Catches a selection made on the cases it is then reported on (say, validation on the
    zoo's seed 2024)."""

    import torch

    from benchmarks import bmul_validate
    from ngpu_lite import NeuralGPU, save
    from ngpu_lite.data.tasks import eval_stream, random_operands
    from ngpu_lite.interfaces import cli
    from ngpu_lite.results import zoo

    seen: dict[str, list[tuple[int, int]]] = {}

    def spy(name):
        def evaluate(model, task, digits, samples, seed=0, **kw):
            seen.setdefault(name, []).append((digits, seed))
            return {"exact": 0.0, "per_symbol": 0.0, "samples": samples, "wrong_at": {}}
        return evaluate

    torch.manual_seed(0)
    model = NeuralGPU(w=1, m=8, l=1, hard=True, diagonal=True)
    monkeypatch.setattr(zoo, "evaluate", spy("zoo"))
    zoo._score(model, "bmul", 20, 2)
    zoo._score(model, "bmul", 200, 2)
    for d in (20, 200):
        zoo._timed_score(model, "bmul", d, 2, False)
    cli_seed = cli._parser().parse_args(["evaluate", "--task", "bmul", "--bits", "20"]).seed
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        save(Path(d) / "m.pt", model, "bmul")
        monkeypatch.setattr(bmul_validate, "evaluate", spy("validate"))
        res = bmul_validate.score(str(Path(d) / "m.pt"), long=2, short=2)
    assert res["samples_200"] == 2 and res["samples_20"] == 2
    others = {seed for _, seed in seen["zoo"]} | {cli_seed}
    mine = {seed for _, seed in seen["validate"]}
    assert len(mine) == 2 and not mine & others, (mine, others)

    def cases(seed: int, n: int = 256) -> set:
        rng = eval_stream(seed)
        return {tuple(map(tuple, random_operands("bmul", 20, rng))) for _ in range(n)}

    val20 = cases(next(seed for digits, seed in seen["validate"] if digits == 20))
    assert all(not val20 & cases(seed) for seed in others)
    assert cases(2024) == cases(2024) and cases(2024) != cases(2025)  # the comparison can fail


def test_backward_ab_switches_to_autograd_and_back():
    """Inside `autograd_path` the model's training step is autograd through `cgru` (the same
    logits), and the hand-written path is back afterwards: catches an A/B whose arms are the
    same path, or a switch that leaks into later runs."""
    import random

    import torch

    from benchmarks import backward_ab
    from ngpu_lite import NeuralGPU, make_batch

    cls = backward_ab.CGRU._CGRUStep
    before = cls.__dict__.get("apply")
    torch.manual_seed(0)
    model = NeuralGPU(w=2, m=8).train()
    x, _, lengths = make_batch("reverse", [3, 5], random.Random(0))
    with backward_ab.autograd_path():
        assert cls.__dict__.get("apply") is not before
        inside = model(x, lengths)
    assert cls.__dict__.get("apply") is before
    torch.testing.assert_close(inside, model(x, lengths), atol=1e-5, rtol=1e-5)
    assert backward_ab._seeds("0-2,5") == [0, 1, 2, 5]


def test_bmul_finetune_options_are_the_recipes_second_phase_with_the_items_applied():
    """Catches `--set` items that are dropped, typed as text, or unknown options accepted."""
    from benchmarks.bmul_finetune import options_for

    assert options_for([]) == {"precision": "bf16", "dropout": 0.25, "lr": 0.001}
    got = options_for(["replay=0.25", "lr=0.002"])
    assert got == {"precision": "bf16", "dropout": 0.25, "lr": 0.002, "replay": 0.25}
    for bad in (["nonsense=1"], ["replay"], ["replay=1.5"]):
        with pytest.raises(ValueError):
            options_for(bad)


def test_badd_structured_trains_the_zoo_recipe_with_the_share_and_refuses_a_bad_one():
    """Catches the experiment drifting from the shipped recipe (its stop test, its overrides) or
    a share outside 0 to 1 reaching training."""
    from benchmarks.badd_structured import main, recipe_options
    from ngpu_lite.results.recipes import RECIPES

    got = recipe_options(0.25)
    assert got["structured"] == 0.25 and got["until"] == RECIPES["badd"].until
    assert got["check_every"] == RECIPES["badd"].check_every
    assert all(got[k] == v for k, v in RECIPES["badd"].overrides.items() if k != "structured")
    assert recipe_options(0.0)["structured"] == 0.0  # the share given wins over the recipe's
    second = recipe_options(0.25, second_phase=True)
    assert "until" not in second and second["start_digits"] == 20 and second["structured"] == 0.25
    with pytest.raises(SystemExit):
        main(["unused-folder", "--share", "1.5"])


def test_bmul_agree_counts_a_case_wrong_only_for_a_wrong_symbol_inside_its_length():
    """Catches padding positions counted as errors, or a case with one wrong symbol missed."""
    from benchmarks.bmul_agree import wrong_cases

    y = torch.tensor([[1, 0, 1, 0], [1, 1, 0, 0], [0, 1, 1, 1]])
    probs = torch.nn.functional.one_hot(y, 3).float()
    probs[0, 3] = torch.tensor([0.0, 1.0, 0.0])  # past case 0's length 3: not an error
    probs[2, 1] = torch.tensor([0.9, 0.1, 0.0])  # inside case 2's length
    assert wrong_cases(probs, y, torch.tensor([3, 4, 4])) == [2]


def test_badd_ablation_record_adds_an_arm_and_keeps_the_others(tmp_path):
    """Catches a recorded arm overwriting the file's other arms."""
    from benchmarks.badd_structured import record

    path = tmp_path / "ablation.json"
    record("random", {"rows": {"badd": {}}}, path)
    data = record("structured", {"rows": {"badd": {"random": {}}}}, path)
    assert list(data["arms"]) == ["random", "structured"]
    assert json.loads(path.read_text()) == data


def test_bmul_steps_scores_each_factor_on_the_same_cases_and_restores_the_model(monkeypatch):
    """Every factor is scored on one set of validation products (one seed), the steps column
    follows the factor, and the model keeps its own factor afterwards. Catches a sweep that draws
    new cases per factor (the differences would be noise) or leaves the model at the last factor."""
    import torch

    from benchmarks import bmul_steps
    from ngpu_lite import NeuralGPU

    seeds = []
    real = bmul_steps.evaluate
    monkeypatch.setattr(bmul_steps, "evaluate",
                        lambda *a, seed, **k: seeds.append(seed) or real(*a, seed=seed, **k))
    torch.manual_seed(0)
    model = NeuralGPU(w=1, m=8, l=1, hard=True, diagonal=True, step_factor=1.5).eval()
    rows = bmul_steps.scores(model, 3, 4, [1.0, 2.0])
    assert seeds == [778, 778]
    assert [r["steps"] for r in rows] == [7, 14]
    assert all(r["samples"] == 4 and 0 <= r["exact"] <= 1 for r in rows)
    assert model.config.step_factor == 1.5
