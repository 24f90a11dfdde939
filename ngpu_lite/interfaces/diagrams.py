"""Pictures of the architecture, drawn from the library's own objects (chapters 2, 3 and 5).

Every other figure in the book is a measurement; these are diagrams. Each function takes the
model, config or schedule it pictures and reads from it what it draws: the rows `w`, the channels
`m`, the layers `l`, the kernel size, the cutoff, the hard or diagonal variant, the relaxation
sets, the number of steps (`NeuralGPU.steps_for`), the masking rule and the pull schedule. A change
in the library changes the picture. The unrolled network is drawn from a real forward pass, the
relaxation sets from the model's real weights, the pull from `PullSchedule` itself.

    draw_mental_image(config, x)   the image s [w, n, m], the input embedded in row 0   chapter 2
    draw_cgru(config)              one CGRU's data flow: gates, candidate, the mix      chapter 2
    draw_unrolled(model, x, N)     s_0 … s_n, the padding masked, the read-out          chapter 3
    draw_relaxation(model, T)      step t uses set t mod r; the pull to the sets' mean  chapter 5
    draw_pull_schedule(schedule)   the pull over curriculum advances, both rules        chapter 5

The block diagrams are drawn in inches: one axes covers the whole figure and its data units are
inches, so a font size in points reads the same whatever the figure's size. Every figure is at
most `WIDTH` = 6.2 inches wide (704 pixels as `ngpu_lite.book.savefig` writes it, about the width
the web book shows), so no text, none under 9 points, is shrunk. Each part drawn carries a `gid`
(`"cell:h:k"`, `"image:t"`, `"step:t"`, `"set:i"`, …), which the tests read.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib import patches
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ..data.tasks import ADD_SEP, MUL_SEP, PAD
from ..model.cgru import CGRU
from ..model.neural_gpu import Config, NeuralGPU
from ..model.relax import PullSchedule, pull_cost

WIDTH = 6.2  # inches: 704 pixels at the book's 110 dpi, with savefig's margins; read at ~700 px
FONT = 10  # body text of a diagram, in points
SMALL = 9  # the smallest text drawn: labels under cells, notes
INPUT_COLOUR = "#f6c38b"  # row 0, where the input is embedded
MASK_COLOUR = "#d9d9d9"  # padding cells zeroed by the mask
LINE = "#333333"


# ---- shared pieces ----------------------------------------------------------------------------

def symbol_label(v: int) -> str:
    """How a symbol is written in a diagram: a digit (`v − 1`), `+`, `×`, or `PAD`."""
    if v == PAD:
        return "PAD"
    if v == ADD_SEP:
        return "+"
    if v == MUL_SEP:
        return "×"
    return str(v - 1)


def _config(model: NeuralGPU | Config) -> Config:
    """The `Config` of a model, or the config itself."""
    return model.config if isinstance(model, NeuralGPU) else model


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure `width × height` inches with one axes over all of it, in inches, axis off."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax: Axes, cx: float, cy: float, w: float, h: float, text: str, gid: str,
         face: str = "white", size: float = FONT) -> None:
    """A rounded box centred at (cx, cy) with `text` in it."""
    ax.add_patch(patches.FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                        boxstyle="round,pad=0,rounding_size=0.06", fc=face,
                                        ec=LINE, lw=1.1, gid=gid))
    ax.text(cx, cy, text, ha="center", va="center", fontsize=size, gid=f"{gid}:text")


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], gid: str | None = None,
           colour: str = LINE) -> None:
    """An arrow from `start` to `end` (inches)."""
    ax.add_patch(patches.FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11,
                                         lw=1.2, color=colour, shrinkA=0, shrinkB=0, gid=gid))


def _line(ax: Axes, xs: Sequence[float], ys: Sequence[float], colour: str = LINE) -> None:
    ax.plot(xs, ys, color=colour, lw=1.2, solid_capstyle="butt")


# ---- chapter 2: the mental image ------------------------------------------------------------

def draw_mental_image(model: NeuralGPU | Config, x: Sequence[int] | torch.Tensor) -> Figure:
    """The mental image `s` of shape `[w, n, m]` before the first step: `w` rows and `n` columns
    of cells (the input's length), each cell a vector of `m` channels drawn as depth. Row 0 holds
    the embedded input symbols `x` (written in their cells), every other cell starts at zero.

    `model` is a `NeuralGPU` or its `Config`; `w`, `m` and the input layer come from it, `n` from
    `len(x)`. Front cells carry the gid `"cell:h:k"`.
    """
    c = _config(model)
    symbols = [int(v) for v in x]
    n, w, m = len(symbols), c.w, c.m
    if n == 0:
        raise ValueError("x must hold at least one symbol")
    cell = min(0.38, (WIDTH - 3.07) / n)  # inches per cell
    dx, dy = 0.62, 0.46  # the m channels recede up and to the right
    x0, y0 = 1.0, 0.62  # lower left corner of the front face
    x1, y1 = x0 + n * cell, y0 + w * cell
    fig, ax = _canvas(WIDTH, y1 + dy + 0.75)

    # front face: one rectangle per cell; row 0 on top, as the array is printed
    for h in range(w):
        top = y1 - h * cell
        for k in range(n):
            embedded = h == 0 and symbols[k] != PAD
            ax.add_patch(patches.Rectangle((x0 + k * cell, top - cell), cell, cell, lw=0.9,
                                           ec=LINE, fc=INPUT_COLOUR if embedded else "white",
                                           gid=f"cell:{h}:{k}"))
            if h == 0:
                ax.text(x0 + (k + 0.5) * cell, top - cell / 2, symbol_label(symbols[k]),
                        ha="center", va="center", fontsize=FONT if cell >= 0.3 else SMALL,
                        gid=f"symbol:{k}")
            elif cell >= 0.3:
                ax.text(x0 + (k + 0.5) * cell, top - cell / 2, "0", ha="center", va="center",
                        fontsize=SMALL, color="#9a9a9a")
        ax.text(x0 - 0.1, top - cell / 2, f"row {h}", ha="right", va="center", fontsize=SMALL)
    # top face (row 0's channels, shaded like it) and side face (the last column's)
    ax.add_patch(patches.Polygon([(x0, y1), (x1, y1), (x1 + dx, y1 + dy), (x0 + dx, y1 + dy)],
                                 fc=INPUT_COLOUR, ec=LINE, lw=0.9, alpha=0.6))
    ax.add_patch(patches.Polygon([(x1, y0), (x1, y1), (x1 + dx, y1 + dy), (x1 + dx, y0 + dy)],
                                 fc="#f2f2f2", ec=LINE, lw=0.9))
    for k in range(1, n):
        _line(ax, [x0 + k * cell, x0 + k * cell + dx], [y1, y1 + dy], "#777777")
    for h in range(1, w):
        _line(ax, [x1, x1 + dx], [y1 - h * cell, y1 - h * cell + dy], "#777777")
    shown = min(m, 24)  # one line per channel (at most 24, so that they stay apart)
    for i in range(1, shown):
        f = i / shown
        ax.plot([x0 + f * dx, x1 + f * dx], [y1 + f * dy, y1 + f * dy], color="#999999", lw=0.4,
                gid=f"channel:{i}")
        ax.plot([x1 + f * dx, x1 + f * dx], [y0 + f * dy, y1 + f * dy], color="#999999", lw=0.4)

    # labels: positions k, the three sizes, what row 0 holds
    every = math.ceil(0.24 / cell)  # label every position while two digits fit under a cell
    for k in range(0, n, every):
        ax.text(x0 + (k + 0.5) * cell, y0 - 0.08, str(k), ha="center", va="top", fontsize=SMALL)
    ax.text((x0 + x1) / 2, y0 - 0.34, f"n = {n} columns: one per input symbol, position k",
            ha="center", va="top", fontsize=FONT, gid="label:n")
    ax.text(0.3, (y0 + y1) / 2, f"w = {w} rows", ha="center", va="center", rotation=90,
            fontsize=FONT, gid="label:w")
    ax.annotate(f"m = {m} channels:\neach cell holds\n{m} numbers", xy=(x1 + dx * 0.55, y1 + dy * 0.3),
                xytext=(x1 + dx + 0.2, y1 - 0.1), ha="left", va="top", fontsize=FONT, gid="label:m",
                arrowprops=dict(arrowstyle="-", color=LINE, lw=0.8))
    embedding = {"embed": "tanh(E[i_k])", "linear": "hard_tanh(E[i_k] + b)",
                 "conv": "W · tanh(E[i_k]) + b"}[c.input_layer]
    ax.text(0.05, y1 + dy + 0.35, f"the mental image s: w × n × m = {w} × {n} × {m}", ha="left",
            va="bottom", fontsize=FONT + 1)
    ax.text(0.05, y1 + dy + 0.1, f"shaded: input symbol i_k embedded in row 0 as {embedding}; "
            "every other cell starts at 0", ha="left", va="bottom", fontsize=SMALL)
    return fig


# ---- chapter 2: one CGRU --------------------------------------------------------------------

def _unit(model: NeuralGPU | Config | CGRU) -> tuple[int, int, float, bool, bool]:
    """(m, kernel, cutoff, hard, diagonal) of a model, a config or a single `CGRU`."""
    if isinstance(model, CGRU):
        m, _, _, k = model.cand_weight.shape
        return m, k, model.cutoff, False, False
    c = _config(model)
    return c.m, c.kernel, c.cutoff, c.hard, c.diagonal


def draw_cgru(model: NeuralGPU | Config | CGRU) -> Figure:
    """A CGRU's data flow as a block diagram: the state `s` feeds the update gate `u` and the
    reset gate `r` through their kernel banks, `r ⊙ s` feeds the candidate `c`, and the new state
    is `u ⊙ s + (1 − u) ⊙ c`.

    `model` is a `NeuralGPU`, its `Config` or one `CGRU`; the channels `m`, the kernel size, the
    cutoff and the improved model's hard units and diagonal gates are read from it.
    """
    m, k, cutoff, hard, diagonal = _unit(model)
    gate = "hσ" if hard else "σ′"
    squash = "htanh" if hard else "tanh"
    kept = "shift(s)" if diagonal else "s"
    fig, ax = _canvas(WIDTH, 3.55)
    y_u, y_r, y_bus = 2.95, 1.95, 1.0
    trunk, xg, xo, xc, xm = 0.65, 1.62, 2.6, 3.62, 5.18  # the trunk, the boxes' centres
    _box(ax, 0.34, y_r, 0.42, 0.5, "s", "box:s", face="#e8eef8", size=FONT + 2)
    ax.text(0.34, y_r - 0.33, "[m, w, n]", ha="center", va="top", fontsize=SMALL)
    _line(ax, [0.55, trunk], [y_r, y_r])
    _line(ax, [trunk, trunk], [y_bus, y_u])
    _box(ax, xg, y_u, 1.5, 0.62, f"update gate\nu = {gate}(U′ * s + B′)", "box:u")
    _box(ax, xg, y_r, 1.5, 0.62, f"reset gate\nr = {gate}(U″ * s + B″)", "box:r")
    _arrow(ax, (trunk, y_u), (xg - 0.75, y_u))
    _arrow(ax, (trunk, y_r), (xg - 0.75, y_r))
    # r ⊙ s, then the candidate
    ax.add_patch(patches.Circle((xo, y_r), 0.13, fc="white", ec=LINE, lw=1.1, gid="node:rs"))
    ax.text(xo, y_r, "⊙", ha="center", va="center", fontsize=FONT + 1)
    _arrow(ax, (xg + 0.75, y_r), (xo - 0.13, y_r))
    ax.text((xg + 0.75 + xo - 0.13) / 2, y_r + 0.06, "r", ha="center", va="bottom", fontsize=FONT)
    _line(ax, [trunk, xm], [y_bus, y_bus])  # s runs along the bottom to the mix
    _arrow(ax, (xo, y_bus), (xo, y_r - 0.13))
    ax.text(xo + 0.08, (y_bus + y_r) / 2, "s", ha="left", va="center", fontsize=FONT)
    _box(ax, xc, y_r, 1.5, 0.62, f"candidate c =\n{squash}(U * (r ⊙ s) + B)", "box:c", size=SMALL)
    _arrow(ax, (xo + 0.13, y_r), (xc - 0.75, y_r))
    # the mix: the new state
    _box(ax, xm, y_r, 1.2, 0.8, f"CGRU(s) =\nu ⊙ {kept}\n+ (1 − u) ⊙ c", "box:mix", face="#eef6e8")
    _arrow(ax, (xc + 0.75, y_r), (xm - 0.6, y_r))
    ax.text((xc + 0.75 + xm - 0.6) / 2, y_r + 0.06, "c", ha="center", va="bottom", fontsize=FONT)
    _line(ax, [xg + 0.75, xm], [y_u, y_u])
    _arrow(ax, (xm, y_u), (xm, y_r + 0.4))
    ax.text((xg + xm) / 2, y_u + 0.06, "u", ha="center", va="bottom", fontsize=FONT)
    _arrow(ax, (xm, y_bus), (xm, y_r - 0.4))
    ax.text(xm + 0.08, (y_bus + y_r - 0.4) / 2, kept, ha="left", va="center", fontsize=FONT)
    _arrow(ax, (xm + 0.6, y_r), (WIDTH - 0.05, y_r))
    # what each symbol is, read from the unit
    if hard:
        nonlin = "hσ(x) = clip(0.5x + 0.5, 0, 1), the hard sigmoid; htanh(x) = clip(x, −1, 1)"
    else:
        nonlin = (f"σ′(x) = clip({cutoff:g}σ(x) − {(cutoff - 1) / 2:g}, 0, 1), the sigmoid cutoff;"
                  " ⊙: cell by cell, channel by channel")
    notes = [f"* : a {k} × {k} convolution over the w × n grid; each bank U′, U″, U is",
             f"     [m, m, k, k] = [{m}, {m}, {k}, {k}] weights, with a bias of {m}",
             nonlin]
    if diagonal:
        notes.append("shift(s): a third of the channels moved one cell right, a third one cell left")
    for i, note in enumerate(notes):
        ax.text(0.05, 0.62 - 0.2 * i, note, ha="left", va="top", fontsize=SMALL, gid=f"note:{i}")
    ax.set_ylim(0.62 - 0.2 * len(notes) - 0.05, 3.55)
    fig.set_size_inches(WIDTH, 3.55 - (0.62 - 0.2 * len(notes) - 0.05))
    return fig


# ---- chapter 3: the unrolled network ----------------------------------------------------------

def _states(model: NeuralGPU, symbols: list[int], width: int) -> list[torch.Tensor]:
    """The example's image `[m, w, width]` before the first step and after every step, from the
    library's own `embed` and `forward` (through its `hook`), the example padded to `width` and
    the cells past its length masked as in a batch of that width. Eval mode, no gradients."""
    n = len(symbols)
    x = torch.tensor([symbols + [PAD] * (width - n)])
    alive = torch.arange(width)[None, :] < n  # the masking rule: position < the example's length
    kept: list[torch.Tensor] = []

    def keep(t: int, j: int, s: torch.Tensor, gates: dict) -> None:
        if j == model.config.l - 1:  # the image after the step's last layer
            kept.append(s[0].detach().clone())

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            first = model.embed(x) * alive.to(torch.float32)[:, None, None, :]
            # run it as the longest example of a batch `width` wide whose live cells are its own:
            # the same first steps as a padded example read out after its own steps
            model(x, torch.tensor([width]), mask=alive, hook=keep)
    finally:
        model.train(was_training)
    return [first[0], *kept[: model.steps_for(n)]]


def draw_unrolled(model: NeuralGPU, x: Sequence[int] | torch.Tensor, padded_to: int | None = None,
                  max_images: int = 6) -> Figure:
    """The Neural GPU unrolled on one example: its image `s_0` (the input embedded) and the image
    after each step `t` (`l` CGRUs, the mask after each), the padding cells past the example's
    length `n` zeroed, and the read-out of row 0 after the example's own `model.steps_for(n)`
    steps (`n` in the paper).

    `x` is the example's symbols without padding; `padded_to` is the width of the batch it sits
    in (default: its own length). The cells are coloured by the mean |s| over the `m` channels of
    a real forward pass of `model` (eval mode). With more than `max_images` images the middle ones
    are left out (a "⋮" stands for them). Images carry the gid `"image:t"`, the steps between them
    `"step:t"`, masked cells `"masked:t:h:k"` and live ones `"cell:t:h:k"`.
    """
    c = model.config
    symbols = [int(v) for v in x]
    n = len(symbols)
    width = padded_to or n
    if n == 0 or width < n:
        raise ValueError(f"need 1 <= len(x) <= padded_to, not {n} and {width}")
    if max_images < 4:
        raise ValueError("max_images must be at least 4")
    states = _states(model, symbols, width)
    steps = len(states) - 1
    shown = list(range(steps + 1))
    if len(shown) > max_images:
        shown = list(range(max_images - 2)) + [steps - 1, steps]
    values = [s.abs().mean(0) for s in states]  # [w, width]: mean |s| over the channels
    vmax = max(float(v.max()) for v in values) or 1.0
    norm, cmap = Normalize(0.0, vmax), plt.get_cmap("Blues")

    cw = min(0.3, 2.7 / width)  # cell width and height, inches
    ch = min(0.15, 0.75 / c.w)
    gh = c.w * ch  # an image's height
    gap, elide = 0.38, 0.42
    x0 = 1.0
    xr = x0 + width * cw  # right edge of the images
    heights = [gh + (elide if i + 1 < len(shown) and shown[i + 1] != t + 1 else gap)
               for i, t in enumerate(shown)]
    top_space, bottom_space = 1.05, 0.75
    total = top_space + sum(heights) - gap + bottom_space
    fig, ax = _canvas(WIDTH, total)
    r = model.relax_sets

    ax.text(0.05, total - 0.05, f"one example of length n = {n}"
            + (f" in a batch padded to {width}" if width > n else "") + f", {steps} steps",
            ha="left", va="top", fontsize=FONT + 1)
    ax.text(0.05, total - 0.3, f"w = {c.w} rows, l = {c.l} CGRU{'s' if c.l > 1 else ''} per step"
            + (f", r = {r} parameter sets" if r > 1 else ""), ha="left", va="top", fontsize=FONT)
    y = total - top_space  # top of the next image
    for k in range(width):
        ax.text(x0 + (k + 0.5) * cw, y + 0.05, symbol_label(symbols[k]) if k < n else "PAD",
                ha="center", va="bottom", fontsize=SMALL, rotation=90 if k >= n else 0)
    ax.text(x0 - 0.1, y + 0.05, "input", ha="right", va="bottom", fontsize=SMALL)
    for i, t in enumerate(shown):
        ax.add_patch(patches.Rectangle((x0, y - gh), width * cw, gh, fill=False, ec=LINE, lw=1.2,
                                       gid=f"image:{t}"))
        for h in range(c.w):
            for k in range(width):
                live = k < n
                ax.add_patch(patches.Rectangle(
                    (x0 + k * cw, y - (h + 1) * ch), cw, ch, lw=0.4, ec="#8c8c8c",
                    fc=cmap(norm(float(values[t][h, k]))) if live else MASK_COLOUR,
                    hatch=None if live else "////", gid=f"{'cell' if live else 'masked'}:{t}:{h}:{k}"))
        ax.text(x0 - 0.1, y - gh / 2, f"$s_{{{t}}}$" + ("\n(embedded)" if t == 0 else ""),
                ha="right", va="center", fontsize=FONT, gid=f"image:{t}:label")
        if t == steps:  # the read-out: row 0 of the live cells, after the example's own steps
            ax.add_patch(patches.Rectangle((x0, y - ch), n * cw, ch, fill=False, ec="#c0392b",
                                           lw=2.0, gid="readout"))
            rule = f"{n}" if steps == n else f"steps_for({n}) = {steps}"
            ax.annotate(f"row 0 read out after its own\n{rule} steps: logits at k < {n}:\n"
                        f"O · $s_{{{steps}}}$[0, k, :]", xy=(x0 + n * cw, y - ch / 2),
                        xytext=(xr + 0.3, y - gh / 2 - 0.1), ha="left", va="center", fontsize=FONT,
                        color="#c0392b", gid="label:readout",
                        arrowprops=dict(arrowstyle="-|>", color="#c0392b", lw=1.2))
        if t == 0 and width > n:
            ax.annotate(f"past length {n}: zeroed\nby the mask after every CGRU",
                        xy=(xr, y - gh / 2), xytext=(xr + 0.3, y - gh / 2), ha="left",
                        va="center", fontsize=SMALL, arrowprops=dict(arrowstyle="-", color=LINE, lw=0.8),
                        gid="label:mask")
        y -= gh
        if i + 1 == len(shown):
            break
        xa = x0 + n * cw / 2
        if shown[i + 1] == t + 1:
            _arrow(ax, (xa, y - 0.04), (xa, y - gap + 0.04), gid=f"step:{t}")
            layers = f"{c.l} CGRU{'s' if c.l > 1 else ''}"
            if r > 1:
                layers += f" with set {t % r} (t mod {r})"
            ax.text(xa + 0.12, y - gap / 2, f"step {t}: {layers}, mask after each",
                    ha="left", va="center", fontsize=SMALL, gid=f"step:{t}:text")
            y -= gap
        else:
            ax.text(xa, y - elide / 2, "⋮", ha="center", va="center", fontsize=FONT + 4, gid="elided")
            ax.text(xa + 0.15, y - elide / 2, f"steps {t} to {shown[i + 1] - 1}, the same way",
                    ha="left", va="center", fontsize=SMALL)
            y -= elide
    # colour scale under the last image
    bar = fig.add_axes((x0 / WIDTH, (y - 0.32) / total, min(width * cw, 2.4) / WIDTH, 0.09 / total))
    fig.colorbar(ScalarMappable(norm, cmap), cax=bar, orientation="horizontal")
    bar.tick_params(labelsize=SMALL, length=2, pad=1)
    bar.set_xlabel(f"mean |s| over the m = {c.m} channels", fontsize=SMALL, labelpad=2)
    return fig


# ---- chapter 5: relaxation ------------------------------------------------------------------

def draw_relaxation(model: NeuralGPU, steps: int | None = None) -> Figure:
    """Parameter-sharing relaxation on `model`'s own weights: above, the steps `t = 0 … T−1`
    (`T = steps`, default `2r`), each coloured by the set `t mod r` it uses; below, the `r` sets
    drawn at their true distance `‖p_i − p̄‖` from their mean `p̄` (all CGRU parameters of a set
    as one vector; the angles are only to spread them), with the pull's arrows to the mean and
    the pull cost `Σ_i ‖p_i − p̄‖²` that `pull_cost` gives.

    Steps carry the gid `"step:t"`, sets `"set:i"`.
    """
    r = model.relax_sets
    T = steps if steps is not None else 2 * r
    if T < 1:
        raise ValueError("steps must be at least 1")
    with torch.no_grad():
        sets = [torch.cat([p[i].flatten() for p in model.stacked_parameters()]) for i in range(r)]
        mean = torch.stack(sets).mean(0)
        dist = [float((p - mean).norm()) for p in sets]
        cost = float(pull_cost(model))
    if max(dist) <= 1e-6 * (float(mean.norm()) or 1.0):  # equal sets, up to rounding in the mean
        dist = [0.0] * r
    colours = [plt.get_cmap("tab10")(i % 10) for i in range(r)]
    fig, ax = _canvas(WIDTH, 4.6)

    # the steps and their sets
    ax.text(0.05, 4.5, f"step t uses parameter set t mod r (r = {r})", ha="left", va="top",
            fontsize=FONT + 1)
    bw = min(0.5, (WIDTH - 1.15) / T)
    for t in range(T):
        i = t % r
        xl = 1.1 + t * bw
        ax.add_patch(patches.Rectangle((xl, 3.35), bw * 0.92, 0.42, fc=colours[i], ec=LINE,
                                       lw=0.8, alpha=0.85, gid=f"step:{t}"))
        ax.text(xl + bw * 0.46, 3.56, str(i), ha="center", va="center", fontsize=FONT,
                color="white", fontweight="bold")
        if bw >= 0.3 or t % 2 == 0:
            ax.text(xl + bw * 0.46, 3.84, str(t), ha="center", va="bottom", fontsize=SMALL)
    ax.text(1.0, 3.86, "step t", ha="right", va="bottom", fontsize=SMALL)
    ax.text(1.0, 3.56, "set", ha="right", va="center", fontsize=SMALL)

    # the sets around their mean
    cx, cy, radius = 1.45, 1.45, 1.05
    far = max(dist)
    dev = r"\Vert p_i - \bar p\Vert"  # ‖p_i − p̄‖, in matplotlib's mathtext
    ax.text(0.05, 2.95, rf"the sets $p_i$ around their mean $\bar p$, each at its distance ${dev}$",
            ha="left", va="top", fontsize=FONT + 1)
    for i in range(r):
        angle = math.pi / 2 - 2 * math.pi * i / r
        rad = radius * dist[i] / far if far > 0 else 0.0
        px, py = cx + rad * math.cos(angle), cy + rad * math.sin(angle)
        if rad > 0.2:  # the pull's arrow, towards the mean
            tail = 0.12 / rad
            _arrow(ax, (px - (px - cx) * tail, py - (py - cy) * tail),
                   (cx + (px - cx) * 0.22, cy + (py - cy) * 0.22), colour=colours[i])
        ax.add_patch(patches.Circle((px, py), 0.07, fc=colours[i], ec=LINE, lw=0.6, gid=f"set:{i}"))
        if rad > 0:
            lx, ly = cx + (rad + 0.24) * math.cos(angle), cy + (rad + 0.2) * math.sin(angle)
            ax.text(lx, ly, f"$p_{{{i}}}$", ha="center", va="center", fontsize=FONT)
    ax.plot([cx], [cy], marker="x", color="black", ms=8, mew=2, gid="mean")
    ax.text(cx + 0.1, cy - 0.1, r"$\bar p$", ha="left", va="top", fontsize=FONT + 1)
    if far == 0:
        ax.text(cx, cy - 0.3, f"all {r} sets equal: at the mean", ha="center", va="top", fontsize=SMALL)
    lines = [("the pull cost, added to the loss:", FONT),
             (rf"pull $\cdot\ \Sigma_i\, {dev}^2$", FONT),
             (rf"here $\Sigma_i\, {dev}^2$ = " + (f"{cost:.4g}" if far > 0 else "0"), SMALL),
             ("(pull_cost of this model)", SMALL),
             ("", SMALL),
             (r"its gradient on set $i$: 2 $\cdot$ pull $\cdot\ (p_i - \bar p)$,", SMALL),
             ("so each step moves every set", SMALL),
             ("straight towards the mean (arrows)", SMALL),
             ("", SMALL),
             (rf"distances ${dev}$:", SMALL)]
    per_line = 3
    for s in range(0, r, per_line):
        lines.append(("   ".join(f"{i}: {dist[i]:.3g}" for i in range(s, min(r, s + per_line))), SMALL))
    yy = 2.55
    for text, size in lines:
        ax.text(3.05, yy, text, ha="left", va="top", fontsize=size)
        yy -= 0.21 if size == SMALL else 0.24
    if yy < 0.05:
        ax.set_ylim(yy - 0.05, 4.6)
        fig.set_size_inches(WIDTH, 4.65 - yy)
    return fig


# ---- chapter 5: the pull schedule ------------------------------------------------------------

def pull_curves(schedule: PullSchedule, advances: int | None = None) -> dict:
    """Both averaging rules run on copies of `schedule` (which is left as it is).

    `"merge"`: the library's default (`PullSchedule.advance`): the pull after each advance up to
    the one at which the sets are merged (`merged_at`, None if not within `advances`).
    `"assign"`: the 2016 code's (`PullSchedule.fitted`): the pull after each fitted epoch and the
    epochs at which every set is assigned the mean (`assigned`). Index 0 is the starting pull.
    """
    merge = dataclasses.replace(schedule)
    merge_pulls, merged_at = [merge.pull], None
    limit = advances if advances is not None else 200
    for k in range(1, limit + 1):
        done = merge.advance()
        merge_pulls.append(merge.pull)
        if done:
            merged_at = k
            break
    epochs = advances if advances is not None else (merged_at or 40) + 10
    assign = dataclasses.replace(schedule)
    assign_pulls, assigned = [assign.pull], []
    for e in range(1, epochs + 1):
        if assign.fitted():
            assigned.append(e)
        assign_pulls.append(assign.pull)
    return {"merge": merge_pulls, "merged_at": merged_at, "assign": assign_pulls,
            "assigned": assigned}


def draw_pull_schedule(schedule: PullSchedule | None = None, advances: int | None = None) -> Figure:
    """The relaxation pull over curriculum advances (fitted epochs) under both of the library's
    rules, computed by `PullSchedule` from `schedule` (default: `PullSchedule()`, the 2016 code's
    numbers 0.0005, × 1.2, limit 0.1): above, the library's default (`advance`, then the sets
    merged once, `relax_average="merge"`); below, the 2016 code's (`fitted`, then every set
    assigned the mean at each fitted epoch, `relax_average="assign"`, the `paper` preset).

    The merge is marked with the gid `"merge"`, the assignments with `"assign"`.
    """
    schedule = schedule or PullSchedule()
    curves = pull_curves(schedule, advances)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH, 4.6), sharex=True, layout="constrained")
    merge, merged_at = curves["merge"], curves["merged_at"]
    top.semilogy(range(len(merge)), merge, "o-", ms=3, color="C0", label="pull after each advance")
    if merged_at is not None:
        top.plot([merged_at], [merge[merged_at]], "*", ms=14, color="C3", gid="merge",
                 label=f"advance {merged_at}: the sets merged into one")
    top.set_title('library default: PullSchedule.advance, relax_average="merge"', fontsize=FONT)
    assign = curves["assign"]
    bottom.semilogy(range(len(assign)), assign, "o-", ms=3, color="C1",
                    label=f"pull after each fitted epoch (stays at {assign[-1]:.3g})")
    if curves["assigned"]:
        first = curves["assigned"][0]
        bottom.plot(curves["assigned"], [assign[e] for e in curves["assigned"]], "v", ms=7,
                    color="C3", gid="assign", label=f"from epoch {first} on: every set assigned the mean")
    bottom.set_title('the 2016 code\'s: PullSchedule.fitted, relax_average="assign" (paper preset)',
                     fontsize=FONT)
    bottom.set_xlabel("curriculum advances (fitted epochs)", fontsize=FONT)
    for ax in (top, bottom):
        ax.axhline(schedule.limit, color="k", ls=":", lw=1, label=f"limit {schedule.limit:g}")
        ax.set_ylabel("pull", fontsize=FONT)
        ax.tick_params(labelsize=SMALL)
        ax.legend(fontsize=SMALL, loc="lower right")
        ax.grid(alpha=0.3)
        ax.set_ylim(top=max(max(merge), max(assign), schedule.limit) * 2.5)
    fig.suptitle(f"the pull: {schedule.pull:g} at the start, × {schedule.factor:g} per advance, "
                 f"limit {schedule.limit:g}",
                 fontsize=FONT + 1)
    return fig
