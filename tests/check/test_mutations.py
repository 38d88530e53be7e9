"""Wrong gradients are caught: by every method, in every mode, and by the Taylor test.

Mutations wrap the exact gradient callable of a compiled model (the checks'
abstract core takes any loss/gradient callables): one entry scaled, one
entry's sign flipped, and a hand-written backprop of the seed 003 network
that forgets the hidden layer's σ' (a missing chain-rule factor) — which,
written correctly, passes: an independent implementation of the same gradient.
"""

import dataclasses

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import GradientCheckError

METHODS = ["central", "forward", "backward", "richardson", "complex"]


def mutated(case, mutate):
    """The case's objective with ``mutate(gradient)`` applied to every gradient."""
    objective = sg.check.as_objective(*case.args())
    exact = objective.grad_fn

    def wrong(theta):
        g = np.array(exact(theta))
        mutate(g)
        return g

    return dataclasses.replace(objective, grad_fn=wrong)


def scale_entry(j, factor):
    def mutate(g):
        g[j] *= factor
    return mutate


def flip_entry(j):
    return scale_entry(j, -1.0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mutation", ["scaled", "sign"])
def test_a_wrong_entry_fails_and_only_it(seed003_case, method, mutation):
    j = 4  # w53, the entry the notes' hand computation gets wrong
    mutate = scale_entry(j, 1.1) if mutation == "scaled" else flip_entry(j)
    report = sg.check.run_check(mutated(seed003_case, mutate), seed003_case.theta, method=method)
    assert report.status == ("ok",) * j + ("FAIL",) + ("ok",) * (6 - j - 1)
    assert report.failures == ["w53"]
    expected = 0.1 / 1.1 if mutation == "scaled" else 2.0  # |a − b| / max(|a|, |b|) = 2 for b = −a
    assert report.rel_err[j] == pytest.approx(expected, rel=1e-4)
    with pytest.raises(GradientCheckError, match=r"1 of 6 entry disagrees[\s\S]*w53: exact") as caught:
        report.assert_ok()
    assert caught.value.report is report


@pytest.mark.parametrize("method", ["central", "forward", "richardson", "complex"])
def test_random_projection_catches_a_wrong_entry(activations_case, method):
    report = sg.check.run_check(mutated(activations_case, scale_entry(2, 1.05)), activations_case.theta,
                                method=method, mode="projection", k=4, seed=0)
    assert report.status == ("FAIL",) * 4
    assert report.n_evaluations <= 4 * 4 + 1 + 4 * 4  # stencil per direction, J(θ), second looks


def test_subset_mode_catches_a_wrong_entry_it_draws(activations_case):
    objective = mutated(activations_case, flip_entry(3))
    report = sg.check.run_check(objective, activations_case.theta, mode="subset", k=2, params=["w4", "b"],
                                seed=0)
    assert dict(zip(report.names, report.status, strict=True)) == {"w4": "FAIL", "b": "ok"}


def test_taylor_test_sees_order_one_for_a_wrong_gradient(logreg_case):
    report = sg.check.taylor_test(mutated(logreg_case, scale_entry(0, 1.01)), logreg_case.theta, seed=2)
    assert report.status == "FAIL" and abs(report.order - 1) < 0.2
    with pytest.raises(GradientCheckError, match="order 1"):
        report.assert_ok()


# -- a missing chain-rule factor ---------------------------------------------------------------
def backprop_221(theta, X, T, hidden_derivative=True):
    """∂E/∂θ of the seed 003 network by hand (numpy), as the notes derive it."""
    w31, w32, w41, w42, w53, w54 = theta
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    y3 = sig(w31 * X[:, 0] + w32 * X[:, 1])
    y4 = sig(w41 * X[:, 0] + w42 * X[:, 1])
    y5 = sig(w53 * y3 + w54 * y4)
    d5 = (y5 - T[:, 0]) * y5 * (1 - y5)
    d3 = d5 * w53 * (y3 * (1 - y3) if hidden_derivative else 1.0)
    d4 = d5 * w54 * (y4 * (1 - y4) if hidden_derivative else 1.0)
    terms = [d3 * X[:, 0], d3 * X[:, 1], d4 * X[:, 0], d4 * X[:, 1], d5 * y3, d5 * y4]
    return np.array([t.mean() for t in terms])


@pytest.mark.parametrize("method", METHODS)
def test_a_missing_chain_rule_factor_is_caught(seed003_case, method):
    c = seed003_case
    rng = np.random.default_rng(4)
    X, T = rng.uniform(-1, 1, (16, 2)), rng.uniform(0, 1, (16, 1))
    objective = sg.check.as_objective(c.compiled, c.theta, X, T)
    right = dataclasses.replace(objective, grad_fn=lambda th: backprop_221(th, X, T))
    assert sg.check.run_check(right, c.theta, method=method).ok
    wrong = dataclasses.replace(objective, grad_fn=lambda th: backprop_221(th, X, T, hidden_derivative=False))
    report = sg.check.run_check(wrong, c.theta, method=method)
    assert report.failures == ["w31", "w32", "w41", "w42"]  # the output layer's entries stay right
    projected = sg.check.run_check(wrong, c.theta, method=method, mode="projection", k=3, seed=1)
    assert projected.status == ("FAIL",) * 3


def test_a_wrong_hessian_entry_is_caught(rosenbrock_case):
    c = rosenbrock_case
    objective = sg.check.as_objective(c.compiled, c.theta, hessian=True)
    exact = objective.hessian_fn

    def wrong(theta):
        H = exact(theta).copy()
        H[0, 1] = H[1, 0] = H[0, 1] * 1.01
        return H

    exact_hvp = objective.hvp_fn
    wrong_objective = dataclasses.replace(objective, hessian_fn=wrong, hvp_fn=None)
    report = sg.check.hessian.run_hessian_check(wrong_objective, c.theta)
    assert dict(zip(report.names, report.status, strict=True)) == {"x,x": "ok", "x,y": "FAIL", "y,y": "ok"}
    projected = sg.check.hessian.run_hessian_check(wrong_objective, c.theta, mode="projection", k=3, seed=0)
    assert projected.status == ("FAIL",) * 3  # through H @ u without an HVP kernel
    wrong_products = dataclasses.replace(objective, hvp_fn=lambda th, v: exact_hvp(th, v) * [1.0, 1.01])
    projected = sg.check.hessian.run_hessian_check(wrong_products, c.theta, mode="projection", k=3, seed=0)
    assert projected.status == ("FAIL",) * 3  # the HVP kernel is what projections check
