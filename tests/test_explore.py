"""The state explorer: traces match the model, views have the right shapes, widgets react."""

import random

import numpy as np
import pytest
import torch

from ngpu_lite import NeuralGPU, TaskError, cgru, decode, encode_text
from ngpu_lite.interfaces import explore


@pytest.fixture
def model():
    torch.manual_seed(0)
    return NeuralGPU(w=2, m=8).eval()


def test_trace_keeps_every_step_and_layer_and_ends_at_the_models_answer(model):
    """Catches a trace of the wrong size, a last read-out that is not `predict`'s, or a wrong sum."""
    tr = explore.trace(model, "badd", "1011", "110")
    x, y = encode_text("badd", "1011", "110")
    n = len(x)
    assert tr.x == x and tr.y == y and tr.answer() == "10001"
    assert tr.s.shape == tr.u.shape == tr.r.shape == (n, 2, 8, 2, n)
    assert tr.outputs.shape == (n, n)
    assert torch.equal(tr.outputs[-1], model.predict(torch.tensor([x]))[0])


def test_trace_holds_each_layers_state_and_gates_after_each_step(model):
    """Recomputed step by step with `cgru`: catches a state kept before its layer or at the wrong
    (t, j), or u and r swapped; an int operand is written in the base (7 is "111")."""
    tr = explore.trace(model, "badd", 7, 1, dtype=torch.float32)
    x, _ = encode_text("badd", "111", "1")
    assert tr.x == x
    with torch.no_grad():
        s = model.embed(torch.tensor([x]))
        for t in range(len(x)):
            for j in range(model.config.l):
                g = {}
                s = cgru(s, model.gate_weight[0, j], model.gate_bias[0, j], model.cand_weight[0, j],
                         model.cand_bias[0, j], gates=g)
                torch.testing.assert_close(tr.s[t, j], s[0])
                torch.testing.assert_close(tr.u[t, j], g["u"][0])
                torch.testing.assert_close(tr.r[t, j], g["r"][0])


def test_step_readouts_are_the_output_layer_on_each_state(model):
    """Read-out t is the output layer on the last layer's state after step t: catches off-by-one."""
    tr = explore.trace(model, "bmul", "101", "11", dtype=torch.float32)
    t = 2
    logits = model.output(tr.s[t - 1, -1][:, 0, :].T)
    assert torch.equal(tr.outputs[t - 1], logits.argmax(-1))
    assert tr.decoded(t) == decode("bmul", tr.outputs[t - 1].tolist())


@pytest.mark.parametrize("a, b, needle", [("12", "1", "outside base 2"), ("", "1", "empty"),
                                          ("1" * (explore.MAX_DIGITS + 1), "1", "at most")])
def test_trace_refuses_bad_operands(model, a, b, needle):
    """Catches a bad digit, an empty or an over-long operand reaching the model."""
    with pytest.raises(TaskError, match=needle):
        explore.trace(model, "badd", a, b)


def test_counts_and_settle_steps_follow_the_correctness_table():
    """Hand-worked table: catches a settle step that ignores a later relapse, or is off by one."""
    tr = explore.Trace("badd", x=[2, 11, 2], y=[1, 2, 0], s=torch.zeros(3, 1, 1, 1, 3),
                       u=torch.zeros(3, 1, 1, 1, 3), r=torch.zeros(3, 1, 1, 1, 3),
                       outputs=torch.tensor([[1, 2, 0], [2, 2, 0], [1, 2, 1]]))
    np.testing.assert_array_equal(tr.n_correct(), [3, 2, 2])
    np.testing.assert_array_equal(tr.settle_steps(), [3, 1, -1])
    assert tr.decoded(1) == "10" and tr.answer() == "10"


def test_views_group_rows_by_image_row_and_show_the_traced_values(model):
    """Row g*m + c of a view is channel c of image row g: catches rows grouped by channel, or a
    view of the wrong step, layer or gate."""
    tr = explore.trace(model, "badd", "1011", "110")
    state = explore.view_image(tr, 1, 0, "state")
    u = explore.view_image(tr, tr.steps, -1, "u")
    r = explore.view_image(tr, 2, 0, "r")
    assert state.shape == u.shape == (2 * 8, tr.n)
    for g in range(2):
        for c in range(8):
            np.testing.assert_array_equal(state[g * 8 + c], tr.s[0, 0, c, g].float().numpy())
            np.testing.assert_array_equal(u[g * 8 + c], tr.u[-1, -1, c, g].float().numpy())
            np.testing.assert_array_equal(r[g * 8 + c], tr.r[1, 0, c, g].float().numpy())
    for v in ("correct", "u", "r", "change"):
        assert explore.timeline(tr, v).shape == (tr.steps, tr.n)
    with pytest.raises(ValueError, match="outside"):
        explore.view_image(tr, 0)


