"""The paper's training tricks, one function each: curriculum, dropout rate, gradient noise, and
the end-of-epoch bookkeeping that advances the curriculum, grows the relaxation pull, averages
the sets and decays the learning rate.

These are what `loop.train` calls by name; each follows the 2016 code where the preset says so
(`curriculum_rule="length"`, `dropout_rule="length"`, `lr_rule="perplexity_2016"`).
"""

from __future__ import annotations

import math
import random

import torch

from ..data.tasks import Task, get_task, length_for
from ..model.relax import PullSchedule, assign_mean, average_sets
from .presets import Preset


def noise_sigma(scale: float, step: int, seq_err: float) -> float:
    """The code's gradient-noise std: `scale·sqrt(step^−0.55 · max(0, seq_err − 0.02))`."""
    return scale * math.sqrt(max(1, step) ** -0.55 * max(0.0, seq_err - 0.02))


def add_gradient_noise(params, sigma: float, generator: torch.Generator | None = None,
                       truncated: bool = False) -> None:
    """Add N(0, sigma²) to every gradient *in place* (the reference code's loop never did).

    `truncated`: redraw values past two standard deviations, as TensorFlow's truncated normal."""
    if sigma <= 0:
        return
    for p in params:
        if p.grad is not None:
            z = torch.randn(p.grad.shape, generator=generator)
            if truncated:
                bad = z.abs() > 2
                while bad.any():
                    z[bad] = torch.randn(int(bad.sum()), generator=generator)
                    bad = z.abs() > 2
            p.grad.add_(z.to(p.grad) * sigma)


BINS_2016 = (8, 12, 16, 20, 24, 28, 32, 36, 40, 48, 64)  # data_utils.bins, trimmed as its trainer


FORWARD_MAX_2016 = 401


def bucket_2016(length: int) -> int:
    """The padded length the 2016 code gives a sequence of `length` (`data_utils.pad`)."""
    return next((b for b in BINS_2016 if b >= length), FORWARD_MAX_2016)


def dropout_rate(p: Preset, digits: int, level: int = 0, final: float | None = None) -> float:
    """The library's schedule: `dropout` up to 8 digits, then `dropout · 8 / digits` (or `dropout`
    at every length when the preset's `dropout_scaled` is False); with `dropout_rule="length"` the
    2016 code's `dropout · 8 / L`, L the padded bucket length of `2 · digits + 1`. With
    `dropout_final`, that rate instead once the curriculum `level` is the longest length: strong
    noise on a model that has fit every training length makes it robust over thousands of steps,
    i.e. on far longer inputs.
    With `dropout_step` the rate climbs there step by step: `final` is how far it has got."""
    if p.dropout_final > 0 and level >= p.max_digits:
        if p.dropout_step > 0 and final is not None:
            return min(p.dropout_final, max(final, dropout_rate(p, p.max_digits)))
        return p.dropout_final
    if not p.dropout_scaled:
        return p.dropout
    if p.dropout_rule == "length":
        return p.dropout * 8.0 / bucket_2016(2 * max(1, digits) + 1)
    if p.dropout_rule != "digits":
        raise ValueError(f"dropout_rule must be 'digits' or 'length', not {p.dropout_rule!r}")
    return p.dropout * min(1.0, 8.0 / max(1, digits))


def sample_digits(p: Preset, cur: int, rng: random.Random) -> list[int]:
    """Operand sizes for one batch.

    Curriculum (the code's mix): `U[min, cur]`; with 60% the max with a second draw; with 25% the
    max with `U[min, max_digits]`. Without curriculum: every size from 1 to `max_digits`, cycled.
    """
    if not p.curriculum:
        sizes = list(range(p.min_digits, p.max_digits + 1))
        return [sizes[i % len(sizes)] for i in range(max(p.batch, 0))]
    d = rng.randint(p.min_digits, cur)
    if rng.random() < 0.6:
        d = max(d, rng.randint(p.min_digits, cur))
    if rng.random() < 0.25:
        d = max(d, rng.randint(p.min_digits, p.max_digits))
    return [d] * p.batch


