"""The recipes of the shipped models: data, one line of reason each.

`RECIPES[name]` says how `make checkpoints` trains the shipped file `name.pt`: the task, the preset
and its overrides, the seeds, the caps, the checks on fresh long inputs and any further phases.
Why each recipe is what it is (the runs that led to it) is told in the run log,
`benchmarks/README.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import checkpoints


@dataclass
class Recipe:
    """How one shipped checkpoint is trained: preset and overrides, seeds tried, cap per run."""

    task: str
    preset: str = "fast"
    overrides: dict = field(default_factory=dict)
    seeds: tuple[int, ...] = (0, 1, 2)
    minutes: float = 20.0
    # stop a run early once 64 fresh 200-digit cases are exact (or a list of such tests, in order)
    until: tuple[int, int] | list[tuple[int, int]] = (200, 64)
    check_every: int = 1  # epochs between those checks (a check at 800 digits costs ~100 steps)
    # optional further phases, each from the one before's final model: overrides and minutes
    # (e.g. more dropout at a lower learning rate). One dict (its minutes `finetune_minutes`), or
    # a list of dicts each with its own "minutes"; the phases train in `finetune/`, `finetune2/`, …
    finetune: dict | list[dict] | None = None
    finetune_minutes: float = 0.0
    # the paper's averaging: the weights of the last `average_last` checkpoints (100 steps apart)
    # averaged; shipped only if it scores at least the run's final model at 200 digits
    average_last: int = 0
    # which model the recipe trains and ships: "improved" (the 2017 model, as `TASK.pt`) or
    # "paper" (the 2016 model, as `TASK-paper.pt`); the preset must build that model
    model: str = "improved"
    # steps per input cell of the shipped model (`Config.step_factor`; training runs the paper's
    # one step per cell): beyond the paper, set where a trained model was measured to need more
    step_factor: float = 1.0

    @property
    def name(self) -> str:
        """The recipe's key in RECIPES, its runs' folder prefix and its shipped file's stem."""
        return checkpoints.shipped_name(self.task, self.model)


RECIPES: dict[str, Recipe] = {
    # stopped once 16 fresh 800-digit sums are exact (checked every 20 epochs, ~1000 steps)
    # (trained before the final dropout climbed in steps: it jumped to 0.5 at once). Beyond the
    # paper, a quarter of the training operands come from the structured families; at its first
    # passed check (step 5,000) the run was exact on every family at 20 bits but on 19-27% of
    # 200-bit sums of few set bits, alternating bits or a + (2^k - a); a second phase of 15 minutes
    # at 20 digits under the final dropout made every family exact at 200 bits
    # (benchmarks/badd_structured.py, benchmarks/README.md)
    "badd": Recipe("badd", overrides=dict(dropout_step=0.0, structured=0.25), seeds=(0,),
                   minutes=30.0, until=(800, 16), check_every=20,
                   finetune=dict(start_digits=20), finetune_minutes=15.0),
    # DNGPU's multiplication set-up (the `dngpu` preset), convolutions in bf16, one thread of the
    # 2-core CPU; 64 of 64 fresh 200-bit products came at step 3,600 (129 minutes). Training on
    # with the recipe's own dropout and learning rate made 200-bit products worse (the average of
    # steps 4,600-4,900: 88% of 256), so the run ends there and a second phase fine-tunes it with
    # more candidate dropout (what made addition hold at 2000 bits) at a lower learning rate
    # (97.7% of 128 fresh 200-bit and of 256 fresh 20-bit products on the validation streams of
    # benchmarks/bmul_validate.py). A third phase from there, 75 minutes at lr 0.0005 with the
    # same dropout, made 200-bit products worse (90-91%, per bit 98%) and 20-bit ones no better
    # (97.3-97.7%) over its last four checkpoints: not kept (benchmarks/README.md, run H)
    # bmul runs 1.25 steps per input cell once trained: with the paper's one step per cell its
    # wrong products (3% at 20 bits) were right given two steps more (chapter 7)
    "bmul": Recipe("bmul", preset="dngpu", overrides=dict(precision="bf16"), seeds=(0,),
                   minutes=130.0, average_last=4,
                   finetune=dict(dropout=0.25, lr=0.001), finetune_minutes=30.0, step_factor=1.25),
    # the one-operand tasks keep the paper code's dropout schedule to the end: the final dropout
    # of 0.5 that addition needs kept duplicate from fitting 20 digits at all (symbol accuracy
    # 0.999 before it, 0.75-0.79 over 2000 steps under it); copy and reverse were rebuilt through
    # these recipes (850 steps, about a minute each, the first check passed)
    "copy": Recipe("copy", overrides=dict(dropout_final=0.0), seeds=(0,), minutes=10.0),
    "reverse": Recipe("reverse", overrides=dict(dropout_final=0.0), seeds=(0,), minutes=10.0),
    # duplicate: sort's second phase broke it (exact on 59% of 64 fresh 20-digit and 0% of 200-digit
    # strings after 10 minutes, from 100% at both), and so did a constant dropout of 0.1 at the
    # preset's learning rate (39% of 64 at 800 digits); at lr 0.001 the same 5 minutes took 2000-bit
    # inputs from 93.8% of 64 to 32 of 32 on a trial stream (benchmarks/README.md, run N)
    "duplicate": Recipe("duplicate", overrides=dict(dropout_final=0.0), seeds=(0,), minutes=10.0,
                        finetune=dict(start_digits=20, dropout_final=0.1, dropout_step=0.0, lr=0.001),
                        finetune_minutes=5.0),
    # sort: a second phase of 10 minutes at 20 digits under a constant candidate dropout of 0.25
    # took 2000-bit sorts from 28% to 100% exact (64 fresh cases; first phase stopped at step 1,450)
    "sort": Recipe("sort", overrides=dict(dropout_final=0.0), seeds=(0,), minutes=10.0,
                   finetune=dict(start_digits=20, dropout_final=0.25), finetune_minutes=10.0),
    # The paper's own Neural GPU (2016), its `paper` preset as the 2016 code trains it (relaxation,
    # its curriculum and dropout, the averaging of the last checkpoints); 4 CPU-hours in all for
    # the three, a run longer than a working session resuming from its checkpoint (resume/)
    "badd-paper": Recipe("badd", preset="paper", model="paper", seeds=(0,), minutes=200.0,
                         check_every=5, average_last=4),
    "copy-paper": Recipe("copy", preset="paper", model="paper", seeds=(0,), minutes=20.0,
                         check_every=5, average_last=4),
    "reverse-paper": Recipe("reverse", preset="paper", model="paper", seeds=(0,), minutes=20.0,
                            check_every=5, average_last=4),
}
