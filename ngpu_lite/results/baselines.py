"""Sequence-to-sequence LSTM baselines: what the Neural GPU is compared against (paper Table 1).

`LSTMBaseline` is an encoder–decoder (Sutskever et al. 2014): an LSTM reads the whole input, a
second LSTM starts from its final state and emits the answer one symbol at a time, fed its own
previous symbol. With `attention=True` the decoder also looks back at every encoder state
(dot-product "general" attention, Luong et al. 2015), the "LSTM + attention" column of the table.

The models use the book's encoding (`tasks.py`) unchanged and emit as many symbols as the input
has, the answer followed by PAD, so `evaluate.evaluate(model, task, digits, samples,
batch_size=...)` scores them exactly as it scores a Neural GPU (`evaluate_baseline` fills in the
batch size). `train_baseline` fits one on fresh random examples of 1..`max_digits` digits, with a
curriculum over lengths.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..data.batches import make_batch
from ..data.tasks import N_SYMBOLS, PAD, get_task
from ..model import checkpoints
from ..model.evaluate import evaluate, score


class LSTMBaseline(nn.Module):
    """Encoder–decoder LSTM, optionally with attention: `LSTMBaseline(hidden=128, attention=True)`.

    Without attention the decoder sees the input only through the encoder's final state; with it,
    each decoder state also reads a weighted mix of every encoder state (Luong's "general" score
    `h · W e`). `bidirectional=True` runs the encoder both ways (half the units each way), so every
    encoder state knows its distance from both ends of the input.
    `forward(x, lengths, y)` returns logits `[B, n, n_symbols]`: with targets `y` the decoder is fed
    the true previous symbol (teacher forcing, for training); without, its own argmax (greedy).
    """

    def __init__(self, hidden: int = 128, layers: int = 1, embed: int = 32, attention: bool = False,
                 bidirectional: bool = False, n_symbols: int = N_SYMBOLS):
        super().__init__()
        if bidirectional and hidden % 2:
            raise ValueError("a bidirectional encoder needs an even hidden size")
        self.hidden, self.layers, self.attention = hidden, layers, attention
        self.bidirectional = bidirectional
        self._config = dict(hidden=hidden, layers=layers, embed=embed, attention=attention,
                            bidirectional=bidirectional, n_symbols=n_symbols)
        self.n_symbols = n_symbols
        self.go = n_symbols  # the decoder's start symbol: one extra row of its embedding
        self.enc_embedding = nn.Embedding(n_symbols, embed, padding_idx=PAD)
        self.dec_embedding = nn.Embedding(n_symbols + 1, embed)
        self.encoder = nn.LSTM(embed, hidden // 2 if bidirectional else hidden, layers,
                               batch_first=True, bidirectional=bidirectional)
        self.decoder = nn.LSTM(embed, hidden, layers, batch_first=True)
        if attention:
            self.score_proj = nn.Linear(hidden, hidden, bias=False)  # score(h, e) = h · W e
            self.combine = nn.Linear(2 * hidden, hidden)  # h~ = tanh(W [context; h])
        self.output = nn.Linear(hidden, n_symbols)

    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, tuple, torch.Tensor]:
        """Encoder states `[B, n, hidden]`, the final `(h, c)` at each example's own length, and a
        mask `[B, n]` of the positions inside each example."""
        n = x.shape[1]
        packed = nn.utils.rnn.pack_padded_sequence(
            self.enc_embedding(x), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.encoder(packed)
        if self.bidirectional:  # [2·layers, B, hidden/2] -> [layers, B, hidden]: both directions
            state = tuple(z.view(self.layers, 2, *z.shape[1:]).transpose(1, 2).flatten(2) for z in state)
        enc, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=n)
        inside = torch.arange(n, device=x.device)[None, :] < lengths[:, None]
        return enc, state, inside

    def read_out(self, h: torch.Tensor, enc: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
        """Logits from decoder states `h` `[B, k, hidden]`, attending over `enc` if asked."""
        if self.attention:
            scores = self.score_proj(h) @ enc.transpose(1, 2)  # [B, k, n]
            scores = scores.masked_fill(~inside[:, None, :], float("-inf"))
            context = torch.softmax(scores, dim=-1) @ enc  # [B, k, hidden]
            h = torch.tanh(self.combine(torch.cat([context, h], dim=-1)))
        return self.output(h)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None,
                y: torch.Tensor | None = None) -> torch.Tensor:
        B, n = x.shape
        if lengths is None:
            lengths = torch.full((B,), n, dtype=torch.long, device=x.device)
        enc, state, inside = self.encode(x, lengths.to(x.device))
        go = torch.full((B, 1), self.go, dtype=torch.long, device=x.device)
        if y is not None:  # teacher forcing: all steps at once
            h, _ = self.decoder(self.dec_embedding(torch.cat([go, y[:, :-1]], dim=1)), state)
            return self.read_out(h, enc, inside)
        logits, prev = [], go
        for _ in range(n):  # greedy: feed back the argmax
            h, state = self.decoder(self.dec_embedding(prev), state)
            step = self.read_out(h, enc, inside)
            logits.append(step)
            prev = step.argmax(-1)
        return torch.cat(logits, dim=1)

    def config_dict(self) -> dict:
        """The constructor's arguments: `LSTMBaseline(**m.config_dict())` rebuilds the architecture."""
        return dict(self._config)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Output symbols `[B, n]` by greedy decoding, in eval mode (the interface `evaluate` uses)."""
        was_training = self.training
        self.eval()
        try:
            return self(x, lengths).argmax(-1)
        finally:
            self.train(was_training)


def train_baseline(
    model: LSTMBaseline,
    task: str,
    *,
    max_digits: int = 20,
    min_digits: int = 1,
    steps: int | None = None,
    minutes: float | None = None,
    batch: int = 64,
    lr: float = 3e-3,
    clip: float = 1.0,
    curriculum: bool = True,
    threshold: float = 0.9,
    seed: int = 0,
    progress: bool = False,
) -> list[dict]:
    """Fit `model` on fresh random `task` examples of `min_digits..max_digits` digits.

    Each step draws one size and a batch of that size, takes one Adam step on the cross-entropy of
    every output symbol (teacher forcing) and clips the gradient norm. With `curriculum` the size is
    drawn from `min_digits..cur` (half the time exactly `cur`) and `cur` grows by one once the
    share of exact answers at `cur` over the last 10 such batches passes `threshold`. Stops after
    `steps` steps or `minutes` of wall time. Returns one record per step: step, seconds, digits,
    cur, loss, share exact (teacher-forced).
    """
    if steps is None and minutes is None:
        raise ValueError("give steps or minutes, or training would never stop")
    t = get_task(task)
    rng = random.Random(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history: list[dict] = []
    start = time.time()
    bar = tqdm(total=steps, disable=not progress, desc=f"LSTM {t.name}", unit="step")
    step = 0
    cur = min(max_digits, min_digits + 3) if curriculum else max_digits
    at_cur: list[float] = []
    try:
        while (steps is None or step < steps) and (minutes is None or time.time() - start < 60 * minutes):
            digits = rng.randint(min_digits, cur)
            if curriculum and rng.random() < 0.5:
                digits = cur
            x, y, lengths = make_batch(t, [digits] * batch, rng)
            logits = model(x, lengths, y)
            inside = torch.arange(x.shape[1])[None, :] < lengths[:, None]
            loss = F.cross_entropy(logits[inside], y[inside])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            step += 1
            ok, _, _ = score(logits.argmax(-1), y, lengths)  # teacher-forced, a training signal only
            exact = ok.float().mean().item()
            history.append({"step": step, "seconds": round(time.time() - start, 2), "digits": digits,
                            "cur": cur, "loss": loss.item(), "exact": exact})
            if curriculum and digits == cur:
                at_cur = (at_cur + [exact])[-10:]
                if len(at_cur) == 10 and sum(at_cur) / 10 > threshold and cur < max_digits:
                    cur, at_cur = cur + 1, []
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{loss.item():.3f}")
    finally:
        bar.close()
    model.eval()
    return history


def evaluate_baseline(model: LSTMBaseline, task: str, digits: int, samples: int = 64, seed: int = 0,
                      batch_size: int = 256) -> dict:
    """`evaluate.evaluate` for a baseline: exact and per-symbol accuracy on fresh inputs."""
    return evaluate(model, task, digits, samples, seed=seed, batch_size=batch_size)


def save_baseline(path, model: LSTMBaseline, task: str, meta: dict | None = None) -> dict:
    """Write a baseline as a checkpoint file with a JSON manifest (same format as the Neural GPU's)."""

    path = Path(path)
    info = {"format": checkpoints.FORMAT, "kind": "lstm-baseline", "task": get_task(task).name,
            "config": model.config_dict(), "git_commit": checkpoints.git_commit(),
            "hardware": checkpoints.hardware(), "torch_version": str(torch.__version__)}
    info.update(meta or {})
    blob = {"info": info, "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    return checkpoints.write_pair(path, blob, info)  # weights and manifest as one change


def load_baseline(path) -> LSTMBaseline:
    """A baseline saved by `save_baseline`, in eval mode."""

    blob = checkpoints.load_raw(path)
    if blob["info"].get("kind") != "lstm-baseline":
        raise checkpoints.CheckpointError(f"{path} is not an LSTM baseline checkpoint")
    model = LSTMBaseline(**blob["info"]["config"])
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def build_baseline(task: str = "badd", minutes: float = 30.0, seed: int = 0, progress: bool = True
                   ) -> dict:
    """Train the table's LSTM + attention on operands of at most 20 digits and ship it."""

    model = LSTMBaseline(hidden=128, attention=True)
    history = train_baseline(model, task, max_digits=20, minutes=minutes, seed=seed,
                             progress=progress)
    acc20 = evaluate_baseline(model, task, 20, 256, seed=1)
    meta = {"seed": seed, "steps": len(history), "wall_seconds": history[-1]["seconds"],
            "max_train_digits": 20, "reached_digits": history[-1]["cur"],
            "accuracy": {"20": {"exact": acc20["exact"], "per_symbol": acc20["per_symbol"],
                                "samples": acc20["samples"]}},
            "recipe": {"hidden": 128, "attention": True, "minutes": minutes, "lr": 3e-3, "batch": 64}}
    return save_baseline(checkpoints.SHIPPED_DIR / f"lstm-{get_task(task).name}.pt", model, task, meta)
