"""The Neural GPU: a mental image `s` of shape `[w, n, m]` updated `n` times by `l` CGRUs.

Input symbol `i_k` is embedded (as `tanh(E[i_k])`) into row 0 of the image, one cell per input
position; every other cell starts at zero (with `input_layer="conv"`, as the 2016 code does, a
learned 1×1 "input" convolution with bias maps that row before the first step); after `n` steps
the logits at position `k` are `O · s_fin[0, k, :]`. Tensors
here are channels first, `[batch, m, w, n]`, the layout PyTorch's convolutions want, stored
channels-last in memory (faster convolutions on CPU; the values are the same).

Masking makes padding invisible: after every CGRU the state is zeroed beyond each example's own
length, and each example is read out after its own number of steps, so a batch mixing lengths gives
every example the answer it would get alone. Examples that have been read out leave the batch.

With parameter-sharing relaxation the model holds `relax_sets = r` copies of the CGRU parameters
(a leading dimension on each stacked tensor) and step `t` uses copy `t mod r`; see `relax.py`.
The copies start identical (`relax_init="shared"`) or, as in the 2016 code, each drawn on its own
(`relax_init="independent"`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data.tasks import N_SYMBOLS, PAD
from .cgru import cgru_masked, hard_tanh, init_cgru_

# a hook sees (step t, layer j, state after the layer, gates dict) for the first example
Hook = Callable[[int, int, torch.Tensor, dict], None]


@dataclass
class Config:
    """Everything needed to rebuild a model; stored in every checkpoint."""

    w: int = 4
    m: int = 24
    l: int = 2
    kernel: int = 3
    relax_sets: int = 1
    n_symbols: int = N_SYMBOLS
    cutoff: float = 1.2
    hard: bool = False  # improved Neural GPU: hard sigmoid / hard tanh
    diagonal: bool = False  # improved Neural GPU: diagonal gates
    init_scale: float = 1.8
    dropout_on: str = "state"  # "state": the paper's dropout on s; "candidate": the improved model's
    input_layer: str = "embed"  # "embed": tanh(E[i]); "linear": hard_tanh(E[i] + b), DNGPU's input;
    # "conv": tanh(E[i]) then a learned 1×1 convolution with bias, the 2016 code's "input" layer
    init: str = "unit"  # "unit": the 2016 code's unit scaling × init_scale; "glorot": DNGPU's
    saturation_limit: float = 1.0  # hard units: pre-activations past ±this cost (DNGPU: 0.9)
    target: str = "pad"  # answer format: "pad" (answer, then PAD) or "zeros" (zero digits to the
    # input's full length, as DNGPU trains multiplication)
    relax_init: str = "shared"  # relaxation sets start "shared" (identical copies) or
    # "independent" (each drawn on its own, as the 2016 code's separate variable scopes RX0..RX5)
    step_factor: float = 1.0  # an input of length n runs ceil(step_factor · n) steps; the paper
    # and DNGPU run n (1.0). Beyond the paper: a trained bmul model that runs out of steps on
    # long carries gets every product right with a few more (chapter 7)
    readout_dropout: bool = False  # True: in training the output reads the state after that
    # step's state dropout (the January 2016 code); False: before it (the June 2016 code)


# the most memory a model's weights may take (float32): far past any Neural GPU of the book (the
# largest shipped one has under 200,000 parameters), far below what takes a machine down
MAX_WEIGHT_BYTES = 10**9


def parameter_count(c: Config) -> int:
    """How many numbers a model of config `c` holds, counted from the config (nothing built)."""
    m, r, l, k = c.m, c.relax_sets, c.l, c.kernel
    kw = 1 if c.w == 1 else k
    count = c.n_symbols * m + m * c.n_symbols + c.n_symbols  # embedding, output weight and bias
    count += {"linear": m, "conv": m * m + m}.get(c.input_layer, 0)
    count += r * l * (3 * m * m * kw * k + 3 * m)  # gates (2m) and candidate (m), with biases
    return count


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:.0f} bytes"


def check_size(c: Config) -> None:
    """Refuse a config whose weights would pass `MAX_WEIGHT_BYTES`, with the estimate."""
    need = 4 * parameter_count(c)
    if need > MAX_WEIGHT_BYTES:
        raise ValueError(f"a Neural GPU with w={c.w}, m={c.m}, l={c.l}, kernel={c.kernel}, "
                         f"relax_sets={c.relax_sets} would hold {parameter_count(c):,} weights "
                         f"({_bytes(need)}, and training needs about 4 times that), past the limit "
                         f"of {_bytes(MAX_WEIGHT_BYTES)}; choose a smaller m, l, kernel or "
                         "relax_sets")


def model_name(config: Config | dict) -> str:
    """"Neural GPU (2016)" for the paper's architecture, "improved Neural GPU (2017)" for
    Freivalds & Liepins's (hard units or diagonal gates): the name every result is shown under."""
    c = config if isinstance(config, dict) else asdict(config)
    return "improved Neural GPU (2017)" if c.get("hard") or c.get("diagonal") else "Neural GPU (2016)"