def digits_for_length(task: str | Task, length: int) -> int:
    """Operand digits of the longest input of at most `length` symbols (at least 1): the 2016
    code's `get_batch`, which falls back to the next shorter length holding data, so an even
    length of a two-operand task gives the digits of the odd length below it."""
    if get_task(task).name == "duplicate":  # d symbols, then room for the copy: length 2d
        return max(1, length // 2)
    return max(1, (length - 1) // 2)


def curriculum_lengths(p: Preset, task: str | Task) -> tuple[int, int]:
    """The smallest and largest sequence length of the 2016 curriculum: those of `min_digits`
    and `max_digits` (3 and 41 for 1..20 digits, as the 2016 trainer's minimum and maximum)."""
    if get_task(task).name == "duplicate":
        return 2 * p.min_digits, 2 * p.max_digits
    return length_for(p.min_digits), length_for(p.max_digits)


def sample_length(p: Preset, cur: int, task: str | Task, rng: random.Random) -> int:
    """The 2016 trainer's draw of one batch's sequence length at curriculum length `cur`:
    `U[lo, cur]`; with 60% the max with a second draw; with 25% the max with `U[lo, hi]`."""
    lo, hi = curriculum_lengths(p, task)
    n = rng.randint(lo, cur)
    if rng.random() < 0.6:
        n = max(n, rng.randint(lo, cur))
    if rng.random() < 0.25:
        n = max(n, rng.randint(lo, hi))
    return n


def _end_epoch(model, p: Preset, state: dict, epoch: dict, schedule: PullSchedule,
               history: list[dict], task: str = "badd") -> dict:
    """The end of an epoch, as the 2016 trainer orders it: measure the epoch; if it fitted the
    current length, advance the curriculum and then grow the pull or average the relaxation sets;
    adapt the saturation weight; decay the learning rate by the preset's rule. Returns the log
    record (also appended to `history`).

    Under the 2016 curriculum (`curriculum_rule="length"`) the error and the perplexity are those
    of the batches up to the current length (`*_cur`), as the 2016 trainer counts them."""
    rec, loss, err_cur = epoch_record(model, p, state, epoch)
    advanced = False
    if err_cur < p.threshold:  # the epoch fitted the current length
        advanced = advance_curriculum(p, state, task, rec)
        relax_at_fitted_epoch(model, p, state, schedule, err_cur, rec)
    adapt_saturation_weight(p, state, epoch, loss, rec)
    decay_learning_rate(p, state, loss, err_cur, advanced)
    history.append(rec)
    return rec


def epoch_record(model, p: Preset, state: dict, epoch: dict) -> tuple[dict, float, float]:
    """The epoch's log record, its loss (that of the counted batches under the 2016 curriculum)
    and its error at the current length; sets `state["seq_err"]`, which the gradient noise uses."""
    by_length = p.curriculum and p.curriculum_rule == "length" and not p.bins
    loss = epoch["loss"] / max(1, epoch["n"])
    seq_err = epoch["wrong"] / max(1, epoch["seen"])
    err_cur = epoch["wrong_cur"] / epoch["seen_cur"] if epoch["seen_cur"] else seq_err
    state["seq_err"] = err_cur if by_length else seq_err
    rec = {"step": state["step"], "seconds": round(state["seconds"], 2), "digits": state["digits"],
           "loss": loss, "seq_err": seq_err, "err_longest": err_cur,
           "symbol_acc": epoch["right_sym"] / max(1, epoch["sym"]), "lr": state["lr"],
           "relax_sets": model.relax_sets, "pull": state["pull"]}
    if by_length:
        rec["length"] = state["length"]
        if epoch.get("n_cur"):  # the perplexity of the counted batches drives the lr rule
            loss = rec["loss_cur"] = epoch["loss_cur"] / epoch["n_cur"]
    if p.dropout_final > 0 and state["digits"] >= p.max_digits:
        rec["dropout"] = dropout_rate(p, p.max_digits, state["digits"], state["final_dropout"])
    return rec, loss, err_cur


def advance_curriculum(p: Preset, state: dict, task: str, rec: dict) -> bool:
    """After a fitted epoch: one length more (the 2016 code's rule), or one digit more (the
    library's), or, at the longest length under `dropout_step`, a step more of final dropout.
    True when the curriculum advanced."""
    by_length = p.curriculum and p.curriculum_rule == "length" and not p.bins
    if by_length and state["length"] < curriculum_lengths(p, task)[1]:
        state["length"] += 1  # one length: half a digit of a two-operand task
        state["digits"] = digits_for_length(task, state["length"])
        return True
    if p.curriculum and not by_length and state["digits"] < p.max_digits:
        state["digits"] += 1
        return True
    if p.dropout_step > 0 and "dropout" in rec:  # fitted under this noise: a step more
        state["final_dropout"] = min(p.dropout_final, rec["dropout"] + p.dropout_step)
    return False


def relax_at_fitted_epoch(model, p: Preset, state: dict, schedule: PullSchedule, err_cur: float,
                          rec: dict) -> None:
    """Parameter-sharing relaxation after a fitted epoch. `assign` (the 2016 code): grow the pull
    below its limit, else give every set their mean (and, by the lr rule, decay the lr);
    `merge` (the library's): grow the pull and, once past the limit, merge the sets into one."""
    if model.relax_sets <= 1:
        return
    if p.relax_average == "assign":
        if schedule.fitted():
            assign_mean(model)
            rec["averaged"] = True
            if (p.lr_rule == "perplexity_2016" and err_cur < p.threshold / 3) or \
                    p.lr_rule == "perplexity_jan":  # January 2016: at every averaging
                state["lr"] = max(p.lr * p.lr_min, state["lr"] * p.lr_decay)
    elif schedule.advance():
        average_sets(model)
        rec["averaged"] = True
    state["pull"] = schedule.pull


def adapt_saturation_weight(p: Preset, state: dict, epoch: dict, loss: float, rec: dict) -> None:
    """DNGPU: keep the saturation term near lr × the loss, at most `saturation`."""
    if p.saturation_adaptive and epoch["sat"] > 0:
        raw = epoch["sat"] / max(1, epoch["n"])
        state["saturation_weight"] = min(p.saturation, max(1e-20, state["lr"] * loss / raw))
        rec["saturation_weight"] = state["saturation_weight"]


def decay_learning_rate(p: Preset, state: dict, loss: float, err_cur: float, advanced: bool) -> None:
    """× `lr_decay` (never below `lr · lr_min`) by the preset's rule, over a memory of the last
    epochs' perplexities (or losses, for DNGPU's plateau rule)."""
    def decay() -> None:
        state["lr"] = max(p.lr * p.lr_min, state["lr"] * p.lr_decay)

    if p.lr_rule == "plateau":
        # DNGPU: decay when the loss two epochs back is below both later ones
        losses = (state["losses"] or [1e6] * 4) + [loss]
        if min(losses[-2:]) > min(losses[-3:]):
            decay()
        state["losses"] = losses[-4:]
    elif p.lr_rule == "perplexity_jan":
        # the January 2016 trainer: a fitted epoch writes 10⁶ into the memory (at every length)
        # and skips the check; any other epoch decays when its perplexity exceeds the last three
        memory = state["perplexities"] or [1e6] * 3
        if err_cur < p.threshold:
            memory = memory + [1e6]
        else:
            perp = min(math.exp(min(loss, 100.0)), 1e4)
            if perp > max(memory[-3:]):
                decay()
            memory = memory + [perp]
        state["perplexities"] = memory[-3:]
    elif p.lr_rule == "perplexity_2016":
        # the 2016 trainer: memory starts as three 10⁶; an advance short of the longest length
        # writes another 10⁶ ("forget last perplexities"), so no decay for the next epochs;
        # perplexity is its safe_exp, capped at 10⁴
        memory = (state["perplexities"] or [1e6] * 3) + ([1e6] if advanced else [])
        perp = min(math.exp(min(loss, 100.0)), 1e4)
        if perp > max(memory[-3:]):
            decay()
        state["perplexities"] = (memory + [perp])[-3:]
    else:
        perp = math.exp(min(loss, 50.0))
        prev = state["perplexities"][-3:]
        if len(prev) == 3 and perp > max(prev):
            decay()
        state["perplexities"] = (prev + [perp])[-3:]
