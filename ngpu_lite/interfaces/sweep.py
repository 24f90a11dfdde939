"""Many runs: seed and grid sweeps on Ray Tune, and the selection among them.

The paper's numbers come from a 729-run grid: the best run was kept, and where no single run
generalised, the weights of several were averaged. `sweep(...)` runs every (grid point, seed) as one
ordinary `train` run in its own folder `OUT/trials/NAME` (one torch thread per trial; running the
sweep again resumes each trial, and a finished one returns at once), scores it on fresh cases from
the evaluation stream, and writes `OUT/results.md`, `OUT/results.json` and `OUT/spread.png`.
Locally it starts Ray with one worker per core; `address=` joins an existing Ray cluster.

`best_run` is the paper's selection (the best run by a stated criterion); `average_top`, the
weight average of the top `k` runs of one architecture, is this project's (the 2016 code averages
no weights; its `--ensemble` sums output probabilities), kept only if it scores at least as
well as the best single run. Ray is an optional extra: `pip install -e '.[sweep]'`.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import re
import socket
import sys
import tempfile
import time
from pathlib import Path

from ..data.tasks import get_task
from ..model import checkpoints
from ..model.evaluate import check_work, evaluate, human_time
from ..model.neural_gpu import NeuralGPU, model_name
from ..threads import cores
from ..training import get_preset, train

SPEC = "sweep.json"
LOCK = ".sweep.lock"
TRIALS = "trials"
EVAL_SEED = 2024  # every trial is scored on the same fresh cases of this evaluation stream
# the best run: highest exact rate at the test length, then per-symbol rate, then fewest steps
CRITERION = ("exact", "per_symbol", "-steps")
INSTALL = "pip install -e '.[sweep]'"
_OWN = {SPEC, LOCK, TRIALS, "results.md", "results.json", "spread.png", "ray_tune", f".{SPEC}.tmp",
        ".results.md.tmp", ".results.json.tmp"}


class SweepError(ValueError):
    """A sweep that cannot start: a bad grid, an unreachable cluster, a folder holding another."""


# --- the spec: seeds, grid, folders -----------------------------------------------------------

MAX_TRIALS = 1_000  # trials per sweep (the paper's grid had 729), unless max_trials says more


def seed_ranges(text: str) -> list[tuple[int, int]]:
    """The seeds of `0-7`, `0,2,5` or `0-3,8` as merged, sorted (low, high) ranges, each within
    0..2**32 - 1: counted without listing them (`0-4294967295` is four billion seeds)."""
    ranges = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise SweepError(f"--seeds {text!r}: give seeds as 0-7, 0,2,5 or 0-3,8")
        lo, hi = int(m[1]), int(m[2] or m[1])
        if hi < lo or hi >= 2**32:
            raise SweepError(f"--seeds {text!r}: {part.strip()} is not a range from low to high "
                             "within 0..2**32-1")
        ranges.append((lo, hi))
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def parse_seeds(text: str, limit: int | None = None) -> list[int]:
    """Seeds from `0-7`, `0,2,5` or `0-3,8`: sorted, each once, each from 0 to 2**32 - 1; more
    than `limit` of them are refused before any list is made."""
    ranges = seed_ranges(text)
    count = sum(hi - lo + 1 for lo, hi in ranges)
    if limit is not None and count > limit:
        raise SweepError(f"--seeds {text!r} names {count:,} seeds, past the limit of {limit:,}")
    return [s for lo, hi in ranges for s in range(lo, hi + 1)]


def check_trials(seeds: int, grid_points: int, max_trials: int | None, minutes: float | None,
                 workers: int | None, cluster: bool) -> None:
    """Refuse more than `max_trials` trials (default MAX_TRIALS) with one line and an estimate
    of the time they would take, before any of them is listed or checked."""
    top = MAX_TRIALS if max_trials is None else max_trials
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise SweepError(f"max_trials must be a whole number of at least 1, not {max_trials!r}")
    trials = seeds * grid_points
    if trials <= top:
        return
    if minutes is not None and not cluster:
        on = workers or cores()
        cost = (f" (at up to {minutes:g} min a trial on {on} worker{'s' if on != 1 else ''}: "
                f"about {human_time(60 * minutes * trials / on)})")
    elif minutes is not None:
        cost = (f" (at up to {minutes:g} min a trial: about {human_time(60 * minutes * trials)} "
                "of worker time)")
    else:
        cost = ""
    raise SweepError(f"{seeds:,} seed{'s' if seeds != 1 else ''} x {grid_points:,} grid "
                     f"point{'s' if grid_points != 1 else ''} make {trials:,} trials, past the "
                     f"limit of {top:,} trials per sweep{cost}; give --max-trials {trials} "
                     "(max_trials= in Python) to run them anyway")


def _parse_value(key: str, text: str, like) -> bool | int | float | str:
    """`text` as the type of `like` (a preset field's default); one clear error otherwise."""
    text = text.strip()
    if isinstance(like, bool):
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise SweepError(f"--grid {key}: {text!r} is not true or false")
    try:
        if isinstance(like, int):
            return int(text)
        if isinstance(like, float):
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        kind = "a whole number" if isinstance(like, int) else "a finite number"
        raise SweepError(f"--grid {key}: {text!r} is not {kind}") from None
    if not text:
        raise SweepError(f"--grid {key}: an empty value")
    return text


def _guess_value(key: str, text: str) -> bool | int | float | str:
    """A model option's value: a whole number, a number, true/false, else text."""
    for like in (0, 0.0, False):
        try:
            return _parse_value(key, text, like)
        except SweepError:
            pass
    return _parse_value(key, text, "")


def parse_grid(items: list[str], preset: str) -> dict[str, list]:
    """`key=v1,v2` items as {key: [values]}, each value parsed to the preset field's type.

    `model.KEY=...` varies one NeuralGPU keyword (say `model.m=24,48`). Unknown keys, fields
    that are not numbers, switches or names, and unparsable values raise SweepError."""
    base = dataclasses.asdict(get_preset(preset))
    grid: dict[str, list] = {}
    for item in items:
        key, eq, values = item.partition("=")
        key = key.strip()
        if not eq or not key or not values.strip():
            raise SweepError(f"--grid {item!r}: write it as key=v1,v2 (say lr=0.001,0.003)")
        if key in grid:
            raise SweepError(f"--grid {key} is given twice; list all its values once")
        if key.startswith("model."):
            parsed = [_guess_value(key, v) for v in values.split(",")]
        elif key not in base or key == "name":
            fields = ", ".join(k for k, v in base.items()
                               if isinstance(v, bool | int | float | str) and k != "name")
            raise SweepError(f"--grid {key}: unknown preset field; choose from {fields}, "
                             "or model.KEY")
        elif not isinstance(base[key], bool | int | float | str):
            raise SweepError(f"--grid {key}: a {type(base[key]).__name__} field cannot be swept; "
                             "sweep numbers, switches or names (or model.KEY)")
        else:
            parsed = [_parse_value(key, v, base[key]) for v in values.split(",")]
        grid[key] = list(dict.fromkeys(parsed))
    return grid


def points(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values, in order (one empty point for no grid)."""
    return [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]


def overrides(preset: str, point: dict) -> dict:
    """`train` keyword overrides for a grid point: `model.KEY` merged into the preset's model."""
    out = {k: v for k, v in point.items() if not k.startswith("model.")}
    model = {k.removeprefix("model."): v for k, v in point.items() if k.startswith("model.")}
    if model:
        out["model"] = {**get_preset(preset).model, **model}
    return out


def check_point(task: str, preset: str, point: dict) -> None:
    """Refuse a grid point that `train` would refuse: a bad choice or an unknown model option."""

    kw = overrides(preset, point)
    try:
        p = get_preset(preset, **kw)
        NeuralGPU(**p.model)
    except TypeError as e:
        raise SweepError(f"--grid {_point_label(point)}: not a NeuralGPU option ({e})") from None
    except ValueError as e:
        raise SweepError(f"--grid {_point_label(point)}: {e}") from None


def trial_name(point: dict, seed: int) -> str:
    """A trial's folder name: its grid values and seed, say `lr=0.003,seed=1`."""
    return ",".join([f"{k}={v}" for k, v in point.items()] + [f"seed={seed}"])


def make_spec(task: str, preset: str, seeds: list[int], grid: dict[str, list],
              minutes: float | None, steps: int | None, digits: int | None, samples: int) -> dict:
    """Everything that makes a sweep's trials what they are, as recorded in `OUT/sweep.json`."""
    t = get_task(task)
    p = get_preset(preset)
    for point in points(grid):
        check_point(t.name, p.name, point)
    if minutes is None and steps is None:
        raise SweepError("give a per-trial cap: --minutes M and/or --steps N")
    try:  # each trial's scoring is an evaluation, bounded as every evaluation is
        check_work({"m": 48, "w": 1, "l": 1}, digits or 10 * p.max_digits, samples)
    except ValueError as e:
        raise SweepError(f"scoring each trial: {e}") from None
    until = 4 * p.max_digits  # as `train` on the command line: stop once 64 such cases are exact
    return {"task": t.name, "preset": p.name, "seeds": list(seeds), "grid": grid,
            "minutes": minutes, "steps": steps, "until": [until, 64],
            "check_every": max(1, until // 40), "digits": digits or 10 * p.max_digits,
            "samples": samples, "eval_seed": EVAL_SEED}


def _describe(spec: dict) -> str:
    grid = "; ".join(f"{k}={','.join(map(str, v))}" for k, v in spec["grid"].items())
    return (f"task {spec['task']}, preset {spec['preset']}, seeds {spec['seeds']}"
            + (f", grid {grid}" if grid else "")
            + "".join(f", at most {spec[k]} {k} a trial" for k in ("minutes", "steps") if spec[k])
            + f", scored at {spec['digits']} digits on {spec['samples']} cases")


def check_folder(out: Path, spec: dict) -> bool:
    """Whether `out` already holds this sweep (False: it is new or empty); refuse a file, a folder
    holding another sweep or other files, and a symbolic link where the sweep writes. Writes
    nothing."""
    if out.exists() and not out.is_dir():
        raise SweepError(f"--out {out} is a file; choose a new or empty folder")
    for name in _OWN:
        if (out / name).is_symlink():
            raise SweepError(f"{out / name} is a symbolic link; a sweep never writes through one: "
                             "remove it, then rerun")
    path = out / SPEC
    if path.exists():
        try:
            theirs = json.loads(checkpoints.read_regular(path, 1 << 20, "sweep record"))
        except ValueError:
            theirs = None
        if not isinstance(theirs, dict):
            raise SweepError(f"{path} is not a sweep's record; choose another --out folder")
        if theirs != spec:
            raise SweepError(f"{out} holds another sweep ({_describe(theirs)}); choose another "
                             "--out folder, or repeat that sweep's options to resume it")
        return True
    if out.exists() and any(p.name not in _OWN for p in out.iterdir()):
        raise SweepError(f"{out} is not empty and holds no sweep; choose an empty or new --out")
    return False


def claim_folder(out: Path, spec: dict) -> None:
    """Record `spec` in `OUT/sweep.json`, or check that the folder holds this same sweep."""
    if check_folder(out, spec):
        return
    path = out / SPEC
    out.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SPEC}.tmp")
    tmp.write_text(json.dumps(spec, indent=1) + "\n")
    os.replace(tmp, path)


class _FolderLock:
    """An exclusive lock on the sweep folder, so that two sweeps never run the same trials."""

    def __init__(self, out: Path):
        self.path = out / LOCK
        self.fd: int | None = None

    def __enter__(self) -> _FolderLock:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): run unlocked
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise SweepError(f"{self.path.parent} is in use by another sweep; wait for it to "
                             "finish or choose another --out") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)


