"""The architecture diagrams of chapters 2, 3 and 5 follow the model, config or schedule they are
given: rows, columns, channels, layers, steps, masking, relaxation sets and the pull all come from
the library, so a picture cannot go on showing the paper's numbers for a model that has others.
And every diagram reads at the book's width: no text under 9 points, none over another, none cut
off."""

from __future__ import annotations

import dataclasses
import math

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.text import Text

from ngpu_lite import CGRU, NeuralGPU, PullSchedule, encode_text, pull_cost
from ngpu_lite.interfaces import diagrams
from ngpu_lite.model import Config


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def gids(fig, prefix: str) -> list[str]:
    """The gids of every artist of `fig` that starts with `prefix` (e.g. "cell:")."""
    return [a.get_gid() for a in fig.findobj(lambda a: str(a.get_gid() or "").startswith(prefix))]


def by_gid(fig, gid: str):
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert len(found) == 1, (gid, found)
    return found[0]


def words(fig) -> str:
    """Every visible text of `fig`, joined."""
    return "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_visible())


def model(**kw) -> NeuralGPU:
    torch.manual_seed(0)
    return NeuralGPU(**{"w": 3, "m": 8, **kw})


ADD = encode_text("badd", "10", "11")[0]  # 5 symbols: 0 1 + 1 1 (lowest bit first)


# ---- the mental image ------------------------------------------------------------------------

def test_mental_image_draws_w_rows_and_n_columns_with_the_input_in_row_0():
    """Catches a picture with a fixed number of rows or columns (the paper's w = 4 whatever the
    model), or the input drawn in a row other than 0."""
    for w in (4, 2):
        fig = diagrams.draw_mental_image(Config(w=w, m=24), ADD)
        cells = [g.split(":") for g in gids(fig, "cell:")]
        assert {int(h) for _, h, _ in cells} == set(range(w))
        assert {int(k) for _, _, k in cells} == set(range(len(ADD)))
        shaded = {(int(h), int(k)) for _, h, k in cells
                  if by_gid(fig, f"cell:{h}:{k}").get_facecolor()[:3] != (1.0, 1.0, 1.0)}
        assert shaded == {(0, k) for k in range(len(ADD))}
        assert [by_gid(fig, f"symbol:{k}").get_text() for k in range(len(ADD))] == \
            ["0", "1", "+", "1", "1"]


def test_mental_image_labels_follow_the_config():
    """Catches labels written for the paper's model: the sizes and the input layer's formula come
    from the config (m = 7 channels, the 2016 code's 1×1 input convolution)."""
    fig = diagrams.draw_mental_image(Config(w=3, m=7, input_layer="conv"), ADD)
    text = words(fig)
    assert "m = 7 channels" in text and "w = 3 rows" in text and "n = 5 columns" in text
    assert "W · tanh(E[i_k]) + b" in text and "3 × 5 × 7" in text
    assert len(gids(fig, "channel:")) == 6  # one line between each two of the 7 channels


# ---- one CGRU --------------------------------------------------------------------------------

def test_cgru_diagram_reads_kernel_channels_cutoff_and_variant():
    """Catches a block diagram that always says 3 × 3, m = 24 and cutoff 1.2, or that draws the
    2016 unit for the improved model (hard units, diagonal gates)."""
    text = words(diagrams.draw_cgru(Config(m=8, kernel=5, cutoff=1.5)))
    assert "5 × 5" in text and "[8, 8, 5, 5]" in text and "clip(1.5σ(x) − 0.25, 0, 1)" in text
    assert "update gate" in text and "reset gate" in text and "candidate" in text
    plain = words(diagrams.draw_cgru(CGRU(m=6)))  # a single unit: its own weights' shape
    assert "[6, 6, 3, 3]" in plain and "u ⊙ s" in plain and "hσ" not in plain
    improved = words(diagrams.draw_cgru(Config(hard=True, diagonal=True)))
    assert "hσ" in improved and "htanh" in improved and "u ⊙ shift(s)" in improved


# ---- the unrolled network --------------------------------------------------------------------

def test_unrolled_draws_one_step_per_symbol_and_one_image_more():
    """n = 5: the images s_0 … s_5 and the steps 0 … 4 between them. Catches an off-by-one in
    the steps (s_0 counted as a step, or the last step left out)."""
    fig = diagrams.draw_unrolled(model(), ADD, padded_to=7)
    assert sorted(int(g.split(":")[1]) for g in gids(fig, "image:") if g.count(":") == 1) == \
        list(range(6))
    assert sorted(int(g.split(":")[1]) for g in gids(fig, "step:") if g.count(":") == 1) == \
        list(range(5))
    assert "5 steps" in words(fig)


