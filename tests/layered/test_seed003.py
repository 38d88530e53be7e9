"""Seed 003's 2-2-1 sigmoid network in matrix form equals its scalar form exactly.

x = (0.35, 0.9), W0 = [[0.1, 0.8], [0.4, 0.6]] (row j: the weights into hidden
unit j), W1 = [0.3, 0.9], target 0.5, no biases, E = ½(o − t)². The reference
is written in plain SymPy (σ(z) = 1/(1 + e⁻ᶻ), ``sympy.diff``) and evaluated at
the exact rationals to 40 digits.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.declare.tensors import elements

R = sp.Rational
X_POINT = [R(35, 100), R(9, 10)]
W0_POINT = [[R(1, 10), R(8, 10)], [R(4, 10), R(6, 10)]]
W1_POINT = [R(3, 10), R(9, 10)]
T_POINT = R(1, 2)

W0 = sg.Param("W0", (2, 2))
W1 = sg.Param("W1", (1, 2))
x = sg.Input("x", 2)
t = sg.Target("t", 1)


def _sigma(z):
    return 1 / (1 + sp.exp(-z))


@pytest.fixture(scope="module")
def reference():
    """E and ∂E/∂w (w31, w32, w41, w42, w53, w54 — theta's order) at the point, to 40 digits."""
    x1, x2, w31, w32, w41, w42, w53, w54, tt = sp.symbols("x1 x2 w31 w32 w41 w42 w53 w54 t")
    y5 = _sigma(w53 * _sigma(w31 * x1 + w32 * x2) + w54 * _sigma(w41 * x1 + w42 * x2))
    E = (y5 - tt) ** 2 / 2
    weights = [w31, w32, w41, w42, w53, w54]
    point = dict(zip([x1, x2, *weights, tt], [*X_POINT, *W0_POINT[0], *W0_POINT[1], *W1_POINT, T_POINT],
                     strict=True))
    value = lambda e: e.subs(point).evalf(40)  # noqa: E731
    return {"y5": value(y5), "E": value(E), "grad": [value(sp.diff(E, wk)) for wk in weights]}


@pytest.fixture(scope="module")
def model():
    output = sg.nn.sigmoid(W1 * sg.nn.sigmoid(W0 * x))
    return sg.Model(loss=sg.nn.squared_error(output, t), params=[W0, W1], inputs=[x], targets=[t])


def _exact_point():
    values = dict(zip(elements(W0), [*W0_POINT[0], *W0_POINT[1]], strict=True))
    values.update(zip(elements(W1), W1_POINT, strict=True))
    values.update(zip(elements(x), X_POINT, strict=True))
    values[t[0, 0]] = T_POINT
    return values


def test_the_reference_is_the_worked_example(reference):
    # The notes' forward pass: o = σ(0.3·σ(0.755) + 0.9·σ(0.68)) ≈ 0.69.
    assert abs(float(reference["y5"]) - 0.6903) < 1e-4


def test_compiled_loss_and_gradient_equal_the_scalar_form(model, reference):
    theta = np.array([0.1, 0.8, 0.4, 0.6, 0.3, 0.9])
    loss, grad = model.compile().loss_and_grad(theta, np.array([[0.35, 0.9]]), np.array([[0.5]]))
    assert abs(loss - float(reference["E"])) < 1e-12
    np.testing.assert_allclose(grad, [float(g) for g in reference["grad"]], rtol=1e-12, atol=1e-15)


def test_symbolic_matrix_form_is_exact(model, reference):
    point = _exact_point()
    assert abs(sg.nn.explicit(model.loss).subs(point).evalf(40) - reference["E"]) < 1e-35
    gradient = model.gradient()
    ours = [*sg.nn.explicit(gradient[W0]).subs(point), *sg.nn.explicit(gradient[W1]).subs(point)]
    for got, want in zip(ours, reference["grad"], strict=True):
        assert abs(got.evalf(40) - want) < 1e-35
