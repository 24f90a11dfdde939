"""Command line: `python -m ngpu_lite train | evaluate | predict | sweep`.

Bad input (an unknown task, a digit outside the base, an empty operand, a missing, corrupt or
foreign checkpoint, an output folder holding another run or in use, a number option that makes no
sense, an operand past the length limit, a file that cannot be read or written) prints one line on
stderr and exits with status 2; nothing is overwritten. A closed pipe (`predict ... | head -1`)
ends quietly, as Unix tools do. A model whose output for a case decodes to nothing (no digit
before its padding) gave no answer: `predict` says so in one line and exits with status 1 rather
than print an empty line where a number belongs.

The limits: `--max-digits N` (or the environment variable `NGPU_MAX_DIGITS`), default 10,000
digits per operand; `evaluate --max-samples N` (or `NGPU_MAX_SAMPLES`), default 100,000 cases;
`sweep --max-trials N`, default 1,000 trials. A case costs time in proportion to
`m²·w·l·length²`; past a limit the refusal says the estimated time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from .. import threads
from ..data.tasks import TASKS, TaskError, decode, encode_text, get_task, stack_examples
from ..model.checkpoints import (
    MODELS,
    SHIPPED_DIR,
    CheckpointError,
    load,
    load_raw,
    read_regular,
    shipped_name,
)
from ..model.evaluate import MAX_DIGITS, MAX_SAMPLES, SECONDS_PER_UNIT, estimate_seconds, evaluate
from ..model.evaluate import human_time as _human
from ..runtime import device
from ..training import PRESETS, RunFolderError, get_preset, train
from .sweep import MAX_TRIALS, sweep, table_markdown

USAGE_ERROR = 2
NO_ANSWER = 1  # the model's output for a case decodes to nothing: it gave no answer
BROKEN_PIPE = 141  # what a shell reports for a Unix tool ended by SIGPIPE
MAX_FILE_BYTES = 64 << 20  # the largest --file read (about a million cases of 30 digits)
__all__ = ["MAX_DIGITS", "MAX_SAMPLES", "SECONDS_PER_UNIT", "estimate_seconds", "main"]


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _count(low: int):
    """An argparse type: a whole number of at least `low`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least {low}, "
                                             f"not {text!r}")
        return value
    return parse


def _seed(text: str) -> int:
    """An argparse type: a seed from 0 to 2**32 - 1."""
    value = _count(0)(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"must be at most 2**32 - 1, not {text!r}")
    return value


