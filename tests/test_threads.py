"""The thread policy that keeps a busy machine from crawling (`ngpu_lite/threads.py`).

Each import is checked in a fresh process: OpenMP reads its settings once, when torch loads.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ngpu_lite import threads

ROOT = Path(__file__).resolve().parents[1]
PROBE = ("import os, ngpu_lite, torch; "
         "print(os.environ.get('OMP_WAIT_POLICY'), torch.get_num_threads(), ngpu_lite.THREADS, "
         "os.environ.get('GOMP_SPINCOUNT'))")


def _fresh(**env) -> list[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "NGPU_THREADS",
                         "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", PROBE], env=base | env | {"PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.split()


def test_import_asks_openmp_for_a_short_spin():
    """Catches the long spin-wait that made one addition take 1,030 s beside a busy job, and the
    fully passive wait that made it 2.5x slower alone (run J)."""
    policy, _, _, spin = _fresh()
    assert (policy, spin) == ("None", threads.SPINCOUNT)


def test_a_users_wait_policy_and_thread_count_are_kept():
    """Catches the library overriding what the user chose in the environment."""
    policy, n, chosen, spin = _fresh(OMP_WAIT_POLICY="ACTIVE", OMP_NUM_THREADS="1")
    assert (policy, n, chosen, spin) == ("ACTIVE", "1", "None", "None")
    assert _fresh(GOMP_SPINCOUNT="7")[3] == "7"


def test_keep_leaves_openmp_and_torch_alone():
    """Catches `NGPU_THREADS=keep` still changing the wait policy or the threads."""
    policy, _, chosen, spin = _fresh(NGPU_THREADS="keep")
    assert (policy, chosen, spin) == ("None", "None", "None")


def test_a_number_asks_for_that_many_threads():
    """NGPU_THREADS=3 gives torch 3 threads and reports 3. Catches the number ignored for the auto choice."""
    assert _fresh(NGPU_THREADS="3")[1:3] == ["3", "3"]


@pytest.mark.parametrize("bad", ["zero", "0", "-2", "1.5"])
def test_a_bad_thread_setting_is_one_clear_error(monkeypatch, bad):
    """A zero, negative, fractional or non-numeric NGPU_THREADS raises ValueError naming the variable. Catches
    int() errors escaping, or 0 threads passed to torch."""
    monkeypatch.setenv("NGPU_THREADS", bad)
    with pytest.raises(ValueError, match="NGPU_THREADS"):
        threads.choose_threads()


def test_busy_cores_are_left_to_the_job_holding_them(monkeypatch):
    """Catches a choice that ignores a job already spinning on a core: beside one busy process,
    a 2-core machine gets one thread."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("NGPU_THREADS", "auto")
    monkeypatch.setattr(threads, "cores", lambda: 2)
    if threads.busy_cores() is None:
        pytest.skip("no /proc/loadavg here")
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.time() + 5
        while threads.busy_cores() < 1 and time.time() < deadline:
            time.sleep(0.05)
        assert threads.busy_cores() >= 1
        assert threads.choose_threads() == 1
    finally:
        spin.kill()
        spin.wait()


def test_an_idle_count_gives_every_core(monkeypatch):
    """With no busy cores auto takes every core; with more busy than there are, still 1. Catches a core held
    back needlessly, or a thread count of 0 or below."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("NGPU_THREADS", "auto")
    monkeypatch.setattr(threads, "cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda: 0)
    assert threads.choose_threads() == 4
    monkeypatch.setattr(threads, "busy_cores", lambda: 7)
    assert threads.choose_threads() == 1
