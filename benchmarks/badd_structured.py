"""Binary addition trained with a share of structured operands (beyond the paper): the zoo's `badd`
recipe with `structured=SHARE`, then its families table (fresh cases from the families' test
stream, which training never draws from) beside the shipped model's. Resumes when `out` exists.

    python -m benchmarks.badd_structured runs/badd-structured --share 0.25
    # a second phase from that run: at 20 digits under the final dropout, no stop test
    python -m benchmarks.badd_structured runs/badd-structured/more --share 0.25 \
        --start runs/badd-structured --steps 6529

With `--record ARM` the table joins figures/badd_families_ablation.json under that name (chapter
9's ablation: the paper's training distribution against ours, family by family).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from ngpu_lite import train
from ngpu_lite.model import checkpoints
from ngpu_lite.results.families_table import families_markdown, families_table
from ngpu_lite.results.recipes import RECIPES
from ngpu_lite.results.zoo import FIGURES_DIR
from ngpu_lite.training import get_preset

ABLATION = FIGURES_DIR / "badd_families_ablation.json"


def record(arm: str, table: dict, path: Path = ABLATION) -> dict:
    """Add (or replace) one arm's families table in the ablation file; returns the file's data."""
    data = json.loads(path.read_text()) if path.exists() else {"arms": {}}
    data["arms"][arm] = table
    path.write_text(json.dumps(data, indent=1) + "\n")
    return data


def recipe_options(share: float, second_phase: bool = False) -> dict:
    """The `badd` recipe's training options with `share` of its examples from the families; a
    second phase starts at the longest length (so under the final dropout) and has no stop test."""
    recipe = RECIPES["badd"]
    if second_phase:
        return {**recipe.overrides, "start_digits": get_preset(recipe.preset).max_digits,
                "structured": share}
    return {**recipe.overrides, "until": recipe.until, "check_every": recipe.check_every,
            "keep": recipe.average_last, "structured": share}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.badd_structured",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path, help="run folder (resumed when it exists)")
    ap.add_argument("--share", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, help="cap in steps (default: the recipe's first phase)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--start", help="checkpoint or run folder: train a second phase from it")
    ap.add_argument("--digits", default="20,200", help="families table lengths")
    ap.add_argument("--samples", type=int, default=64, help="cases per family and length")
    ap.add_argument("--record", metavar="ARM", help=f"add the table to {ABLATION.name} as ARM")
    args = ap.parse_args(argv)
    if not 0.0 <= args.share <= 1.0:
        ap.error(f"--share is a share of the examples, from 0 to 1, not {args.share}")
    torch.set_num_threads(args.threads)
    recipe = RECIPES["badd"]
    start = checkpoints.load(args.start, "badd")[0].train() if args.start else None
    res = train(recipe.task, recipe.preset, out=args.out, seed=args.seed, start_model=start,
                steps=args.steps or recipe.steps, checkpoint_every=100,
                **recipe_options(args.share, second_phase=start is not None))
    print(f"{res.steps} steps, {res.seconds / 60:.1f} minutes, stopped: {res.stopped}", flush=True)
    model = res.model.eval()
    digits = tuple(int(d) for d in args.digits.split(","))
    table = families_table(lambda task: model, ["badd"], digits, args.samples, seed=0)
    table.update(share=args.share, seed=args.seed, steps=res.steps, stopped=res.stopped,
                 minutes=round(res.seconds / 60, 1), folder=str(args.out),
                 second_phase_of=args.start, command="python -m benchmarks.badd_structured "
                 + " ".join(argv if argv is not None else sys.argv[1:]))
    (args.out / "families.json").write_text(json.dumps(table, indent=1) + "\n")
    print(families_markdown(table))
    if args.record:
        record(args.record, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
