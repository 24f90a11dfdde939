"""The shipped checkpoints: intact, loadable, and as good on fresh inputs as their manifests say."""

from __future__ import annotations

import json
import math

import pytest

from ngpu_lite import evaluate, pretrained
from ngpu_lite.model import checkpoints
from ngpu_lite.results.baselines import load_baseline
from ngpu_lite.results.recipes import RECIPES
from ngpu_lite.results.zoo import FIGURES_DIR

SHIPPED = sorted(checkpoints.SHIPPED_DIR.glob("*.pt"))
NGPU = [p for p in SHIPPED if not p.stem.startswith("lstm-")]


def manifest(path):
    return json.loads(path.with_suffix(".json").read_text())


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), exactly."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(0, k + 1))


def lower_rate(right: int, n: int, alpha: float = 1e-3) -> float:
    """One-sided Clopper-Pearson lower bound on a rate measured as `right` of `n` (level alpha)."""
    if right == 0:
        return 0.0
    lo, hi = 0.0, right / n
    for _ in range(60):  # bisect: the smallest p with P(X >= right | p) >= alpha
        mid = (lo + hi) / 2
        if 1 - binom_cdf(right - 1, n, mid) >= alpha:
            hi = mid
        else:
            lo = mid
    return lo


def min_right(rate: float, n: int, alpha: float = 1e-3) -> int:
    """The count of `n` fresh cases that a model of true exact rate `rate` reaches with
    probability at least 1 − alpha: below it, the model is worse than the table says."""
    k = 0
    while k < n and binom_cdf(k, n, rate) < alpha:
        k += 1
    return k


def recorded(task: str, digits: int, path) -> dict:
    """The measured row of the results table (figures/results.json), else the manifest's."""
    table = FIGURES_DIR / "results.json"
    row = json.loads(table.read_text())["rows"].get(task, {}) if table.exists() else {}
    return row.get(str(digits)) or manifest(path).get("accuracy", {}).get(str(digits), {})


def check_against_record(task: str, digits: int, res: dict, path) -> None:
    """The bound a healthy shipped model meets on any seed (a false alarm about 1 in 10^6):
    the table's count of exact answers gives a rate that the model surely beats (Clopper-Pearson,
    99.9%), and a model of that rate gets at least `min_right` of the fresh cases (99.9%).
    Where the table records no exact answer, per-symbol accuracy takes the place of it."""
    rec = recorded(task, digits, path)
    assert rec, f"no recorded {digits}-digit accuracy for {task}"
    n_rec = rec.get("samples", 64)
    right_rec = round(rec["exact"] * n_rec)
    need = min_right(lower_rate(right_rec, n_rec), res["samples"])
    right = round(res["exact"] * res["samples"])
    if need > 0:
        assert right >= need, (f"{task} at {digits} digits: {right} of {res['samples']} exact, "
                               f"the table's {right_rec}/{n_rec} implies at least {need}")
    else:  # nothing exact on record: the symbols must still be as right as recorded
        assert res["per_symbol"] >= rec["per_symbol"] - 0.05, (task, digits, res, rec)


def test_the_bound_fails_a_model_worse_than_its_record():
    """The bound has teeth: 64/64 on record demands most of 64 fresh cases, 0 of them fails it."""
    need = min_right(lower_rate(64, 64), 64)
    assert 40 <= need <= 60
    assert min_right(lower_rate(1024, 1024), 64) >= 60
    assert min_right(lower_rate(0, 64), 64) == 0


def test_every_task_of_the_paper_has_a_recipe():
    """Every task has a recipe of its improved model, keyed by its name; the paper's model has
    recipes for the tasks the book trains it on, keyed TASK-paper."""
    assert {r.task for r in RECIPES.values()} == {"badd", "bmul", "copy", "reverse", "duplicate", "sort"}
    assert all(key == r.name for key, r in RECIPES.items())
    assert {k for k, r in RECIPES.items() if r.model == "paper"} == {
        "badd-paper", "copy-paper", "reverse-paper"}


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_trains_the_model_it_is_named_for(name):
    """Catches a `-paper` recipe whose preset builds the improved model (or the reverse), which
    would ship one model under the other's name."""
    from ngpu_lite.model import NeuralGPU, model_name
    from ngpu_lite.training import get_preset

    r = RECIPES[name]
    config = NeuralGPU(**get_preset(r.preset, **r.overrides).model).config
    assert model_name(config) == ("Neural GPU (2016)" if r.model == "paper"
                                  else "improved Neural GPU (2017)")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_checkpoint_matches_its_manifest(path):
    """Each shipped checkpoint's hash and file name match its manifest, it stays under 2 MB, and the manifest
    says how it was trained. Catches a checkpoint replaced without its manifest, or provenance left out."""
    man = manifest(path)
    assert man["sha256"] == checkpoints.sha256(path), "checkpoint differs from its manifest"
    assert man["file"] == path.name
    assert path.stat().st_size < 2_000_000, "shipped checkpoints stay small"
    for key in ("task", "config", "seed", "steps", "wall_seconds", "hardware", "git_commit"):
        assert key in man, f"manifest lacks {key}"


@pytest.mark.parametrize("path", NGPU, ids=lambda p: p.stem)
def test_shipped_model_was_trained_on_at_most_20_digits(path):
    """Each shipped model's recipe trained on at most 20 digits and its kept seed is one of the recorded runs.
    Catches a model trained on long inputs shipped as generalising, or a kept seed from an unrecorded run."""
    man = manifest(path)
    assert man["recipe"]["max_digits"] <= 20
    assert man["kept_seed"] in [r["seed"] for r in man["runs"]]


@pytest.mark.parametrize("path", NGPU, ids=lambda p: p.stem)
def test_shipped_model_answers_fresh_200_digit_cases(path):
    """64 fresh 200-digit cases (length 401, 10x the training length): as exact as the results
    table says, within the binomial bound of `check_against_record`."""
    task, family = checkpoints.split_name(path.stem)
    model = pretrained(task, device="cpu", model=family)
    res = evaluate(model, task, 200, 64, seed=777)
    check_against_record(path.stem, 200, res, path)


def test_lstm_baseline_loads():
    """The shipped LSTM baseline loads and fits short sums (over half of 5-bit additions exact). Catches a
    baseline file that no longer loads with `load_baseline`, or loads with scrambled weights."""
    path = checkpoints.SHIPPED_DIR / "lstm-badd.pt"
    if not path.exists():
        pytest.skip("no LSTM baseline shipped")
    model = load_baseline(path)
    res = evaluate(model, "badd", 5, 64, seed=3, batch_size=64)
    assert res["exact"] > 0.5  # it fits short sums; the table measures where it stops


@pytest.mark.slow
@pytest.mark.parametrize("path", NGPU, ids=lambda p: p.stem)
def test_shipped_model_on_2000_digit_cases(path):
    """Each shipped model on 64 fresh 2000-digit cases is as exact as the results table says, within the
    binomial bound. Catches a checkpoint (or forward pass) that lost the 100x length generalisation."""
    task, family = checkpoints.split_name(path.stem)
    model = pretrained(task, device="cpu", model=family)
    res = evaluate(model, task, 2000, 64, seed=2000)
    check_against_record(path.stem, 2000, res, path)
