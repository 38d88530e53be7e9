"""``sg.fit(check_every=N)``: the compiled gradient re-checked during training."""

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import DeclarationError, GradientCheckError


def test_a_correct_gradient_trains_as_without_checks(logreg, data):
    X, T = data
    settings = dict(optimizer=sg.optim.Adam(lr=0.05), batch_size=8, epochs=3, seed=0, theta0=np.zeros(3))
    checked = sg.fit(logreg, X, T, check_every=4, **settings)
    plain = sg.fit(logreg, X, T, **settings)
    assert np.array_equal(checked.theta, plain.theta)
    assert checked.n_iter == plain.n_iter == 12


def test_a_wrong_gradient_is_caught_at_the_first_check(logreg, data, monkeypatch):
    X, T = data
    compiled = logreg.compile()
    calls = []

    def scaled(theta, X=None, T=None, out=None):
        # a deliberately wrong gradient: the bias entry doubled
        loss, grad = type(compiled).loss_and_grad(compiled, theta, X, T, out)
        calls.append(theta.copy())
        grad = grad.copy()
        grad[2] *= 2.0
        return loss, grad

    monkeypatch.setattr(compiled, "loss_and_grad", scaled)
    with pytest.raises(GradientCheckError, match="b"):
        sg.fit(compiled, X, T, optimizer=sg.optim.GD(lr=0.1), max_iter=20, check_every=5, theta0=np.ones(3))
    assert calls  # the check evaluated the (wrong) gradient


@pytest.mark.parametrize("value", [0, -3, 2.5, "5"])
def test_check_every_must_be_a_positive_integer(logreg, data, value):
    X, T = data
    with pytest.raises(DeclarationError, match="check_every"):
        sg.fit(logreg, X, T, max_iter=3, check_every=value)
