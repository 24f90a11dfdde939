"""Score `bmul` checkpoints on the validation streams, which neither training, the results table
(seed 10,000 + bits), the zoo (2024) nor the CLI (0) use: 128 fresh 200-bit products (seed 777)
and 256 fresh 20-bit ones (seed 778). A checkpoint is a file or run folder; `avg:A,B,...` scores
the average of the weights of A, B, ... (`checkpoints.average_checkpoints`).

    python -m benchmarks.bmul_validate resume/bmul-s0/finetune runs/zoo/bmul-s0/finetune2
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from ngpu_lite import evaluate
from ngpu_lite.model import checkpoints


def score(spec: str, long: int = 128, short: int = 256) -> dict:
    """Exact and per-bit shares of one checkpoint (or `avg:` list) on the two validation streams."""
    if spec.startswith("avg:"):
        model = checkpoints.average_checkpoints(spec[4:].split(","), "bmul")
    else:
        model, _ = checkpoints.load(spec, "bmul")
    start = time.time()
    at200 = evaluate(model, "bmul", 200, long, seed=777)
    at20 = evaluate(model, "bmul", 20, short, seed=778)
    return {"checkpoint": spec, "exact_200": at200["exact"], "per_bit_200": at200["per_symbol"],
            "samples_200": long, "exact_20": at20["exact"], "samples_20": short,
            "seconds": round(time.time() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bmul_validate",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    for spec in args.checkpoints:
        print(json.dumps(score(spec)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
