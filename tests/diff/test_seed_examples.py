"""The published seed example, f = 2*(x*y + Max(z, w)) at (3, -4, 2, -1),
whose value and gradient are exact integers:

    f = 2*(3*(-4) + max(2, -1)) = -20
    grad f = (2y, 2x, 2*[z > w], 2*[w > z]) = (-8, 6, 2, 0)

plus gradients with respect to inputs as well as parameters, and with
respect to a symbol the expression does not contain.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

import symgrad as sg

x, y, z, w = sp.symbols("x y z w", real=True)
SEED = 2 * (x * y + sp.Max(z, w))
SEED_POINT = {x: 3, y: -4, z: 2, w: -1}
SEED_VALUE = -20
SEED_GRAD = [-8, 6, 2, 0]


def _exact(value, expected):
    # an exact SymPy integer, not a float that happens to compare equal
    assert isinstance(value, sp.Integer), (value, type(value))
    assert value == expected


def test_seed_value_and_gradient_exact():
    prog = sg.program(SEED, [x, y, z, w])
    values = prog.evaluate(SEED_POINT)
    _exact(values[("value", 0)], SEED_VALUE)
    for i, expected in enumerate(SEED_GRAD):
        _exact(values[("grad", 0, i)], expected)
    # also addressable by name
    _exact(prog["∂f/∂x"].subs(SEED_POINT), SEED_GRAD[0])


def test_seed_gradient_float_and_symbolic_paths():
    at = sg.grad(SEED, [x, y, z, w], at=SEED_POINT)
    assert at.dtype == np.float64
    np.testing.assert_array_equal(at, np.array(SEED_GRAD, dtype=np.float64))
    symbolic = sg.grad(SEED, [x, y, z, w])
    assert [g.subs(SEED_POINT) for g in symbolic] == SEED_GRAD
    # the smooth part of the symbolic gradient is exactly 2y, 2x
    assert sp.expand(symbolic[0] - 2 * y) == 0
    assert sp.expand(symbolic[1] - 2 * x) == 0


def test_seed_gradient_order_follows_wrt():
    wrt = [w, z, y, x]
    values = sg.program(SEED, wrt).evaluate(SEED_POINT)
    assert [values[("grad", 0, i)] for i in range(4)] == SEED_GRAD[::-1]
    np.testing.assert_array_equal(sg.grad(SEED, wrt, at=SEED_POINT), SEED_GRAD[::-1])


def test_seed_hessian_exact():
    # z > w at the seed point, so near it f is the smooth 2*(x*y + z);
    # its Hessian from sympy is the reference
    wrt = [x, y, z, w]
    H = sg.hessian(SEED, wrt, at=SEED_POINT)
    active = 2 * (x * y + z)
    expected = np.array(sp.hessian(active, wrt).subs(SEED_POINT), dtype=np.float64)
    assert np.any(expected != 0)
    np.testing.assert_array_equal(H, expected)
    symbolic = sg.hessian(SEED, wrt)
    assert symbolic.subs(SEED_POINT) == sp.hessian(active, wrt).subs(SEED_POINT)


def test_wrt_may_mix_params_and_inputs():
    """Gradients with respect to inputs (not only parameters) of a model."""
    a, b = sp.symbols("a b", real=True)  # parameters
    u, t = sp.symbols("u t", real=True)  # input, target
    loss = (sg.sigmoid(a * u + b) - t) ** 2
    roles = {a: "param", b: "param", u: "input", t: "target"}
    G = sg.graph(loss, roles=roles)
    leaf_roles = {d["expr"]: d["role"] for _, d in G.nodes(data=True) if d["op"] == "symbol"}
    assert leaf_roles == roles

    wrt = [a, u, b, t]  # params, an input and a target, interleaved
    point = {a: sp.Rational(1, 2), b: sp.Rational(-1, 3), u: 2, t: sp.Rational(1, 4)}
    ours = sg.grad(loss, wrt, at=point)
    reference = sp.lambdify(
        [a, b, u, t], [sp.diff(sg.expand_activations(loss), s) for s in wrt], modules="mpmath"
    )(*[point[s] for s in (a, b, u, t)])
    np.testing.assert_allclose(ours, [float(r) for r in reference], rtol=1e-13, atol=1e-15)
    # d/du is a times d/db (u only enters through a*u + b)
    assert abs(ours[1] - float(point[a]) * ours[2]) <= 1e-14
    # seed expression: differentiate w.r.t. the "inputs" z, w too
    values = sg.program(SEED, [z, w, x]).evaluate(SEED_POINT)
    assert [values[("grad", 0, i)] for i in range(3)] == [SEED_GRAD[2], SEED_GRAD[3], SEED_GRAD[0]]


def test_wrt_symbol_absent_from_expression():
    q = sp.Symbol("q", real=True)
    prog = sg.program(SEED, [x, q, z])
    assert prog[("grad", 0, 1)] == 0
    values = prog.evaluate(SEED_POINT)  # q needs no value: it is not an input
    assert values[("grad", 0, 1)] == 0
    assert [values[("grad", 0, 0)], values[("grad", 0, 2)]] == [SEED_GRAD[0], SEED_GRAD[2]]
    assert sg.grad(SEED, [q]) == [0]
    np.testing.assert_array_equal(sg.grad(SEED, [q, y], at=SEED_POINT), [0.0, SEED_GRAD[1]])
    # and in a Hessian, the whole row and column of q vanish
    H = sg.hessian(SEED, [q, x, y])
    assert list(H.row(0)) == [0, 0, 0] and list(H.col(0)) == [0, 0, 0]
    assert H[1, 2] == sp.diff(SEED, x, y) and H[2, 1] == sp.diff(SEED, y, x)
    assert H[1, 2] != 0
