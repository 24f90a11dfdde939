"""Benchmarks: training-step speed, 2000-bit inference, time to generalise (`make bench`).

Four parts, each measured on fresh random inputs in this one run (timings on a shared machine are
noisy, so compare ratios from the same run, never numbers across runs):

1. `steps`: one training step (forward + backward) at lengths 21 and 41, `m` 24 and 128, batch 32,
   for the library and for a plain reference loop kept here (one `nn.Conv2d` per gate, NCHW, a
   Python loop over steps), with the same weights (their logits are checked equal first); plus
   achieved convolution GFLOP/s against this machine's measured matmul rate.
2. `precision`: the `fast` recipe trained the same number of steps in fp32 and in bf16 autocast
   (same seed and data): does bf16 learn as well?
3. `inference`: time and peak memory of one 2000-bit addition (length 4001) and of a batch of 32,
   untrained model of the default (`fast`) preset, each in a fresh process with a time cap.
4. `train`: wall time and steps from scratch until 100% exact on 128 fresh 200-bit cases and then
   on 32 fresh 2000-bit cases, per seed and preset, each run capped.

Writes `<out>/<name>.json` and `<out>/<name>.png`. `--smoke` runs every part at toy sizes in
seconds (for CI); its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import random
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ngpu_lite import NeuralGPU, evaluate, make_batch, train
from ngpu_lite.data.tasks import length_for
from ngpu_lite.model.cgru import sigmoid_cutoff
from ngpu_lite.training import PRESETS
from ngpu_lite.training.batches import autocast

# --- the plain reference loop ------------------------------------------------------------------


class PlainCGRU(nn.Module):
    """The textbook CGRU: one `nn.Conv2d` per gate bank, default NCHW memory, no fusion."""

    def __init__(self, m: int, kernel: int = 3):
        super().__init__()
        self.u = nn.Conv2d(m, m, kernel, padding=kernel // 2)
        self.r = nn.Conv2d(m, m, kernel, padding=kernel // 2)
        self.c = nn.Conv2d(m, m, kernel, padding=kernel // 2)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        u = sigmoid_cutoff(self.u(s))
        r = sigmoid_cutoff(self.r(s))
        return u * s + (1 - u) * torch.tanh(self.c(r * s))


class PlainNeuralGPU(nn.Module):
    """The paper's Neural GPU as a plain loop over `n` steps of `l` CGRUs (no masking needed: every
    example in a benchmark batch has the full length)."""

    def __init__(self, w: int, m: int, l: int, kernel: int = 3, n_symbols: int = 13):
        super().__init__()
        self.w, self.m = w, m
        self.embedding = nn.Embedding(n_symbols, m)
        self.cells = nn.ModuleList(PlainCGRU(m, kernel) for _ in range(l))
        self.output = nn.Linear(m, n_symbols)

    @classmethod
    def from_library(cls, model: NeuralGPU) -> PlainNeuralGPU:
        """A plain copy of `model` (one relaxation set) with the very same weights."""
        c = model.config
        plain = cls(c.w, c.m, c.l, c.kernel, c.n_symbols)
        with torch.no_grad():
            plain.embedding.weight.copy_(model.embedding)
            for j, cell in enumerate(plain.cells):
                gw, gb = model.gate_weight[0, j], model.gate_bias[0, j]
                cell.u.weight.copy_(gw[: c.m]), cell.u.bias.copy_(gb[: c.m])
                cell.r.weight.copy_(gw[c.m:]), cell.r.bias.copy_(gb[c.m:])
                cell.c.weight.copy_(model.cand_weight[0, j]), cell.c.bias.copy_(model.cand_bias[0, j])
            plain.output.load_state_dict(model.output.state_dict())
        return plain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, n = x.shape
        e = torch.tanh(self.embedding(x)) * (x != 0).unsqueeze(-1)
        s = e.new_zeros(B, self.m, self.w, n)
        s[:, :, 0, :] = e.transpose(1, 2)
        for _ in range(n):
            for cell in self.cells:
                s = cell(s)
        return self.output(s[:, :, 0, :].transpose(1, 2))


# --- helpers -----------------------------------------------------------------------------------


def conv_flops(batch: int, n: int, m: int, w: int = 4, l: int = 2, kernel: int = 3) -> float:
    """Convolution FLOPs of one forward pass: `n` steps × `l` CGRUs × `3m` output channels (a
    one-row image, `w = 1`, has `1 × kernel` taps)."""
    taps = kernel * (1 if w == 1 else kernel)
    return 2.0 * batch * w * n * (3 * m * m * taps) * l * n


def matmul_rate(dtype: torch.dtype, size: int, reps: int) -> float:
    """Best GFLOP/s per thread of a `size`³ matrix multiply in `dtype` (the reachable peak)."""
    a = torch.randn(size, size).to(dtype)
    a @ a
    best = float("inf")
    for _ in range(reps):  # process CPU time, like the step timings it is compared with
        c = time.process_time()
        a @ a
        best = min(best, time.process_time() - c)
    return 2.0 * size**3 / best / 1e9 / torch.get_num_threads()


def time_interleaved(fns: dict, reps: int) -> dict:
    """Median wall and process-CPU seconds per call of each function, interleaved so that load
    changes on a shared machine hit every variant alike (one warm-up call each first)."""
    for f in fns.values():
        f()
    wall: dict = {k: [] for k in fns}
    cpu: dict = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            t, c = time.perf_counter(), time.process_time()
            f()
            cpu[k].append(time.process_time() - c)
            wall[k].append(time.perf_counter() - t)
    return {k: {"wall_s": statistics.median(wall[k]), "cpu_s": statistics.median(cpu[k])}
            for k in fns}


def _step_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor, precision: str, library: bool):
    def step() -> None:
        model.zero_grad(set_to_none=True)
        with autocast(x.device, precision):
            logits = model(x) if not library else model(x, None)
        F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1)).backward()
    return step


# --- part 1: training steps --------------------------------------------------------------------


def bench_steps(lengths: list[int], ms: list[int], batch: int, reps: int, mm_size: int) -> dict:
    """Training-step time of the reference loop and the library variants, and GFLOP/s."""
    rates = {"fp32": matmul_rate(torch.float32, mm_size, 3),
             "bf16": matmul_rate(torch.bfloat16, mm_size, 3)}
    rows = []
    for m in ms:
        for n in lengths:
            torch.manual_seed(0)
            x, y, _ = make_batch("badd", [(n - 1) // 2] * batch, random.Random(n * 1000 + m))
            lib = NeuralGPU(w=4, m=m, l=2)
            ref = PlainNeuralGPU.from_library(lib)
            fast = NeuralGPU(**PRESETS["fast"].model | {"m": m})
            preset = NeuralGPU(**PRESETS["fast"].model)  # the default preset's model as it trains
            with torch.no_grad():  # same weights, same answers: the speed-up changes nothing
                want = ref(x)
                torch.testing.assert_close(lib(x), want, atol=1e-4, rtol=1e-4)
                bf_err = float((lib_bf16_logits(lib, x) - want).abs().max())
            fns = {"reference": _step_fn(ref, x, y, "fp32", False),
                   "library": _step_fn(lib, x, y, "fp32", True),
                   "library_bf16": _step_fn(lib, x, y, "bf16", True),
                   "fast_model": _step_fn(fast, x, y, "fp32", True),
                   "fast_model_bf16": _step_fn(fast, x, y, "bf16", True),
                   "preset_model": _step_fn(preset, x, y, "fp32", True)}
            times = time_interleaved(fns, reps)
            flops = 3 * conv_flops(batch, n, m)  # backward ≈ 2 × forward
            row = {"length": n, "m": m, "batch": batch, "gflop_per_step": flops / 1e9,
                   "max_abs_logit_diff_bf16": bf_err, "times": times}
            fc = fast.config  # the fast preset's model may differ in w and l: its own FLOPs
            pc = preset.config
            work = {k: flops if not k.startswith("fast") else 3 * conv_flops(batch, n, m, fc.w, fc.l)
                    for k in times}
            work["preset_model"] = 3 * conv_flops(batch, n, pc.m, pc.w, pc.l)
            row["fast_model_config"] = fast.config_dict()
            for clock in ("wall_s", "cpu_s"):
                base = times["reference"][clock]
                row[f"speedup_{clock}"] = {k: base / v[clock] for k, v in times.items()}
                row[f"gflops_{clock}"] = {k: work[k] / v[clock] / 1e9 for k, v in times.items()}
            rows.append(row)
            print(f"steps n={n} m={m}: " + ", ".join(
                f"{k} {v['cpu_s']:.3f}s cpu ({row['speedup_cpu_s'][k]:.2f}x)" for k, v in times.items()),
                flush=True)
    return {"matmul_gflops": rates, "matmul_size": mm_size, "rows": rows,
            "note": "step = forward + backward + zero_grad on a full-length batch of additions; "
                    "GFLOP counts convolutions only (3 × forward)"}


@torch.no_grad()
def lib_bf16_logits(model: NeuralGPU, x: torch.Tensor) -> torch.Tensor:
    with autocast(x.device, "bf16"):
        return model(x).float()


def bench_buckets(max_digits: int, m: int, batch: int, reps: int, buckets: list[int]) -> dict:
    """Step time of a batch mixing every length up to `max_digits` (the `fast` recipe's batches),
    run as 1, 2, ... groups of similar length."""
    from ngpu_lite.training import get_preset
    from ngpu_lite.training.batches import forward_buckets
    from ngpu_lite.training.schedule import sample_digits

    torch.manual_seed(0)
    p = get_preset("fast", batch=batch, max_digits=max_digits)
    model = NeuralGPU(**p.model | {"m": m})
    x, y, lengths = make_batch("badd", sample_digits(p, max_digits, random.Random(0)),
                               random.Random(1))
    inside = torch.arange(x.shape[1])[None, :] < lengths[:, None]

    def fn(b: int):
        def step() -> None:
            model.zero_grad(set_to_none=True)
            logits = forward_buckets(model, x, lengths, 0.0, b)
            F.cross_entropy(logits[inside], y[inside]).backward()
        return step

    times = time_interleaved({str(b): fn(b) for b in buckets}, reps)
    base = times[str(buckets[0])]["cpu_s"]
    print("buckets: " + ", ".join(f"{k}: {v['cpu_s']:.3f}s cpu" for k, v in times.items()), flush=True)
    return {"max_digits": max_digits, "m": m, "batch": batch, "model": model.config_dict(),
            "times": times, "speedup_cpu_s": {k: base / v["cpu_s"] for k, v in times.items()}}


def bench_compile(n: int, m: int, batch: int, reps: int) -> dict:
    """`torch.compile` of the model's step (`cgru` through autograd, then the mask, which the
    compiler may fuse) against eager (the hand-written backward): the first (compiling) step and
    later steps."""
    import importlib

    from ngpu_lite.model.cgru import cgru

    model_mod = importlib.import_module("ngpu_lite.model")
    torch.manual_seed(0)
    x, y, _ = make_batch("badd", [(n - 1) // 2] * batch, random.Random(0))
    model = NeuralGPU(w=4, m=m, l=2)
    step = _step_fn(model, x, y, "fp32", True)
    eager = time_interleaved({"eager": step}, reps)["eager"]
    plain = model_mod.cgru_masked

    def composed(s, mask, *weights, **kw):
        return cgru(s, *weights, **kw) * mask

    out = {"length": n, "m": m, "batch": batch, "eager": eager}
    try:
        model_mod.cgru_masked = torch.compile(composed, dynamic=False)
        t, c = time.perf_counter(), time.process_time()
        step()
        out["first_step"] = {"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c}
        out["compiled"] = time_interleaved({"compiled": step}, reps)["compiled"]
        out["speedup_cpu_s"] = eager["cpu_s"] / out["compiled"]["cpu_s"]
    except Exception as e:  # no compiler, unsupported platform: the library runs eager anyway
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    finally:
        model_mod.cgru_masked = plain
    print(f"compile: {out}", flush=True)
    return out


# --- part 2: does bf16 train as well? ----------------------------------------------------------


def bench_precision(task: str, preset: str, steps: int, seed: int, eval_digits: list[int],
                    eval_samples: int, **overrides) -> dict:
    """Train the same recipe, seed and data in fp32 and in bf16; compare curves and accuracy."""
    out = {"task": task, "preset": preset, "steps": steps, "seed": seed, "runs": {}}
    for precision in ("fp32", "bf16"):
        c = time.process_time()
        res = train(task, preset, seed=seed, steps=steps, progress=False, precision=precision,
                    **overrides)
        cpu = time.process_time() - c
        evals = {d: evaluate(res.model, task, d, eval_samples, seed=10_000 + d)["exact"]
                 for d in eval_digits}
        out["runs"][precision] = {"wall_s": res.seconds, "cpu_s": cpu, "exact": evals,
                                  "history": [{k: h[k] for k in ("step", "loss", "seq_err")}
                                              for h in res.history]}
        print(f"precision {precision}: {steps} steps in {cpu:.0f}s cpu, exact {evals}", flush=True)
    return out


# --- part 3: inference -------------------------------------------------------------------------


def _rss_mb() -> float:
    """Resident memory of this process now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def infer_once(batch: int, digits: int, precision: str, threads: int = 0) -> dict:
    """Answer `batch` fresh `digits`-bit additions with an untrained `fast`-preset model: wall and
    CPU seconds, and the peak resident memory above the level before the forward (sampled)."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = NeuralGPU(**PRESETS["fast"].model).eval()
    x, _, lengths = make_batch("badd", [digits] * batch, random.Random(digits + batch))
    before = _rss_mb()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t, c = time.perf_counter(), time.process_time()
    with torch.no_grad(), autocast(x.device, precision):
        model(x, lengths).argmax(-1)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    done.set()
    sampler.join()
    return {"wall_s": wall, "cpu_s": cpu, "peak_extra_mb": max(0.0, peak[0] - before),
            "rss_before_mb": before,
            "tflop": conv_flops(batch, length_for(digits), model.config.m, model.config.w,
                               model.config.l) / 1e12}


def _infer_child(q, *args) -> None:
    q.put(infer_once(*args))


def bench_inference(digits: int, batches: list[int], precisions: list[str], threads: int,
                    cap_s: float | None) -> list[dict]:
    """One fresh process per (batch, precision), stopped at `cap_s` (`None`: in this process, no
    cap): wall time and peak memory, or 'over the cap'."""
    ctx = mp.get_context("spawn")
    rows = []
    for batch in batches:
        for precision in precisions:
            row = {"digits": digits, "length": length_for(digits), "batch": batch,
                   "precision": precision, "cap_s": cap_s}
            if cap_s is None:
                row |= {"finished": True} | infer_once(batch, digits, precision, threads)
            else:
                q = ctx.Queue()
                p = ctx.Process(target=_infer_child, args=(q, batch, digits, precision, threads))
                p.start()
                p.join(cap_s)
                if p.is_alive():
                    p.terminate()
                    p.join()
                    row["finished"] = False
                else:
                    row |= {"finished": True} | q.get()
            rows.append(row)
            print(f"inference {digits} bits batch {batch} {precision}: "
                  + (f"{row['wall_s']:.1f}s, peak +{row['peak_extra_mb']:.1f} MB"
                     if row["finished"] else f"over the {cap_s:.0f}s cap"), flush=True)
    return rows


# --- part 4: time to generalise ----------------------------------------------------------------


def time_to_generalise(task: str, preset: str, seed: int, cap_s: float, first: tuple[int, int],
                       final: tuple[int, int], check_every: int = 2, **overrides) -> dict:
    """Train from scratch until `first` = (digits, samples) and then `final` are 100% exact at one
    check (`train(until=[first, final])`, checked every `check_every` epochs at the longest
    training length), within `cap_s` wall seconds, checks included."""
    start = time.time()
    res = train(task, preset, seed=seed, minutes=cap_s / 60, until=[first, final], progress=False,
                check_every=check_every, **overrides)
    wall = time.time() - start
    row = {"task": task, "preset": preset, "seed": seed, "cap_s": cap_s, "first": first,
           "final": final, "check_every": check_every, "finished": res.stopped == "generalised"}
    checks = [{"after_steps": h["step"], "at_s": h["seconds"], "digits": h["until_digits"],
               "exact": h["until_exact"]} for h in res.history if "until_digits" in h]
    passed_first = [h for h in res.history if h.get("until_passed", 0) >= 1]
    if passed_first:
        row |= {"first_wall_s": passed_first[0]["seconds"], "first_steps": passed_first[0]["step"]}
    if res.history:  # how far training got: the last epoch's record
        row["last_epoch"] = res.history[-1]
    if row["finished"]:
        row |= {"wall_s": wall, "steps": res.steps}
    row |= {"checks": checks, "steps_run": res.steps, "elapsed_s": wall}
    print(f"generalise {task} {preset} seed {seed}: " + (
        f"{row['wall_s']:.0f}s, {row['steps']} steps" if row["finished"]
        else f"not within the {cap_s:.0f}s cap ({res.steps} steps)"), flush=True)
    return row


def summarise_generalise(rows: list[dict]) -> dict:
    """Median wall time and steps over all seeds, per (task, preset): a seed that did not finish
    counts as slower than every seed that did, so the median is a number whenever more than half
    finished, else None (`median_high`: of an even count, the slower middle seed)."""
    out: dict = {}
    for r in rows:
        out.setdefault(f"{r['task']}/{r['preset']}", []).append(r)

    def median(v: list[dict], key: str) -> float | None:
        m = statistics.median_high([r[key] if r["finished"] else math.inf for r in v])
        return None if math.isinf(m) else m

    return {k: {"seeds": len(v), "finished": sum(r["finished"] for r in v),
                "median_wall_s": median(v, "wall_s"), "median_steps": median(v, "steps")}
            for k, v in out.items()}


# --- figure ------------------------------------------------------------------------------------


def plot(result: dict, path: Path) -> None:
    """Step speed-ups, GFLOP/s against the matmul rate, and fp32 vs bf16 training curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    steps = result.get("steps")
    if steps:
        rows = steps["rows"]
        names = list(rows[0]["times"])
        labels = [f"n={r['length']}\nm={r['m']}" for r in rows]
        width = 0.8 / len(names)
        for i, k in enumerate(names):
            axes[0].bar([j + i * width for j in range(len(rows))],
                        [r["speedup_cpu_s"][k] for r in rows], width, label=k)
            axes[1].bar([j + i * width for j in range(len(rows))],
                        [r["gflops_cpu_s"][k] for r in rows], width, label=k)
        for ax in axes[:2]:
            ax.set_xticks([j + 0.4 - width / 2 for j in range(len(rows))], labels)
        axes[0].axhline(1.0, color="gray", lw=0.8)
        axes[0].set_ylabel("speed-up over the reference loop (CPU time)")
        axes[0].legend(fontsize=7)
        for key, style in (("fp32", "--"), ("bf16", ":")):
            axes[1].axhline(steps["matmul_gflops"][key], color="k", ls=style,
                            label=f"matmul {key}")
        axes[1].set_ylabel("convolution GFLOP/s")
        axes[1].legend(fontsize=7)
    else:
        axes[0].axis("off")
        axes[1].axis("off")
    prec = result.get("precision")
    if prec:
        for k, run in prec["runs"].items():
            h = run["history"]
            axes[2].plot([e["step"] for e in h], [e["seq_err"] for e in h], label=k)
        axes[2].set_xlabel("step")
        axes[2].set_ylabel("training sequence error")
        axes[2].set_title(f"{prec['task']}, preset {prec['preset']}, seed {prec['seed']}")
        axes[2].legend()
    else:
        axes[2].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- the table for README ---------------------------------------------------------------------


