"""Compiled Hessian-vector products against the compiled Hessian and finite differences."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import EvaluationError


@pytest.fixture(scope="module")
def regularised_logreg():
    w1, w2, b, x1, x2, t = sp.symbols("w1 w2 b x1 x2 t")
    p = sg.sigmoid(w1 * x1 + w2 * x2 + b)
    model = sg.Model(loss=sg.losses.binary_cross_entropy(p, t), params=[w1, w2, b], inputs=[x1, x2],
                     targets=[t], regularizer=sg.losses.l2_penalty([w1, w2], 0.3))
    return model.compile(hessian=True)


def test_data_model_hvp_equals_hessian_times_v_and_finite_differences(regularised_logreg, rng):
    X = rng.normal(size=(300, 2))
    T = (rng.random((300, 1)) < 0.5).astype(np.float64)
    theta, v = np.array([0.5, -1.0, 0.2]), rng.normal(size=3)
    hv = regularised_logreg.hvp(theta, v, X, T)
    # Same arithmetic up to summation order: agreement to a few ulps of |H||v|.
    np.testing.assert_allclose(hv, regularised_logreg.hessian(theta, X, T) @ v, rtol=1e-12, atol=1e-14)
    h = 1e-5  # central difference of the gradient: O(h^2) ≈ 1e-10 truncation, eps/h ≈ 1e-11 rounding
    grad = regularised_logreg.grad
    fd = (grad(theta + h * v, X, T) - grad(theta - h * v, X, T)) / (2 * h)
    np.testing.assert_allclose(hv, fd, rtol=1e-7, atol=1e-9)


def test_data_free_hvp(rosenbrock64):
    theta, v = np.array([-1.5, 2.0]), np.array([1.0, 2.0])
    # Rosenbrock's Hessian in closed form: [[2 - 400(y - 3x^2), -400x], [-400x, 200]].
    x, y = theta
    exact = np.array([[2 - 400 * (y - 3 * x**2), -400 * x], [-400 * x, 200.0]])
    np.testing.assert_array_equal(rosenbrock64.hvp(theta, v), exact @ v)
    out = np.empty(2)
    assert rosenbrock64.hvp(theta, v, out=out) is out


def test_hvp_rejects_bad_direction(rosenbrock64):
    with pytest.raises(EvaluationError, match="non-finite"):
        rosenbrock64.hvp(np.zeros(2), np.array([np.nan, 1.0]))
    with pytest.raises(sg.errors.ShapeError, match="v has shape"):
        rosenbrock64.hvp(np.zeros(2), np.ones(3))


def test_hvp_kernel_is_opt_in_for_larger_models(rosenbrock64):
    x, y = sp.symbols("x y")
    without = sg.Model(loss=(1 - x) ** 2 + 100 * (y - x**2) ** 2, params=[x, y]).compile(hvp=False)
    assert "def hvp(" not in without.source and "def hvp(" in rosenbrock64.source
    with pytest.raises(sg.errors.DeclarationError, match=r"compile\(hvp=True\)"):
        without.hvp(np.zeros(2), np.ones(2))
