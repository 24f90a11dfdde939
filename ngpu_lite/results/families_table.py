"""The families table: every shipped model on every structured family (`make families`).

`families_table` measures a model on each family of `ngpu_lite.data.families` at 20, 200 and
2000 bits; `python -m ngpu_lite.results.families_table` writes that table for the shipped models
to `figures/families.{json,md,png}` and into the README.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..data.families import FAMILIES, _families_of, case_text, family_cases, family_doc
from ..data.tasks import TaskError, get_task, length_for
from ..model.checkpoints import SHIPPED_DIR, hardware, pretrained, sha256
from ..model.evaluate import batch_size_for, evaluate_cases
from ..model.neural_gpu import model_name
from .zoo import FIGURES_DIR, update_readme

TABLE_DIGITS = (20, 200, 2000)


# 2000-bit cases cost seconds to a minute each on one thread: four per family (about 40 per task)
TABLE_SAMPLES = {20: 64, 200: 64, 2000: 4}

# The families' streams: seed 0 is the one the recipes were designed on (the structured-training
# ablation, the fine-tunes chosen by their 200-bit rows), so its counts are kept as such in
# figures/families_design.*; the reported table draws from seed 1, which no design step used.
DESIGN_SEED = 0
REPORT_SEED = 1


SHOW_WRONG_UP_TO = 64  # digits: wrong cases are kept (as typed) in the table up to this width


def _batch_for(model, length: int) -> int:
    """Batch size: within the evaluation memory budget, and small at long lengths so that the
    progress bar moves every few cases (a 2000-bit case takes 10-45 s on one thread)."""

    return max(1, min(32, batch_size_for(model, length), 12_000 // length))


def families_table(model_for: Callable[[str], torch.nn.Module], tasks: Iterable[str],
                   digits: Sequence[int] = TABLE_DIGITS,
                   samples: int | dict[int, int] | None = None, seed: int = REPORT_SEED,
                   families: Iterable[str] | None = None, progress: bool = True) -> dict:
    """Measure `model_for(task)` on every family of every task at every length in `digits`.

    Returns `{"rows": {task: {family: {str(digits): cell}}}, "models": ..., ...}`, where a cell
    holds `exact` (share of cases with every symbol right), `right` (how many), `samples` (distinct
    cases: a family with fewer members than asked, such as all zeros, is measured once per member),
    `per_symbol`, `seconds` and, up to 64 bits, a few `wrong` cases as typed. `samples` is a count
    per length (default 64, 4 at 2000 bits) or one count for all; `families` keeps only those named.
    """

    tasks = [get_task(t).name for t in tasks]
    want = None if families is None else list(families)
    counts = dict(TABLE_SAMPLES) if samples is None else (
        dict(samples) if isinstance(samples, dict) else {d: int(samples) for d in digits})
    unknown = [f for f in want or () if not any(f in _families_of(t) for t in tasks)]
    if unknown:
        raise TaskError(f"unknown family {unknown[0]!r} of {', '.join(tasks)}")
    plan = []  # (task, family, digits, distinct cases)
    for task in tasks:
        names = [f for f in _families_of(task) if want is None or f in want]
        for family in names:
            for d in digits:
                cases = family_cases(task, family, d, counts.get(d, 64), seed)
                plan.append((task, family, d, list(dict.fromkeys(cases))))
    bar = tqdm(total=sum(len(c) for *_, c in plan), disable=not progress, unit="case")
    rows: dict[str, dict] = {}
    models: dict[str, str] = {}
    for task in tasks:
        model = None
        for t, family, d, cases in plan:
            if t != task:
                continue
            if model is None:
                model = model_for(task)
                models[task] = model_name(model.config) if hasattr(model, "config") else str(model)
            bar.set_description(f"{task} {family} {d} bits")
            start = time.time()
            res = evaluate_cases(model, task, cases, d, _batch_for(model, length_for(d)), bar=bar)
            cell = {"exact": res["exact"], "right": res["right"], "samples": res["samples"],
                    "per_symbol": res["per_symbol"], "seconds": round(time.time() - start, 1)}
            if d <= SHOW_WRONG_UP_TO:
                cell["wrong"] = [case_text(task, c, d) for c in res["wrong"][:3]]
            rows.setdefault(task, {}).setdefault(family, {})[str(d)] = cell
    bar.close()
    return {"command": "families_table", "started": time.strftime("%Y-%m-%d %H:%M"),
            "torch": str(torch.__version__), "threads": torch.get_num_threads(), "seed": seed,
            "stream": f"tasks.eval_stream({seed}, 'families TASK FAMILY DIGITS')",
            "models": models, "seeds": {task: seed for task in rows}, "rows": rows,
            "families": {task: {f: family_doc(task, f) for f in rows.get(task, {})} for task in tasks}}


def update_families(old: dict, new: dict, families_only: bool = False) -> dict:
    """`new`'s tasks over an `old` families file: the other tasks keep their rows, models,
    family notes and the command that measured them (in `commands`, task by task). With
    `families_only` (a new family measured on an unchanged model) only `new`'s families of a task
    are replaced and its other families kept; their commands are both kept, joined by `; `."""
    commands = {t: old.get("commands", {}).get(t, old.get("command", "?")) for t in old["rows"]}
    for t in new["rows"]:
        command = new.get("command", "?")
        commands[t] = f"{commands[t]}; {command}" if families_only and t in commands else command
    merged = dict(new, commands=commands)
    old = dict(old, seeds=old.get("seeds") or {t: old.get("seed", DESIGN_SEED) for t in old["rows"]})
    for key in ("rows", "models", "families", "seeds", "sha256"):
        merged[key] = {**{t: v for t, v in old.get(key, {}).items() if t not in new["rows"]},
                       **new.get(key, {})}
        if families_only and key != "models":
            for t, fams in new.get(key, {}).items():
                merged[key][t] = {**old.get(key, {}).get(t, {}), **fams}
    order = list(old["rows"]) + [t for t in new["rows"] if t not in old["rows"]]
    merged["rows"] = {t: merged["rows"][t] for t in order}
    return merged


def families_markdown(res: dict) -> str:
    """The table as markdown: one row per task and family, `right of samples (share)` per length,
    then what each family is."""
    digits = sorted({int(d) for fams in res["rows"].values() for row in fams.values() for d in row})
    lines = ["| task (model) | family | " + " | ".join(f"{d} bits" for d in digits) + " |",
             "|---|---" + "|---" * len(digits) + "|"]
    for task, fams in res["rows"].items():
        label = f"{task} ({res['models'][task]})" if res.get("models", {}).get(task) else task
        for family, row in fams.items():
            cells = []
            for d in digits:
                c = row.get(str(d))
                cells.append("–" if c is None else
                             f"{c['right']} of {c['samples']} ({100 * c['exact']:.0f}%)")
            lines.append(f"| {label} | {family} | " + " | ".join(cells) + " |")
            label = ""
    lines += ["", "Exact answers (every output symbol right) of distinct cases drawn from "
              f"{_streams(res)}. Families:", ""]
    said: dict[tuple[str, str], list[str]] = {}  # one line for a family several tasks share
    for task, docs in res.get("families", {}).items():
        for family, doc in docs.items():
            said.setdefault((family, doc), []).append(task)
    lines += [f"- {', '.join(tasks)}, *{family}*: {doc}." for (family, doc), tasks in said.items()]
    return "\n".join(lines)


def _streams(res: dict) -> str:
    """Which stream each task's row drew from, in words (one phrase when they all share one)."""
    seeds = res.get("seeds") or {t: res.get("seed", DESIGN_SEED) for t in res["rows"]}
    def phrase(seed: int) -> str:
        role = {DESIGN_SEED: "the design stream", REPORT_SEED: "the reporting stream"}.get(seed, "")
        return f"`tasks.eval_stream({seed}, 'families TASK FAMILY DIGITS')`" + (
            f" ({role})" if role else "")
    by_seed: dict[int, list[str]] = {}
    for t in res["rows"]:
        by_seed.setdefault(seeds.get(t, res.get("seed", DESIGN_SEED)), []).append(t)
    if len(by_seed) == 1:
        return phrase(next(iter(by_seed)))
    return "; ".join(f"{phrase(s)} for {', '.join(ts)}" for s, ts in by_seed.items())