def test_unrolled_masks_exactly_the_padding_and_reads_row_0_of_the_live_cells():
    """Catches padding drawn live, live cells drawn masked, a read-out over the padding or from
    another row, and a masking rule the library does not apply (the forward pass's own states
    are zero in the masked cells)."""
    net = model()
    fig = diagrams.draw_unrolled(net, ADD, padded_to=8)
    masked = {tuple(int(v) for v in g.split(":")[1:]) for g in gids(fig, "masked:")}
    assert masked == {(t, h, k) for t in range(6) for h in range(3) for k in (5, 6, 7)}
    assert len(gids(fig, "cell:")) == 6 * 3 * 5
    readout = by_gid(fig, "readout")
    cell = by_gid(fig, "cell:5:0:0")
    assert readout.get_x() == pytest.approx(cell.get_x())
    assert readout.get_y() == pytest.approx(cell.get_y())
    assert readout.get_width() == pytest.approx(5 * cell.get_width())
    states = diagrams._states(net, list(ADD), 8)
    assert len(states) == 6 and all(float(s[:, :, 5:].abs().max()) == 0.0 for s in states)
    assert all(float(s[:, :, :5].abs().max()) > 0.0 for s in states)


def test_unrolled_states_are_the_models_own():
    """The last image drawn is the state the model reads out: catches states taken before the
    step's last layer, or from a forward pass that differs from `NeuralGPU.forward`."""
    net = model(l=3)
    states = diagrams._states(net, list(ADD), 8)
    with torch.no_grad():
        logits = net(torch.tensor([list(ADD) + [0, 0, 0]]), torch.tensor([5]))
    torch.testing.assert_close(net.output(states[-1][:, 0, :5].T), logits[0, :5])


def test_unrolled_follows_layers_sets_and_step_factor():
    """Catches step labels that always say 2 CGRUs and ignore the relaxation sets, and a number
    of steps that is always n (the model runs `steps_for(n)` = ceil(1.5 · 4) = 6 here)."""
    text = words(diagrams.draw_unrolled(model(l=3, relax_sets=2), ADD))
    assert "step 0: 3 CGRUs with set 0 (t mod 2)" in text
    assert "step 3: 3 CGRUs with set 1 (t mod 2)" in text
    four = encode_text("copy", "1011")[0]
    fig = diagrams.draw_unrolled(model(step_factor=1.5), four, max_images=10)
    assert len([g for g in gids(fig, "step:") if g.count(":") == 1]) == 6
    assert "steps_for(4) = 6 steps" in words(fig)


def test_unrolled_leaves_out_middle_steps_but_keeps_the_first_and_the_last():
    """Catches an elision that drops the last image (the one read out) or draws no sign that
    images were left out."""
    nine = encode_text("copy", "101100111")[0]
    fig = diagrams.draw_unrolled(model(), nine, max_images=6)
    assert sorted(int(g.split(":")[1]) for g in gids(fig, "image:") if g.count(":") == 1) == \
        [0, 1, 2, 3, 8, 9]
    assert len(gids(fig, "elided")) == 1 and "steps 3 to 7" in words(fig)


def test_unrolled_leaves_the_model_as_it_was():
    """Catches a drawing that leaves the model in eval mode or changes a weight."""
    net = model()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()
    diagrams.draw_unrolled(net, ADD, padded_to=7)
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


# ---- relaxation ------------------------------------------------------------------------------

def test_relaxation_draws_r_sets_and_colours_each_step_by_t_mod_r():
    """Catches a picture of the paper's r = 6 whatever the model, or steps coloured by the wrong
    set."""
    fig = diagrams.draw_relaxation(model(relax_sets=3), steps=7)
    assert sorted(gids(fig, "set:")) == ["set:0", "set:1", "set:2"]
    assert len(gids(fig, "step:")) == 7
    for t in range(7):
        assert by_gid(fig, f"step:{t}").get_facecolor()[:3] == \
            pytest.approx(by_gid(fig, f"set:{t % 3}").get_facecolor()[:3])
    assert "r = 3" in words(fig)


