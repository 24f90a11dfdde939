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
    """How one shipped checkpoint is trained: preset and overrides, seeds tried, and every phase
    capped by steps, so that a rebuild trains what the shipped run trained."""

    task: str
    preset: str = "fast"
    overrides: dict = field(default_factory=dict)
    seeds: tuple[int, ...] = (0, 1, 2)
    # the first phase's cap in steps; its check on fresh long inputs may stop it earlier
    steps: int = 2000
    # stop the first phase early once 64 fresh 200-digit cases are exact (or a list of such tests)
    until: tuple[int, int] | list[tuple[int, int]] = (200, 64)
    check_every: int = 1  # epochs between those checks (a check at 800 digits costs ~100 steps)
    # further phases, each from the one before's final model, in `finetune/`, `finetune2/`, …:
    # each a dict of training overrides with its "steps"
    finetune: list[dict] = field(default_factory=list)
    # a safety limit, not a cap: a phase that runs this many minutes fails the build (a machine
    # too slow or too busy would otherwise ship a model that trained fewer steps)
    max_minutes: float = 60.0
    # the weights of the last `average_last` snapshots (100 steps apart) averaged, and shipped if
    # they score at least the run's final model at 200 digits: this project's choice (the 2016
    # code averages no weights; its `--ensemble` sums output probabilities)
    average_last: int = 0
    # which model the recipe trains and ships: "improved" (the 2017 model, as `TASK.pt`) or
    # "paper" (the 2016 model, as `TASK-paper.pt`); the preset must build that model
    model: str = "improved"
    # steps per input cell of the shipped model (`Config.step_factor`); beyond the paper
    step_factor: float = 1.0
    # where the shipped file cannot be re-made exactly by `make checkpoints`, why (else empty)
    not_remakeable: str = ""

    @property
    def name(self) -> str:
        """The recipe's key in RECIPES, its runs' folder prefix and its shipped file's stem."""
        return checkpoints.shipped_name(self.task, self.model)


# One line of reason each; the runs behind them are in benchmarks/README.md (run named).
RECIPES: dict[str, Recipe] = {
    # a quarter structured operands from the start, then 20 digits under the final dropout (run L)
    "badd": Recipe("badd", overrides=dict(dropout_step=0.0, structured=0.25), seeds=(0,),
                   steps=5000, until=(800, 16), check_every=20, max_minutes=90.0,
                   finetune=[dict(start_digits=20, steps=6529)]),
    # DNGPU's set-up in bf16, then more candidate dropout at a lower lr (runs H and O)
    "bmul": Recipe("bmul", preset="dngpu", overrides=dict(precision="bf16"), seeds=(0,),
                   steps=3600, max_minutes=400.0, average_last=4,
                   finetune=[dict(dropout=0.25, lr=0.001, steps=765)], step_factor=1.25,
                   not_remakeable="its first 2,477 steps were not recorded and it resumed once "
                                  "without its random state (run H)"),
    # the fast preset without the final dropout, which kept duplicate from fitting (run N)
    "copy": Recipe("copy", overrides=dict(dropout_final=0.0), seeds=(0,), steps=850),
    "reverse": Recipe("reverse", overrides=dict(dropout_final=0.0), seeds=(0,), steps=850),
    # then a constant dropout of 0.1 at lr 0.001, which made 2000-bit strings exact (run N)
    "duplicate": Recipe("duplicate", overrides=dict(dropout_final=0.0), seeds=(0,), steps=1600,
                        finetune=[dict(start_digits=20, dropout_final=0.1, dropout_step=0.0,
                                       lr=0.001, steps=2789)],
                        not_remakeable="re-made on 2026-12-07 by this recipe it lands on other "
                                       "weights (max abs difference 0.385), also exact on 64 fresh "
                                       "200-bit cases; cause not found"),
    # then a constant candidate dropout of 0.25 at 20 digits: 2000-bit sorts 28% -> 100% (run N)
    "sort": Recipe("sort", overrides=dict(dropout_final=0.0), seeds=(0,), steps=1450,
                   finetune=[dict(start_digits=20, dropout_final=0.25, steps=4478)]),
    # the Neural GPU (2016) as the June 2016 code trains it (`paper` preset); issue 33's lottery
    "badd-paper": Recipe("badd", preset="paper", model="paper", seeds=(0,), steps=30351,
                         check_every=5, average_last=4, max_minutes=400.0),
    "copy-paper": Recipe("copy", preset="paper", model="paper", seeds=(0,), steps=6878,
                         check_every=5, average_last=4),
    "reverse-paper": Recipe("reverse", preset="paper", model="paper", seeds=(0,), steps=7409,
                            check_every=5, average_last=4),
}
