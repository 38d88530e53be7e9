"""Hessian-vector products from one extra reverse sweep equal sympy's Hessian times v."""

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DeclarationError
from symgrad.program.build import build_program

x, y, z = sp.symbols("x y z", real=True)
u, v, w = sp.symbols("u v w", real=True)
CASES = [
    sp.sin(x * y) + x**3 * y,
    sg.sigmoid(x * y + z) * sp.exp(-z**2) + sp.log(1 + x**2) * y,
    sp.tanh(x + y * z) ** 2 + sg.softplus(x - z) * y,
]


@pytest.mark.parametrize("expr", CASES)
def test_hvp_equals_hessian_times_direction(expr, random_point):
    program = build_program(expr, [x, y, z], direction=[u, v, w])
    reference = sp.hessian(sg.expand_activations(expr), (x, y, z)) * sp.Matrix([u, v, w])
    point = random_point([x, y, z, u, v, w])
    ours = program.evaluate(point)
    for i in range(3):
        expected = reference[i].evalf(40, subs=point)
        assert abs(sp.N(ours["hvp", 0, i], 40) - expected) < 1e-30


def _sizes(n):
    xs = sp.symbols(f"a0:{n}", real=True)
    directions = sp.symbols(f"b0:{n}", real=True)
    # Every pair of variables interacts: the full Hessian is dense.
    expr = sg.sigmoid(sp.Add(*(xs[k] * xs[(k + 1) % n] for k in range(n)))) * sp.Add(*map(sp.sin, xs))
    return len(build_program(expr, xs, direction=directions)), len(build_program(expr, xs, order=2))


def test_hvp_program_grows_linearly_where_the_hessian_grows_quadratically():
    (hvp_small, full_small), (hvp_large, full_large) = _sizes(6), _sizes(24)
    assert hvp_large / hvp_small < 4 * 1.25  # 4x the variables: about 4x the statements
    assert full_large / full_small > hvp_large / hvp_small * 1.5


def test_direction_must_match_wrt():
    with pytest.raises(DeclarationError, match="one symbol per wrt"):
        build_program(x * y, [x, y], direction=[u])
