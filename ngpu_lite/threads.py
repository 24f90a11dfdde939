"""Threads that degrade gracefully when other jobs hold the cores.

A Neural GPU runs one small parallel region after another (thousands per long input), and at the
end of each, OpenMP's threads wait for each other. With OpenMP's default *active* wait a thread
spins for its partner; when another job has taken that partner's core, every step waits for the
scheduler: one 2000-bit addition took 6.5 s alone and 1,030 s beside another two-thread PyTorch
job on a 2-core machine. So, on import (`benchmarks/threads_under_load.py` measures the choice):

* OpenMP spins only briefly before a waiting thread sleeps (`GOMP_SPINCOUNT=20000` spins,
  against GNU OpenMP's default of 300,000), if torch was not loaded before us and the user
  chose neither a wait policy nor a spin count. A fully passive wait (`OMP_WAIT_POLICY=PASSIVE`)
  was measured too: 2.5x slower alone (0.85-0.92 s against 0.34 s for a 400-bit addition), since
  a sleeping thread wakes late at every step;
* torch gets one thread per core that no other job is using at that moment (at least one), if
  the user did not choose (`OMP_NUM_THREADS`).

`NGPU_THREADS=keep` leaves both alone; `NGPU_THREADS=N` asks for N threads. Any other value is
never a traceback at import: the command line refuses it in one line (`check_env`), Python warns
and keeps torch's threads. For the command line, Ctrl-C during its seconds of imports ends with
one line too (`quiet_start`).
"""

from __future__ import annotations

import os
import signal
import sys
import time
import warnings

ENV = "NGPU_THREADS"
SPINCOUNT = "20000"  # spins before a waiting OpenMP thread sleeps (benchmarks/README.md, run J)


def _mode() -> str:
    return os.environ.get(ENV, "auto").strip().lower() or "auto"


def running_as_command() -> bool:
    """Whether this process is `python -m ngpu_lite` (not a notebook, a test or a script)."""
    argv = list(getattr(sys, "orig_argv", []))
    return any(a == "-m" and b in ("ngpu_lite", "ngpu_lite.__main__")
               for a, b in zip(argv, argv[1:], strict=False)) or "-mngpu_lite" in argv


def _interrupted_while_starting(signum, frame) -> None:
    """Ctrl-C while the command loads torch: one line, no traceback, status 130."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C changes nothing
    try:
        print("interrupted while starting; nothing was done", file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass
    raise SystemExit(130)


def quiet_start() -> None:
    """For the command line only: Ctrl-C during start-up (seconds of imports) ends with one line
    instead of a KeyboardInterrupt traceback; the command puts Python's handler back
    (`normal_interrupts`) once it runs."""
    if running_as_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        try:
            signal.signal(signal.SIGINT, _interrupted_while_starting)
        except ValueError:  # not the main thread
            pass


def normal_interrupts() -> None:
    """Undo `quiet_start`: Ctrl-C raises KeyboardInterrupt again."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def before_torch() -> None:
    """Ask OpenMP for a short spin before sleeping; it only works before torch (and its OpenMP)
    is loaded, and never overrides a wait policy or spin count the user set."""
    quiet_start()
    if (_mode() != "keep" and "torch" not in sys.modules
            and "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ):
        os.environ["GOMP_SPINCOUNT"] = SPINCOUNT


def check_env() -> None:
    """Refuse an NGPU_THREADS that is neither 'auto', 'keep' nor a whole number of at least 1
    (a ValueError, one line)."""
    mode = _mode()
    if mode in ("auto", "keep"):
        return
    try:
        n = int(mode)
    except ValueError:
        raise ValueError(f"{ENV} must be 'auto', 'keep' or a whole number of threads, "
                         f"not {os.environ[ENV]!r}") from None
    if n < 1:
        raise ValueError(f"{ENV} must be at least 1, not {os.environ[ENV]!r}")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def busy_cores(samples: int = 5, gap: float = 0.004) -> int | None:
    """Cores other jobs are using now: runnable threads in `/proc/loadavg`, less this one.

    The fewest over a few samples, so that a kernel thread passing by does not count; None where
    the system does not say (not Linux)."""
    seen = []
    for k in range(samples):
        try:
            with open("/proc/loadavg") as f:
                running = int(f.read().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            return None
        seen.append(running - 1)
        if k + 1 < samples:
            time.sleep(gap)
    return max(0, min(seen))


def choose_threads() -> int | None:
    """The number of torch threads for this process under `NGPU_THREADS` (None: leave torch's)."""
    mode = _mode()
    if mode == "keep" or (mode == "auto" and os.environ.get("OMP_NUM_THREADS")):
        return None
    if mode != "auto":
        check_env()
        return int(mode)
    busy = busy_cores()
    return None if busy is None else max(1, cores() - busy)


def apply() -> int | None:
    """Set torch's threads by `choose_threads` (after torch is imported); returns what was set."""
    import torch

    try:
        n = choose_threads()
    except ValueError as e:  # never a traceback at import: the command line refuses it in one
        if not running_as_command():  # line (`check_env`); Python warns and keeps torch's
            warnings.warn(f"{e}; keeping torch's threads", stacklevel=3)
        return None
    if n is not None and n != torch.get_num_threads():
        torch.set_num_threads(n)
    return n
