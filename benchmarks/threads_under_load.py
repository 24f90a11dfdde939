"""How one long addition fares when other jobs hold the cores, under several thread policies.

The measured job predicts one `--bits`-bit addition with the shipped `badd` model, in a fresh
process (OpenMP reads its settings when torch loads), under each policy:

* `default`: torch's own choice (one thread per core), OpenMP's default active wait;
* `passive`: the same threads, `OMP_WAIT_POLICY=PASSIVE` (a waiting thread sleeps at once);
* `one`: a single thread;
* `library`: whatever `import ngpu_lite` chooses when torch was imported first, as the chapters
  do (the thread count only; see `ngpu_lite/threads.py`);
* `library-first`: the same with `ngpu_lite` imported first, as the CLI does (the thread count and
  the short spin before a waiting thread sleeps).

Each runs alone, beside a one-thread PyTorch job and beside a two-thread one (the load: the same
model evaluating 200-bit sums in a loop, with torch's defaults, as a reader's second notebook
would). Policies alternate within each load, `--reps` times; the median wall time is kept.

    python -m benchmarks.threads_under_load [--bits 400] [--reps 3] [--cap 300]

Writes `figures/threads_under_load.json`. The CPU must be otherwise idle for the numbers to mean
what they say.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ("default", "passive", "one", "library", "library-first")
LOADS = (0, 1, 2)

MEASURED = """
import time, random, sys
t0 = time.time()
{first}
import torch
from ngpu_lite import pretrained, make_batch
model = pretrained("badd", device="cpu")
x, _, _ = make_batch("badd", [{bits}], random.Random(0))
start = time.time()
with torch.no_grad():
    model(x)
print(time.time() - start, torch.get_num_threads())
"""

LOAD = """
import random, torch
{preamble}
from ngpu_lite import pretrained, make_batch
model = pretrained("badd", device="cpu")
x, _, _ = make_batch("badd", [200], random.Random(1))
print("ready", flush=True)
with torch.no_grad():
    while True:
        model(x)
"""


def _env(policy: str, threads: int | None = None) -> dict:
    """The environment of a fresh process under `policy` (no thread settings inherited)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "NGPU_THREADS",
                        "GOMP_SPINCOUNT")}
    env["PYTHONPATH"] = str(ROOT)
    if not policy.startswith("library"):
        env["NGPU_THREADS"] = "keep"  # the library leaves torch's own choice alone
    if policy == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    if policy == "one":
        env["OMP_NUM_THREADS"] = "1"
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def start_load(threads: int) -> subprocess.Popen | None:
    """A background PyTorch job with `threads` threads and OpenMP's default wait (None: no load)."""
    if threads == 0:
        return None
    code = LOAD.format(preamble=f"torch.set_num_threads({threads})")
    proc = subprocess.Popen([sys.executable, "-c", code], env=_env("default", threads),
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def measure(policy: str, bits: int, cap: float) -> dict:
    """Wall time of one `bits`-bit addition in a fresh process under `policy` (None past `cap`)."""
    code = MEASURED.format(bits=bits, first="import ngpu_lite" if policy == "library-first" else "")
    try:
        out = subprocess.run([sys.executable, "-c", code],
                             env=_env(policy), capture_output=True, text=True, timeout=cap,
                             check=True).stdout.split()
        return {"seconds": round(float(out[0]), 3), "threads": int(out[1])}
    except subprocess.TimeoutExpired:
        return {"seconds": None, "threads": None}


def main(argv: list[str] | None = None) -> dict:
    """Measure every policy under every load and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bits", type=int, default=400)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cap", type=float, default=300.0, help="seconds before a case is given up")
    ap.add_argument("--loads", default="0,1,2")
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--out", default=str(ROOT / "figures" / "threads_under_load.json"))
    a = ap.parse_args(argv)
    policies = a.policies.split(",")
    rows = []
    for load in (int(v) for v in a.loads.split(",")):
        proc = start_load(load)
        try:
            times: dict[str, list] = {p: [] for p in policies}
            threads: dict[str, int | None] = {}
            for _ in range(a.reps):
                for p in policies:
                    r = measure(p, a.bits, a.cap)
                    times[p].append(r["seconds"])
                    threads[p] = r["threads"] or threads.get(p)
            for p in policies:
                done = [t for t in times[p] if t is not None]
                rows.append({"load_threads": load, "policy": p, "threads": threads[p],
                             "seconds": times[p],
                             "median": statistics.median(done) if len(done) == len(times[p])
                             else None})
                print(f"load {load}: {p:8s} threads {threads[p]}  median "
                      f"{rows[-1]['median']}  {times[p]}", flush=True)
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
    result = {"command": "python -m benchmarks.threads_under_load " + " ".join(argv or sys.argv[1:]),
              "bits": a.bits, "reps": a.reps, "cap_seconds": a.cap, "cpus": os.cpu_count(),
              "started": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}
    Path(a.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
