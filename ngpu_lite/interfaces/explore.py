"""The state explorer: watch the Neural GPU compute, step by step.

`trace(model, task, a, b)` runs the model once on one input and keeps, for every step `t` and layer
`j`, the mental image `s` `[m, w, n]`, the gates `u` and `r`, and the output read out from the
image after each step. Every view is a plain function of a `Trace` (`plot_step`, `plot_timeline`,
`plot_progress`), so chapters and tests use them without widgets; `Explorer` puts them behind
ipywidgets, redrawing from the stored trace (the model runs once per input, not once per frame).
"""

from __future__ import annotations

import html
import io
import random
from dataclasses import dataclass, field

import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .. import book
from ..data.tasks import PAD, TASKS, TaskError, decode, encode_text, get_task, random_operands
from ..model.checkpoints import SHIPPED_DIR, CheckpointError, pretrained, split_name
from ..model.neural_gpu import NeuralGPU, model_name
from ..training import train

MAX_DIGITS = 200  # longest operand the explorer accepts: a 401-step trace is ~190 MB in float16
VIEWS = {"pca": "state, 2-D projection", "state": "state channels",
         "u": "update gate u", "r": "reset gate r"}
_BUTTONS = {"pca": "state (2-D)", "state": "channels", "u": "gate u", "r": "gate r"}


# --- models: shipped, or trained here -------------------------------------------------------------

_TRAINED: dict[str, tuple[NeuralGPU, str]] = {}


def shipped_tasks() -> list[str]:
    """The shipped Neural GPU checkpoints by name, for the explorer's model list: `badd` (the
    improved model) and `badd-paper` (the paper's 2016 model) where shipped. The LSTM baseline
    is not a Neural GPU: it has no mental image to show."""
    if not SHIPPED_DIR.exists():
        return []
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.pt") if split_name(p.stem)[0] in TASKS)


def task_label(task: str, model: NeuralGPU | None = None) -> str:
    """The explorer's name for a shipped model ("badd" or "badd-paper"): "badd: improved Neural
    GPU (2017)" (from `model`, else the shipped manifest; the bare name when neither says)."""
    import json

    name = split_name(task)[0]
    if model is not None:
        return f"{name}: {model_name(model.config)}"
    path = SHIPPED_DIR / f"{task}.json"
    config = json.loads(path.read_text()).get("config") if path.exists() else None
    return f"{name}: {model_name(config)}" if config else task


def fallback_recipe(task: str) -> dict:
    """Keyword arguments of `train` for a small model that trains in seconds (fast mode) or
    about 1.5 minutes on a laptop CPU (default), used when no checkpoint is shipped: operands of
    up to 4 digits, a length such a short run can learn."""
    return dict(preset="tiny", seed=0, max_digits=4,
                steps=book.pick(120, 20_000), minutes=book.pick(0.5, 1.5),
                until=book.pick(None, (20, 32)))


def load_or_train(task: str, retrain: bool = False, progress: bool = False) -> tuple[NeuralGPU, str]:
    """The shipped model for `task`, else (or with `retrain`) a small one trained now (cached).
    `task` may name the paper's model ("badd-paper"): that one is loaded, never trained here.

    Returns the model (eval mode, CPU) and one line saying where it came from.
    """

    base, family = split_name(task)
    name = get_task(base).name
    if family != "improved":
        return pretrained(name, device="cpu", model=family), f"shipped checkpoint {task}.pt"
    if not retrain:
        try:
            return pretrained(name, device="cpu"), f"shipped checkpoint {name}.pt"
        except CheckpointError:
            pass
        if name in _TRAINED:
            return _TRAINED[name]
    recipe = fallback_recipe(name)
    res = train(name, progress=progress, **recipe)
    note = (f"no shipped checkpoint for {name}: trained here, preset {recipe['preset']}, "
            f"{res.steps} steps, {res.seconds:.0f} s, stopped by {res.stopped}")
    _TRAINED[name] = (res.model.cpu().eval(), note)
    return _TRAINED[name]


# --- the trace ------------------------------------------------------------------------------------

