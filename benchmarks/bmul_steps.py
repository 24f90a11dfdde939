"""How many steps a trained `bmul` model needs: its exact share on fresh products of the validation
stream (seed 778, which neither training nor the results table draws from) when it runs
`step_factor` steps per input cell, for several factors (`Config.step_factor`; 1 is the paper's).

    python -m benchmarks.bmul_steps --digits 20 --samples 1024 --factors 1,1.05,1.1,1.25
    python -m benchmarks.bmul_steps --digits 200 --samples 128 --factors 1,1.1,1.25,1.5
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from ngpu_lite import evaluate
from ngpu_lite.model import checkpoints


def scores(model, digits: int, samples: int, factors: list[float], seed: int = 778) -> list[dict]:
    """Exact and per-bit shares of `model` on the same `samples` fresh products at each factor."""
    keep = model.config.step_factor
    out = []
    try:
        for f in factors:
            model.config.step_factor = f
            start = time.time()
            res = evaluate(model, "bmul", digits, samples, seed=seed)
            out.append({"digits": digits, "seed": seed, "step_factor": f,
                        "steps": model.steps_for(2 * digits + 1),
                        "exact": res["exact"], "per_bit": res["per_symbol"], "samples": samples,
                        "seconds": round(time.time() - start, 1)})
    finally:
        model.config.step_factor = keep
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bmul_steps", description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default=str(checkpoints.SHIPPED_DIR / "bmul.pt"))
    ap.add_argument("--digits", type=int, default=20)
    ap.add_argument("--samples", type=int, default=1024)
    ap.add_argument("--factors", default="1,1.05,1.1,1.25")
    ap.add_argument("--seed", type=int, default=778, help="evaluation stream (778: the validation one)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, _ = checkpoints.load(args.checkpoint, "bmul")
    factors = [float(f) for f in args.factors.split(",")]
    for row in scores(model, args.digits, args.samples, factors, seed=args.seed):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
