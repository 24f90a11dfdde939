"""The state explorer: traces match the model, views have the right shapes, widgets react."""

import random

import numpy as np
import pytest
import torch

from ngpu_lite import NeuralGPU, TaskError, decode, encode_text, explore


@pytest.fixture
def model():
    torch.manual_seed(0)
    return NeuralGPU(w=2, m=8).eval()


def test_trace_keeps_every_step_and_layer_and_ends_at_the_models_answer(model):
    tr = explore.trace(model, "badd", "1011", "110")
    x, y = encode_text("badd", "1011", "110")
    n = len(x)
    assert tr.x == x and tr.y == y and tr.answer() == "10001"
    assert tr.s.shape == tr.u.shape == tr.r.shape == (n, 2, 8, 2, n)
    assert tr.outputs.shape == (n, n)
    assert torch.equal(tr.outputs[-1], model.predict(torch.tensor([x]))[0])


def test_trace_states_are_the_hooks_states(model):
    seen = {}
    x, _ = encode_text("badd", "111", "1")
    with torch.no_grad():
        model(torch.tensor([x]), hook=lambda t, j, s, g: seen.setdefault((t, j), (s[0], g["u"][0])))
    tr = explore.trace(model, "badd", 7, 1, dtype=torch.float32)  # ints are written in the base
    for (t, j), (s, u) in seen.items():
        torch.testing.assert_close(tr.s[t, j], s)
        torch.testing.assert_close(tr.u[t, j], u)


def test_step_readouts_are_the_output_layer_on_each_state(model):
    tr = explore.trace(model, "bmul", "101", "11", dtype=torch.float32)
    t = 2
    logits = model.output(tr.s[t - 1, -1][:, 0, :].T)
    assert torch.equal(tr.outputs[t - 1], logits.argmax(-1))
    assert tr.decoded(t) == decode("bmul", tr.outputs[t - 1].tolist())


@pytest.mark.parametrize("a, b, needle", [("12", "1", "outside base 2"), ("", "1", "empty"),
                                          ("1" * (explore.MAX_DIGITS + 1), "1", "at most")])
def test_trace_refuses_bad_operands(model, a, b, needle):
    with pytest.raises(TaskError, match=needle):
        explore.trace(model, "badd", a, b)


def test_counts_and_settle_steps_follow_the_correctness_table():
    tr = explore.Trace("badd", x=[2, 11, 2], y=[1, 2, 0], s=torch.zeros(3, 1, 1, 1, 3),
                       u=torch.zeros(3, 1, 1, 1, 3), r=torch.zeros(3, 1, 1, 1, 3),
                       outputs=torch.tensor([[1, 2, 0], [2, 2, 0], [1, 2, 1]]))
    np.testing.assert_array_equal(tr.n_correct(), [3, 2, 2])
    np.testing.assert_array_equal(tr.settle_steps(), [3, 1, -1])
    assert tr.decoded(1) == "10" and tr.answer() == "10"


def test_views_have_one_row_per_channel_or_component(model):
    tr = explore.trace(model, "badd", "1011", "110")
    assert explore.view_image(tr, 1, 0, "state").shape == (2 * 8, tr.n)
    assert explore.view_image(tr, 1, 0, "pca").shape == (2 * 2, tr.n)
    u = explore.view_image(tr, tr.steps, -1, "u")
    assert u.min() >= 0 and u.max() <= 1
    for v in ("correct", "u", "r", "change"):
        assert explore.timeline(tr, v).shape == (tr.steps, tr.n)
    with pytest.raises(ValueError, match="outside"):
        explore.view_image(tr, 0)


def test_step_figure_redraws_in_place_for_each_step_and_view(model):
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
    a, b = explore.random_example("badd", 200, random.Random(1))
    tr = explore.trace(model, "badd", a, b)
    assert tr.steps == tr.n == 401
    explore.StepFigure(tr, t=200).png()


def test_explorer_callbacks_show_the_chosen_step(model):
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
    ex = explore.Explorer({"badd": model}, a="1011", b="110")
    before = ex.trace
    ex.b.value = "102"
    assert "outside base 2" in ex.message.value and ex.trace is before
    ex.a.value = "1" * (explore.MAX_DIGITS + 1)
    assert f"at most {explore.MAX_DIGITS}" in ex.message.value and ex.trace is before
    ex.a.value, ex.b.value = "1011", "11"
    assert ex.message.value == "" and ex.trace.answer() == "1110"


def test_explorer_random_button_fills_operands_of_the_chosen_length(model):
    ex = explore.Explorer({"badd": model})
    ex.digits.value = 5
    ex.random_button.click()
    assert len(ex.a.value) == len(ex.b.value) == 5
    assert ex.trace.n == 11 and ex.step.value == 11


def test_moving_the_step_slider_redraws_without_running_the_model(model):
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
    monkeypatch.setattr(explore, "shipped_tasks", lambda: ["badd", "bmul"])
    monkeypatch.setattr(explore, "load_or_train", lambda task: (model, "test"))
    ex = explore.Explorer()
    assert list(ex.task.options) == ["badd", "bmul"]
    ex.task.value = "bmul"
    assert ex.trace.task == "bmul" and ex.trace.answer() == "1000010"  # 1011 x 110 = 66
