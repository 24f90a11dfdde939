"""The shipped models: how each was trained (`make checkpoints`) and what it scores (`make results`).

`RECIPES` records, for every task, the preset, the seeds tried and the time cap of each run.
`build(task)` trains every seed into `runs/zoo/TASK-sSEED` (a rerun resumes), scores each run on
fresh 200-digit cases, keeps the best and writes it to `ngpu_lite/checkpoints/TASK.pt` with its
manifest. `results()` re-measures the paper's table (exact-answer rate at 20, 25, 200 and 2000
digits) from the shipped checkpoints, LSTM baseline included, and writes it to `figures/`.

    python -m ngpu_lite.results.zoo build [--tasks badd,copy] [--out DIR] [--max-minutes M]
    python -m ngpu_lite.results.zoo results [--tasks ...] [--samples-2000 64] [--name results]
    python -m ngpu_lite.results.zoo merge results_a.json results_b.json   (rows measured separately)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from ..data.tasks import length_for
from ..model import checkpoints
from ..model.evaluate import evaluate
from ..model.neural_gpu import model_name
from ..training import train
from ..training.run_folder import SNAPSHOTS, snapshots
from .baselines import build_baseline, evaluate_baseline, load_baseline
from .recipes import RECIPES, Recipe

ROOT = Path(__file__).resolve().parents[2]


RUNS_DIR = ROOT / "runs" / "zoo"


FIGURES_DIR = ROOT / "figures"


TABLE_DIGITS = (20, 25, 200, 2000)


SAMPLES = {20: 1024, 25: 1024, 200: 256, 2000: 64}


# the paper's Table 1 (percent of test cases with every output symbol right); None: not reported
PAPER = {
    "badd": {20: 100, 25: 100, 200: 100, 2000: 100},
    "bmul": {20: 100, 25: 100, 200: 100, 2000: 100},
    "copy": {20: 100, 25: 100, 200: 100, 2000: 100},
    "reverse": {20: 100, 25: 100, 200: 100, 2000: 100},
    "duplicate": {20: 100, 25: 100, 200: 100, 2000: 100},
    "sort": {20: 100, 25: 100, 200: 100, 2000: 100},
    "lstm-badd": {20: 100, 25: 73, 200: 0, 2000: 0},
}


def _run_dir(name: str, seed: int, runs_dir: Path) -> Path:
    return runs_dir / f"{name}-s{seed}"


def _stem(name: str) -> str:
    """The shipped file stem named by `name`: a task (its improved model) or TASK-paper."""
    return checkpoints.shipped_name(*checkpoints.split_name(name))


def _recipe(name: str) -> Recipe:
    """The recipe of a task's improved model ("badd") or of a named model ("badd-paper")."""
    stem = _stem(name)
    if stem not in RECIPES:
        raise ValueError(f"no recipe for {name!r}; recipes: {', '.join(RECIPES)}")
    return RECIPES[stem]


class BuildError(RuntimeError):
    """A build that would ship something other than its recipe says (a phase hit the safety limit)."""


def phases(recipe: Recipe) -> list[tuple[str, dict, int]]:
    """The recipe's fine-tune phases in order: (folder name, training overrides, steps)."""
    out = []
    for i, phase in enumerate(recipe.finetune):
        if not isinstance(phase.get("steps"), int) or phase["steps"] < 1:
            raise ValueError(f"fine-tune phase {i + 1} of {recipe.name!r} names no steps")
        out.append(("finetune" if i == 0 else f"finetune{i + 1}",
                    {k: v for k, v in phase.items() if k != "steps"}, phase["steps"]))
    return out


def _within_safety(res, recipe: Recipe, folder: Path):
    """The phase's result, or BuildError when it ran into the recipe's safety limit in minutes."""
    if res.stopped == "minutes":
        raise BuildError(f"{folder} reached the safety limit of {recipe.max_minutes:g} minutes at "
                         f"step {res.steps} before its {recipe.name} recipe's steps; rerun the same "
                         "command (it resumes) on a less busy machine, or raise --max-minutes")
    return res