def test_relaxation_draws_each_set_at_its_distance_from_the_mean():
    """The sets' distances come from the weights: catches sets placed at made-up distances and a
    pull cost that is not `pull_cost`'s. Identical sets sit on the mean."""
    net = model(relax_sets=3)
    centre = by_gid(diagrams.draw_relaxation(net), "mean").get_xydata()[0]
    for i in range(3):
        assert tuple(by_gid(diagrams.draw_relaxation(net), f"set:{i}").center) == \
            pytest.approx(tuple(centre))
    with torch.no_grad():
        for p in net.stacked_parameters():
            p[1] += 0.3  # set 1 moves away, and the mean a third of the way with it
    fig = diagrams.draw_relaxation(net)
    radius = [math.dist(by_gid(fig, f"set:{i}").center, centre) for i in range(3)]
    assert radius[1] == pytest.approx(2 * radius[0]) and radius[0] == pytest.approx(radius[2])
    with torch.no_grad():
        assert f"{float(pull_cost(net)):.4g}" in words(fig)


def test_pull_schedule_marks_the_merge_and_the_assignments_where_the_schedule_puts_them():
    """The library's default merges at the advance where the pull first passes the limit; the
    2016 code's rule assigns the mean from the next fitted epoch on. Catches a curve drawn from
    the wrong rule (or a title that names the wrong one), and a schedule changed by drawing it."""
    for schedule, merge_at in ((PullSchedule(), 30), (PullSchedule(factor=2.0), 8)):
        kept = dataclasses.replace(schedule)
        fig = diagrams.draw_pull_schedule(schedule)
        assert list(by_gid(fig, "merge").get_xdata()) == [merge_at]
        assigned = list(by_gid(fig, "assign").get_xdata())
        assert assigned[0] == merge_at + 1 and assigned == list(range(merge_at + 1, assigned[-1] + 1))
        assert schedule == kept
        top, bottom = fig.axes
        assert top.get_title().startswith("library default") and "advance" in top.get_title()
        assert bottom.get_title().startswith("the 2016 code") and "fitted" in bottom.get_title()
    curves = diagrams.pull_curves(PullSchedule())
    assert curves["merge"][30] == pytest.approx(0.0005 * 1.2**30)
    assert curves["assign"][-1] == pytest.approx(0.0005 * 1.2**30)  # grown 30 times, then kept


# ---- every diagram reads at the book's width ---------------------------------------------------

FIGURES = {
    "mental image": lambda: diagrams.draw_mental_image(Config(), encode_text("badd", "1011", "0111")[0]),
    "mental image, long": lambda: diagrams.draw_mental_image(Config(), [2] * 21),
    "cgru": lambda: diagrams.draw_cgru(Config()),
    "cgru, improved": lambda: diagrams.draw_cgru(Config(hard=True, diagonal=True)),
    "unrolled": lambda: diagrams.draw_unrolled(model(w=4, relax_sets=6), ADD, padded_to=11),
    "unrolled, long": lambda: diagrams.draw_unrolled(model(w=4), [2] * 21),
    "relaxation": lambda: diagrams.draw_relaxation(model(relax_sets=6), steps=12),
    "relaxation, many": lambda: diagrams.draw_relaxation(model(relax_sets=8), steps=30),
    "pull schedule": lambda: diagrams.draw_pull_schedule(),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_diagram_reads_at_the_books_width(name):
    """At most 6.2 inches wide (704 px at the book's 110 dpi, with savefig's margin), no text
    under 9 points, no two texts overlapping, none running off the figure. Catches a label moved
    onto another or a figure drawn wider than the page, which the web book would shrink."""
    fig = FIGURES[name]()
    assert fig.get_figwidth() <= diagrams.WIDTH + 1e-9
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    hidden = set()  # tick labels past an axis's view: matplotlib keeps them but does not draw them
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - 1e-9 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-9 * abs(hi - lo):
                    hidden |= {id(tick.label1), id(tick.label2)}
    texts = [t for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    assert texts
    small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 9]
    assert not small, small
    boxes = [(t.get_text(), t.get_window_extent(renderer).expanded(0.98, 0.9)) for t in texts]
    outside = [text for text, box in boxes if not fig.bbox.padded(1).contains(box.x0, box.y0)
               or not fig.bbox.padded(1).contains(box.x1, box.y1)]
    assert not outside, outside
    clash = [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:]
             if box_a.overlaps(box_b)]
    assert not clash, clash