def test_pca_view_projects_on_the_two_directions_of_largest_spread():
    """States spread along channel 3 (most) and 5: the view shows exactly those two channels, with
    a positive sign. Catches the components taken in the wrong order or from the wrong axis."""
    s = torch.zeros(1, 1, 8, 2, 4)
    s[0, 0, 3] = torch.tensor([2.0, -2.0, 2.0, -2.0])
    s[0, 0, 5] = torch.tensor([1.0, 1.0, -1.0, -1.0])  # orthogonal to channel 3's values
    z = torch.zeros_like(s)
    tr = explore.Trace("badd", x=[1] * 4, y=[1] * 4, s=s, u=z, r=z,
                       outputs=torch.ones(1, 4, dtype=torch.long))
    pca = explore.view_image(tr, 1, 0, "pca")
    want = torch.stack([s[0, 0, 3, 0], s[0, 0, 5, 0], s[0, 0, 3, 1], s[0, 0, 5, 1]])
    np.testing.assert_allclose(pca, want.numpy(), atol=1e-6)


def test_step_figure_redraws_in_place_for_each_step_and_view(model):
    """Catches an update that leaves the old picture, or a step marker that does not move."""
    tr = explore.trace(model, "badd", "1011", "110")
    f = explore.StepFigure(tr, t=1)
    first = f.png()
    f.update(tr.steps, 1, "u")
    np.testing.assert_array_equal(f.im.get_array(), explore.view_image(tr, tr.steps, 1, "u"))
    assert f.marker.get_xdata()[0] == tr.steps
    assert f.png() != first
    assert explore.plot_step(tr, 2, view="r").axes
    assert explore.plot_timeline(tr).axes and explore.plot_progress({"a": tr}).axes


def test_a_200_bit_input_is_traced_and_drawn(model):
    """The longest operand the explorer takes: catches a limit below MAX_DIGITS or a drawing
    that fails at 401 positions."""
    a, b = explore.random_example("badd", 200, random.Random(1))
    tr = explore.trace(model, "badd", a, b)
    assert tr.steps == tr.n == 401
    explore.StepFigure(tr, t=200).png()


def test_explorer_callbacks_show_the_chosen_step(model):
    """Catches a slider or view button whose change is not drawn."""
    ex = explore.Explorer({"badd": model}, a="1011", b="110")
    n = ex.trace.n
    assert ex.step.max == n and ex.step.value == n
    assert f'class="ngpu-step-label">{n}<' in ex.answer.value
    last = ex.image.value
    ex.step.value = 1
    assert 'class="ngpu-step-label">1<' in ex.answer.value
    assert ex.image.value != last
    assert np.array_equal(ex.figure.im.get_array(), explore.view_image(ex.trace, 1, -1, "pca"))
    ex.view.value = "r"
    assert np.array_equal(ex.figure.im.get_array(), explore.view_image(ex.trace, 1, -1, "r"))


def test_explorer_shows_a_message_for_bad_input_and_keeps_the_last_trace(model):
    """Catches a traceback in the widget, or a bad input that wipes the last good trace."""
    ex = explore.Explorer({"badd": model}, a="1011", b="110")
    before = ex.trace
    ex.b.value = "102"
    assert "outside base 2" in ex.message.value and ex.trace is before
    ex.a.value = "1" * (explore.MAX_DIGITS + 1)
    assert f"at most {explore.MAX_DIGITS}" in ex.message.value and ex.trace is before
    ex.a.value, ex.b.value = "1011", "11"
    assert ex.message.value == "" and ex.trace.answer() == "1110"


def test_explorer_random_button_fills_operands_of_the_chosen_length(model):
    """Catches the digits slider ignored, or a random example not traced."""
    ex = explore.Explorer({"badd": model})
    ex.digits.value = 5
    ex.random_button.click()
    assert len(ex.a.value) == len(ex.b.value) == 5
    assert ex.trace.n == 11 and ex.step.value == 11


def test_moving_the_step_slider_redraws_without_running_the_model(model):
    """The model runs once per input: catches a redraw that reruns it for each frame."""
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    ex = explore.Explorer({"badd": model}, a="10110", b="111")
    assert len(calls) == 1
    for t in range(1, ex.trace.steps + 1):
        ex.step.value = t
    ex.view.value, ex.layer.value = "u", 0
    assert len(calls) == 1
    ex.run_button.click()
    assert len(calls) == 2