def finetune_run(recipe: Recipe, folder: Path, seed: int, first, progress: bool = True):
    """Train the recipe's fine-tune phases of the run in `folder` (resuming), each from the one
    before's final model with seed `seed + 11·k`, after the first phase's result `first`; returns
    the last phase's TrainResult with steps and seconds counted over every phase."""
    res, steps, seconds = first, first.steps, first.seconds
    before = folder
    for k, (name, overrides, phase_steps) in enumerate(phases(recipe), start=1):
        model, _ = checkpoints.load(before, recipe.task)
        res = train(recipe.task, recipe.preset, out=folder / name, seed=seed + 11 * k,
                    start_model=model.train(), steps=phase_steps, minutes=recipe.max_minutes,
                    progress=progress, checkpoint_every=100, keep=recipe.average_last,
                    **{**recipe.overrides, **overrides})
        _within_safety(res, recipe, folder / name)
        before = folder / name
        res.steps += steps
        res.seconds += seconds
        steps, seconds = res.steps, res.seconds
    return res


def _score(model, task: str, digits: int, samples: int, seed: int = 2024) -> dict:
    res = evaluate(model, task, digits, samples, seed=seed)
    return {"exact": res["exact"], "per_symbol": res["per_symbol"], "samples": res["samples"]}


def describe_recipe(task: str) -> str:
    """One line on how the shipped `task` model is trained: preset, seeds, cap, stopping test."""
    r = _recipe(task)
    extra = f" with {r.overrides}" if r.overrides else ""
    avg = (f"; the weights of its last {r.average_last} checkpoints averaged when that scores at "
           "least as well" if r.average_last else "")
    tests = [r.until] if isinstance(r.until[0], int) else list(r.until)
    until = ", then ".join(f"{n} fresh {d}-bit cases" for d, n in tests)
    tune = "".join(f"; then {n:,} steps more from that model with {overrides}"
                   for _, overrides, n in phases(r))
    steps = (f"; the shipped model runs {r.step_factor:g} steps per input cell (trained at 1)"
             if r.step_factor != 1.0 else "")
    return (f"full recipe: preset {r.preset!r}{extra}, seeds {r.seeds} (the zoo keeps the best), at "
            f"most {r.steps:,} steps each, stopped once {until} are exact{tune}{avg}{steps}")


def train_recipe(task: str, out: str | Path, seed: int | None = None,
                 max_minutes: float | None = None, progress: bool = True):
    """Run one seed (default: the first) of `task`'s recipe into `out`, resuming a killed run,
    then its fine-tune phases (in `out/finetune`, ...): the result is the last phase's, with the
    steps and seconds of every phase."""
    r = _recipe(task)
    seed = r.seeds[0] if seed is None else seed
    if max_minutes is not None:
        r = replace(r, max_minutes=max_minutes)
    res = train(r.task, r.preset, out=out, seed=seed, steps=r.steps, minutes=r.max_minutes,
                until=r.until, progress=progress, checkpoint_every=100, check_every=r.check_every,
                keep=r.average_last, **r.overrides)
    _within_safety(res, r, Path(out))
    return finetune_run(r, Path(out), seed, res, progress) if r.finetune else res


def _manifest(task: str) -> dict:
    """The shipped manifest of `task` (empty when nothing is shipped)."""
    path = checkpoints.SHIPPED_DIR / f"{_stem(task)}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def describe_shipped(task: str) -> str:
    """One line from a shipped checkpoint's manifest: preset, seed, steps, time, hardware."""
    m = _manifest(task)
    # a fine-tuned run: `seed` is the last phase's data seed, `kept_seed` the run's own
    seed = m.get("kept_seed", m.get("seed", "?"))
    tuned = f" (last phase's data seed {m['seed']})" if "seed" in m and m["seed"] != seed else ""
    return (f"shipped {task}: preset {m.get('preset', '?')}, seed {seed}{tuned}, "
            f"{m.get('steps', '?')} steps, {(m.get('wall_seconds') or 0) / 60:.0f} minutes on "
            f"{m.get('hardware', '?')}, trained on at most "
            f"{m.get('recipe', {}).get('max_digits', '?')}-bit operands"
            + (f"; the average of the weights at steps {m['averaged_steps']}"
               if m.get("averaged_steps") else ""))