def _minutes(text: str) -> float:
    """An argparse type: a finite number of minutes above 0 (NaN would never stop)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, not {text!r}")
    return value


def _default_max_digits() -> int:
    """The length limit: NGPU_MAX_DIGITS when set (checked), else MAX_DIGITS."""
    text = os.environ.get("NGPU_MAX_DIGITS")
    if text is None:
        return MAX_DIGITS
    try:
        return _count(1)(text)
    except argparse.ArgumentTypeError as e:
        raise UsageError(f"NGPU_MAX_DIGITS {e}") from None


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m ngpu_lite", description="Train, evaluate and query Neural GPUs.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    tasks = ", ".join(TASKS)

    tr = sub.add_parser("train", help="train a model (rerun with the same --out to resume)")
    tr.add_argument("--task", required=True, help=tasks)
    tr.add_argument("--out", help="run folder (default runs/TASK)")
    tr.add_argument("--preset", default="fast", help=", ".join(PRESETS))
    tr.add_argument("--seed", type=_seed, default=0)
    tr.add_argument("--minutes", type=_minutes, help="wall-time limit (default 15)")
    tr.add_argument("--steps", type=_count(1), help="step limit")
    tr.add_argument("--until-digits", type=_count(1), default=None,
                    help="stop once 64 fresh cases of this many digits are all exact "
                         "(default: 4x the training length; checked every digits/40 epochs)")

    ev = sub.add_parser("evaluate", help="exact-answer rate on fresh random inputs")
    ev.add_argument("--task", required=True, help=tasks)
    ev.add_argument("--bits", type=_count(1), default=20, help="digits per operand")
    ev.add_argument("--samples", type=_count(1), default=64)
    ev.add_argument("--seed", type=_seed, default=0)
    ev.add_argument("--checkpoint", help="checkpoint file or run folder (default: shipped model)")
    ev.add_argument("--model", choices=MODELS, default="improved", help=MODEL_HELP)
    ev.add_argument("--json", action="store_true", help="print the result as JSON")
    ev.add_argument("--max-samples", type=_count(1), default=None,
                    help=f"refuse more cases than this (default {MAX_SAMPLES:,}, or "
                         "NGPU_MAX_SAMPLES)")

    pr = sub.add_parser("predict", help="answer cases typed as numbers, most-significant first")
    pr.add_argument("--task", required=True, help=tasks)
    pr.add_argument("--checkpoint", help="checkpoint file or run folder (default: shipped model)")
    pr.add_argument("--model", choices=MODELS, default="improved", help=MODEL_HELP)
    pr.add_argument("--file", help="one case per line: 'A B' (or 'A' for one-operand tasks)")
    pr.add_argument("operands", nargs="*")
    sw = sub.add_parser("sweep", help="many train runs (seeds x grid) on Ray; rerun to resume")
    sw.add_argument("--task", required=True, help=tasks)
    sw.add_argument("--preset", default="fast", help=", ".join(PRESETS))
    sw.add_argument("--seeds", default="0-7", help="seeds: 0-7, 0,2,5 or 0-3,8 (default 0-7)")
    sw.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                    help="a preset field (or model.KEY) and its values; repeat for more fields")
    sw.add_argument("--minutes", type=_minutes, help="wall-time cap per trial (default 15)")
    sw.add_argument("--steps", type=_count(1), help="step cap per trial")
    sw.add_argument("--out", default="runs/sweep", help="sweep folder (default runs/sweep)")
    sw.add_argument("--address", help="join this Ray cluster (HOST:PORT from 'ray start --head'); "
                                      "default: a local Ray with one worker per core")
    sw.add_argument("--workers", type=_count(1), help="local Ray workers (default: one per core)")
    sw.add_argument("--digits", type=_count(1),
                    help="score each run on cases of this many digits (default 10x the training "
                         "length, the paper's 20 -> 200 bits)")
    sw.add_argument("--samples", type=_count(1), default=64, help="fresh cases to score on")
    sw.add_argument("--max-trials", type=_count(1), default=None,
                    help=f"refuse more trials (seeds x grid points) than this "
                         f"(default {MAX_TRIALS:,})")
    for p in (tr, ev, pr, sw):
        p.add_argument("--max-digits", type=_count(1), default=None,
                       help=f"refuse operands longer than this (default {MAX_DIGITS:,}, "
                            "or NGPU_MAX_DIGITS)")
    return ap


MODEL_HELP = ("which shipped model: improved (the improved Neural GPU of 2017, default) or paper "
              "(the paper's Neural GPU of 2016, where one is shipped)")


def _task(name: str):
    return get_task(name)


def _checkpoint(task: str, checkpoint: str | None, model: str = "improved") -> str:
    """The checkpoint to use: --checkpoint, else the shipped one of --model, else (for the
    improved model) the default run folder."""
    if checkpoint is None:
        shipped = SHIPPED_DIR / f"{shipped_name(task, model)}.pt"
        run = Path("runs") / task
        if shipped.exists():
            checkpoint = str(shipped)
        elif model == "improved" and (run / "checkpoint.pt").exists():
            checkpoint = str(run)
        elif model != "improved":
            have = sorted(p.stem for p in SHIPPED_DIR.glob(f"*-{model}.pt"))
            raise CheckpointError(f"no shipped {model} model for {task!r} (shipped: "
                                  f"{', '.join(have) or 'none'}); pass --checkpoint PATH")
        else:
            raise CheckpointError(f"no shipped checkpoint for {task!r}; pass --checkpoint PATH "
                                  f"or train one: python -m ngpu_lite train --task {task}")
    return checkpoint


def _model(task: str, checkpoint: str | None, model: str = "improved"):
    """The model to use: --checkpoint, else the shipped one of --model, else the default run
    folder."""

    net, _ = load(_checkpoint(task, checkpoint, model), task, device())
    return net


def _config_for_estimate(a) -> dict:
    """The size of the model a command would run, read from its checkpoint (for an estimate)."""
    try:
        config = load_raw(_checkpoint(a.task, getattr(a, "checkpoint", None),
                                      getattr(a, "model", "improved")))["info"]["config"]
    except (CheckpointError, OSError):
        config = None
    return config if isinstance(config, dict) else {"m": 48, "w": 1, "l": 1}


def _check_length(a, what: str, digits: int, cases: int, config: dict | None = None) -> None:
    """Refuse `digits` past the length limit with one line: the limit and the estimated time."""
    limit = a.max_digits if a.max_digits is not None else _default_max_digits()
    if digits <= limit:
        return
    config = config if config is not None else _config_for_estimate(a)
    raise UsageError(f"{what} has {digits:,} digits, past the limit of {limit:,} digits per operand "
                     f"(about {_human(estimate_seconds(config, digits, cases))} for {cases:,} "
                     f"case{'s' if cases != 1 else ''} on one CPU core); give --max-digits "
                     f"{digits} (or set NGPU_MAX_DIGITS) to run it anyway")


def _default_max_samples() -> int:
    """The case limit of evaluate: NGPU_MAX_SAMPLES when set (checked), else MAX_SAMPLES."""
    text = os.environ.get("NGPU_MAX_SAMPLES")
    if text is None:
        return MAX_SAMPLES
    try:
        return _count(1)(text)
    except argparse.ArgumentTypeError as e:
        raise UsageError(f"NGPU_MAX_SAMPLES {e}") from None


def _check_samples(a) -> int:
    """Refuse more `--samples` than the case limit with one line and the estimated time; the
    limit in force."""
    limit = a.max_samples if a.max_samples is not None else _default_max_samples()
    if a.samples > limit:
        cost = _human(estimate_seconds(_config_for_estimate(a), a.bits, a.samples))
        raise UsageError(f"--samples {a.samples:,} is past the limit of {limit:,} cases (about "
                         f"{cost} for {a.samples:,} cases of {a.bits:,} digits on one CPU core); "
                         f"give --max-samples {a.samples} (or set NGPU_MAX_SAMPLES) to run it "
                         "anyway")
    return limit


def cmd_train(a) -> int:

    t = _task(a.task)
    p = get_preset(a.preset)
    out = Path(a.out) if a.out else Path("runs") / t.name
    minutes = a.minutes if a.minutes is not None or a.steps is not None else 15.0
    until_digits = a.until_digits if a.until_digits is not None else 4 * p.max_digits
    _check_length(a, f"--until-digits {until_digits}", until_digits, 64,
                  config=dict(p.model) or {"m": 24, "w": 4, "l": 2})
    if a.out is not None and not a.out.strip():
        raise UsageError("--out is empty; name a folder, e.g. --out runs/" + t.name)
    # a check's cost grows with the length (and at least squared): check long lengths less often
    res = train(t.name, p.name, out=out, seed=a.seed, steps=a.steps, minutes=minutes,
                until=(until_digits, 64), check_every=max(1, until_digits // 40))
    last = res.history[-1] if res.history else {}
    print(f"trained {t.name} for {res.steps} steps in {res.seconds / 60:.1f} min "
          f"(stopped: {res.stopped}; last epoch error {last.get('seq_err', float('nan')):.3f}); "
          f"checkpoint in {out}/checkpoint.pt")
    return 0


def cmd_evaluate(a) -> int:

    t = _task(a.task)
    _check_length(a, f"--bits {a.bits}", a.bits, a.samples)
    max_samples = _check_samples(a)
    model = _model(t.name, a.checkpoint, a.model)
    res = evaluate(model, t.name, a.bits, a.samples, seed=a.seed, progress=sys.stderr.isatty(),
                   max_digits=max(a.bits, 1), max_samples=max_samples)
    if a.json:
        print(json.dumps(res))
    else:
        print(f"{t.name}, {a.bits} digits: exact {100 * res['exact']:.1f}% of {res['samples']} "
              f"fresh cases, per symbol {100 * res['per_symbol']:.2f}%")
    return 0


def _cases(a, t) -> list[tuple[str, str | None]]:
    if a.file:
        if a.operands:
            raise UsageError("give operands or --file, not both")
        path = Path(a.file)
        if not path.exists():
            raise UsageError(f"file {a.file} not found")
        if path.is_dir():
            raise UsageError(f"--file {a.file} is a folder; give a text file, one case per line")
        # only a regular file, its size checked first: a FIFO would wait, /dev/zero never ends
        data = read_regular(path, MAX_FILE_BYTES, "--file", UsageError,
                            "split it into files of fewer cases")
        try:
            text = data.decode("utf-8-sig")  # a BOM is not a digit
        except UnicodeDecodeError:
            raise UsageError(f"--file {a.file} is not UTF-8 text; give one case per line"
                             ) from None
        lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    else:
        lines = [a.operands]
    cases = []
    for parts in lines:
        if len(parts) != t.operands:
            want = "two operands, A B" if t.operands == 2 else "one operand"
            raise UsageError(f"task {t.name} takes {want}; got {' '.join(parts) or 'nothing'}")
        cases.append((parts[0], parts[1] if t.operands == 2 else None))
    return cases


def cmd_predict(a) -> int:
    t = _task(a.task)
    cases = _cases(a, t)
    longest = max((len(x.strip()) for case in cases for x in case if x is not None), default=0)
    _check_length(a, "an operand", longest, len(cases))
    pairs = [encode_text(t, x, y) for x, y in cases]  # checks every operand before any work
    model = _model(t.name, a.checkpoint, a.model)
    dev = next(model.parameters()).device
    for i in range(0, len(pairs), 32):
        x, _, lengths = stack_examples(pairs[i : i + 32])
        pred = model.predict(x.to(dev), lengths.to(dev)).cpu()
        for k, (row, n) in enumerate(zip(pred, lengths.tolist(), strict=True)):
            answer = decode(t, row[:n].tolist(), model.config.target)
            if not answer:  # padding from the first symbol: no number, and never an empty line
                sys.stdout.flush()
                where = f"case {i + k + 1} ({_show(cases[i + k])})" if len(cases) > 1 else \
                    _show(cases[i + k])
                before = f"; the {i + k} answers before it are printed" if i + k else ""
                print(f"error: the model gave no answer for {where}: its output is padding from "
                      f"its first symbol on, with no digit{before}", file=sys.stderr)
                return NO_ANSWER
            print(answer)
    return 0


def _show(case: tuple[str, str | None]) -> str:
    """A case as typed, long operands shortened."""
    def short(x: str) -> str:
        x = x.strip()
        return x if len(x) <= 24 else f"{x[:8]}…{x[-8:]} ({len(x):,} digits)"
    return " ".join(short(x) for x in case if x is not None)


def cmd_sweep(a) -> int:

    minutes = a.minutes if a.minutes is not None or a.steps is not None else 15.0
    if a.address is not None and a.workers is not None:
        raise UsageError("--workers is for a local Ray; a cluster has the workers it was started with")
    if a.digits is not None:
        _check_length(a, f"--digits {a.digits}", a.digits, a.samples, config={"m": 48, "w": 1, "l": 1})
    res = sweep(a.task, a.preset, a.seeds, a.grid, a.out, minutes=minutes, steps=a.steps,
                digits=a.digits, samples=a.samples, address=a.address, workers=a.workers,
                max_trials=a.max_trials)
    print()
    print(table_markdown(res), end="")
    print(f"\nresults in {a.out}/results.md, results.json and spread.png")
    for e in res["errors"]:
        print(f"error: {e}", file=sys.stderr)
    return 1 if res["errors"] else 0


# what an error of the system (a full disk, a permission) leaves, by command: predict and evaluate
# write nothing; train and sweep keep what they finished
_KEPT = {"train": "the run's last checkpoint is kept; free space or fix the permission and rerun "
                  "the same command to resume",
         "sweep": "finished trials are kept; rerun the same command to resume"}


def main(argv: list[str] | None = None) -> int:
    threads.normal_interrupts()  # start-up is over: Ctrl-C is a KeyboardInterrupt again
    if sys.stderr is None:  # `2>&-`: errors have nowhere to go, but must not become tracebacks
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    command = None
    try:
        threads.check_env()  # NGPU_THREADS=abc was ignored at import; here it is refused
        a = _parser().parse_args(argv)
        command = a.command
        if sys.stdout is None:  # `>&-`: print() would drop every answer without a word
            if command in ("predict", "evaluate"):
                raise UsageError(f"standard output is closed; {command} prints its answers "
                                 "there: give it a file or a pipe (> FILE)")
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (train and sweep write files)
        rc = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
              "sweep": cmd_sweep}[a.command](a)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers, not at exit
        return rc
    except BrokenPipeError:
        # the reader has gone (`... | head -1`): stop quietly; point stdout at /dev/null so that
        # Python's own flush at exit finds nothing to complain about
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return BROKEN_PIPE
    except (UsageError, TaskError, CheckpointError, RunFolderError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as e:  # the system refused: a full disk, a permission, a missing folder
        where = f" ({e.filename})" if e.filename else ""
        print(f"error: {e.strerror or e}{where}; {_KEPT.get(command, 'nothing was overwritten')}",
              file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