# --- one trial: an ordinary train run, scored ----------------------------------------------------

def run_trial(config: dict) -> dict:
    """Train one (grid point, seed) into its folder (resuming) and score it on fresh cases."""
    import torch

    torch.set_num_threads(1)  # one trial per core: more threads would fight over the cores
    spec, point, seed = config["spec"], config["point"], config["seed"]
    res = train(spec["task"], spec["preset"], out=config["folder"], seed=seed,
                minutes=spec["minutes"], steps=spec["steps"], until=tuple(spec["until"]),
                check_every=spec["check_every"], progress=False, **overrides(spec["preset"], point))
    test = evaluate(res.model, spec["task"], spec["digits"], spec["samples"], seed=spec["eval_seed"])
    train_digits = get_preset(spec["preset"], **overrides(spec["preset"], point)).max_digits
    fit = evaluate(res.model, spec["task"], train_digits, spec["samples"], seed=spec["eval_seed"])
    return {"trial": config["name"], "seed": seed, "point": point, "steps": res.steps,
            "minutes": round(res.seconds / 60, 2), "stopped": res.stopped,
            "digits": spec["digits"], "samples": test["samples"], "exact": test["exact"],
            "per_symbol": test["per_symbol"], "train_digits": train_digits,
            "exact_train": fit["exact"],
            "architecture": checkpoints.json_key(res.model.config_dict()),
            "folder": f"{TRIALS}/{config['name']}"}