def families_plot(res: dict):
    """Heat map of the exact share: one row per task and family, one column per length, each cell
    annotated with `right/samples`."""
    import matplotlib.pyplot as plt

    digits = sorted({int(d) for fams in res["rows"].values() for row in fams.values() for d in row})
    labels, grid, notes = [], [], []
    for task, fams in res["rows"].items():
        for family, row in fams.items():
            labels.append(f"{task}: {family}")
            cells = [row.get(str(d)) for d in digits]
            grid.append([math.nan if c is None else 100 * c["exact"] for c in cells])
            notes.append(["" if c is None else f"{c['right']}/{c['samples']}" for c in cells])
    fig, ax = plt.subplots(figsize=(4.2 + 1.1 * len(digits), 1.0 + 0.24 * len(labels)))
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="0.9")
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for i, row in enumerate(notes):
        for j, note in enumerate(row):
            dark = not math.isnan(grid[i][j]) and not 20 <= grid[i][j] <= 80
            ax.text(j, i, note, ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    tasks = [label.split(":")[0] for label in labels]
    for i in range(1, len(tasks)):
        if tasks[i] != tasks[i - 1]:  # a line between tasks
            ax.axhline(i - 0.5, color="white", lw=2)
    ax.set_xticks(range(len(digits)), [f"{d} bits" for d in digits], fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.xaxis.tick_top()
    ax.set_title("Exact answers on structured families\n(right/samples; green: all exact)",
                 fontsize=9)
    fig.tight_layout()
    return fig


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ngpu_lite.results.families_table",
                                 description="Measure the shipped models on every family of "
                                             "structured inputs; write figures/NAME.{json,md,png}.")
    ap.add_argument("--tasks", default=",".join(FAMILIES), help="comma-separated (default: all)")
    ap.add_argument("--families", help="comma-separated family names (default: every family)")
    ap.add_argument("--digits", default=",".join(map(str, TABLE_DIGITS)))
    ap.add_argument("--samples", type=int, default=TABLE_SAMPLES[20],
                    help="cases per family at each length but 2000 bits")
    ap.add_argument("--samples-2000", type=int, default=TABLE_SAMPLES[2000])
    ap.add_argument("--seed", type=int, default=REPORT_SEED,
                    help=f"the families' stream (default {REPORT_SEED}, the reporting stream; "
                         f"{DESIGN_SEED} is the one the recipes were designed on)")
    ap.add_argument("--name", default="families", help="output file stem")
    ap.add_argument("--out", type=Path, help="output folder (default: the repository's figures/)")
    ap.add_argument("--update", action="store_true",
                    help="keep the other tasks' rows of an existing file (a measured task's row "
                         "is replaced whole: its model may have changed; with --families only "
                         "those families' rows, for a family added on an unchanged model)")
    args = ap.parse_args(argv)

    digits = tuple(int(d) for d in args.digits.split(","))
    res = families_table(lambda task: pretrained(task, "cpu"), args.tasks.split(","), digits,
                         {d: args.samples_2000 if d == 2000 else args.samples for d in digits},
                         seed=args.seed,
                         families=args.families.split(",") if args.families else None)
    res["sha256"] = {t: sha256(SHIPPED_DIR / f"{t}.pt") for t in res["rows"]}  # what was measured
    res["command"] = "python -m ngpu_lite.results.families_table " + " ".join(
        argv if argv is not None else sys.argv[1:])

    res["hardware"] = hardware()
    out = args.out or FIGURES_DIR
    out.mkdir(parents=True, exist_ok=True)
    if args.update and (out / f"{args.name}.json").exists():
        res = update_families(json.loads((out / f"{args.name}.json").read_text()), res,
                              families_only=bool(args.families))
    (out / f"{args.name}.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / f"{args.name}.md").write_text(families_markdown(res) + "\n")
    families_plot(res).savefig(out / f"{args.name}.png", dpi=120)
    print(families_markdown(res))
    print(f"wrote {out / args.name}.json, .md and .png")
    if args.out is None and args.name == "families":  # the repository's own table: the README too

        table = families_markdown(res).split("\n\n")[0]
        if update_readme(table + "\n\nMeasured by `python -m ngpu_lite.results.families_table` task by "
                         "task (the "
                         "commands: `figures/families.json`); what each family is: "
                         "`figures/families.md`.", name="families"):
            print("updated the README's families table")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