class NeuralGPU(nn.Module):
    """`NeuralGPU(w=4, m=24, l=2, kernel=3, relax_sets=r)`: the paper's model."""

    def __init__(self, w: int = 4, m: int = 24, l: int = 2, kernel: int = 3,
                 relax_sets: int = 1, **extra):
        super().__init__()
        self.config = Config(w=w, m=m, l=l, kernel=kernel, relax_sets=relax_sets, **extra)
        c = self.config
        for name, value in (("w", w), ("m", m), ("l", l), ("kernel", kernel),
                            ("relax_sets", relax_sets), ("n_symbols", c.n_symbols)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
        if kernel % 2 != 1:
            raise ValueError("kernel must be odd so the image keeps its size")
        for name, value, allowed in (("dropout_on", c.dropout_on, ("state", "candidate")),
                                     ("input_layer", c.input_layer, ("embed", "linear", "conv")),
                                     ("init", c.init, ("unit", "glorot")),
                                     ("target", c.target, ("pad", "zeros")),
                                     ("relax_init", c.relax_init, ("shared", "independent"))):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
        if not (isinstance(c.step_factor, int | float) and not isinstance(c.step_factor, bool)
                and 1.0 <= c.step_factor <= 4.0):
            raise ValueError(f"step_factor must be a number from 1 to 4, not {c.step_factor!r}")
        for name in ("hard", "diagonal", "readout_dropout"):  # "yes" would be taken as True
            if not isinstance(getattr(c, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(c, name)!r}")
        for name in ("cutoff", "init_scale", "saturation_limit"):  # NaN gates predict only PAD
            value = getattr(c, name)
            if not (isinstance(value, int | float) and not isinstance(value, bool)
                    and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number above 0, not {value!r}")
        check_size(c)  # before any tensor is made: m = 10**9 would die in the allocator
        r = relax_sets
        kw = 1 if w == 1 else kernel  # a one-row image needs no taps above or below it
        self.embedding = nn.Parameter(torch.empty(c.n_symbols, m))
        if c.input_layer == "linear":
            self.input_bias = nn.Parameter(torch.empty(m))
        if c.input_layer == "conv":  # the 2016 code's 1×1 "input" convolution: [m_out, m_in] and bias
            self.input_weight = nn.Parameter(torch.empty(m, m))
            self.input_bias = nn.Parameter(torch.empty(m))
        self.gate_weight = nn.Parameter(torch.empty(r, l, 2 * m, m, kw, kernel))
        self.gate_bias = nn.Parameter(torch.empty(r, l, 2 * m))
        self.cand_weight = nn.Parameter(torch.empty(r, l, m, m, kw, kernel))
        self.cand_bias = nn.Parameter(torch.empty(r, l, m))
        self.output = nn.Linear(m, c.n_symbols)
        self.reset_parameters()
        self.saturation = torch.zeros(())  # hard units: saturation cost of the last forward with grads
        self.saturation_sum = torch.zeros(())  # the same, summed over every unit (DNGPU's form)

    # --- set-up -------------------------------------------------------------------------------
    def reset_parameters(self) -> None:
        """The reference code's initialisation; relaxation sets start identical (`relax_init=
        "shared"`) or each drawn on its own (`"independent"`, the 2016 code's).

        With `init="glorot"` (DNGPU's, TensorFlow's default) kernels are uniform in
        `±sqrt(6 / (fan_in + fan_out))` and the linear input layer is initialised the same way.
        The 1×1 input convolution (`input_layer="conv"`) gets the 2016 code's unit scaling
        `init_scale · sqrt(3 / m)` and a zero bias."""
        c = self.config
        m = c.m
        with torch.no_grad():
            if c.input_layer == "linear":
                nn.init.xavier_uniform_(self.embedding)  # a 1×1 convolution of one-hot inputs
                self.input_bias.zero_()
            else:
                self.embedding.uniform_(-1.7, 1.7)
            self.embedding[PAD].zero_()
            drawn = range(self.gate_weight.shape[0]) if c.relax_init == "independent" else (0,)
            for k in drawn:
                for j in range(c.l):
                    init_cgru_(self.gate_weight[k, j], self.gate_bias[k, j],
                               self.cand_weight[k, j], self.cand_bias[k, j], c.init_scale,
                               glorot=c.init == "glorot")
            if c.hard:  # the improved Neural GPU's gate biases: u = 0.85, r = 0.75 at the start
                self.gate_bias[:, :, :m].fill_(0.7)
                self.gate_bias[:, :, m:].fill_(0.5)
            if c.relax_init == "shared":
                for p in self.stacked_parameters():
                    p[1:] = p[0]
            if c.input_layer == "conv":
                bound = c.init_scale * (3.0 / m) ** 0.5
                self.input_weight.uniform_(-bound, bound)
                self.input_bias.zero_()
            if c.init == "glorot":
                nn.init.xavier_uniform_(self.output.weight)
            else:
                bound = c.init_scale * (3.0 / c.m) ** 0.5
                self.output.weight.uniform_(-bound, bound)
            self.output.bias.zero_()

    def stacked_parameters(self) -> list[nn.Parameter]:
        """The CGRU parameters, each with the relaxation sets as leading dimension."""
        return [self.gate_weight, self.gate_bias, self.cand_weight, self.cand_bias]

    def params_per_set(self) -> int:
        """CGRU parameters in one set (the paper counts 31,248 at m = 24, l = 2)."""
        return sum(p[0].numel() for p in self.stacked_parameters())

    @property
    def relax_sets(self) -> int:
        return self.gate_weight.shape[0]

    # --- forward ------------------------------------------------------------------------------
    def embed(self, x: torch.Tensor, dropout: float = 0.0) -> torch.Tensor:
        """Initial mental image `[B, m, w, n]`: `tanh(E[x])` in the first row (row 0), zeros elsewhere.

        With the 1×1 input convolution (`input_layer="conv"`, the 2016 code's) the first row
        is `W · tanh(E[x]) + b` instead; the bias reaches PAD cells too, and masking after the
        embedding (as in the 2016 code) zeroes those past each example's length.
        With the linear input layer: `hard_tanh(E[x] + b)`, dropped out at rate `dropout`
        (training only), its saturation cost kept in `self.input_saturation`."""
        B, n = x.shape
        if self.config.input_layer == "linear":
            pre = self.embedding[x] + self.input_bias
            if torch.is_grad_enabled() and self.config.hard:
                self.input_saturation = F.relu(pre.abs() - self.config.saturation_limit).sum()
            e = F.dropout(hard_tanh(pre), dropout, self.training) if dropout > 0 else hard_tanh(pre)
        else:
            e = torch.tanh(self.embedding[x])
        e = e * (x != PAD).unsqueeze(-1)  # PAD embeds to exactly 0
        if self.config.input_layer == "conv":  # a 1×1 convolution is a linear map of each cell
            e = F.linear(e, self.input_weight, self.input_bias)
        # channels-last memory ([B, w, n, m] in memory): oneDNN's convolutions run much faster on it
        s = e.new_zeros(B, self.config.w, n, self.config.m)
        s[:, 0] = e
        return s.permute(0, 3, 1, 2)

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        dropout: float = 0.0,
        hook: Hook | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits `[B, n, n_symbols]` for input symbols `x` `[B, n]`.

        `lengths` `[B]` gives each example's true length (default: all `n`); example `b` runs
        `lengths[b]` steps. `dropout` is applied to the state at every step in training mode.
        `hook(t, j, s, gates)` sees every layer's output for the first example (for the explorer).
        `mask` `[B, n]` (bool) replaces the positions kept alive, `position < length`: DNGPU runs
        every example of a bucket the bucket's length of steps and keeps alive the cells where
        input or target is not PAD, so a short example must hold its answer for extra steps.
        With `config.step_factor` f > 1 example `b` runs `steps_for(lengths[b])` = ceil(f · length)
        steps on the same cells (the cells past its length stay dead).
        """
        c = self.config
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a tensor of symbols [B, n], not {type(x).__name__} "
                            "(torch.tensor(...) makes one)")
        if lengths is not None and not isinstance(lengths, torch.Tensor):
            raise TypeError(f"lengths must be a tensor [B] of whole numbers or None, not "
                            f"{type(lengths).__name__} (torch.tensor(...) makes one)")
        if lengths is not None and (lengths.dtype.is_floating_point or lengths.dtype.is_complex
                                    or lengths.dtype == torch.bool):
            raise TypeError(f"lengths must hold whole numbers, not {lengths.dtype}")
        if mask is not None and not isinstance(mask, torch.Tensor):
            raise TypeError(f"mask must be a bool tensor [B, n] or None, not {type(mask).__name__}")
        if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"x must be a non-empty batch of symbols [B, n], not shape {tuple(x.shape)}")
        if x.dtype not in (torch.long, torch.int, torch.short, torch.uint8) or bool(
                ((x < 0) | (x >= c.n_symbols)).any()):  # -1 would index from the end
            raise ValueError(f"x must hold whole-number symbols from 0 to {c.n_symbols - 1}")
        B, n = x.shape
        device = x.device
        if lengths is None:
            lengths = torch.full((B,), n, dtype=torch.long, device=device)
        lengths = lengths.to(device)
        if lengths.shape != (B,) or bool((lengths < 1).any()) or bool((lengths > n).any()):
            raise ValueError(f"lengths must be [B] = [{B}] values between 1 and n = {n}")
        # longest first, so the examples still running are always a prefix of the batch
        order = torch.argsort(lengths, descending=True, stable=True)
        lens = lengths[order].tolist()
        width = lens[0]
        steps = [self.steps_for(v) for v in lens]  # per example, longest first like `lens`
        self.input_saturation = x.new_zeros((), dtype=torch.float32)
        drop_input = dropout if self.training and c.input_layer == "linear" \
            and c.dropout_on == "candidate" else 0.0
        s = self.embed(x[order, :width], drop_input)
        if mask is None:
            mask = (torch.arange(width, device=device)[None, :] < lengths[order][:, None])
        else:
            mask = mask.to(device)[order, :width]
        mask = mask.to(s.dtype)[:, None, None, :]
        s = s * mask
        r = self.relax_sets
        hard, diagonal = c.hard, c.diagonal
        # one view per (set, layer), made once: fewer Python-level ops and autograd nodes per step
        weights = [list(zip(*(p[k].unbind(0) for p in self.stacked_parameters()), strict=True))
                   for k in range(r)]
        saturation = s.new_zeros(())
        saturation_sum = s.new_zeros((), dtype=torch.float32)
        readouts: list[torch.Tensor] = []
        active = B
        want_saturation = hard and torch.is_grad_enabled()  # a training signal only: skip it otherwise
        want_gates = hook is not None or want_saturation
        drop_state = dropout if self.training and c.dropout_on == "state" else 0.0
        drop_cand = dropout if self.training and c.dropout_on == "candidate" else 0.0
        for t in range(steps[0]):
            if drop_state > 0:
                s = F.dropout(s, drop_state)
            k = t % r
            for j in range(c.l):
                gates: dict | None = {} if want_gates else None
                s = cgru_masked(s, mask, *weights[k][j], cutoff=c.cutoff, hard=hard,
                                diagonal=diagonal, gates=gates, dropout=drop_cand,
                                limit=c.saturation_limit)
                if want_saturation:
                    saturation = saturation + gates["saturation"]
                    saturation_sum = saturation_sum + gates["saturation_sum"]
                if hook is not None:
                    hook(t, j, s[:1], gates)
            still = active
            while still > 0 and steps[still - 1] <= t + 1:
                still -= 1
            if still < active:  # examples still..active-1 have run their steps: read them out
                done = s[still:active, :, 0, :]
                if drop_state > 0 and c.readout_dropout:
                    done = F.dropout(done, drop_state)
                readouts.append(done)
                s, mask, active = s[:still], mask[:still], still
            if active == 0:
                break
        self.saturation = saturation / max(1, width * c.l)
        # DNGPU weights its input layer's saturation by the length
        self.saturation_sum = saturation_sum + self.input_saturation * width
        final = torch.cat(readouts[::-1], dim=0)  # back to longest-first order
        logits = self.output(final.transpose(1, 2))  # [B, width, n_symbols]
        if width < n:
            logits = F.pad(logits, (0, 0, 0, n - width))  # zeros: argmax picks PAD
        out = torch.empty_like(logits)
        out[order] = logits
        return out

    def steps_for(self, length: int) -> int:
        """How many steps an input of `length` cells runs: `length` (the paper's rule), times
        `config.step_factor` rounded up."""
        f = self.config.step_factor
        return length if f == 1.0 else math.ceil(f * length - 1e-9)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Output symbols `[B, n]` (argmax of the logits), in eval mode, without gradients."""
        was_training = self.training
        self.eval()
        try:
            return self(x, lengths).argmax(-1)
        finally:
            self.train(was_training)

    def config_dict(self) -> dict:
        """The config as a plain dict, with the current number of relaxation sets."""
        d = asdict(self.config)
        d["relax_sets"] = self.relax_sets
        return d