def _tune_trial(config: dict) -> None:
    """Ray Tune's entry point for one trial: run it and report its record."""
    from ray import tune

    tune.report(run_trial(config["trial"]))


# --- Ray ----------------------------------------------------------------------------------------

def _import_ray():
    """Ray and Ray Tune, or one line saying how to install them."""
    try:
        import ray
        from ray import tune
    except ImportError:
        raise SweepError(f"the sweep runs on Ray, which is not installed here; {INSTALL}") from None
    return ray, tune


# A Ray cluster's address is its GCS, a gRPC server: HTTP/2 with a request per call. The probe
# asks it for its cluster ID (what `ray.init` asks first) and reads only the answer's HTTP status:
# a gRPC server answers 200 (with the call's own status after it); anything else is not Ray.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_GCS_CALL = b"/ray.rpc.NodeInfoGcsService/GetClusterId"
_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}  # HPACK's static table
_HUFFMAN_DIGITS = {"00000": "0", "00001": "1", "00010": "2", "011001": "3", "011010": "4",
                   "011011": "5", "011100": "6", "011101": "7", "011110": "8", "011111": "9"}


def _frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def _hpack_literal(name_index: int, value: bytes) -> bytes:
    """A header 'without indexing' whose name is in HPACK's static table (index < 15)."""
    return bytes([name_index, len(value)]) + value


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the connection was closed")
        data += chunk
    return data


