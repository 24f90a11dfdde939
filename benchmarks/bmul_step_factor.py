"""bmul trained at the steps per cell it is shipped with (issue 34), structured from the start.

The improved Neural GPU (2017), the `dngpu` preset in bf16, with two changes to the shipped
recipe: every training example runs its own `ceil(1.25 · n)` steps on its own `n` cells
(`bucket_steps="own"`, `step_factor=1.25`: exactly as it is evaluated, where DNGPU's buckets ran a
short example the bucket's steps), and a quarter of the operands come from the bmul families
(zero and one operands, powers of two, all ones, few set bits, runs of ones, products near
t·2^k, ...) from the first step. Capped by steps; stops at the first passed check (64 of 64
fresh 200-bit products exact); resumes from its folder.

    python -m benchmarks.bmul_step_factor runs/bmul-f125-s0 --seed 0 --steps 4000

A second phase, as the zoo's fine-tune phases run (from a model, data seed `seed + 11`, the same
overrides, no stopping check), with `--start`:

    python -m benchmarks.bmul_step_factor runs/bmul-f125-s0-ft3000 --start \
        runs/bmul-f125-s0/snapshots/step-3000.pt --steps 765 --dropout 0.25 --lr 0.001
"""

from __future__ import annotations

import argparse

from ngpu_lite.training import train

OVERRIDES = dict(precision="bf16", structured=0.25, bucket_steps="own")
STEP_FACTOR = 1.25


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--start", help="a checkpoint to fine-tune from (a second phase)")
    ap.add_argument("--dropout", type=float, help="the second phase's dropout")
    ap.add_argument("--lr", type=float, help="the second phase's learning rate")
    args = ap.parse_args(argv)
    from ngpu_lite.model import checkpoints
    from ngpu_lite.training import get_preset

    model = {**get_preset("dngpu").model, "step_factor": STEP_FACTOR}
    if args.start:
        start, _ = checkpoints.load(args.start, "bmul")
        tune = {k: v for k, v in (("dropout", args.dropout), ("lr", args.lr)) if v is not None}
        res = train("bmul", "dngpu", out=args.out, seed=args.seed + 11, start_model=start.train(),
                    steps=args.steps, checkpoint_every=100, keep=4, model=model,
                    **{**OVERRIDES, **tune})
    else:
        res = train("bmul", "dngpu", out=args.out, seed=args.seed, steps=args.steps,
                    until=(200, 64), check_every=2, keep=4, model=model, **OVERRIDES)
    print(f"stopped: {res.stopped} at step {res.steps} ({res.seconds / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
