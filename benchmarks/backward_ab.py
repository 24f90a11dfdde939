"""Does the 2016 CGRU's hand-written backward change what training learns? An A/B over seeds.

Each seed trains the `tiny` preset on `reverse` (a Neural GPU (2016), chapter 11's recipe: 1,500
steps, stopped early once 64 fresh 24-digit cases are exact) twice, once through the library's
hand-written backward (`cgru._CGRUStep`) and once through autograd over `cgru`, and scores both on
64 fresh 60-digit cases. The two paths give the same gradients within 1e-5 per step
(tests/test_model.py); this measures whether the runs they lead to generalise equally often.

    python -m benchmarks.backward_ab --seeds 0-15
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

import torch

from ngpu_lite import evaluate, train

CGRU = sys.modules["ngpu_lite.model.cgru"]


@contextlib.contextmanager
def autograd_path():
    """Within the block the 2016 unit's training step runs autograd through `cgru` (the library
    before the hand-written backward) instead of `_CGRUStep`."""
    cls = CGRU._CGRUStep
    own = cls.__dict__.get("apply")  # None: `apply` is torch's, inherited

    def step(s, mask, gate_weight, gate_bias, cand_weight, cand_bias, cutoff):
        out = CGRU.cgru(s, gate_weight, gate_bias, cand_weight, cand_bias, cutoff=cutoff)
        return out if mask is None else out * mask

    cls.apply = staticmethod(step)
    try:
        yield
    finally:
        if own is None:
            del cls.apply
        else:
            cls.apply = own


def run(seed: int, arm: str, steps: int = 1500) -> dict:
    """One seed on one path ("hand" or "autograd"): steps, why it stopped, 60-digit scores."""
    ctx = autograd_path() if arm == "autograd" else contextlib.nullcontext()
    with ctx:
        res = train("reverse", "tiny", seed=seed, steps=steps, until=(24, 64), progress=False)
    ev = evaluate(res.model, "reverse", 60, 64, seed=60)
    return {"arm": arm, "seed": seed, "steps": res.steps, "stopped": res.stopped,
            "exact_60": ev["exact"], "per_symbol_60": round(ev["per_symbol"], 4)}


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.backward_ab",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="0-15")
    ap.add_argument("--arms", default="hand,autograd")
    ap.add_argument("--steps", type=int, default=1500)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for seed in _seeds(args.seeds):
        for arm in args.arms.split(","):
            print(json.dumps(run(seed, arm, args.steps)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
