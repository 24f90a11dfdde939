"""`make checkpoints` re-makes what is shipped: every phase capped by steps, so a rebuild on this
CPU trains the same steps and lands on the same weights.

Re-making `copy` takes about a minute on one thread (850 steps and its checks at 200 bits).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from ngpu_lite.model import checkpoints
from ngpu_lite.results import zoo

ROOT = Path(__file__).resolve().parents[1]


def test_make_checkpoints_remakes_the_shipped_copy_model_into_another_folder(tmp_path):
    """`python -m ngpu_lite.results.zoo build --tasks copy --out DIR` (what `make checkpoints
    TASKS=copy OUT=DIR` runs) writes DIR/copy.pt whose weights equal the shipped copy.pt, records
    the phase by steps, and leaves the shipped file untouched. Catches a recipe capped in minutes
    (a busy machine trains fewer steps), a recipe drifted from what was shipped, or a rebuild that
    overwrites the shipped model."""
    shipped = checkpoints.SHIPPED_DIR / "copy.pt"
    before = checkpoints.sha256(shipped)
    run = subprocess.run([sys.executable, "-m", "ngpu_lite.results.zoo", "build", "--tasks", "copy",
                          "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "NGPU_THREADS": "1"},
                         timeout=1200)
    assert run.returncode == 0, run.stderr[-2000:]
    assert checkpoints.sha256(shipped) == before
    remade, info = checkpoints.load(tmp_path / "copy.pt", "copy")
    ship, _ = checkpoints.load(shipped, "copy")
    a, b = remade.state_dict(), ship.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-5, msg=k)
    assert info["steps"] == zoo.RECIPES["copy"].steps
    assert [(p["from_step"], p["to_step"], p["steps"]) for p in info["phases"]] == [
        (0, zoo.RECIPES["copy"].steps, zoo.RECIPES["copy"].steps)]
    manifest = json.loads((tmp_path / "copy.json").read_text())
    assert manifest["zoo_recipe"]["steps"] == zoo.RECIPES["copy"].steps
    assert (tmp_path / "runs" / "copy-s0" / "checkpoint.pt").exists()


def test_the_results_modules_run_as_commands():
    """`python -m ngpu_lite.results.zoo` and `python -m ngpu_lite.results.families_table` are the
    commands behind `make checkpoints`, `make results` and `make families`. Catches a module that
    lost its `__main__` block and so exits 0 having done nothing."""
    for module, word in (("ngpu_lite.results.zoo", "build"),
                         ("ngpu_lite.results.families_table", "families")):
        run = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                             text=True, cwd=ROOT, timeout=120)
        assert run.returncode == 0 and word in run.stdout, (module, run.stdout, run.stderr)
