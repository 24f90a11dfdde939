"""Why the `fast` preset raises the candidate dropout to 0.5 at the end of its curriculum.

Three arms, each trained in chunks of minutes; after every chunk the model is scored on 16 fresh
800-bit sums and, when all of them come out exact, on 8 fresh 2000-bit sums (the arm then stops):

* `continue`: a badd run that has fitted 20-bit addition (`--start`, a run folder of the preset
  with `dropout_final=0`) trained on with its own recipe: dropout 0.1·8/20 = 0.04 at 20 digits;
* `finetune`: the same model trained on with candidate dropout 0.5 at every length;
* `scratch`: the `fast` preset from scratch (dropout 0.5 from the moment the curriculum reaches 20).

    python -m benchmarks.final_dropout --arm scratch --cap 30 [--seed 0]
    python -m benchmarks.final_dropout --arm finetune --start runs/zoo/badd-s0 --cap 40
    python -m benchmarks.final_dropout --plot figures/final_dropout.json

Each arm appends its records to `figures/final_dropout.json` and writes a run folder under `--runs`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch

from ngpu_lite import evaluate, train
from ngpu_lite.model import checkpoints

FINETUNE = dict(dropout=0.5, dropout_scaled=False, start_digits=20, lr=0.003)


def score(model, steps: int) -> dict:
    """Exact rate on 16 fresh 800-bit sums; on 8 fresh 2000-bit sums when those are all right."""
    t = time.time()
    e800 = evaluate(model, "badd", 800, 16, seed=steps)
    rec = {"exact_800": e800["exact"], "per_symbol_800": e800["per_symbol"]}
    if e800["exact"] == 1.0:
        e2000 = evaluate(model, "badd", 2000, 8, seed=steps + 1)
        rec |= {"exact_2000": e2000["exact"], "per_symbol_2000": e2000["per_symbol"]}
    return rec | {"eval_s": round(time.time() - t)}


def run_arm(arm: str, cap: float, chunk: float, seed: int, start: Path | None, runs: Path,
            out: Path) -> list[dict]:
    """Train one arm chunk by chunk up to `cap` minutes; score and record every chunk."""
    folder = runs / (f"{arm}-s{seed}" if arm != "continue" else "continue")
    model, done, records = None, 0.0, []
    if arm in ("continue", "finetune"):
        if start is None:
            raise SystemExit(f"--arm {arm} needs --start RUN_FOLDER (a fitted badd run)")
        if arm == "continue":  # resume a copy of the run itself: same recipe, same data stream
            if not folder.exists():
                shutil.copytree(start, folder)
            done = checkpoints.load_raw(folder / "checkpoint.pt")["train_state"]["seconds"] / 60
        else:
            model, _ = checkpoints.load(start, "badd")
    offset = done
    cap += done
    while done < cap - 1e-9:
        done = min(cap, done + chunk)
        if arm == "continue":
            res = train("badd", "fast", out=folder, seed=seed, minutes=done, progress=False,
                        dropout_final=0.0)
        elif arm == "finetune":
            res = train("badd", "fast", out=folder, seed=11, minutes=done, progress=False,
                        start_model=model.train(), **FINETUNE)
        else:
            res = train("badd", "fast", out=folder, seed=seed, minutes=done, progress=False)
        rec = {"arm": arm, "seed": seed, "steps": res.steps,
               "minutes": round(res.seconds / 60 - offset, 1)}  # continue: after the fitted run
        rec |= score(res.model, res.steps)
        print(json.dumps(rec), flush=True)
        records.append(rec)
        old = json.loads(out.read_text()) if out.exists() else {"records": []}
        old["records"].append(rec)
        out.write_text(json.dumps(old, indent=1))
        if rec.get("exact_2000") == 1.0:
            break
    return records


def plot(path: Path):
    """Exact rate on 800-bit sums against training minutes, one line per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = json.loads(path.read_text())["records"]
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for key in dict.fromkeys((r["arm"], r["seed"]) for r in recs):
        rs = [r for r in recs if (r["arm"], r["seed"]) == key]
        line, = ax.plot([r["minutes"] for r in rs], [100 * r["exact_800"] for r in rs], marker="o",
                        label=f"{key[0]} (seed {key[1]}): 800 bits")
        long = [r for r in rs if "exact_2000" in r]
        ax.scatter([r["minutes"] for r in long], [100 * r["exact_2000"] for r in long], marker="*",
                   s=160, facecolors="none", edgecolors=line.get_color(), zorder=3,
                   label=f"{key[0]}: 8 fresh 2000-bit sums" if long else None)
    ax.set_xlabel("training minutes (one CPU thread; continue, finetune: after the fitted run)")
    ax.set_ylabel("fresh sums exact (%)")
    ax.set_ylim(-3, 103)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png"), dpi=110)
    return fig


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.final_dropout",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--arm", choices=("continue", "finetune", "scratch"))
    ap.add_argument("--cap", type=float, default=30.0, help="minutes of training for the arm")
    ap.add_argument("--chunk", type=float, default=5.0, help="minutes between scores")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=Path, help="run folder of a fitted badd run (continue/finetune)")
    ap.add_argument("--runs", type=Path, default=Path("runs/final_dropout"))
    ap.add_argument("--out", type=Path, default=Path("figures/final_dropout.json"))
    ap.add_argument("--plot", type=Path, metavar="JSON", help="only redraw the figure of a file")
    a = ap.parse_args(argv)
    if a.plot:
        plot(a.plot)
        return
    if a.arm is None:
        ap.error("give --arm or --plot")
    torch.set_num_threads(1)
    run_arm(a.arm, a.cap, a.chunk, a.seed, a.start, a.runs, a.out)
    plot(a.out)


if __name__ == "__main__":
    main()
