"""Which validation products several `bmul` checkpoints get wrong, and whether they share them: per
checkpoint the wrong cases of `benchmarks.bmul_validate`'s streams (256 fresh 20-bit products,
seed 778; 128 fresh 200-bit ones, seed 777), the cases every one gets wrong, and the ensemble that
averages their output probabilities. Errors shared by every member are what no ensemble, soup or
fine-tune of those members can fix; errors of different seeds that differ are what one can.

    python -m benchmarks.bmul_agree resume/bmul-s0/finetune runs/zoo/bmul-s1/finetune
"""

from __future__ import annotations

import argparse
import json
import random

import torch

from ngpu_lite.data.batches import make_batch
from ngpu_lite.data.tasks import eval_stream
from ngpu_lite.model import checkpoints

STREAMS = {20: (256, 778), 200: (128, 777)}  # bits: (cases, seed), as bmul_validate


def probabilities(model, digits: int, samples: int, seed: int, batch: int = 32
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Output probabilities `[N, n, symbols]`, targets and lengths on the evaluation stream."""
    rng: random.Random = eval_stream(seed)
    target = getattr(model.config, "target", "pad")
    probs, ys, lens = [], [], []
    model.eval()
    with torch.no_grad():
        for start in range(0, samples, batch):
            x, y, lengths = make_batch("bmul", [digits] * min(batch, samples - start), rng,
                                       target=target)
            probs.append(model(x, lengths).float().softmax(-1))
            ys.append(y)
            lens.append(lengths)
    return torch.cat(probs), torch.cat(ys), torch.cat(lens)


def wrong_cases(probs: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> list[int]:
    """Indices of the cases with at least one wrong output symbol (inside each case's length)."""
    inside = torch.arange(y.shape[1])[None, :] < lengths[:, None]
    return ((probs.argmax(-1) != y) & inside).any(1).nonzero()[:, 0].tolist()


def agree(specs: list[str]) -> dict:
    """Each checkpoint's wrong cases per stream, those shared by all, and the ensemble's."""
    models = [checkpoints.load(s, "bmul")[0] for s in specs]
    out: dict = {"checkpoints": specs, "streams": {}}
    for digits, (samples, seed) in STREAMS.items():
        each, total = {}, None
        for spec, model in zip(specs, models, strict=True):
            probs, y, lengths = probabilities(model, digits, samples, seed)
            each[spec] = wrong_cases(probs, y, lengths)
            total = probs if total is None else total + probs
        shared = sorted(set.intersection(*(set(w) for w in each.values())))
        out["streams"][str(digits)] = {"cases": samples, "seed": seed, "wrong": each,
                                       "wrong_in_all": shared,
                                       "ensemble_wrong": wrong_cases(total, y, lengths)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bmul_agree",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("checkpoints", nargs="+", help="checkpoint files or run folders")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    res = agree(args.checkpoints)
    for digits, s in res["streams"].items():
        print(f"{digits} bits, {s['cases']} fresh products (seed {s['seed']}):")
        for spec, wrong in s["wrong"].items():
            print(f"  {spec}: {s['cases'] - len(wrong)} exact, wrong {wrong}")
        print(f"  wrong in all: {s['wrong_in_all']}; ensemble of probabilities: "
              f"{s['cases'] - len(s['ensemble_wrong'])} exact, wrong {s['ensemble_wrong']}")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
