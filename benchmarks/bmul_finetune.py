"""A second phase of `bmul` training from a checkpoint, with the zoo recipe's settings and any
options of the `dngpu` preset changed (hard-example replay, structured share, dropout, lr), to
compare fine-tunes on `benchmarks.bmul_validate`'s streams. Resumes when its folder exists.

    python -m benchmarks.bmul_finetune resume/bmul-s0 runs/bmul-replay --seed 11 --replay 0.25
"""

from __future__ import annotations

import argparse

import torch

from ngpu_lite import train
from ngpu_lite.model import checkpoints
from ngpu_lite.results.recipes import RECIPES
from ngpu_lite.training import get_preset


def options_for(sets: list[str]) -> dict:
    """The recipe's fine-tune options (over its overrides) with `KEY=VALUE` items applied; a value
    takes the type of the option it replaces (a float for a new one); checked by `get_preset`."""
    recipe = RECIPES["bmul"]
    options = {**recipe.overrides, **{k: v for k, v in recipe.finetune[0].items() if k != "steps"}}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set takes KEY=VALUE items, not {item!r}")
        options[key] = type(options[key])(value) if key in options else float(value)
    get_preset(recipe.preset, **options)  # an unknown option or a bad value stops here
    return options


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bmul_finetune",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("start", help="checkpoint file or run folder to start from")
    ap.add_argument("out", help="run folder of this phase (resumed when it exists)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="preset options over the recipe's fine-tune ones, e.g. replay=0.25 lr=0.001")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    recipe = RECIPES["bmul"]
    try:
        options = options_for(args.set)
    except ValueError as e:
        ap.error(str(e))
    model, _ = checkpoints.load(args.start, "bmul")
    res = train("bmul", recipe.preset, out=args.out, seed=args.seed, start_model=model.train(),
                minutes=args.minutes, checkpoint_every=100, keep=4, **options)
    print(f"{res.steps} steps, {res.seconds / 60:.1f} minutes, options {options}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
