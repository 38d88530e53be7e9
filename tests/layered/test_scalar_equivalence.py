"""The tensor-level derivative of a network equals the scalar-level derivative of the same network.

The 2-3-1 sigmoid network is built twice: in matrix form (``sg.nn.mlp``,
lowered and differentiated at the tensor level) and with one SymPy symbol per
weight (the scalar pipeline). Their compiled gradients must agree on the same
data; the symbolic matrix gradient, written out element by element, must agree
with the scalar reverse mode and with ``sympy.diff``.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.declare.tensors import elements

# The scalar network's weights, in an order unlike the matrix theta (output layer first, then
# each hidden unit's bias before its weights), so a wrong layout cannot pass by accident.
x1, x2, t = sp.symbols("x1 x2 t", real=True)
w = [[sp.Symbol(f"w{j}{i}", real=True) for i in range(2)] for j in range(3)]
c = [sp.Symbol(f"c{j}", real=True) for j in range(3)]
v = [sp.Symbol(f"v{j}", real=True) for j in range(3)]
d = sp.Symbol("d", real=True)
SCALAR_PARAMS = [d, *v, *(p for j in range(3) for p in (c[j], w[j][0], w[j][1]))]
#: The matrix theta (W1 row-major, b1, W2, b2) as scalar symbols.
MATRIX_ORDER = [w[0][0], w[0][1], w[1][0], w[1][1], w[2][0], w[2][1], *c, *v, d]


@pytest.fixture(scope="module")
def scalar_model():
    hidden = [sg.sigmoid(w[j][0] * x1 + w[j][1] * x2 + c[j]) for j in range(3)]
    output = sg.sigmoid(sum(vj * hj for vj, hj in zip(v, hidden, strict=True)) + d)
    return sg.Model(loss=(output - t) ** 2 / 2, params=SCALAR_PARAMS, inputs=[x1, x2], targets=[t])


def test_compiled_gradients_agree(scalar_model, mlp231_kernels, mlp231_theta, mlp231_data):
    X, T = mlp231_data
    # theta_scalar[k] is the matrix theta's entry for SCALAR_PARAMS[k].
    permutation = [MATRIX_ORDER.index(p) for p in SCALAR_PARAMS]
    assert sorted(permutation) == list(range(13))
    loss, grad = mlp231_kernels.loss_and_grad(mlp231_theta, X, T)
    scalar_loss, scalar_grad = scalar_model.compile().loss_and_grad(mlp231_theta[permutation], X, T)
    assert loss == pytest.approx(scalar_loss, rel=1e-13)
    np.testing.assert_allclose(grad[permutation], scalar_grad, rtol=1e-11, atol=1e-15)
    assert np.abs(grad).min() > 1e-6  # every entry is exercised


def test_compiled_gradient_matches_numpy_backprop(mlp231_kernels, mlp231_theta, mlp231_data,
                                                  mlp231_reference, central_difference):
    X, T = mlp231_data
    reference = mlp231_reference
    loss, grad = mlp231_kernels.loss_and_grad(mlp231_theta, X, T)
    assert loss == pytest.approx(reference.loss(mlp231_theta, X, T), rel=1e-13)
    np.testing.assert_allclose(grad, reference.grad(mlp231_theta, X, T), rtol=1e-11, atol=1e-15)
    # ... and the hand-written backprop itself against central differences.
    np.testing.assert_allclose(reference.grad(mlp231_theta, X, T),
                               central_difference(lambda th: reference.loss(th, X, T), mlp231_theta),
                               rtol=1e-6, atol=1e-10)


def _random_point(seed, symbols):
    rng = np.random.default_rng(seed)
    return {e: sp.Rational(int(rng.integers(-1500, 1500)), 1000) for s in symbols for e in elements(s)}


def test_symbolic_matrix_gradient_equals_scalar_reverse_mode(mlp231):
    model, net, target = mlp231
    point = _random_point(0, [*model.params, net.x, target])
    gradient = model.gradient()
    ours = []
    for p in model.params:
        value = sg.nn.explicit(gradient[p]).subs(point)
        assert value.shape == p.shape
        ours += [float(value[i, j]) for i in range(p.shape[0]) for j in range(p.shape[1])]
    everything = [e for p in model.params for e in elements(p)]
    reference = sg.grad(sg.nn.explicit(model.loss), everything, at=point)
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-15)
    assert np.abs(reference).min() > 1e-8


def test_symbolic_matrix_gradient_equals_sympy_diff(mlp231):
    model, net, target = mlp231
    W1 = model.params[0]
    point = _random_point(2, [*model.params, net.x, target])
    stand_in = {e: sp.Symbol(f"e_{e.parent}_{e.i}_{e.j}", real=True) for e in point}
    scalar_loss = sg.nn.explicit(model.loss)
    scalar_loss = scalar_loss.rewrite(sp.exp).xreplace(stand_in)  # sigmoid as 1/(1 + e^-z): plain SymPy
    values = {stand_in[e]: val for e, val in point.items()}
    ours = sg.nn.explicit(model.gradient()[W1]).subs(point)
    for e in elements(W1):
        exact = sp.diff(scalar_loss, stand_in[e]).subs(values)
        assert float(ours[e.i, e.j]) == pytest.approx(float(exact.evalf(30)), rel=1e-12, abs=1e-15)


def test_grad_of_a_single_element_equals_compiled_gradient_entry(mlp231, mlp231_kernels):
    model, net, target = mlp231
    W1, b1, W2, b2 = model.params
    point = _random_point(3, [*model.params, net.x, target])
    theta = np.array([float(point[e]) for p in model.params for e in elements(p)])
    X = np.array([[float(point[net.x[0, 0]]), float(point[net.x[1, 0]])]])
    T = np.array([[float(point[target[0, 0]])]])
    compiled = mlp231_kernels.grad(theta, X, T)
    wanted = [W1[2, 0], W1[0, 1], b1[1, 0], W2[0, 2], b2[0, 0]]
    offsets = [4, 1, 7, 11, 12]  # W1 (3, 2) row-major at 0, b1 at 6, W2 (1, 3) at 9, b2 at 12
    assert sg.grad(model.loss, [W1[2, 0]], at=point)[0] == pytest.approx(compiled[4], rel=1e-12)
    np.testing.assert_allclose(sg.grad(model.loss, wanted, at=point), compiled[offsets], rtol=1e-12)
    # The symbolic form: a SymPy expression of the elements that evaluates to the same number.
    symbolic = sg.grad(model.loss, [W1[2, 0]])[0]
    assert float(symbolic.subs(point)) == pytest.approx(compiled[4], rel=1e-12)
