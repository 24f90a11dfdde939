"""Fine-tune `bmul` on a share of structured products (beyond the paper), then score it where the
shipped model is weak: the validation streams of `benchmarks.bmul_validate` (256 fresh 20-bit and
128 fresh 200-bit random products) and every bmul family at 20 and 200 bits (fresh cases of the
families' test stream, which training never draws from). Resumes when `out` exists.

    python -m benchmarks.bmul_families runs/bmul-families --minutes 30
    python -m benchmarks.bmul_families runs/x --score-only   # the shipped model, nothing trained

Every wrong product of the shipped model on the 20-bit validation stream has a run of at least 6
zeros inside it; the family `product near t·2^k` puts such a run (up to the full width) in every
product. Training draws its structured share from `--families` (default: every family).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ngpu_lite.data import families
from ngpu_lite.model import checkpoints
from ngpu_lite.model.evaluate import evaluate_cases
from ngpu_lite.results.zoo import ROOT
from ngpu_lite.training import train

from .bmul_validate import score


def family_scores(model, names: list[str], digits: int, samples: int) -> dict:
    """Exact share of `model` on `samples` fresh cases of each named bmul family at `digits` bits."""
    out = {}
    for name in names:
        cases = list(dict.fromkeys(families.family_cases("bmul", name, digits, samples, 0)))
        res = evaluate_cases(model, "bmul", cases, digits, 64)
        out[name] = {"right": res["right"], "samples": res["samples"], "exact": res["exact"],
                     "per_symbol": res["per_symbol"]}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bmul_families",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path, help="run folder (resumed when it exists)")
    ap.add_argument("--start", default=str(ROOT / "ngpu_lite" / "checkpoints" / "bmul.pt"),
                    help="checkpoint or run folder to fine-tune (default: the shipped bmul)")
    ap.add_argument("--families", default="", help="comma-separated (default: every family)")
    ap.add_argument("--share", type=float, default=0.25, help="share of structured examples")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--dropout", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=256, help="cases per family at 20 bits")
    ap.add_argument("--samples-200", type=int, default=64, help="cases per family at 200 bits")
    ap.add_argument("--score-only", action="store_true", help="score --start, train nothing")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    names = [f for f in args.families.split(",") if f]
    if args.score_only:
        model, _ = checkpoints.load(args.start, "bmul")
        spec = args.start
        args.out.mkdir(parents=True, exist_ok=True)
    else:
        start, _ = checkpoints.load(args.start, "bmul")
        res = train("bmul", "dngpu", out=args.out, seed=args.seed, start_model=start.train(),
                    minutes=args.minutes, checkpoint_every=100, keep=4, precision="bf16",
                    dropout=args.dropout, lr=args.lr, structured=args.share,
                    structured_families=tuple(names))
        model, spec = res.model, str(args.out)
    every = list(families.FAMILIES["bmul"])

    def shown(path: str) -> str:  # repository paths relative, so the report can be committed
        full = Path(path).resolve()
        return str(full.relative_to(ROOT)) if full.is_relative_to(ROOT) else path

    report = {"checkpoint": shown(spec), "start": shown(args.start), "families": names, "share": args.share,
              "validation": score(spec), "families_20": family_scores(model, every, 20, args.samples),
              "families_200": family_scores(model, every, 200, args.samples_200)}
    report["validation"]["checkpoint"] = report["checkpoint"]
    print(json.dumps(report, indent=1))
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
