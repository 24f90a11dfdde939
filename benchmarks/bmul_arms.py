"""Which points of DNGPU's multiplication set-up matter: one point changed per arm, same seed.

Each arm is the `dngpu` preset (bf16, as the shipped run) with one override, trained for the same
number of steps from the same seed (so the same data stream) into its own run folder, which
resumes when the command is run again. The training log's per-epoch symbol accuracy is the
curve; at the end the model is scored on fresh 20-bit products (evaluation stream).

    python -m benchmarks.bmul_arms --arm optimizer --steps 1200     # one arm (resumes)
    python -m benchmarks.bmul_arms --list                           # the arms
    python -m benchmarks.bmul_arms --table                          # what figures/bmul_arms.json holds

Records go to `figures/bmul_arms.json`, one per arm (a rerun replaces its arm's record).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from ngpu_lite import evaluate, train
from ngpu_lite.training import get_preset

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "figures" / "bmul_arms.json"
BASE = get_preset("dngpu").model

# arm -> overrides of the dngpu preset (model overrides under "model")
ARMS: dict[str, dict] = {
    "dngpu": {},
    "optimizer": dict(optimizer="adamax", clip=1.0),  # torch's Adamax, global-norm clipping
    "target": dict(model=dict(BASE, target="pad")),  # the paper's format: product, then PAD
    "input": dict(model=dict(BASE, input_layer="embed")),  # tanh(E[i]), no input dropout
    "init": dict(model=dict(BASE, init="unit")),  # 1.8 x unit scaling
    "saturation": dict(saturation=1e-4, saturation_adaptive=False),  # fixed weight
    "width": dict(model=dict(BASE, m=48), lr=0.01),  # m = 48 (lr 0.01·48/m as DNGPU scales it)
    "lr": dict(lr_rule="perplexity", lr_decay=0.98, lr_min=0.0),  # the paper code's decay
}


def run_arm(arm: str, steps: int, seed: int, runs: Path) -> dict:
    """Train one arm to `steps` (resuming its folder) and score it on fresh 20-bit products."""
    if arm not in ARMS:
        raise SystemExit(f"unknown arm {arm!r}; choose one of: {', '.join(ARMS)}")
    torch.set_num_threads(1)
    t0 = time.time()
    res = train("bmul", "dngpu", out=runs / f"{arm}-s{seed}", seed=seed, steps=steps,
                precision="bf16", progress=False, **ARMS[arm])
    scored = evaluate(res.model, "bmul", 20, 256, seed=20_000 + seed)
    return {"arm": arm, "overrides": json.loads(json.dumps(ARMS[arm])), "seed": seed,
            "steps": res.steps, "minutes": round(res.seconds / 60, 1),
            "curve": [(h["step"], round(h["symbol_acc"], 4), round(h["loss"], 4))
                      for h in res.history],
            "exact_20": scored["exact"], "per_symbol_20": scored["per_symbol"],
            "wall_minutes_this_call": round((time.time() - t0) / 60, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arm")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", default=str(ROOT / "runs" / "bmul_arms"))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--table", action="store_true")
    a = ap.parse_args(argv)
    if a.list:
        for name, over in ARMS.items():
            print(f"{name:11s} {over}")
        return 0
    records = json.loads(OUT.read_text()) if OUT.exists() else []
    if a.table:
        for r in records:
            print(f"{r['arm']:11s} seed {r['seed']}: {r['steps']} steps, {r['minutes']} min, "
                  f"exact at 20 bits {r['exact_20']:.1%}, per bit {r['per_symbol_20']:.2%}")
        return 0
    if not a.arm:
        ap.error("give --arm NAME (or --list, --table)")
    rec = run_arm(a.arm, a.steps, a.seed, Path(a.runs))
    records = [r for r in records if (r["arm"], r["seed"]) != (rec["arm"], rec["seed"])] + [rec]
    OUT.write_text(json.dumps(records, indent=1) + "\n")
    print(f"{rec['arm']}: {rec['steps']} steps, exact at 20 bits {rec['exact_20']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
