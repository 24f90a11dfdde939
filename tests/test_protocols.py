"""The measuring protocols: what counts as an error, and that training never sees a reported case.

The 2016 code's error metric (`data_utils.accuracy` of the first commit of openai/neural-gpu and
of tensorflow/models' neural_gpu) counts a position only where the target is not PAD: a sequence
is wrong if any such position is wrong, and the per-symbol error is the wrong ones among them.
The hand-worked batch below pins it, and pins where `evaluate.score` (the one scoring function of
`evaluate`, `evaluate_cases` and the training loop's epoch counts) agrees with it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from ngpu_lite.data.batches import make_batch
from ngpu_lite.data.families import family_cases
from ngpu_lite.data.tasks import encode, from_digits, train_stream
from ngpu_lite.model import checkpoints
from ngpu_lite.model.evaluate import score, score_2016
from ngpu_lite.results.families_table import REPORT_SEED, TABLE_SAMPLES
from ngpu_lite.training import loop

# 011 + 001 = 100 in binary, written lower-endian as symbols (digit + 1, PAD 0, separator 11):
# the input 1 1 0 | 1 0 0 is 7 long, the answer 0 0 1 fills 3 positions, PAD the other 4.
X = [2, 2, 1, 11, 2, 1, 1]
Y = [1, 1, 2, 0, 0, 0, 0]
# a second, shorter example, 1 + 1 = 10: input 1 | 1 (3 long), answer 0 1 and one PAD; in a
# batch it is padded to 7 with PAD, positions 3..6 outside its length
X2 = [2, 11, 2, 0, 0, 0, 0]
Y2 = [1, 2, 0, 0, 0, 0, 0]


def _batch(*preds):
    """The hand-worked batch: the first example answered by each of `preds`, then the short one
    answered right but for a stray digit past its length."""
    y = torch.tensor([Y] * len(preds) + [Y2])
    pred = torch.tensor([*preds, [1, 2, 0, 2, 2, 2, 2]])  # right, then digits in the batch padding
    lengths = torch.tensor([7] * len(preds) + [3])
    return pred, y, lengths


RIGHT = [1, 1, 2, 0, 0, 0, 0]  # the answer and its PAD tail
ONE_WRONG_DIGIT = [1, 2, 2, 0, 0, 0, 0]  # position 1 of the answer wrong
ALL_PAD = [0, 0, 0, 0, 0, 0, 0]  # never writes a digit
DIGIT_IN_THE_TAIL = [1, 1, 2, 2, 0, 0, 0]  # the answer right, a stray 1 where the target is PAD


def test_both_metrics_agree_where_the_answer_decides():
    """Hand-worked: a right answer (PAD tail included) is right, a wrong digit of the answer or an
    all-PAD answer is wrong, and positions past an example's length (batch padding) never count,
    in `score` as in the 2016 code. Catches a score that counts the batch padding past an
    example's length (the short example would turn wrong), that forgives a wrong answer digit,
    or that reads an all-PAD answer as right."""
    assert encode("badd", [1, 1, 0], [1, 0, 0]) == (X, Y)  # the hand-built rows are the
    assert [v + [0] * 4 for v in encode("badd", [1], [1])] == [X2, Y2]  # library's encoding
    pred, y, lengths = _batch(RIGHT, ONE_WRONG_DIGIT, ALL_PAD)
    ok, _, _ = score(pred, y, lengths)
    assert ok.tolist() == [True, False, False, True]


def test_the_2016_metric_counts_only_positions_whose_target_is_not_pad():
    """Hand-worked from `data_utils.accuracy` (2016: `if decoded_target[l][b] > 0`): four answers
    to 011 + 001 and one to 1 + 1. Counted positions: 3 per answer to the first (the target
    `0 0 1`), 2 for the short one, 3·4 + 2 = 14. Wrong: RIGHT 0, ONE_WRONG_DIGIT 1, ALL_PAD 3,
    DIGIT_IN_THE_TAIL 0 (its stray digit sits where the target is PAD: not counted), the short
    one 0. So 2 of 5 sequences are wrong and 4 of 14 symbols: per-symbol accuracy 10/14.
    Catches `score_2016` counting the PAD tail (an all-PAD answer would score 4 of 7 per symbol,
    a stray digit past the answer would turn a right sum wrong) or the batch padding."""
    pred, y, lengths = _batch(RIGHT, ONE_WRONG_DIGIT, ALL_PAD, DIGIT_IN_THE_TAIL)
    ok, right, total = score_2016(pred, y, lengths)
    assert ok.tolist() == [True, False, False, True, True]
    assert (right, total) == (10, 14)


def test_the_books_metric_is_stricter_than_2016_only_in_the_pad_tail():
    """The departure that `PAPER_PRESET.md` lists, on the same hand-worked batch: `score` (every
    table, every training count of the book) counts every position inside the input's length,
    so DIGIT_IN_THE_TAIL is wrong (3 of 5 sequences) and 26 of 31 symbols are right; the
    training loop's epoch tallies use the same rule. Catches `score` or the loop's counts
    silently switching rule (the `paper` preset's curriculum reads those counts), which would
    change every stored number without a word."""
    pred, y, lengths = _batch(RIGHT, ONE_WRONG_DIGIT, ALL_PAD, DIGIT_IN_THE_TAIL)
    ok, right, total = score(pred, y, lengths)
    assert ok.tolist() == [True, False, False, False, True]
    assert (right, total) == (26, 31)
    run = type("Run", (), {})()
    run.epoch = loop._epoch_counts()
    loop._Run.tally(run, torch.tensor(0.0), 0.0, [(pred, y, lengths)], torch.ones(5, dtype=torch.bool))
    assert (run.epoch["wrong"], run.epoch["seen"]) == (3, 5)
    assert (run.epoch["right_sym"], run.epoch["sym"]) == (26, 31)
    # where the PAD tail is PAD the two rules agree on every sequence
    pred, y, lengths = _batch(RIGHT, ONE_WRONG_DIGIT, ALL_PAD)
    assert score(pred, y, lengths)[0].tolist() == score_2016(pred, y, lengths)[0].tolist()


# --- training draws never reproduce a reported family case -------------------------------------
# How many 20-bit training examples of each family are compared with the 64 cases the families
# table reports: 10,000, or fewer where the family is small enough that independent draws would
# meet a reported case by chance. That chance is draws · 64 · Σ p², p the members' probabilities
# (Σ p² measured on 200,000 draws of each generator), kept at most 0.005 a family (at 0.02, 320
# draws of `square a·a` met one reported case of the reporting stream by chance: (753401, 753401)).
# A training stream that is the reporting stream meets about a dozen of them within the first 320
# draws (measured), so a few within 80.
DRAWS = {
    "badd": {"random": 10_000, "one long carry chain": 10_000,  # Σ p² 0 and 3e-8
             "all-ones sum": 80, "a + a": 80,  # 2^20 members, Σ p² 9.6e-7
             "zero + x": 160},  # 2^21 members
    "bmul": {"random": 10_000, "product near t·2^k": 10_000,  # Σ p² 0 and 6e-9
             "square a·a": 80, "all ones × random": 80,  # 2^20 members
             "zero × x": 160, "one × x": 160, "alternating bits": 160},  # 2^21 members
}
# Families whose members are too few at 20 bits for "never" to hold: left out, with the reason.
TOO_FEW = {
    ("badd", "leading zeros"): "operands of 1 to 5 bits: 961 pairs",
    ("badd", "few set bits"): "1 to 3 set bits in each of 20: one of 400 one-bit pairs in nine draws",
    ("badd", "carry chain a + (2^k − a)"): "k = 10 in one draw of 11 leaves 512 members",
    ("badd", "alternating bits"): "phase and span: 144 members",
    ("bmul", "few set bits"): "C(20, 3)² = 1.3 million pairs with Σ p² 7.7e-7: even 320 draws of "
                              "run 0 meet one reported case by chance",
    ("bmul", "runs of ones"): "(2^i − 1) × (2^j − 1): 400 members",
    ("bmul", "powers of two"): "2^i × 2^j: 400 members",
    ("bmul", "leading zeros"): "operands of at most 5 bits: 961 pairs",
}


def _drawn_pairs(task: str, family: str, draws: int, seed: int = 0) -> set[tuple[int, int]]:
    """Operand pairs of `draws` 20-bit training examples of `family`, drawn as a run of `seed` draws
    them: batches of 32 from its training stream, the structured share (`make_batch(...,
    structured=1.0, families=(family,))`), or the random operands for `random`."""
    rng = train_stream(seed, 0)
    kw = {} if family == "random" else dict(structured=1.0, families=(family,))
    pairs = set()
    for _ in range(math.ceil(draws / 32)):
        x, _, _ = make_batch(task, [20] * 32, rng, **kw)
        for row in x.tolist():
            pairs.add((from_digits([s - 1 for s in row[:20]], 2),
                       from_digits([s - 1 for s in row[21:41]], 2)))
    return pairs


@pytest.mark.parametrize("task", ["badd", "bmul"])
def test_training_never_draws_a_case_the_families_table_reports(task):
    """About 20,000 training examples at 20 bits per task (10,000 random, the rest from its
    structured families, `DRAWS`), drawn from run 0's training stream as `make_batch` draws them,
    never equal one of the 64 cases the families table reports for the same family at 20 bits
    (`family_cases(task, family, 20, 64, seed=REPORT_SEED)`). Families with too few members for that to
    hold by chance are left out, each with its reason (`TOO_FEW`). Catches the families table
    drawing its cases from a training stream (an integer-seeded `random.Random`, as
    `train_stream` is: 1 to 12 meetings per structured family, measured; the random operands
    come from `randrange`, whose draws differ from the table's even on one stream), or the
    structured share of training drawing from the families' evaluation stream: a model trained
    with `structured` > 0 would then be scored on cases it trained on."""
    from ngpu_lite.data.families import FAMILIES

    assert set(FAMILIES[task]) == set(DRAWS[task]) | {f for t, f in TOO_FEW if t == task}
    for family, draws in DRAWS[task].items():
        reported = set(family_cases(task, family, 20, TABLE_SAMPLES[20], seed=REPORT_SEED))
        assert len(reported) == TABLE_SAMPLES[20] == 64
        drawn = _drawn_pairs(task, family, draws)
        assert len(drawn) > 0.99 * draws  # distinct draws: the check compares that many cases
        assert not drawn & reported, (task, family, sorted(drawn & reported)[:3])


@pytest.mark.parametrize("table", ["results", "families"])
def test_stored_tables_measured_the_models_that_ship_now(table):
    """Every row of `figures/results.json` (`make results`) and `figures/families.json`
    (`make families`) names the sha256 of the file it measured, and that is the shipped file's
    sha256 today; the families table draws from the reporting stream (`REPORT_SEED`), not the
    design stream. Catches a model re-shipped without re-measuring its rows (the README and
    chapter 9 print these tables), and a families table re-measured on the stream its recipes
    were designed on."""
    path = Path(__file__).resolve().parents[1] / "figures" / f"{table}.json"
    res = json.loads(path.read_text())
    assert res["rows"], path
    for name in res["rows"]:
        assert res["sha256"][name] == checkpoints.sha256(checkpoints.SHIPPED_DIR / f"{name}.pt"), (
            f"{table} row {name!r} measured another file; re-measure it")
        if table == "families":
            assert res["seeds"][name] == REPORT_SEED, name
