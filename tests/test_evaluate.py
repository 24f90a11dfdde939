"""Evaluation: exact and per-symbol rates, and where the wrong symbols sit."""


from ngpu_lite import NeuralGPU, evaluate


class CopiesButPosition1(NeuralGPU):
    """A stand-in model for `copy` that answers right except at output position 1."""

    def predict(self, x, lengths=None):
        out = x.clone()
        out[:, 1] = 0
        return out


def test_wrong_symbols_are_counted_at_their_positions():
    """`evaluate` counts each wrong symbol at its output position and scores per-symbol within the length.
    Catches positions shifted by one, padding counted in per_symbol, or a wrong example counted exact."""
    res = evaluate(CopiesButPosition1(w=1, m=4, l=1), "copy", 5, samples=12, seed=1)
    assert res["exact"] == 0.0
    assert res["wrong_at"] == {1: 12}  # the bug it catches: positions shifted or miscounted
    assert abs(res["per_symbol"] - 10 / 11) < 1e-9  # length 11, one wrong


def test_a_perfect_copier_is_exact_with_nothing_wrong():
    """A model that is always right scores 1.0 exact and per-symbol, no wrong positions, on the evaluation
    stream. Catches padding or positions past the length counted as wrong, or the stream mislabelled."""
    class Copies(NeuralGPU):
        def predict(self, x, lengths=None):
            return x.clone()

    res = evaluate(Copies(w=1, m=4, l=1), "copy", 5, samples=8, seed=1)
    assert (res["exact"], res["per_symbol"], res["wrong_at"]) == (1.0, 1.0, {})
    assert res["stream"] == "evaluation" and res["seed"] == 1