def _shipped_runs(task: str) -> list[dict]:
    """The run records in the shipped manifest of `task` (empty when nothing is shipped)."""
    return _manifest(task).get("runs", [])


def _record_folder(folder: str) -> Path | None:
    """Where a shipped run record's folder is on this machine: as recorded, or its copy committed
    under resume/ (runs/zoo/X there is resume/X here); None when neither exists, so the record
    drops out of the competition rather than winning with weights that cannot be loaded."""
    path = ROOT / folder
    if path.exists():
        return path
    try:
        copy = ROOT / "resume" / Path(folder).relative_to("runs/zoo")
    except ValueError:
        return None
    return copy if copy.exists() else None


def _kept_folder(recipe: Recipe, seed: int, runs_dir: Path) -> Path:
    folder = _run_dir(recipe.name, seed, runs_dir)
    return folder / phases(recipe)[-1][0] if recipe.finetune else folder


def build(task: str, runs_dir: str | Path = RUNS_DIR, max_minutes: float | None = None,
          seeds: tuple[int, ...] | None = None, progress: bool = True,
          ship: bool = True, out_dir: str | Path | None = None) -> dict:
    """Train every seed of `task`'s recipe (resuming), keep the best run and ship it.

    The best run has the highest exact rate on 64 fresh 200-digit cases (ties: exact rate on 256
    fresh 20-digit cases, per-symbol rate, fewer steps). With `seeds`, the recipe's other seeds
    keep their records from the shipped manifest and still compete. With `out_dir` the model is
    written there (as `NAME.pt` with its manifest) and the shipped files are left alone.
    Returns the written manifest.
    """
    recipe = _recipe(task)
    runs_dir = Path(runs_dir)
    runs = []
    seeds = tuple(seeds or recipe.seeds)
    for seed in seeds:
        out = _run_dir(recipe.name, seed, runs_dir)
        res = train_recipe(recipe.name, out, seed=seed, max_minutes=max_minutes, progress=progress)
        out = _kept_folder(recipe, seed, runs_dir)
        if res.model is not None:  # (a stand-in run in the tests may have none)
            res.model.config.step_factor = recipe.step_factor
        s200 = _score(res.model, recipe.task, 200, 64)
        averaged = average_run(recipe, out, res.model, s200)
        if averaged and averaged["kept"]:
            s200 = averaged["score_200"]
        s20 = _score(averaged["model"] if averaged else res.model, recipe.task, 20, 256)
        runs.append({"seed": seed, "steps": res.steps, "minutes": round(res.seconds / 60, 1),
                     "stopped": res.stopped, "exact_20": s20["exact"], "exact_200": s200["exact"],
                     "per_symbol_200": s200["per_symbol"], "folder": str(out.relative_to(ROOT))
                     if out.is_relative_to(ROOT) else str(out)}
                    | ({"averaged": {k: v for k, v in averaged.items() if k != "model"}}
                       if averaged else {}))
        if progress:
            print(f"{recipe.name} seed {seed}: {res.steps} steps, {res.seconds / 60:.1f} min, "
                  f"200-digit exact {s200['exact']:.0%}", flush=True)
    runs += [dict(r, folder=str(_record_folder(r["folder"]).relative_to(ROOT)))
             for r in _shipped_runs(recipe.name) if r["seed"] in recipe.seeds and r["seed"] not in seeds
             and _record_folder(r["folder"]) is not None]
    runs.sort(key=lambda r: r["seed"])
    best = max(runs, key=lambda r: (r["exact_200"], r["exact_20"], r["per_symbol_200"], -r["steps"]))
    if not ship:
        return {"runs": runs, "kept": best["seed"]}
    model, info = checkpoints.load(ROOT / best["folder"] if best["seed"] not in seeds
                                   else _kept_folder(recipe, best["seed"], runs_dir), recipe.task)
    if best.get("averaged", {}).get("kept"):
        model = checkpoints.average_checkpoints(
            [_kept_folder(recipe, best["seed"], runs_dir) / SNAPSHOTS / f"step-{s}.pt"
             for s in best["averaged"]["steps"]], recipe.task)
    model.config.step_factor = recipe.step_factor
    accuracy = {str(d): _score(model, recipe.task, d, 64 if d >= 200 else 256)
                for d in (20, 200)}
    meta = {k: info[k] for k in ("preset", "seed", "steps", "wall_seconds", "recipe", "phases",
                                 "checks") if k in info}
    meta.update(hardware=info.get("hardware"), trained_git_commit=info.get("git_commit"),
                max_train_digits=info.get("recipe", {}).get("max_digits"),
                runs=runs, kept_seed=best["seed"], zoo_recipe=asdict(recipe), accuracy=accuracy)
    meta.update(steps=best["steps"], wall_seconds=round(60 * best["minutes"]))  # both phases
    if best.get("averaged", {}).get("kept"):
        meta["averaged_steps"] = best["averaged"]["steps"]
    if recipe.finetune and best["seed"] in seeds:
        meta["stages"] = stages(recipe, _run_dir(recipe.name, best["seed"], runs_dir))
    if recipe.not_remakeable:
        meta["not_remakeable"] = recipe.not_remakeable
    target = Path(out_dir) if out_dir is not None else checkpoints.SHIPPED_DIR
    if best["seed"] in seeds and out_dir is None:  # the kept run's log, for the chapters' curves
        text = training_log(recipe, _run_dir(recipe.name, best["seed"], runs_dir))
        if text:
            (FIGURES_DIR / f"{recipe.name}_training_log.jsonl").write_text(text)
    target.mkdir(parents=True, exist_ok=True)
    return checkpoints.save(target / f"{recipe.name}.pt", model, recipe.task, meta=meta)