def test_load_or_train_prefers_the_shipped_checkpoint_and_else_trains_once(monkeypatch, model):
    """Catches training when a model is shipped, or training again on every call."""
    monkeypatch.setattr(explore, "pretrained", lambda task, device=None: model)
    assert explore.load_or_train("badd") == (model, "shipped checkpoint badd.pt")

    def missing(task, device=None):
        raise explore.CheckpointError("no shipped checkpoint")

    monkeypatch.setattr(explore, "pretrained", missing)
    monkeypatch.setattr(explore, "_TRAINED", {})
    monkeypatch.setattr(explore, "fallback_recipe", lambda task: dict(
        preset="tiny", seed=0, max_digits=2, steps=3, model=dict(w=2, m=8)))
    trained, note = explore.load_or_train("badd")
    assert note.startswith("no shipped checkpoint for badd") and "3 steps" in note
    assert not trained.training
    assert explore.load_or_train("badd")[0] is trained  # cached: trained once per session


def test_explorer_lists_the_shipped_tasks(monkeypatch, model):
    """Catches a task list that is not the shipped tasks, or a task switch that is not traced."""
    monkeypatch.setattr(explore, "shipped_tasks", lambda: ["badd", "bmul"])
    monkeypatch.setattr(explore, "load_or_train", lambda task: (model, "test"))
    ex = explore.Explorer()
    assert [value for _, value in ex.task.options] == ["badd", "bmul"]
    assert [label for label, _ in ex.task.options] == [  # the shipped manifests name the model
        "badd: improved Neural GPU (2017)", "bmul: improved Neural GPU (2017)"]
    ex.task.value = "bmul"
    assert ex.trace.task == "bmul" and ex.trace.answer() == "1000010"  # 1011 x 110 = 66


def test_explorer_names_the_model_behind_each_task():
    """Catches the model choice showing bare task names, so a reader cannot tell a Neural GPU
    (2016) from an improved one (2017)."""
    paper = NeuralGPU(w=2, m=8, l=2)
    improved = NeuralGPU(w=1, m=8, l=1, hard=True, diagonal=True)
    assert explore.task_label("copy", paper) == "copy: Neural GPU (2016)"
    assert explore.task_label("copy", improved) == "copy: improved Neural GPU (2017)"
    assert explore.task_label("no-such-task") == "no-such-task"


def test_explorer_offers_the_paper_model_beside_the_improved_one(monkeypatch, tmp_path, model):
    """A shipped `badd-paper.pt` is listed and labelled as the paper's model, and choosing it
    traces badd with that model: catches the 2016 model missing from the list, labelled as the
    improved one, or a choice that fails on the name."""
    import json

    from ngpu_lite import save

    monkeypatch.setattr(explore, "SHIPPED_DIR", tmp_path)
    paper = NeuralGPU(w=2, m=8)
    for name, net in (("badd", model), ("badd-paper", paper), ("lstm-badd", model)):
        save(tmp_path / f"{name}.pt", net, "badd")
        (tmp_path / f"{name}.json").write_text(json.dumps({"config": net.config_dict()}))
    assert explore.shipped_tasks() == ["badd", "badd-paper"]
    assert explore.task_label("badd-paper") == "badd: Neural GPU (2016)"
    monkeypatch.setattr(explore, "pretrained", lambda task, device=None, model="improved":
                        paper if model == "paper" else None)
    assert explore.load_or_train("badd-paper")[0] is paper
    ex = explore.Explorer(models={"badd": model}, tasks=["badd", "badd-paper"])
    ex.task.value = "badd-paper"
    assert ex.trace is not None and ex.trace.layers == paper.config.l


def test_every_band_of_the_state_view_is_labelled_and_the_axes_are_named(tiny_model):
    """With one image row the 2-D view has two bands: each gets its own label (row 0, PC1 and
    row 0, PC2), and both axes say what they are. Catches two bands under one "row 0" tick."""
    tr = explore.trace(tiny_model, "badd", "101", "11")
    fig = explore.StepFigure(tr, view="pca")
    labels = [t.get_text() for t in fig.ax_img.get_yticklabels()]
    w = tr.s.shape[3]
    assert labels == [f"row {g}, PC{c}" for g in range(w) for c in (1, 2)]
    assert fig.ax_img.get_xlabel().startswith("position k") and "component" in fig.ax_img.get_ylabel()
    assert explore.state_ticks(1, 24, "u")[1][:2] == ["row 0, ch 0", "row 0, ch 6"]
