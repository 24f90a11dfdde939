"""`make gpu-check`: the book on a CUDA GPU, checked (chapters, training step, inference).

On a machine with an NVIDIA GPU it

1. runs every chapter and answer notebook under nbval in fast mode (`NGPU_FAST=1`) with CUDA
   visible, so that `ngpu_lite.device()` and the training loop use the GPU;
2. times one training step (forward + backward, length 41, batch 32) of the paper's Neural GPU
   (2016: `w = 4`, `m = 24`, `l = 2`) for the library and the plain reference loop of
   `benchmarks/run.py`, in fp32 and bf16, with the same weights (their logits checked equal first);
3. times one 2000-bit addition (length 4001) by the shipped `badd` model, checked exact;

and writes `figures/gpu_check.json` with the card's name and every figure. Without a CUDA device
it stops at once with a one-line error (exit code 2) instead of silently measuring the CPU.

    python -m benchmarks.gpu_check [--skip-notebooks] [--reps 5] [--out figures]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


class NoCudaError(RuntimeError):
    """Raised when the check is asked to run on a machine without a usable CUDA device."""


def require_cuda() -> str:
    """The first CUDA card's name; NoCudaError when torch sees none (a CPU build, no driver)."""
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise NoCudaError(f"no CUDA device: torch {torch.__version__} ({build}) sees no GPU; "
                          "run make gpu-check on a machine with an NVIDIA GPU")
    return torch.cuda.get_device_name(0)


def notebooks() -> list[Path]:
    """The notebooks `make test` runs: every chapter and answer notebook."""
    return sorted(ROOT.glob("chapters/[0-9][0-9]_*.ipynb")) + \
        sorted(ROOT.glob("chapters/answers/[0-9][0-9]_answers.ipynb"))


def run_notebooks(paths: list[Path], timeout_s: int) -> list[dict]:
    """Each notebook under nbval (lax) in fast mode in its own pytest process: passed, seconds."""
    env = dict(os.environ, NGPU_FAST="1")
    rows = []
    for path in paths:
        start = time.time()
        try:
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p",
                                   "no:cacheprovider", str(path)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=timeout_s)
            passed, tail = proc.returncode == 0, proc.stdout.strip().splitlines()[-1:]
        except subprocess.TimeoutExpired:
            passed, tail = False, [f"timed out after {timeout_s} s"]
        rows.append({"notebook": str(path.relative_to(ROOT)), "passed": passed,
                     "seconds": round(time.time() - start, 1), "summary": " ".join(tail)})
        print(f"{'ok  ' if passed else 'FAIL'} {rows[-1]['notebook']} ({rows[-1]['seconds']} s)",
              flush=True)
    return rows


def time_cuda(fns: dict, reps: int) -> dict:
    """Median seconds per call of each function on the GPU (synchronised), interleaved."""
    for f in fns.values():
        f()
    torch.cuda.synchronize()
    times: dict = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            torch.cuda.synchronize()
            t = time.perf_counter()
            f()
            torch.cuda.synchronize()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def bench_step(length: int, batch: int, m: int, reps: int) -> dict:
    """The 2016 model's training step on the GPU: library against the plain reference loop."""
    from benchmarks.run import PlainNeuralGPU, _step_fn
    from ngpu_lite import NeuralGPU, make_batch

    torch.manual_seed(0)
    x, y, _ = make_batch("badd", [(length - 1) // 2] * batch, random.Random(length))
    x, y = x.cuda(), y.cuda()
    lib = NeuralGPU(w=4, m=m, l=2).cuda()
    ref = PlainNeuralGPU.from_library(lib).cuda()
    with torch.no_grad():
        torch.testing.assert_close(lib(x), ref(x), atol=1e-4, rtol=1e-4)
    fns = {"reference": _step_fn(ref, x, y, "fp32", False),
           "library": _step_fn(lib, x, y, "fp32", True),
           "reference_bf16": _step_fn(ref, x, y, "bf16", False),
           "library_bf16": _step_fn(lib, x, y, "bf16", True)}
    times = time_cuda(fns, reps)
    return {"length": length, "batch": batch, "m": m, "seconds": times,
            "speedup": {k: times["reference"] / v for k, v in times.items()}}


def bench_inference(digits: int, reps: int) -> dict:
    """One `digits`-bit addition by the shipped `badd` model on the GPU: seconds, exact."""
    from ngpu_lite import evaluate, pretrained

    model = pretrained("badd", device="cuda")
    evaluate(model, "badd", 20, 4, seed=1)  # warm-up
    seconds = []
    for rep in range(reps):
        torch.cuda.synchronize()
        t = time.perf_counter()
        res = evaluate(model, "badd", digits, 1, seed=100 + rep)
        torch.cuda.synchronize()
        seconds.append(time.perf_counter() - t)
    return {"digits": digits, "seconds": statistics.median(seconds), "exact": res["exact"],
            "peak_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-notebooks", action="store_true", help="only the benchmarks")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions per variant")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per notebook")
    ap.add_argument("--out", type=Path, default=ROOT / "figures")
    args = ap.parse_args(argv)
    try:
        card = require_cuda()
    except NoCudaError as e:
        print(f"make gpu-check: {e}", file=sys.stderr)
        return 2
    print(f"gpu-check on {card}", flush=True)
    result = {"card": card, "torch": torch.__version__, "cuda": torch.version.cuda,
              "started": time.strftime("%Y-%m-%d %H:%M")}
    result["notebooks"] = [] if args.skip_notebooks else run_notebooks(notebooks(), args.timeout)
    result["step"] = bench_step(41, 32, 24, args.reps)
    print("step:", {k: f"{v * 1000:.1f} ms" for k, v in result["step"]["seconds"].items()}, flush=True)
    result["inference"] = bench_inference(2000, args.reps)
    print("inference:", result["inference"], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu_check.json").write_text(json.dumps(result, indent=1) + "\n")
    failed = [r["notebook"] for r in result["notebooks"] if not r["passed"]]
    if failed:
        print("failed notebooks: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