def _http_status(block: bytes) -> int | None:
    """The `:status` of a response's header block when it comes first, as servers send it."""
    if not block:
        return None
    first = block[0]
    if first & 0x80:  # an indexed field
        return _STATUS.get(first & 0x7F)
    index = first & (0x3F if first & 0x40 else 0x0F)  # a literal field with an indexed name
    if index not in _STATUS or len(block) < 2:
        return None
    size, huffman = block[1] & 0x7F, bool(block[1] & 0x80)
    raw = block[2:2 + size]
    if not huffman:
        text = raw.decode("ascii", "replace")
    else:
        bits, text, code = "".join(f"{b:08b}" for b in raw), "", ""
        for bit in bits:
            code += bit
            if code in _HUFFMAN_DIGITS:
                text, code = text + _HUFFMAN_DIGITS[code], ""
    return int(text) if text[:3].isdigit() else None


def _probe_gcs(sock: socket.socket, authority: str) -> str | None:
    """None when the server at `sock` answers a gRPC call as a gRPC server does, else what it
    did instead (in words)."""
    headers = (b"\x83\x86" + _hpack_literal(4, _GCS_CALL) + _hpack_literal(1, authority.encode())
               + b"\x0f\x10" + bytes([16]) + b"application/grpc"  # content-type (index 31)
               + b"\x00\x02te\x08trailers")
    sock.sendall(_H2_PREFACE + _frame(4, 0, 0) + _frame(1, 0x4, 1, headers)
                 + _frame(0, 0x1, 1, b"\x00\x00\x00\x00\x00"))  # an empty request, END_STREAM
    for frames in range(32):
        head = _recv_exactly(sock, 9)
        size, kind, flags = int.from_bytes(head[:3], "big"), head[3], head[4]
        stream = int.from_bytes(head[5:], "big") & 0x7FFFFFFF
        if frames == 0 and kind != 4:
            return "it does not speak HTTP/2"
        if size > 1 << 16:
            return "it sent an HTTP/2 frame too large for a gRPC server's answer"
        payload = _recv_exactly(sock, size)
        if kind == 4 and not flags & 0x1:
            sock.sendall(_frame(4, 0x1, 0))  # acknowledge its settings
        elif kind == 7:
            return "it closed the HTTP/2 connection without answering"
        elif kind == 3 and stream == 1:
            return "it refused the gRPC call"
        elif kind == 1 and stream == 1:
            if flags & 0x8:  # padded
                payload = payload[1:len(payload) - payload[0]]
            if flags & 0x20:  # priority
                payload = payload[5:]
            status = _http_status(payload)
            return None if status == 200 else f"it answers HTTP/2 with status {status or 'unknown'}"
    return "it sent no answer to a gRPC call"


