"""A second phase of `bmul` training from a checkpoint, with the zoo recipe's settings and any
options of the `dngpu` preset changed (hard-example replay, structured share, dropout, lr), to
compare fine-tunes on `benchmarks.bmul_validate`'s streams. Resumes when its folder exists.

    python -m benchmarks.bmul_finetune resume/bmul-s0 runs/bmul-replay --seed 11 --replay 0.25
"""

from __future__ import annotations

import argparse

import torch

from ngpu_lite import checkpoints, train
from ngpu_lite.zoo import RECIPES


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
    options = {**recipe.overrides, **recipe.finetune}
    for item in args.set:
        key, _, value = item.partition("=")
        options[key] = type(options.get(key, 0.0))(value) if key in options else float(value)
    model, _ = checkpoints.load(args.start, "bmul")
    res = train("bmul", recipe.preset, out=args.out, seed=args.seed, start_model=model.train(),
                minutes=args.minutes, checkpoint_every=100, keep=4, **options)
    print(f"{res.steps} steps, {res.seconds / 60:.1f} minutes, options {options}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