def stages(recipe: Recipe, folder: Path) -> list[dict]:
    """Each stage of a run with fine-tune phases, in order: its folder, data seed, the phases its
    sessions trained (resumes included) and the checks it ran, from each folder's manifest."""
    out = []
    for name in [""] + [n for n, _, _ in phases(recipe)]:
        info = json.loads((folder / name / "checkpoint.json").read_text())
        out.append({"folder": name or ".", "seed": info.get("seed"), "steps": info.get("steps"),
                    "phases": info.get("phases", []), "checks": info.get("checks", [])})
    return out


def training_log(recipe: Recipe, folder: Path) -> str:
    """The run's log as JSON lines; each fine-tune phase's epochs follow the phase before's, with
    steps and seconds counted on from where it ended (marked `"phase": "finetune"`, `"finetune2"`…)."""
    first = folder / "log.jsonl"
    lines = first.read_text().splitlines() if first.exists() else []
    for name, _, _ in phases(recipe):
        tuned = folder / name / "log.jsonl"
        if not tuned.exists():
            break
        last = json.loads(lines[-1]) if lines else {"step": 0, "seconds": 0.0}
        for line in tuned.read_text().splitlines():
            rec = json.loads(line)
            rec.update(step=rec["step"] + last["step"], seconds=rec["seconds"] + last["seconds"],
                       phase=name)
            lines.append(json.dumps(rec))
    return "\n".join(lines) + "\n" if lines else ""


def average_run(recipe: Recipe, out: Path, final, final_200: dict) -> dict | None:
    """The average of the run's last `recipe.average_last` snapshots, scored on the same 64
    fresh 200-digit cases as the final model; `kept` when it does at least as well."""
    paths = snapshots(out)[-recipe.average_last:] if recipe.average_last else []
    if len(paths) < 2:
        return None
    model = checkpoints.average_checkpoints(paths, recipe.task)
    model.config.step_factor = recipe.step_factor
    score = _score(model, recipe.task, 200, 64)
    kept = score["exact"] >= final_200["exact"]
    return {"steps": [int(p.stem.split("-")[1]) for p in paths], "score_200": score,
            "final_exact_200": final_200["exact"], "kept": kept, "model": model if kept else final}