@dataclass
class Trace:
    """One input run through the model, every step and layer kept.

    `s`, `u`, `r` are `[steps, l, m, w, n]`; `outputs[t]` `[n]` are the symbols read out from the
    image after step `t + 1` (so `outputs[-1]` is the model's answer); `x`, `y` the input and target.
    """

    task: str
    x: list[int]
    y: list[int]
    s: torch.Tensor
    u: torch.Tensor
    r: torch.Tensor
    outputs: torch.Tensor
    target: str = "pad"  # the model's answer format (see `tasks.encode`)
    _pca: torch.Tensor | None = field(default=None, repr=False)  # cached by `view_image`

    @property
    def n(self) -> int:
        return len(self.x)

    @property
    def steps(self) -> int:
        return self.s.shape[0]

    @property
    def layers(self) -> int:
        return self.s.shape[1]

    def correct(self) -> np.ndarray:
        """`[steps, n]` booleans: output symbol `k` equals the target after step `t + 1`."""
        return (self.outputs == torch.tensor(self.y)[None, :]).numpy()

    def n_correct(self) -> np.ndarray:
        """`[steps]`: how many of the `n` output symbols are right after each step."""
        return self.correct().sum(axis=1)

    def answer(self) -> str:
        """The true answer as people write it."""
        return decode(self.task, self.y, self.target)

    def decoded(self, t: int) -> str:
        """The answer read out after step `t` (1-based, `1..steps`)."""
        return decode(self.task, self.outputs[t - 1].tolist(), self.target)

    def settle_steps(self) -> np.ndarray:
        """`[n]`: for each position, the first step (1-based) after which its symbol stays right;
        -1 where it is wrong after the last step."""
        ok = self.correct()
        stays = np.flip(np.logical_and.accumulate(np.flip(ok, 0), axis=0), 0)  # right from t on
        first = np.argmax(stays, axis=0) + 1
        return np.where(stays[-1], first, -1)


def operand_text(value: int | str, base: int) -> str:
    """An operand as typed text (most-significant digit first); ints are written in `base`."""
    if isinstance(value, str):
        return value
    if value < 0:
        raise TaskError("operands must be non-negative")
    digits = []
    while True:
        value, d = divmod(value, base)
        digits.append(str(d))
        if value == 0:
            return "".join(reversed(digits))


@torch.no_grad()
def trace(model: NeuralGPU, task: str, a: int | str, b: int | str | None = None,
          dtype: torch.dtype = torch.float16) -> Trace:
    """Run `model` once on `a` (and `b`), typed as people write numbers, keeping every state.

    Bad operands (a digit outside the base, empty, longer than `MAX_DIGITS`) raise `TaskError`.
    States and gates are stored in `dtype` (half precision keeps a 200-bit trace small); the
    read-outs are computed in full precision, so `outputs[-1]` is exactly `model.predict`.
    """
    t_ = get_task(task)
    a = operand_text(a, t_.base)
    b = operand_text(b, t_.base) if b is not None else None
    for name, v in (("first", a), ("second", b)):
        if v is not None and len(v.strip()) > MAX_DIGITS:
            raise TaskError(f"the {name} operand has {len(v.strip())} digits; the explorer takes "
                            f"at most {MAX_DIGITS}")
    x, y = encode_text(t_, a, b, target=model.config.target)
    dev = next(model.parameters()).device
    n, c = len(x), model.config
    steps = model.steps_for(n)  # n, or more with a step_factor
    s_all = torch.empty(steps, c.l, c.m, c.w, n, dtype=dtype)
    u_all, r_all = torch.empty_like(s_all), torch.empty_like(s_all)
    outputs = torch.empty(steps, n, dtype=torch.long)

    def hook(t: int, j: int, s: torch.Tensor, gates: dict) -> None:
        s_all[t, j] = s[0].to("cpu", dtype)
        u_all[t, j] = gates["u"][0].to("cpu", dtype)
        r_all[t, j] = gates["r"][0].to("cpu", dtype)
        if j == c.l - 1:
            outputs[t] = model.output(s[0, :, 0, :].T).argmax(-1).cpu()

    was_training = model.training
    model.eval()
    try:
        model(torch.tensor([x], device=dev), hook=hook)
    finally:
        model.train(was_training)
    return Trace(t_.name, x, y, s_all, u_all, r_all, outputs, model.config.target)


