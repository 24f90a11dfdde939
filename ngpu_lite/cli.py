"""Command line: `python -m ngpu_lite train | evaluate | predict`.

Bad input (an unknown task, a digit outside the base, an empty operand, a missing, corrupt or
foreign checkpoint, an output folder holding another run) prints one line on stderr and exits
with status 2; nothing is overwritten.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .checkpoints import SHIPPED_DIR, CheckpointError, load
from .tasks import TASKS, TaskError, decode, encode_text, get_task, stack_examples
from .train import PRESETS, RunFolderError

USAGE_ERROR = 2


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise UsageError(f"{message} (see 'python -m ngpu_lite {self.prog.split()[-1]} --help')")


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m ngpu_lite", description="Train, evaluate and query Neural GPUs.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    tasks = ", ".join(TASKS)

    tr = sub.add_parser("train", help="train a model (rerun with the same --out to resume)")
    tr.add_argument("--task", required=True, help=tasks)
    tr.add_argument("--out", help="run folder (default runs/TASK)")
    tr.add_argument("--preset", default="fast", help=", ".join(PRESETS))
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--minutes", type=float, help="wall-time limit (default 15)")
    tr.add_argument("--steps", type=int, help="step limit")
    tr.add_argument("--until-digits", type=int, default=None,
                    help="stop once 64 fresh cases of this many digits are all exact "
                         "(default: 4x the training length; checked every digits/40 epochs)")

    ev = sub.add_parser("evaluate", help="exact-answer rate on fresh random inputs")
    ev.add_argument("--task", required=True, help=tasks)
    ev.add_argument("--bits", type=int, default=20, help="digits per operand")
    ev.add_argument("--samples", type=int, default=64)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--checkpoint", help="checkpoint file or run folder (default: shipped model)")
    ev.add_argument("--json", action="store_true", help="print the result as JSON")

    pr = sub.add_parser("predict", help="answer cases typed as numbers, most-significant first")
    pr.add_argument("--task", required=True, help=tasks)
    pr.add_argument("--checkpoint", help="checkpoint file or run folder (default: shipped model)")
    pr.add_argument("--file", help="one case per line: 'A B' (or 'A' for one-operand tasks)")
    pr.add_argument("operands", nargs="*")
    return ap


def _task(name: str):
    return get_task(name)


def _model(task: str, checkpoint: str | None):
    """The model to use: --checkpoint, else the shipped one, else the default run folder."""
    from . import device

    if checkpoint is None:
        shipped = SHIPPED_DIR / f"{task}.pt"
        run = Path("runs") / task
        if shipped.exists():
            checkpoint = str(shipped)
        elif (run / "checkpoint.pt").exists():
            checkpoint = str(run)
        else:
            raise CheckpointError(f"no shipped checkpoint for {task!r}; pass --checkpoint PATH "
                                  f"or train one: python -m ngpu_lite train --task {task}")
    model, _ = load(checkpoint, task, device())
    return model


def cmd_train(a) -> int:
    from .train import get_preset, train

    t = _task(a.task)
    p = get_preset(a.preset)
    out = Path(a.out) if a.out else Path("runs") / t.name
    minutes = a.minutes if a.minutes is not None or a.steps is not None else 15.0
    until_digits = a.until_digits or 4 * p.max_digits
    # a check's cost grows with the length (and at least squared): check long lengths less often
    res = train(t.name, p.name, out=out, seed=a.seed, steps=a.steps, minutes=minutes,
                until=(until_digits, 64), check_every=max(1, until_digits // 40))
    last = res.history[-1] if res.history else {}
    print(f"trained {t.name} for {res.steps} steps in {res.seconds / 60:.1f} min "
          f"(stopped: {res.stopped}; last epoch error {last.get('seq_err', float('nan')):.3f}); "
          f"checkpoint in {out}/checkpoint.pt")
    return 0


def cmd_evaluate(a) -> int:
    from .evaluate import evaluate

    t = _task(a.task)
    if a.bits < 1 or a.samples < 1:
        raise UsageError("--bits and --samples must be at least 1")
    model = _model(t.name, a.checkpoint)
    res = evaluate(model, t.name, a.bits, a.samples, seed=a.seed, progress=sys.stderr.isatty())
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
        lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
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
    pairs = [encode_text(t, x, y) for x, y in cases]  # checks every operand before any work
    model = _model(t.name, a.checkpoint)
    dev = next(model.parameters()).device
    for i in range(0, len(pairs), 32):
        x, _, lengths = stack_examples(pairs[i : i + 32])
        pred = model.predict(x.to(dev), lengths.to(dev)).cpu()
        for row, n in zip(pred, lengths.tolist(), strict=True):
            print(decode(t, row[:n].tolist(), model.config.target))
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        a = _parser().parse_args(argv)
        return {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict}[a.command](a)
    except (UsageError, TaskError, CheckpointError, RunFolderError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
