"""Grade a source notebook in this Python process, without nbgrader: fast, for the tests.

    python -m assignments.inprocess a1_improved_cgru [--seed S]

Runs the code cells of `source/<a>/<name>.ipynb` (solutions and hidden tests included) in one
namespace, in order, as nbgrader's autograder does (a failing cell does not stop the run), and
records which graded test cells pass. A cell's code can be replaced (a wrong solution) and cells
can be skipped (a long training cell in a fast test). The tests draw their random inputs from
`NGPU_GRADE_SEED`, which this sets, so one solution can be graded on several seeds in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"


def cells(a: str) -> list[dict]:
    """The cells of assignment `a`'s source notebook."""
    nb = json.loads(next((SOURCE / a).glob("*.ipynb")).read_text())
    return nb["cells"]


def grade_ids(a: str) -> dict[str, float]:
    """Autograded test cells of `a` and their points (manually graded cells left out)."""
    out = {}
    for c in cells(a):
        meta = c["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and c["cell_type"] == "code":
            out[meta["grade_id"]] = float(meta.get("points", 0))
    return out


def run(a: str, seed: int = 0, replace: dict[str, str] | None = None, skip: tuple[str, ...] = (),
        stop_after: str | None = None, quiet: bool = True, env: dict | None = None) -> dict[str, dict]:
    """Run `a`'s code cells; returns `{grade_id: {"passed", "points", "error"}}` for the graded
    test cells that ran. `replace` maps a cell's grade_id to new code; cells in `skip` do not
    run; the run ends after the cell `stop_after`."""
    replace, results = replace or {}, {}
    saved = dict(os.environ)
    os.environ.update({"NGPU_GRADE_SEED": str(seed), **(env or {})})
    namespace: dict = {"__name__": "__main__"}
    out = io.StringIO()
    try:
        for c in cells(a):
            if c["cell_type"] != "code":
                continue
            meta = c["metadata"].get("nbgrader", {})
            gid = meta.get("grade_id")
            if gid in skip:
                continue
            code = replace.get(gid, "".join(c["source"]))
            error = None
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    exec(compile(code, f"<{a}:{gid}>", "exec"), namespace)
            except Exception:  # noqa: BLE001 (a failing cell is a result, as in nbgrader)
                error = traceback.format_exc(limit=3)
            if meta.get("grade") and not meta.get("solution"):
                results[gid] = {"passed": error is None, "points": float(meta.get("points", 0)),
                                "error": error}
            if gid == stop_after:
                break
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if not quiet:
        print(out.getvalue())
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line: grade one assignment's reference solution in process and print the cells."""
    ap = argparse.ArgumentParser(prog="python -m assignments.inprocess", description=__doc__.split("\n")[0])
    ap.add_argument("assignment")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="print what the cells print")
    args = ap.parse_args(argv)
    start = time.time()
    res = run(args.assignment, args.seed, quiet=not args.verbose)
    for gid, r in res.items():
        print(f"{gid:<32} {'pass' if r['passed'] else 'FAIL'} ({r['points']:g} points)")
        if r["error"]:
            print(r["error"])
    print(f"{time.time() - start:.1f} s")
    return 0 if all(r["passed"] for r in res.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