def check_address(address: str, timeout: float = 3.0) -> None:
    """Refuse an address whose host:port does not answer within `timeout` seconds, or answers
    but not as a Ray cluster does (a gRPC server: `ray.init` would retry it for a minute)."""
    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SweepError(f"--address {address!r}: give HOST:PORT as 'ray start --head' prints it "
                         "(say 192.168.1.10:6379)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as sock:
            if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
                return  # a TLS cluster: the plain-text probe cannot speak to it
            sock.settimeout(timeout)
            try:
                wrong = _probe_gcs(sock, hostport)
            except TimeoutError:
                wrong = f"it sent no answer to a gRPC call in {timeout:g} s"
            except (ConnectionError, OSError) as e:
                wrong = f"it closed the connection ({getattr(e, 'strerror', None) or e})"
    except OSError as e:
        raise SweepError(f"no Ray cluster answers at {address} ({e.strerror or e}); start one "
                         "with 'ray start --head' and pass the address it prints") from None
    if wrong:
        raise SweepError(f"something answers at {address} but it is not a Ray cluster ({wrong}); "
                         "give the address 'ray start --head' printed (its port is 6379 unless "
                         "--port said otherwise)")


def _temp_dir() -> str:
    """Ray's session folder: RAY_TMPDIR if set, else a short folder of this user under /tmp
    (Ray's sockets live there, and a socket path must be short)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.environ.get("RAY_TMPDIR") or os.path.join(tempfile.gettempdir(), f"ngpu_ray_{uid}")


def _token_auth() -> None:
    """Use token authentication to join a cluster when this machine has a Ray token, as `ray start
    --address` does (Ray's own `ray.init(address=...)` does not, since 2.59 made tokens the
    default for new clusters); RAY_AUTH_MODE, when set, decides."""
    if os.environ.get("RAY_AUTH_MODE"):
        return
    default = Path.home() / ".ray" / "auth_token"
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH") or default.exists():
        os.environ["RAY_AUTH_MODE"] = "token"
        try:  # Ray reads its settings once, when imported: have it read them again
            from ray._raylet import Config

            Config.initialize("")
        except (ImportError, AttributeError):
            pass


def start_ray(address: str | None, workers: int | None) -> bool:
    """Join `address`, or start a local Ray with `workers` CPUs (default: one per core), quietly.
    Returns whether this call started Ray (and so should shut it down)."""
    ray, _ = _import_ray()
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 configure_logging=True)
    if address:
        _token_auth()
        try:
            ray.init(address=address, **quiet)
        except Exception as e:  # noqa: BLE001 - Ray raises many kinds; one line is what matters
            raise SweepError(f"cannot join the Ray cluster at {address} ({str(e).splitlines()[0]}); "
                             "if it uses token authentication (Ray's default), run 'ray "
                             "get-auth-token' on its head and set RAY_AUTH_TOKEN to it here"
                             ) from None
    else:

        ray.init(num_cpus=workers or cores(), _temp_dir=_temp_dir(), **quiet)
    return True


def _callback(tune, total: int, done: list):
    """A Tune callback printing one line per finished (or failed) trial."""

    class Progress(tune.Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            done.append(result)
            print(f"[{len(done)}/{total}] {result['trial']}: exact {result['exact']:.1%} of "
                  f"{result['samples']} fresh {result['digits']}-digit cases (at "
                  f"{result['train_digits']} digits {result['exact_train']:.1%}), "
                  f"{result['steps']:,} steps, {result['minutes']:.1f} min, stopped: "
                  f"{result['stopped']}", flush=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            done.append(None)
            print(f"[{len(done)}/{total}] {trial.config['trial']['name']}: failed", flush=True)

    return Progress()


RECORD_KEYS = ("trial", "seed", "point", "steps", "minutes", "stopped", "digits", "samples", "exact",
               "per_symbol", "train_digits", "exact_train", "architecture", "folder")


def _last_line(error: BaseException) -> str:
    """The message of a trial's error without Ray's traceback or the exception's module path."""
    lines = [ln for ln in str(error).strip().splitlines() if ln.strip()]
    return re.sub(r"^[\w.]*?(\w+(Error|Exception)): ", "", lines[-1] if lines else repr(error))


def _quietly(fn):
    """`fn()` with Ray Tune's driver-side logging silenced: failed trials get one line each from
    us, not Tune's tracebacks."""
    import logging

    loggers = [logging.getLogger(n) for n in ("ray.tune", "ray.air", "ray.train")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        return fn()
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _run_trials(configs: list[dict], out: Path, progress: bool) -> tuple[list[dict], list[str]]:
    """Every trial on Ray Tune, one CPU each: their records, and one line per failed trial."""
    _, tune = _import_ray()
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    callbacks = [_callback(tune, len(configs), [])] if progress else []

    class Quiet(tune.ProgressReporter):  # our own line per trial instead of Tune's status tables
        def should_report(self, trials, done=False):
            return False

    tuner = tune.Tuner(
        tune.with_resources(_tune_trial, {"cpu": 1}),
        param_space={"trial": tune.grid_search(configs)},
        tune_config=tune.TuneConfig(trial_name_creator=lambda t: t.config["trial"]["name"],
                                    trial_dirname_creator=lambda t: t.config["trial"]["name"]),
        run_config=tune.RunConfig(name="ray_tune", storage_path=str(out.resolve()), verbose=0,
                                  callbacks=callbacks, progress_reporter=Quiet()))
    records, errors = [], []
    for r in _quietly(tuner.fit):
        name = r.config["trial"]["name"]
        if r.error is not None or not r.metrics or "exact" not in r.metrics:
            errors.append(f"trial {name} failed: {_last_line(r.error)}" if r.error else
                          f"trial {name} did not finish; rerun the same command to resume it")
        else:
            records.append({k: r.metrics[k] for k in RECORD_KEYS})
    return records, errors


# --- the sweep ----------------------------------------------------------------------------------

def sweep(task: str, preset: str = "fast", seeds: list[int] | str = "0-7",
          grid: dict[str, list] | list[str] | None = None, out: str | Path = "runs/sweep", *,
          minutes: float | None = None, steps: int | None = None, digits: int | None = None,
          samples: int = 64, address: str | None = None, workers: int | None = None,
          progress: bool = True, max_trials: int | None = None) -> dict:
    """Run every (grid point, seed) as one `train` run on Ray, score each on the same fresh
    `digits`-digit cases (default: 10x the training length, the paper's 20 -> 200 bits) and write
    the results table, JSON and spread figure into `out`. Returns the results (`results.json`).

    `grid` is {field: [values]} or `key=v1,v2` strings; `minutes`/`steps` cap each trial; a rerun
    with the same options resumes the trials; a folder holding another sweep is refused. More
    than `max_trials` trials (default 1,000) are refused with an estimate of their time.

    Everything is checked before Ray starts (the grid's every value, the trial count, the folder,
    the cluster's address), and the folder is written only once Ray is up: a sweep that cannot
    start leaves `out` as it was."""
    if isinstance(seeds, str):
        ranges = seed_ranges(seeds)
        n_seeds = sum(hi - lo + 1 for lo, hi in ranges)
    else:
        seeds = sorted(set(seeds))
        n_seeds = len(seeds)
    if not n_seeds:
        raise SweepError("give at least one seed")
    if isinstance(grid, list):
        grid = parse_grid(grid, preset)
    check_trials(n_seeds, math.prod(len(v) for v in (grid or {}).values()), max_trials, minutes,
                 workers, bool(address))
    if isinstance(seeds, str):
        seeds = [s for lo, hi in ranges for s in range(lo, hi + 1)]
    spec = make_spec(task, preset, seeds, grid or {}, minutes, steps, digits, samples)
    out = Path(out)
    if not str(out).strip():
        raise SweepError("--out is empty; name a folder, e.g. --out runs/sweep")
    if address:  # seconds, before Ray's import: a wrong address is one line at once
        check_address(address)
    _import_ray()  # before touching the folder: a missing Ray or cluster leaves nothing behind
    check_folder(out, spec)
    configs = [{"name": trial_name(pt, s), "point": pt, "seed": s, "spec": spec,
                "folder": str((out / TRIALS / trial_name(pt, s)).resolve())}
               for pt in points(spec["grid"]) for s in seeds]
    started = start_ray(address, workers)
    try:
        claim_folder(out, spec)
        with _FolderLock(out):
            start = time.time()
            records, errors = _run_trials(configs, out, progress)
    finally:
        if started:
            import ray

            ray.shutdown()
    order = {c["name"]: i for i, c in enumerate(configs)}
    records.sort(key=lambda r: order[r["trial"]])
    res = {"spec": spec, "runs": records, "errors": errors, "criterion": list(CRITERION),
           "best": best_run(records)["trial"] if records else None,
           "wall_minutes": round((time.time() - start) / 60, 2)}
    write_results(out, res)
    return res


def load_results(out: str | Path) -> dict:
    """A finished sweep's results (`OUT/results.json`)."""
    return json.loads((Path(out) / "results.json").read_text())


def _point_label(point: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "one recipe"


def summary(runs: list[dict]) -> list[dict]:
    """Per grid point: seeds, mean, spread (min..max) and standard deviation of the exact rate."""
    groups: dict[str, list[dict]] = {}
    for r in runs:
        groups.setdefault(_point_label(r["point"]), []).append(r)
    rows = []
    for label, rs in groups.items():
        xs = [r["exact"] for r in rs]
        mean = sum(xs) / len(xs)
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
        rows.append({"point": label, "seeds": len(xs), "mean": mean, "min": min(xs),
                     "max": max(xs), "sd": sd,
                     "generalised": sum(x == 1.0 for x in xs)})
    return rows


def table_markdown(res: dict) -> str:
    """The results as markdown: one row per trial, one per grid point, and the best run."""
    spec = res["spec"]
    d = spec["digits"]
    lines = [f"Sweep: {_describe(spec)}.", "",
             f"| trial | steps | minutes | stopped | exact at train length | exact at {d} digits "
             f"| per symbol at {d} digits |", "|---|---|---|---|---|---|---|"]
    for r in res["runs"]:
        lines.append(f"| {r['trial']} | {r['steps']:,} | {r['minutes']:.1f} | {r['stopped']} | "
                     f"{r['exact_train']:.1%} ({r['train_digits']} digits) | {r['exact']:.1%} of "
                     f"{r['samples']} | {r['per_symbol']:.2%} |")
    lines += ["", f"| grid point | seeds | exact at {d} digits: mean | min..max | sd | all exact |",
              "|---|---|---|---|---|---|"]
    for s in summary(res["runs"]):
        lines.append(f"| {s['point']} | {s['seeds']} | {s['mean']:.1%} | {s['min']:.1%}..{s['max']:.1%}"
                     f" | {s['sd']:.1%} | {s['generalised']} of {s['seeds']} |")
    if res.get("best"):
        lines += ["", f"Best run by {describe_criterion()}: {res['best']}."]
    if res.get("errors"):
        lines += ["", *(e[0].upper() + e[1:] for e in res["errors"])]
    return "\n".join(lines) + "\n"


def plot_spread(res: dict):
    """A figure of the spread over seeds: one dot per seed at each grid point, and the mean."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # the CLI draws into a file; a notebook keeps its own backend
    import matplotlib.pyplot as plt

    groups: dict[str, list[dict]] = {}
    for r in res["runs"]:
        groups.setdefault(_point_label(r["point"]), []).append(r)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(groups) + 2), 3.2))
    for i, rs in enumerate(groups.values()):
        ys = [100 * r["exact"] for r in rs]
        xs = [i + 0.08 * (j - (len(rs) - 1) / 2) for j in range(len(rs))]
        ax.scatter(xs, ys, s=28, color="tab:blue", zorder=3)
        for x, y, r in zip(xs, ys, rs, strict=True):
            ax.annotate(str(r["seed"]), (x, y), textcoords="offset points", xytext=(4, 2),
                        fontsize=7, color="0.35")
        ax.hlines(sum(ys) / len(ys), i - 0.3, i + 0.3, color="tab:orange", lw=2, zorder=2)
    ax.set_xticks(range(len(groups)), list(groups), fontsize=8)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylim(-5, 105)
    spec = res["spec"]
    ax.set_ylabel(f"exact at {spec['digits']} digits (%)")
    name = model_name(get_preset(spec["preset"]).model)
    ax.set_title(f"{spec['task']}, {name} (preset {spec['preset']}):\neach dot one seed, bar the mean",
                 fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _replace_text(path: Path, text: str) -> None:
    """Write `path` by a rename: never through a symbolic link, never half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.write_text(text)
    os.replace(tmp, path)


def write_results(out: Path, res: dict) -> None:
    """`results.json`, `results.md` and `spread.png` in the sweep folder."""
    _replace_text(out / "results.json", json.dumps(res, indent=1) + "\n")
    _replace_text(out / "results.md", table_markdown(res))
    if res["runs"]:
        import matplotlib.pyplot as plt

        fig = plot_spread(res)
        fig.savefig(out / "spread.png", dpi=110)
        plt.close(fig)


# --- the paper's selection ----------------------------------------------------------------------

def describe_criterion(criterion: tuple[str, ...] = CRITERION) -> str:
    """The criterion in words, say 'highest exact, then highest per_symbol, then fewest steps'."""
    return ", then ".join(f"fewest {c[1:]}" if c.startswith("-") else f"highest {c}"
                          for c in criterion)


def best_run(runs: list[dict], criterion: tuple[str, ...] = CRITERION) -> dict:
    """The best run by `criterion`: record keys compared in order, `-key` meaning lower is better
    (default: exact rate at the test length, then per-symbol rate, then fewer steps)."""
    if not runs:
        raise SweepError("no runs to choose from")
    return ranked(runs, criterion)[0]


def ranked(runs: list[dict], criterion: tuple[str, ...] = CRITERION) -> list[dict]:
    """The runs from best to worst by `criterion` (ties keep their order)."""
    return sorted(runs, key=lambda r: tuple(-r[c[1:]] if c.startswith("-") else r[c]
                                            for c in criterion), reverse=True)


def _score(model, task: str, digits: int, samples: int, seed: int) -> dict:
    res = evaluate(model, task, digits, samples, seed=seed)
    return {"exact": res["exact"], "per_symbol": res["per_symbol"], "samples": res["samples"],
            "digits": digits}


def average_top(runs: list[dict], k: int, root: str | Path, task: str, digits: int,
                samples: int = 64, seed: int = EVAL_SEED,
                criterion: tuple[str, ...] = CRITERION) -> dict:
    """This project's averaging (the 2016 code sums output probabilities instead): the weights of
    the top `k` runs that share the best run's
    architecture, averaged, and scored beside the best single run on the same fresh cases.

    `root` is the sweep folder (each run's `folder` is inside it). Returns the members, both
    scores, `kept` (the average scores at least the best run: exact rate, then per symbol) and
    `model`: the average if kept, else the best run's model."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise SweepError(f"k must be a whole number of at least 1, not {k!r}")
    order = ranked(runs, criterion)
    if not order:
        raise SweepError("no runs to average")
    best = order[0]
    members = [r for r in order if r["architecture"] == best["architecture"]][:k]
    root = Path(root)
    best_model, _ = checkpoints.load(root / best["folder"], task)
    model = checkpoints.average_checkpoints([root / r["folder"] for r in members], task)
    s_best = _score(best_model, task, digits, samples, seed)
    s_avg = _score(model, task, digits, samples, seed)
    kept = (s_avg["exact"], s_avg["per_symbol"]) >= (s_best["exact"], s_best["per_symbol"])
    return {"members": [r["trial"] for r in members], "best": best["trial"], "score_best": s_best,
            "score_average": s_avg, "kept": kept, "model": model if kept else best_model}