def _timed_score(model, task: str, digits: int, samples: int, progress: bool) -> dict:
    start = time.time()
    res = evaluate(model, task, digits, samples, seed=10_000 + digits, progress=progress)
    return {"exact": res["exact"], "per_symbol": res["per_symbol"], "samples": res["samples"],
            "length": length_for(digits), "seconds": round(time.time() - start, 1),
            "stream": f"evaluation, seed {10_000 + digits}", "wrong_at": res["wrong_at"]}


def results(tasks: list[str] | None = None, digits: tuple[int, ...] = TABLE_DIGITS,
            samples: dict[int, int] | None = None, baseline: bool = True,
            progress: bool = True) -> dict:
    """Measure every shipped checkpoint (and the LSTM baseline) on fresh cases at `digits`."""
    samples = {**SAMPLES, **(samples or {})}
    shipped = sorted(p.stem for p in checkpoints.SHIPPED_DIR.glob("*.pt"))
    rows: dict[str, dict] = {}
    models: dict[str, str] = {}  # which architecture each row measured
    steps_per_cell: dict[str, float] = {}  # and at how many steps per input cell
    shas: dict[str, str] = {}  # and which checkpoint file
    for name in tasks or shipped:
        if name.startswith("lstm-"):
            continue
        task, family = checkpoints.split_name(name)
        model = checkpoints.pretrained(task, device="cpu", model=family)
        rows[name] = {str(d): _timed_score(model, task, d, samples[d], progress) for d in digits}
        models[name] = model_name(model.config)
        steps_per_cell[name] = model.config.step_factor
        shas[name] = _manifest(name).get("sha256", "")
        if progress:
            print(name, {d: f"{r['exact']:.1%}" for d, r in rows[name].items()}, flush=True)
    if baseline and (checkpoints.SHIPPED_DIR / "lstm-badd.pt").exists():

        lstm = load_baseline(checkpoints.SHIPPED_DIR / "lstm-badd.pt")
        row = {}
        for d in digits:
            start = time.time()
            res = evaluate_baseline(lstm, "badd", d, samples[d], seed=10_000 + d)
            row[str(d)] = {"exact": res["exact"], "per_symbol": res["per_symbol"],
                           "samples": res["samples"], "length": length_for(d),
                           "seconds": round(time.time() - start, 1),
                           "stream": f"evaluation, seed {10_000 + d}"}
        rows["lstm-badd"] = row
        shas["lstm-badd"] = checkpoints.sha256(checkpoints.SHIPPED_DIR / "lstm-badd.pt")
    return {"command": "python -m ngpu_lite.results.zoo results", "started": time.strftime("%Y-%m-%d %H:%M"),
            "hardware": checkpoints.hardware(), "torch": str(torch.__version__), "rows": rows,
            "models": models, "steps_per_cell": steps_per_cell, "sha256": shas,
            "paper": {k: {str(d): v for d, v in row.items()} for k, row in PAPER.items()}}


ORDER = ("badd", "badd-paper", "bmul", "copy", "copy-paper", "reverse", "reverse-paper",
         "duplicate", "sort", "lstm-badd")


def _ordered(rows: dict) -> list[tuple[str, dict]]:
    return sorted(rows.items(), key=lambda kv: ORDER.index(kv[0]) if kv[0] in ORDER else len(ORDER))


def steps_per_cell(res: dict, name: str) -> float:
    """The steps per input cell row `name` was measured at (the shipped config's if unrecorded)."""
    if name in res.get("steps_per_cell", {}):
        return res["steps_per_cell"][name]
    if name.startswith("lstm-"):
        return 1.0
    return (_manifest(name).get("config") or {}).get("step_factor", 1.0)


