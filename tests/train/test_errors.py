"""Bad arguments to sg.fit / sg.minimize: symgrad errors that name what is wrong."""

import re

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DeclarationError, ShapeError


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, float("nan"), float("inf"), "8"])
def test_bad_batch_size(batch_size, logreg, data, theta0):
    X, T = data
    message = f"batch_size must be None or a positive integer, got {batch_size!r}"
    with pytest.raises(DeclarationError, match=re.escape(message)):
        sg.fit(logreg, X, T, batch_size=batch_size, theta0=theta0)


def test_batch_larger_than_the_data_is_full_batch(logreg, data, theta0):
    X, T = data
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), batch_size=1000, epochs=2, theta0=theta0)
    full = sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), epochs=2, theta0=theta0)
    assert res.n_iter == 2 and np.array_equal(res.theta, full.theta)


def test_fit_needs_data_and_minimize_refuses_it(rosenbrock, rosenbrock_x0, logreg, theta0):
    with pytest.raises(DeclarationError, match="sg.minimize"):
        sg.fit(rosenbrock, np.zeros((3, 0)), None)
    with pytest.raises(DeclarationError, match="sg.fit"):
        sg.minimize(logreg, theta0)


def test_not_a_model(rosenbrock_x0):
    with pytest.raises(DeclarationError, match="symgrad Model"):
        sg.fit("model", np.zeros((2, 2)), np.zeros((2, 1)))
    with pytest.raises(DeclarationError, match="SymPy expression or a Model"):
        sg.minimize(lambda x: x, rosenbrock_x0)


def test_theta0_dict_must_name_every_parameter(logreg, data):
    X, T = data
    w1, w2, b = logreg.params
    with pytest.raises(DeclarationError, match=r"no value for .*\bb\b"):
        sg.fit(logreg, X, T, theta0={w1: 0.1, w2: 0.2})
    z = sp.Symbol("z")
    with pytest.raises(DeclarationError, match=r"\[z\]"):
        sg.fit(logreg, X, T, theta0={w1: 0.1, w2: 0.2, b: 0.0, z: 1.0})


def test_x0_dict_errors(quadratic):
    x, y = quadratic.params
    with pytest.raises(DeclarationError, match=r"no value for .*\by\b"):
        sg.minimize(quadratic, {x: 1.0})
    with pytest.raises(DeclarationError, match="not among the parameters"):
        sg.minimize(quadratic, {x: 1.0, y: 2.0, sp.Symbol("w"): 0.0})


@pytest.mark.parametrize("theta0", [[0.1, 0.2], [0.1, 0.2, 0.3, 0.4], np.zeros((3, 3))])
def test_theta0_wrong_length(theta0, logreg, data):
    X, T = data
    with pytest.raises(DeclarationError, match="expected 3 .*w1, w2, b"):
        sg.fit(logreg, X, T, theta0=theta0)


def test_theta0_not_finite(quadratic):
    with pytest.raises(DeclarationError, match="finite"):
        sg.minimize(quadratic, np.array([1.0, np.nan]))


def test_fused_true_needs_a_fusable_run(logreg, data, theta0, rosenbrock, rosenbrock_x0):
    X, T = data
    with pytest.raises(DeclarationError, match="callbacks"):
        sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), theta0=theta0, callbacks=[print], fused=True)
    with pytest.raises(DeclarationError, match="not Newton"):
        sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Newton(), fused=True)


def test_wrong_data_shapes(logreg, data, theta0):
    X, T = data
    with pytest.raises(ShapeError, match=r"X has shape \(30, 3\), expected \(n_samples, 2\)"):
        sg.fit(logreg, np.ones((30, 3)), T, theta0=theta0)
    with pytest.raises(ShapeError, match="T has 29 samples but X has 30"):
        sg.fit(logreg, X, T[:29], theta0=theta0)
    with pytest.raises(ShapeError, match="X"):
        sg.fit(logreg, X, T, theta0=theta0, validation=(np.ones((5, 1)), np.ones((5, 1))))
    with pytest.raises(DeclarationError, match="validation must be a pair"):
        sg.fit(logreg, X, T, theta0=theta0, validation=(X,))


@pytest.mark.parametrize("name, value, expected", [
    ("max_iter", -1, "a non-negative integer"), ("epochs", -2, "a non-negative integer"),
    ("epochs", 2.5, "a non-negative integer"), ("max_iter", float("nan"), "a non-negative integer"),
    ("tol", -1e-3, ">= 0"), ("time_limit", float("nan"), ">= 0")])
def test_negative_or_fractional_limits(name, value, expected, logreg, data, theta0):
    X, T = data
    with pytest.raises(DeclarationError, match=f"{name} must be {expected}"):
        sg.fit(logreg, X, T, theta0=theta0, **{name: value})


def test_zero_budget(logreg, data, theta0):
    X, T = data
    res = sg.fit(logreg, X, T, theta0=theta0, max_iter=0)
    assert (res.reason, res.n_iter) == ("max_iter", 0) and np.array_equal(res.theta, theta0)
    res = sg.fit(logreg, X, T, theta0=theta0, epochs=0)
    assert (res.reason, res.n_iter) == ("max_epochs", 0)


def test_newton_needs_the_hessian_kernel(data, theta0):
    # A model compiled without its Hessian kernel (the default only above 20 parameters).
    w1, w2, b, x1, x2, t = sp.symbols("w1 w2 b x1 x2 t")
    model = sg.Model(loss=sg.losses.squared_error(w1 * x1 + w2 * x2 + b, t), params=[w1, w2, b],
                     inputs=[x1, x2], targets=[t])
    compiled = model.compile(hessian=False)
    X, T = data
    with pytest.raises(DeclarationError, match="hessian=True"):
        sg.fit(compiled, X, T, sg.optim.Newton(), theta0=theta0)