def random_example(task: str, digits: int, rng: random.Random) -> tuple[str, str | None]:
    """Random operands of `digits` digits, as typed text (most-significant digit first)."""
    t = get_task(task)
    a, b = random_operands(t, digits, rng)
    text = ("".join(str(d) for d in reversed(a)) if t.numeric else "".join(str(d) for d in a))
    return text, ("".join(str(d) for d in reversed(b)) if b is not None else None)


# --- views as arrays ------------------------------------------------------------------------------

def _pca_basis(tr: Trace) -> torch.Tensor:
    """`[m, 2]`: the top two principal directions of the trace's cell states (all steps, layers)."""
    if tr._pca is not None:
        return tr._pca
    m = tr.s.shape[2]
    cov = torch.zeros(m, m, dtype=torch.float64)
    for t in range(tr.steps):  # chunked, so a 200-bit trace never needs a float32 copy
        v = tr.s[t].permute(0, 2, 3, 1).reshape(-1, m).double()
        cov += v.T @ v
    _, vecs = torch.linalg.eigh(cov)
    basis = vecs[:, [-1, -2]].float()
    basis *= torch.where(basis.sum(0) < 0, -1.0, 1.0)  # a fixed sign, so figures do not flip
    tr._pca = basis
    return basis


def view_image(tr: Trace, t: int, layer: int = -1, view: str = "pca") -> np.ndarray:
    """The picture of one view after step `t` (1-based) and `layer`: `[rows, n]`.

    Rows come grouped by the image's `w` rows: `m` channels each (`state`, `u`, `r`) or the two
    principal components of the channels (`pca`).
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of: {', '.join(VIEWS)}")
    if not 1 <= t <= tr.steps:
        raise ValueError(f"step {t} is outside 1..{tr.steps}")
    src = {"pca": tr.s, "state": tr.s, "u": tr.u, "r": tr.r}[view][t - 1, layer].float()  # [m, w, n]
    if view == "pca":
        src = torch.einsum("mwn,mk->kwn", src, _pca_basis(tr))
    return src.permute(1, 0, 2).reshape(-1, tr.n).numpy()  # [w * channels, n]


def timeline(tr: Trace, view: str = "u", layer: int = -1) -> np.ndarray:
    """`[steps, n]` space-time picture: `correct` output symbols, the mean gate `u` or `r` per cell,
    or `change`, the mean |s_t − s_(t−1)| per position (where the image is being rewritten)."""
    if view == "correct":
        return tr.correct().astype(float)
    if view in ("u", "r"):
        g = tr.u if view == "u" else tr.r
        return g[:, layer].float().mean(dim=(1, 2)).numpy()
    if view == "change":
        s = tr.s[:, layer].float()
        prev = torch.cat([torch.zeros_like(s[:1]), s[:-1]])
        return (s - prev).abs().mean(dim=(1, 2)).numpy()
    raise ValueError(f"unknown timeline view {view!r}; choose correct, u, r or change")


# --- figures --------------------------------------------------------------------------------------

_RIGHT_WRONG = ListedColormap(["#d62728", "#e8e8e8", "#2ca02c"])  # wrong, PAD right, digit right


def _strip(tr: Trace, t: int) -> np.ndarray:
    """`[1, n]`: 0 wrong, 1 right and PAD, 2 right digit, for the output strip."""
    out = tr.outputs[t - 1].numpy()
    y = np.array(tr.y)
    code = np.where(out == y, np.where(y == PAD, 1, 2), 0)
    return code[None, :]


class StepFigure:
    """The three-panel picture of one step, built once and updated in place (fast redraws)."""

    def __init__(self, tr: Trace, t: int | None = None, layer: int = -1, view: str = "pca",
                 width: float = 9.0):
        self.tr = tr
        self.fig = Figure(figsize=(width, 5.2), layout="constrained")
        gs = self.fig.add_gridspec(3, 1, height_ratios=[4, 0.6, 1.6])
        self.ax_img, self.ax_out, self.ax_cor = (self.fig.add_subplot(g) for g in gs)
        self.im = self.ax_img.imshow(np.zeros((1, tr.n)), aspect="auto", interpolation="nearest")
        self.fig.colorbar(self.im, ax=self.ax_img, fraction=0.03, pad=0.01)
        self.out = self.ax_out.imshow(_strip(tr, tr.steps), cmap=_RIGHT_WRONG, vmin=0, vmax=2,
                                      aspect="auto", interpolation="nearest")
        self.ax_out.set_yticks([])
        self.ax_out.set_xlabel("position k (least-significant digit first)")
        self.labels = []
        if tr.n <= 48:
            self.labels = [self.ax_out.text(k, 0, "", ha="center", va="center", fontsize=8)
                           for k in range(tr.n)]
        steps = np.arange(1, tr.steps + 1)
        self.ax_cor.plot(steps, tr.n_correct(), color="#1f77b4", lw=1.5)
        self.ax_cor.axhline(tr.n, color="grey", ls=":", lw=1)
        self.ax_cor.set_xlim(0.5, tr.steps + 0.5)
        self.ax_cor.set_ylim(0, tr.n * 1.08)
        self.ax_cor.set_xlabel("step t")
        self.ax_cor.set_ylabel("right symbols")
        self.marker = self.ax_cor.axvline(1, color="#d62728", lw=1.5)
        self.update(tr.steps if t is None else t, layer, view)

    def update(self, t: int, layer: int = -1, view: str = "pca") -> Figure:
        """Redraw for step `t` (1-based), `layer` and `view`, reusing every artist."""
        tr = self.tr
        img = view_image(tr, t, layer, view)
        self.im.set_data(img)
        self.im.set_extent((-0.5, tr.n - 0.5, img.shape[0] - 0.5, -0.5))
        if view in ("u", "r"):
            self.im.set_cmap("viridis")
            self.im.set_clim(0, 1)
        else:
            lim = (float(np.abs(img).max()) or 1.0) if view == "pca" else 1.0
            self.im.set_cmap("RdBu_r")
            self.im.set_clim(-lim, lim)
        rows = img.shape[0] // tr.s.shape[3]
        w = tr.s.shape[3]
        ticks, names = state_ticks(w, rows, view)
        self.ax_img.set_yticks(ticks, names, fontsize=8 if len(ticks) <= 8 else 6)
        for line in list(self.ax_img.lines):
            line.remove()
        for g in range(1, w):
            self.ax_img.axhline(g * rows - 0.5, color="black", lw=0.8)
        self.ax_img.set_xticks([])
        self.ax_img.set_xlabel("position k (one column per cell of the input)", fontsize=8)
        self.ax_img.set_ylabel("image row · " + ("component" if view == "pca" else "channel"),
                               fontsize=8)
        j = layer % tr.layers
        self.ax_img.set_title(f"{tr.task}: {VIEWS[view]} after step {t} of {tr.steps}, "
                              f"layer {j + 1} of {tr.layers}", fontsize=10)
        self.out.set_data(_strip(tr, t))
        out = tr.outputs[t - 1].tolist()
        for k, label in enumerate(self.labels):
            label.set_text(str(out[k] - 1) if 1 <= out[k] <= get_task(tr.task).base else "·")
        self.marker.set_xdata([t, t])
        return self.fig

    def png(self, dpi: int = 80) -> bytes:
        """The figure as PNG bytes (what the widget shows)."""
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()


def state_ticks(w: int, rows: int, view: str) -> tuple[list[float], list[str]]:
    """Y ticks of the state view: one per band, named by its image row and what the band is (the
    first or second principal component, or a channel; channels are labelled sparsely)."""
    ticks, names = [], []
    for g in range(w):
        for c in range(rows):
            if view == "pca":
                names.append(f"row {g}, PC{c + 1}")
            elif rows <= 8 or c % max(1, rows // 4) == 0:
                names.append(f"row {g}, ch {c}")
            else:
                continue
            ticks.append(g * rows + c)
    return ticks, names


def plot_step(tr: Trace, t: int | None = None, layer: int = -1, view: str = "pca") -> Figure:
    """Figure of step `t` (default: the last): the chosen view of the image, the output read out
    then (green right, red wrong) and the number of right symbols step by step."""
    return StepFigure(tr, t, layer, view).fig


def plot_progress(traces: dict[str, Trace]) -> Figure:
    """Share of right output symbols after each step, one line per named trace."""
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for label, tr in traces.items():
        ax.plot(np.arange(1, tr.steps + 1) / tr.steps, tr.n_correct() / tr.n, label=label)
    ax.set_xlabel("step t / n")
    ax.set_ylabel("share of right symbols")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    return fig


def plot_timeline(tr: Trace, views: tuple[str, ...] = ("correct", "u", "change"),
                  layer: int = -1) -> Figure:
    """Space-time pictures (`timeline`): position on x, step on y, one panel per view."""
    titles = {"correct": "output symbol right (yellow) / wrong", "u": "mean update gate u",
              "r": "mean reset gate r", "change": "mean |s_t - s_(t-1)|"}
    fig = Figure(figsize=(3.6 * len(views), 3.6), layout="constrained")
    for i, v in enumerate(views):
        ax = fig.add_subplot(1, len(views), i + 1)
        im = ax.imshow(timeline(tr, v, layer), aspect="auto", interpolation="nearest",
                       cmap="viridis", origin="upper",
                       extent=(-0.5, tr.n - 0.5, tr.steps + 0.5, 0.5))
        if v != "correct":
            fig.colorbar(im, ax=ax, fraction=0.05)
        ax.set_title(titles[v], fontsize=9)
        ax.set_xlabel("position k")
        if i == 0:
            ax.set_ylabel("step t")
    return fig


# --- the widget -----------------------------------------------------------------------------------

def _answer_html(tr: Trace, t: int) -> str:
    """The answer read out after step `t`, digits coloured right/wrong against the true answer."""
    base = get_task(tr.task).base
    out, y = tr.outputs[t - 1].tolist(), tr.y
    cells = []
    for k in range(tr.n):  # positions, least significant first
        if y[k] == PAD and out[k] == PAD:
            continue
        ch = str(out[k] - 1) if 1 <= out[k] <= base else "·"
        color = "#2ca02c" if out[k] == y[k] else "#d62728"
        cells.append(f'<span style="color:{color}">{ch}</span>')
    if get_task(tr.task).numeric:
        cells.reverse()
    ok = int(tr.n_correct()[t - 1])
    return (f'<div class="ngpu-answer"><b>step <span class="ngpu-step-label">{t}</span> of '
            f'{tr.steps}</b>: read-out <code>{"".join(cells) or "·"}</code>'
            f' (decoded <code class="ngpu-decoded">{html.escape(tr.decoded(t)) or "∅"}</code>),'
            f' true answer <code>{html.escape(tr.answer())}</code>; {ok}/{tr.n} symbols right</div>')


class Explorer:
    """ipywidgets explorer: type operands (or draw random ones), step through the mental image.

    `models` maps task names to models; a task missing from it is loaded (or trained) on first use
    with `load_or_train`. Display it in a notebook by putting it last in a cell.
    """

    def __init__(self, models: dict[str, NeuralGPU] | None = None, tasks: list[str] | None = None,
                 a: str = "1011", b: str | None = "110", seed: int = 0):
        import ipywidgets as W

        self.models = dict(models or {})
        tasks = tasks or list(self.models) or shipped_tasks() or ["badd"]
        self.rng = random.Random(seed)
        self.trace: Trace | None = None
        self.figure: StepFigure | None = None
        self._busy = False
        self.task = W.Dropdown(options=[(task_label(t, self.models.get(t)), t) for t in tasks],
                               value=tasks[0], description="model")
        self.a = W.Text(value=a, description="a", continuous_update=False)
        self.b = W.Text(value=b or "", description="b", continuous_update=False)
        self.run_button = W.Button(description="run", button_style="primary")
        self.digits = W.IntSlider(value=8, min=1, max=MAX_DIGITS, description="digits")
        self.random_button = W.Button(description="random example")
        self.message = W.HTML("")
        self.step = W.IntSlider(value=1, min=1, max=1, description="step t")
        self.play = W.Play(value=1, min=1, max=1, interval=500, description="play")
        W.jslink((self.play, "value"), (self.step, "value"))
        self.layer = W.Dropdown(options=[("last", -1)], value=-1, description="layer")
        self.view = W.ToggleButtons(options=[(v, k) for k, v in _BUTTONS.items()], value="pca",
                                   tooltips=list(VIEWS.values()))
        self.image = W.Image(format="png")
        self.answer = W.HTML("")
        for w, cls in ((self.step, "ngpu-step"), (self.image, "ngpu-image"), (self.a, "ngpu-a"),
                       (self.b, "ngpu-b"), (self.message, "ngpu-message"),
                       (self.answer, "ngpu-answer-box"), (self.run_button, "ngpu-run"),
                       (self.random_button, "ngpu-random")):
            w.add_class(cls)
        self.run_button.on_click(lambda _: self.run())
        self.random_button.on_click(lambda _: self.random())
        self.task.observe(lambda _: self.run(), "value")
        for w in (self.a, self.b):
            w.observe(lambda _: None if self._busy else self.run(), "value")
        for w in (self.step, self.layer, self.view):
            w.observe(lambda _: self.draw(), "value")
        self.widget = W.VBox([
            W.HBox([self.task, self.a, self.b, self.run_button]),
            W.HBox([self.random_button, self.digits]),
            self.message,
            W.HBox([self.play, self.step, self.layer]),
            self.view, self.answer, self.image,
        ])
        self.widget.add_class("ngpu-explorer")
        self.run()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def model(self, task: str) -> NeuralGPU:
        if task not in self.models:
            self.models[task] = load_or_train(task)[0]
        return self.models[task]

    def run(self) -> None:
        """Trace the typed operands (once); a bad operand shows a message, never a traceback."""
        task = get_task(split_name(self.task.value)[0])
        self.b.disabled = task.operands == 1
        try:
            b = self.b.value if task.operands == 2 else None
            tr = trace(self.model(self.task.value), task.name, self.a.value, b)
        except TaskError as e:
            self.message.value = f'<span style="color:#d62728">⚠ {html.escape(str(e))}</span>'
            return
        self.message.value = ""
        self.trace = tr
        self.figure = StepFigure(tr)
        self._busy = True
        try:  # widen the range before moving the value, so the slider never clamps it
            self.layer.options = [(f"layer {j + 1}", j) for j in range(tr.layers)]
            self.layer.value = tr.layers - 1
            for w in (self.step, self.play):
                w.max = max(w.max, tr.steps)
                w.value = tr.steps
                w.max = tr.steps
        finally:
            self._busy = False
        self.draw()

    def random(self) -> None:
        """Fill in random operands of the chosen length and run them."""
        a, b = random_example(split_name(self.task.value)[0], self.digits.value, self.rng)
        self._busy = True
        try:
            self.a.value, self.b.value = a, b or ""
        finally:
            self._busy = False
        self.run()

    def draw(self) -> None:
        """Redraw from the stored trace: no model run."""
        if self._busy or self.trace is None:
            return
        t = min(max(self.step.value, 1), self.trace.steps)
        self.figure.update(t, self.layer.value, self.view.value)
        self.image.value = self.figure.png()
        self.answer.value = _answer_html(self.trace, t)


def explorer(models: dict[str, NeuralGPU] | None = None, **kwargs) -> Explorer:
    """An `Explorer` over the shipped tasks (or `models`); put it last in a notebook cell."""
    return Explorer(models, **kwargs)
