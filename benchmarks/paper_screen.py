"""The Neural GPU (2016) seed lottery at reduced scale: which share of seeds generalises, per arm.

The paper kept the best runs of a 729-run grid; one seed of its recipe says little. This screen
trains each arm's seeds on binary addition of at most `--digits` (8) bits, capped by steps, one
`sweep` (Ray, one worker, one thread) per (arm, seed), interleaved so that every arm has as many
seeds as any other whenever the screen is stopped. A trial *generalises* when it is exact on 64 of
64 fresh 32-bit sums (the sweep's evaluation stream, seed 2024). Each trial also gets the width
probe: 64 fresh 8-bit sums written 16 and 32 bits wide (leading zeros), a cheap sign of whether
the two operands' bits are aligned by rule or by the widths trained on.

    python -m benchmarks.paper_screen --seeds 0-7 [--arms jan,june] [--steps 6000]

Reruns resume (each trial's folder `runs/screen/ARM-sSEED`); the summary (share p per arm with
its 95% Wilson interval) goes to `figures/paper_screen.json` and `.md`. benchmarks/README.md run P.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from ngpu_lite.interfaces.sweep import parse_seeds, sweep
from ngpu_lite.model import checkpoints
from ngpu_lite.model.evaluate import evaluate_cases

ROOT = Path(__file__).resolve().parent.parent
# arm: (preset, grid overrides) -- the January 2016 release, the June 2016 code (`paper`), and
# each with the paper's gradient noise really applied, and wider
ARMS: dict[str, tuple[str, dict]] = {
    "jan": ("paper-jan", {}),
    "june": ("paper", {}),
    "jan-noise": ("paper-jan", {"noise": math.sqrt(20.0)}),  # the January trainer's sqrt(20 · err)
    "june-noise": ("paper", {"noise": 1.0}),
    "june-m48": ("paper", {"model.m": 48}),
}
PROBE_SEED = 4242  # the width probe's cases


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a share k/n (0..1 for n = 0)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def width_probe(model, digits: int, widths: tuple[int, ...], samples: int = 64) -> dict[int, float]:
    """Exact share on `samples` fresh `digits`-bit sums written `w` bits wide, for each width."""
    rng = random.Random(f"paper screen width probe {PROBE_SEED}")
    pairs = [(rng.getrandbits(digits), rng.getrandbits(digits)) for _ in range(samples)]
    return {w: evaluate_cases(model, "badd", pairs, w)["exact"] for w in widths}


def run(arms: list[str], seeds: list[int], steps: int, digits: int, out: Path) -> dict:
    """Train and score every (arm, seed), seeds interleaved across arms; returns the summary."""
    records: dict[str, list[dict]] = {a: [] for a in arms}
    for seed in seeds:
        for arm in arms:
            preset, extra = ARMS[arm]
            folder = out / f"{arm}-s{seed}"
            res = sweep("badd", preset, [seed], grid=[f"max_digits={digits}"] + [
                f"{k}={v}" for k, v in extra.items()], out=folder, steps=steps,
                digits=4 * digits, samples=64, workers=1, progress=False)
            if not res["runs"]:
                print(f"{arm} seed {seed}: failed: {res['errors']}", flush=True)
                continue
            rec = res["runs"][0]
            model, _ = checkpoints.load(folder / rec["folder"] / "checkpoint.pt")
            probe = width_probe(model, digits, (2 * digits, 4 * digits))
            row = {"seed": seed, "steps": rec["steps"], "minutes": rec["minutes"],
                   "stopped": rec["stopped"], "exact_train": rec["exact_train"],
                   "exact_test": rec["exact"], "per_symbol_test": rec["per_symbol"],
                   "probe": {str(w): v for w, v in probe.items()},
                   "generalised": rec["exact"] == 1.0}
            records[arm].append(row)
            print(f"{arm} seed {seed}: {rec['steps']} steps, {rec['minutes']} min, exact "
                  f"{rec['exact_train']:.0%} at {digits} bits, {rec['exact']:.0%} at {4 * digits}; "
                  f"{digits}-bit sums {2 * digits} wide {probe[2 * digits]:.0%}, "
                  f"{4 * digits} wide {probe[4 * digits]:.0%}", flush=True)
            write(summary(records, steps, digits))
    return summary(records, steps, digits)


def summary(records: dict[str, list[dict]], steps: int, digits: int) -> dict:
    """Per arm: the seeds tried, how many generalised, p and its 95% Wilson interval."""
    arms = {}
    for arm, rows in records.items():
        k, n = sum(r["generalised"] for r in rows), len(rows)
        lo, hi = wilson(k, n)
        arms[arm] = {"preset": ARMS[arm][0], "overrides": ARMS[arm][1], "seeds": n,
                     "generalised": k, "p": k / n if n else None, "interval95": [lo, hi],
                     "trials": rows}
    return {"model": "Neural GPU (2016)", "task": "badd", "train_digits": digits,
            "test_digits": 4 * digits, "test_samples": 64, "test_stream_seed": 2024,
            "steps_cap": steps, "steps_per_cell": 1, "arms": arms}


def write(res: dict) -> None:
    """`figures/paper_screen.json` and a Markdown table beside it."""
    fig = ROOT / "figures"
    (fig / "paper_screen.json").write_text(json.dumps(res, indent=1) + "\n")
    d = res["train_digits"]
    lines = [f"Neural GPU (2016), binary addition on at most {d} bits, {res['steps_cap']:,} "
             f"steps at most, 1 step per cell; generalised = 64 of 64 fresh {res['test_digits']}"
             f"-bit sums exact.", "",
             "| arm | preset | seeds | fitted (64 of 64 at the training width) | generalised | "
             "p (95% interval) |", "|---|---|---|---|---|---|"]
    for arm, a in res["arms"].items():
        p = "–" if a["p"] is None else (f"{a['p']:.2f} ({a['interval95'][0]:.2f}–"
                                         f"{a['interval95'][1]:.2f})")
        fitted = sum(t["exact_train"] == 1.0 for t in a["trials"])
        lines.append(f"| {arm} | `{a['preset']}` {a['overrides'] or ''} | {a['seeds']} | {fitted} | "
                     f"{a['generalised']} | {p} |")
    (fig / "paper_screen.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arms", default="jan,june")
    ap.add_argument("--seeds", default="0-7")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--digits", type=int, default=8)
    ap.add_argument("--out", default="runs/screen")
    args = ap.parse_args(argv)
    arms = args.arms.split(",")
    bad = [a for a in arms if a not in ARMS]
    if bad:
        ap.error(f"unknown arm {bad[0]!r}; arms: {', '.join(ARMS)}")
    res = run(arms, parse_seeds(args.seeds), args.steps, args.digits, Path(args.out))
    for arm, a in res["arms"].items():
        print(f"{arm}: {a['generalised']} of {a['seeds']} seeds generalised")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