def table(result: dict) -> str:
    """The figures of one results file as a markdown table (what, value, how measured)."""
    threads = result["machine"]["threads"]
    rows = [("figure", "value", "how measured")]
    steps = result.get("steps")
    if steps:
        mm = steps["matmul_gflops"]
        rows.append(("matmul rate fp32 / bf16", f"{mm['fp32']:.0f} / {mm['bf16']:.0f} GFLOP/s",
                     f"best CPU time of 3, {steps['matmul_size']}³, {threads} thread(s), per thread"))
        for r in steps["rows"]:
            sp, gf = r["speedup_cpu_s"], r["gflops_cpu_s"]
            rows.append((f"training step n={r['length']} m={r['m']} B={r['batch']}",
                         f"reference {r['times']['reference']['cpu_s']:.3f} s; library "
                         f"{r['times']['library']['cpu_s']:.3f} s ({sp['library']:.2f}×), bf16 "
                         f"{r['times']['library_bf16']['cpu_s']:.3f} s ({sp['library_bf16']:.2f}×)",
                         "median CPU time of interleaved calls, same weights and batch"))
            if "preset_model" in r["times"]:
                rows.append((f"training step n={r['length']} B={r['batch']}, the default preset's "
                             "model (its own m)",
                             f"{r['times']['preset_model']['cpu_s']:.3f} s "
                             f"({sp['preset_model']:.2f}× the reference at m={r['m']})",
                             "median CPU time of interleaved calls, same batch"))
            rows.append((f"conv GFLOP/s n={r['length']} m={r['m']}",
                         f"reference {gf['reference']:.0f}, library {gf['library']:.0f} "
                         f"({gf['library'] / mm['fp32']:.0%} of fp32 matmul), bf16 "
                         f"{gf['library_bf16']:.0f} ({gf['library_bf16'] / mm['bf16']:.0%} of bf16 "
                         "matmul)", "convolution FLOPs (3 × forward) / CPU time"))
    bk = result.get("buckets")
    if bk:
        rows.append((f"mixed-length step (1..{bk['max_digits']} digits) m={bk['m']}, buckets",
                     ", ".join(f"{k}: {v['cpu_s']:.3f} s ({bk['speedup_cpu_s'][k]:.2f}×)"
                               for k, v in bk["times"].items()),
                     "median CPU time, fast-preset model, interleaved"))
    cp = result.get("compile")
    if cp:
        rows.append((f"torch.compile of the CGRU, n={cp['length']} m={cp['m']}",
                     cp["error"] if "error" in cp else
                     f"first step {cp['first_step']['wall_s']:.0f} s wall; later steps "
                     f"{cp['speedup_cpu_s']:.2f}× eager", "median CPU time, same batch"))
    prec = result.get("precision")
    if prec:
        for k, run in prec["runs"].items():
            last = f"{run['history'][-1]['seq_err']:.3f}" if run["history"] else "n/a"
            rows.append((f"{prec['preset']} on {prec['task']}, {prec['steps']} steps, {k}",
                         f"last epoch's training sequence error {last}; exact "
                         + ", ".join(f"{d} digits {v:.0%}" for d, v in run["exact"].items()),
                         f"seed {prec['seed']}, same data for both precisions"))
    for r in result.get("inference", []):
        what = f"inference {r['digits']}-bit addition, batch {r['batch']}, {r['precision']}"
        if r["finished"]:
            rows.append((what, f"{r['cpu_s']:.0f} s CPU, {r['wall_s']:.0f} s wall "
                         f"({r['tflop']:.1f} TFLOP), peak "
                         f"+{r['peak_extra_mb']:.0f} MB", "untrained fast-preset model, "
                         + ("in-process" if r["cap_s"] is None else "fresh process")))
        else:
            rows.append((what, f"not done within the {r['cap_s']:.0f} s cap", "fresh process"))
    gen = result.get("generalise")
    if gen:
        for r in gen["rows"]:
            what = (f"{r['task']} {r['preset']} seed {r['seed']}: to 100% on {r['first'][1]}×"
                    f"{r['first'][0]}-bit then {r['final'][1]}×{r['final'][0]}-bit")
            if r["finished"]:
                val = f"{r['wall_s']:.0f} s, {r['steps']} steps"
            elif "first_wall_s" in r:
                val = (f"{r['first'][0]}-bit reached at {r['first_wall_s']:.0f} s "
                       f"({r['first_steps']} steps); {r['final'][0]}-bit not within the "
                       f"{r['cap_s']:.0f} s cap")
            else:
                val = f"not within the {r['cap_s']:.0f} s cap ({r['steps_run']} steps)"
            rows.append((what, val, "wall time from scratch, checks included"))
        for key, s in gen.get("summary", {}).items():
            val = (f"{s['median_wall_s'] / 60:.1f} min, {s['finished']} of {s['seeds']} seeds "
                   "finished" if s.get("median_wall_s") is not None else
                   f"not reached: {s['finished']} of {s['seeds']} seeds finished")
            rows.append((f"{key.replace('/', ' ')}: median over seeds", val,
                         "a seed that did not finish counts as the slowest"))
    lines = ["| " + " | ".join(rows[0]) + " |", "|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    """Run the parts asked for and write `<out>/<name>.json` and `.png`; returns the results."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="toy sizes, seconds (CI); numbers mean nothing")
    ap.add_argument("--parts", default="steps,precision,inference,train",
                    help="comma-separated subset of steps,precision,inference,train,compile "
                         "(compile: torch.compile against eager; not run by default)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per step variant")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per time-to-generalise run")
    ap.add_argument("--first-seed", type=int, default=0, help="seeds run: first-seed, first-seed + 1, ...")
    ap.add_argument("--cap-minutes", type=float, default=15.0, help="cap per generalisation run")
    ap.add_argument("--infer-cap-minutes", type=float, default=15.0, help="cap per inference run")
    ap.add_argument("--ms", default="24,128", help="state sizes m for the step timings")
    ap.add_argument("--lengths", default="21,41", help="lengths for the step timings")
    ap.add_argument("--infer-batches", default="1,32", help="batch sizes for the 2000-bit inference")
    ap.add_argument("--final-samples", type=int, default=32, help="2000-bit cases in the last check")
    ap.add_argument("--precision-steps", type=int, default=600)
    ap.add_argument("--precision-task", default="copy:tiny",
                    help="task:preset trained in fp32 and bf16 (one that learns within the steps)")
    ap.add_argument("--tasks", default="badd:fast,badd:paper,bmul:fast",
                    help="task:preset pairs for the time-to-generalise part")
    ap.add_argument("--out", default="figures")
    ap.add_argument("--name", default="benchmark")
    ap.add_argument("--table", metavar="JSON", help="print the markdown table of a results file")
    ap.add_argument("--plot", metavar="JSON", help="redraw the figure of a results file")
    a = ap.parse_args(argv)
    if a.table:
        result = json.loads(Path(a.table).read_text())
        print(table(result))
        return result
    if a.plot:
        result = json.loads(Path(a.plot).read_text())
        plot(result, Path(a.plot).with_suffix(".png"))
        return result
    if a.threads:
        torch.set_num_threads(a.threads)
    parts = set(a.parts.split(","))
    result: dict = {
        "command": "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "smoke": a.smoke,
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                    "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
    }
    if a.smoke:
        step_args = dict(lengths=[5], ms=[8], batch=4, reps=1, mm_size=128)
        bucket_args = dict(max_digits=3, m=8, batch=4, reps=1, buckets=[1, 2])
        compile_args = dict(n=5, m=8, batch=2, reps=1)
        prec_args = dict(task="copy", preset="tiny", steps=4, seed=0, eval_digits=[6], eval_samples=4)
        infer_args = dict(digits=4, batches=[1, 2], precisions=["fp32", "bf16"], cap_s=None)
        gen_args = dict(cap_s=3.0, first=(6, 8), final=(12, 4))
        tasks = [("copy", "tiny")]
        seeds = 1
    else:
        step_args = dict(lengths=[int(v) for v in a.lengths.split(",")],
                         ms=[int(v) for v in a.ms.split(",")], batch=32, reps=a.reps, mm_size=2048)
        bucket_args = dict(max_digits=20, m=24, batch=32, reps=a.reps, buckets=[1, 2, 4])
        compile_args = dict(n=21, m=24, batch=32, reps=a.reps)
        ptask, ppreset = a.precision_task.split(":")
        prec_args = dict(task=ptask, preset=ppreset, steps=a.precision_steps, seed=0,
                         eval_digits=[6, 48] if ppreset == "tiny" else [20, 50], eval_samples=64)
        infer_args = dict(digits=2000, batches=[int(b) for b in a.infer_batches.split(",")],
                          precisions=["fp32", "bf16"],
                          cap_s=60 * a.infer_cap_minutes)
        gen_args = dict(cap_s=60 * a.cap_minutes, first=(200, 128), final=(2000, a.final_samples))
        tasks = [tuple(s.split(":")) for s in a.tasks.split(",") if s]
        seeds = a.seeds
    if "steps" in parts:
        result["steps"] = bench_steps(**step_args)
        result["buckets"] = bench_buckets(**bucket_args)
    if "compile" in parts:
        result["compile"] = bench_compile(**compile_args)
    if "precision" in parts:
        result["precision"] = bench_precision(**prec_args)
    if "inference" in parts:
        result["inference"] = bench_inference(threads=torch.get_num_threads(), **infer_args)
    if "train" in parts:
        rows = [time_to_generalise(task, preset, seed, **gen_args)
                for task, preset in tasks for seed in range(a.first_seed, a.first_seed + seeds)]
        result["generalise"] = {"rows": rows, "summary": summarise_generalise(rows)}
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{a.name}.json").write_text(json.dumps(result, indent=1))
    plot(result, out / f"{a.name}.png")
    print(f"wrote {a.name}.json and {a.name}.png", flush=True)
    return result


if __name__ == "__main__":
    main()