def table_markdown(res: dict) -> str:
    """The results as a markdown table: ours (test cases) beside the paper's number. Each row
    names its model and the steps per input cell it ran; a paper figure beside a row run at
    another step count says that the paper's was measured at one step per cell."""
    digits = sorted({int(d) for row in res["rows"].values() for d in row})
    head = "| model, task | " + " | ".join(f"{d} bits" for d in digits) + " |"
    lines = [head, "|---" * (len(digits) + 1) + "|"]
    for name, row in _ordered(res["rows"]):
        shipped = _manifest(name).get("config") if name in RECIPES else None
        model = res.get("models", {}).get(name) or (model_name(shipped) if shipped else "Neural GPU")
        f = steps_per_cell(res, name)
        label = ("LSTM + attention, badd" if name == "lstm-badd"
                 else f"{model}, {checkpoints.split_name(name)[0]}, {f:g} step{'' if f == 1 else 's'} "
                      "per cell")
        cells = []
        for d in digits:
            r = row.get(str(d))
            paper = res["paper"].get(name, {}).get(str(d))
            if r is None:
                cells.append("–")
                continue
            cell = f"{100 * r['exact']:.1f}% of {r['samples']}"
            at = "" if name == "lstm-badd" or steps_per_cell(res, name) == 1 else " at 1 step per cell"
            cells.append(cell + (f" (paper {paper}%{at})" if paper is not None else ""))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(res: dict):
    """Exact-answer rate against operand length: one small panel per model and task (lines of
    models at 100% would hide one another on shared axes), each point labelled with its value."""
    import matplotlib.pyplot as plt

    rows = _ordered(res["rows"])
    cols = 4
    n_rows = -(-len(rows) // cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(10, 2.3 * n_rows + 0.6), sharex=True,
                             sharey=True, squeeze=False)
    digits = sorted({int(d) for _, row in rows for d in row})
    for ax, (name, row) in zip(axes.flat, rows, strict=False):
        xs = [i for i, d in enumerate(digits) if str(d) in row]  # evenly spaced lengths
        ys = [100 * row[str(digits[i])]["exact"] for i in xs]
        lstm = name.startswith("lstm")
        ax.plot(xs, ys, marker="o", ls="--" if lstm else "-", color="C1" if lstm else "C0")
        for x, y in zip(xs, ys, strict=True):
            ax.annotate(f"{y:.0f}" if y in (0, 100) else f"{y:.1f}", (x, y), fontsize=7,
                        textcoords="offset points", xytext=(0, -11 if y > 60 else 5), ha="center")
        shipped = _manifest(name).get("config") if name in RECIPES else None
        model = ("LSTM + attention" if lstm else res.get("models", {}).get(name)
                 or (model_name(shipped) if shipped else ""))
        task = checkpoints.split_name(name.removeprefix("lstm-"))[0]
        ax.set_title(f"{task}: {model}" if model else name, fontsize=8)
        ax.axhline(100, color="0.85", lw=0.8, zorder=0)
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xticks(range(len(digits)), [str(d) for d in digits])
        ax.set_xlim(-0.4, len(digits) - 0.6)
        ax.set_xlabel("operand bits (not to scale)")
    for ax in axes[:, 0]:
        ax.set_ylabel("exact (%)")
    axes[0, 0].set_ylim(-8, 112)
    fig.suptitle("Length generalisation of the shipped models (trained on at most 20 bits)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ngpu_lite.results.zoo", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train and ship checkpoints (resumes runs in runs/zoo)")
    b.add_argument("--tasks", default=",".join(RECIPES))
    b.add_argument("--max-minutes", type=float,
                   help="safety limit per phase (default: the recipe's); hitting it fails the build")
    b.add_argument("--out", help="write NAME.pt and its manifest here instead of over the shipped "
                                 "files (runs then train in OUT/runs)")
    b.add_argument("--seeds", help="comma-separated seeds (default: the recipe's)")
    b.add_argument("--baseline", action="store_true", help="also train the LSTM baseline")
    r = sub.add_parser("results", help="measure the table from the shipped checkpoints")
    r.add_argument("--tasks", help="comma-separated (default: every shipped checkpoint)")
    r.add_argument("--digits", default=",".join(map(str, TABLE_DIGITS)))
    r.add_argument("--samples-2000", type=int, default=SAMPLES[2000])
    r.add_argument("--name", default="results", help="output file stem in figures/")
    r.add_argument("--update", action="store_true",
                   help="keep the other rows and lengths of an existing results file")
    r.add_argument("--no-baseline", action="store_true", help="skip the LSTM baseline row")
    g = sub.add_parser("merge", help="merge results files measured separately into one table")
    g.add_argument("files", nargs="+", help="results JSON files in figures/ (later rows win)")
    g.add_argument("--name", default="results", help="output file stem in figures/")
    args = ap.parse_args(argv)
    if args.command == "build":
        seeds = tuple(int(s) for s in args.seeds.split(",")) if args.seeds else None
        runs_dir = Path(args.out) / "runs" if args.out else RUNS_DIR
        for task in [t for t in args.tasks.split(",") if t.strip()]:
            if task == "lstm-badd":
                continue
            try:
                man = build(task, runs_dir=runs_dir, max_minutes=args.max_minutes, seeds=seeds,
                            out_dir=args.out)
            except (BuildError, ValueError) as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            print(f"shipped {task}: seed {man['kept_seed']}, {man['steps']} steps, "
                  f"200-digit exact {man['accuracy']['200']['exact']:.0%}", flush=True)
        if args.baseline:

            build_baseline()
        return 0
    if args.command == "merge":
        parts = [json.loads((FIGURES_DIR / f).read_text()) for f in args.files]
        rows: dict[str, dict] = {}
        for part in parts:  # cell by cell: a later file may re-measure only some lengths
            for name, row in part["rows"].items():
                rows[name] = {**rows.get(name, {}), **row}
        models = {k: v for part in parts for k, v in part.get("models", {}).items()}
        sha = {k: v for part in parts for k, v in part.get("sha256", {}).items()}
        res = dict(parts[-1], rows=rows, models=models, sha256=sha,
                   command="python -m ngpu_lite.results.zoo merge " + " ".join(args.files),
                   parts=[{k: p[k] for k in ("command", "started", "hardware")} for p in parts])
        _write(res, args.name)
        return 0
    digits = tuple(int(d) for d in args.digits.split(","))
    res = results(args.tasks.split(",") if args.tasks else None, digits,
                  {2000: args.samples_2000}, baseline=not args.no_baseline)
    res["command"] = "python -m ngpu_lite.results.zoo " + " ".join(argv if argv is not None else sys.argv[1:])
    old_file = FIGURES_DIR / f"{args.name}.json"
    if args.update and old_file.exists():
        res = update_results(json.loads(old_file.read_text()), res)
    _write(res, args.name)
    return 0


def update_results(old: dict, new: dict) -> dict:
    """`new` measurements over an `old` results file, cell by cell: a run that measures only some
    lengths keeps the others, unless they were measured on another checkpoint file (by sha256):
    a re-shipped model starts a fresh row."""
    same = {n for n in new["rows"] if old.get("sha256", {}).get(n) == new["sha256"].get(n)}
    rows = {name: {**(old["rows"].get(name, {}) if name in same or name not in new["rows"]
                      else {}), **new["rows"].get(name, {})}
            for name in {**old["rows"], **new["rows"]}}
    merged = {key: {**old.get(key, {}), **new.get(key, {})}
              for key in ("models", "steps_per_cell", "paper")}
    return dict(new, rows=rows, sha256={**old.get("sha256", {}), **new["sha256"]}, **merged)


def _write(res: dict, name: str) -> None:
    """`figures/NAME.json`, `.md` (the table) and `.png` (the figure)."""
    FIGURES_DIR.mkdir(exist_ok=True)
    (FIGURES_DIR / f"{name}.json").write_text(json.dumps(res, indent=1) + "\n")
    (FIGURES_DIR / f"{name}.md").write_text(table_markdown(res) + "\n")
    plot(res).savefig(FIGURES_DIR / f"{name}.png", dpi=120)
    print(table_markdown(res))
    if name == "results":
        update_readme(table_markdown(res))


def update_readme(table: str, readme: Path = ROOT / "README.md", name: str = "results") -> bool:
    """Put `table` between the README's `name` markers (`<!-- results:start -->` ...); False when
    the markers are missing."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text()
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    readme.write_text(head + start + "\n" + table + "\n" + end + rest.split(end, 1)[1])
    return True


if __name__ == "__main__":
    raise SystemExit(_main())
