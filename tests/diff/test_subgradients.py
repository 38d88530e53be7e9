"""Derivatives of the non-smooth ops: the documented subgradient conventions
(see the table in ``symgrad/diff/rules.py``) at kinks and ties, and agreement
with central finite differences away from them.

At kinks the expected values are the *conventions* themselves (0, 1/2, 1 or
"the branch whose condition holds"), stated independently of symgrad's
implementation: for Piecewise the branch is selected here by evaluating the
conditions, and the branch is differentiated by ``sympy.diff``.

Exact points (SymPy Integers/Rationals) are used throughout, so every check
at a kink is an exact equality; each is made on three paths: the program run
on exact numbers, the symbolic gradient substituted, and the float ``at=``
path.
"""

from __future__ import annotations

import random
from itertools import product

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg

x, y, z, w = sp.symbols("x y z w", real=True)
HALF = sp.S.Half


def gradients(expr, wrt, point):
    """The gradient at ``point`` on three paths; asserts they agree; returns the exact one."""
    values = sg.program(expr, wrt).evaluate(point)
    exact = [values[("grad", 0, i)] for i in range(len(wrt))]
    for g in exact:
        assert isinstance(g, sp.Basic) and g.is_number, g
    symbolic = [g.subs(point) for g in sg.grad(expr, wrt)]
    assert [sp.simplify(s - e) for s, e in zip(symbolic, exact, strict=True)] == [0] * len(wrt), (
        f"symbolic gradient {symbolic} disagrees with the program's {exact} at {point}"
    )
    numeric = sg.grad(expr, wrt, at=point)
    np.testing.assert_allclose(numeric, [float(e) for e in exact], rtol=1e-14, atol=1e-15)
    return exact


# --- Abs, sign, Heaviside, relu --------------------------------------------------


def test_abs_derivative_is_sign_and_zero_at_zero():
    assert gradients(sp.Abs(x), [x], {x: 0}) == [0]
    assert gradients(sp.Abs(x), [x], {x: sp.Rational(1, 1000)}) == [1]
    assert gradients(sp.Abs(x), [x], {x: -3}) == [-1]
    # kink reached through a composite argument: both partials vanish
    assert gradients(sp.Abs(x - y), [x, y], {x: 2, y: 2}) == [0, 0]
    assert gradients(sp.Abs(x - y), [x, y], {x: 3, y: 2}) == [1, -1]
    # the zero subgradient propagates through the chain rule ...
    assert gradients(sp.Abs(sp.sin(x)) * y, [x, y], {x: 0, y: 5}) == [0, 0]
    # ... and does not stop the other factor's derivative
    assert gradients(sp.Abs(x) * y, [x, y], {x: -2, y: 5}) == [-5, 2]


@pytest.mark.parametrize("at", [-2, 0, sp.Rational(1, 3)])
def test_sign_has_zero_derivative(at):
    assert sg.grad(sp.sign(x), [x]) == [0]
    assert gradients(sp.sign(x), [x], {x: at}) == [0]
    # sign(x) still scales the derivative with respect to the other factor
    assert gradients(y * sp.sign(x), [x, y], {x: at, y: 7}) == [0, sp.sign(at)]
    assert gradients(sp.sign(x**2 - 1) * x, [x], {x: at}) == [sp.sign(at**2 - 1)]


@pytest.mark.parametrize("h0", [None, 0, HALF, 1])
@pytest.mark.parametrize("at", [-1, 0, 2])
def test_heaviside_has_zero_derivative(h0, at):
    H = sp.Heaviside(x) if h0 is None else sp.Heaviside(x, h0)
    assert sg.grad(H, [x]) == [0]
    assert gradients(H, [x], {x: at}) == [0]
    assert gradients(sp.Heaviside(x - y) * z, [x, y], {x: at, y: 0, z: 3}) == [0, 0]
    # the value H(at) (with its H0 at the jump) is what flows to the other factor
    assert gradients(H * z, [x, z], {x: at, z: 3}) == [0, H.subs(x, at)]


@pytest.mark.parametrize(
    "at, expected",
    [(0, 0), (2, 1), (-2, 0), (sp.Rational(1, 10**6), 1), (-sp.Rational(1, 10**6), 0)],
)
def test_relu_derivative(at, expected):
    assert gradients(sg.relu(x), [x], {x: at}) == [expected]


def test_relu_at_composite_kink():
    # relu(x - y) at x == y: derivative 0 for both operands
    assert gradients(sg.relu(x - y), [x, y], {x: 1, y: 1}) == [0, 0]
    # relu(3x - 1): chain rule factor 3 on the positive side, 0 at the kink
    assert gradients(sg.relu(3 * x - 1), [x], {x: sp.Rational(1, 3)}) == [0]
    assert gradients(sg.relu(3 * x - 1), [x], {x: 1}) == [3]
    assert gradients(sg.relu(3 * x - 1), [x], {x: 0}) == [0]


# --- Max and Min ------------------------------------------------------------------


def test_max_tie_splits_evenly():
    g = gradients(sp.Max(x, y), [x, y], {x: 1, y: 1})
    assert g == [HALF, HALF] and sum(g) == 1
    assert gradients(sp.Max(x, y), [x, y], {x: 2, y: 1}) == [1, 0]
    assert gradients(sp.Max(x, y), [x, y], {x: -3, y: 1}) == [0, 1]
    # Max with a constant operand at the tie (this is not relu: no 0 convention)
    assert gradients(sp.Max(x, 0), [x], {x: 0}) == [HALF]
    # the tie weight multiplies the operand's own derivative
    assert gradients(sp.Max(x**2, y), [x, y], {x: -1, y: 1}) == [HALF * (2 * -1), HALF]


def test_min_tie_splits_evenly():
    g = gradients(sp.Min(x, y), [x, y], {x: 1, y: 1})
    assert g == [HALF, HALF] and sum(g) == 1
    assert gradients(sp.Min(x, y), [x, y], {x: 2, y: 1}) == [0, 1]
    assert gradients(sp.Min(x, y), [x, y], {x: -3, y: 1}) == [1, 0]
    assert gradients(sp.Min(x, 0), [x], {x: 0}) == [HALF]


small_ints = st.integers(min_value=-2, max_value=2)


def _check_extremum_partials(func, values):
    """Partials of Max/Min(args): nonnegative, sum to 1, zero off the extremum,
    one-hot when the extremum is attained once."""
    symbols = (x, y, z, w)[: len(values)]
    expr = func(*symbols)
    point = dict(zip(symbols, map(sp.Integer, values), strict=True))
    g = gradients(expr, list(symbols), point)
    best = max(values) if func is sp.Max else min(values)
    assert sum(g) == 1, (func, values, g)
    for v, gi in zip(values, g, strict=True):
        assert gi >= 0, (func, values, g)
        if v != best:
            assert gi == 0, (func, values, g)
    if values.count(best) == 1:
        assert g == [1 if v == best else 0 for v in values]


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(st.sampled_from([sp.Max, sp.Min]), st.lists(small_ints, min_size=2, max_size=4))
def test_max_min_partials_sum_to_one(func, values):
    _check_extremum_partials(func, values)


@pytest.mark.parametrize("func", [sp.Max, sp.Min])
def test_three_argument_extremum_all_tie_patterns(func):
    # every pattern of ties among three arguments, including the triple tie
    for values in product([0, 1], repeat=3):
        _check_extremum_partials(func, list(values))


def test_max_three_args_away_from_ties_is_one_hot():
    expr = sp.Max(x, y, z)
    assert gradients(expr, [x, y, z], {x: 1, y: 5, z: 3}) == [0, 1, 0]
    assert gradients(expr, [x, y, z], {x: 9, y: 5, z: 3}) == [1, 0, 0]
    assert gradients(expr, [x, y, z], {x: 1, y: -5, z: 3}) == [0, 0, 1]
    expr = sp.Min(x, y, z)
    assert gradients(expr, [x, y, z], {x: 1, y: 5, z: 3}) == [1, 0, 0]


# --- Piecewise --------------------------------------------------------------------


def selected_branch(pw: sp.Piecewise, point) -> sp.Expr:
    """The branch whose condition holds first at ``point`` (SymPy semantics)."""
    for expr, cond in pw.args:
        if bool(cond.subs(point)):
            return expr
    raise AssertionError(f"no branch of {pw} holds at {point}")


PIECEWISE_CASES = [
    # (expression, boundary points to test)
    (sp.Piecewise((x**2, x < 1), (3 * x, True)), [{x: 1}]),
    (sp.Piecewise((x**2, x <= 1), (3 * x, True)), [{x: 1}]),
    (sp.Piecewise((5 * x, x >= 1), (x**3, True)), [{x: 1}]),
    (sp.Piecewise((5 * x, x > 1), (x**3, True)), [{x: 1}]),
    # three branches; the first and last share an expression (repeated operand)
    (sp.Piecewise((x**2, x < 0), (y * x, x < 1), (x**2, True)), [{x: 0, y: 3}, {x: 1, y: 3}]),
    # conditions combining two variables
    (sp.Piecewise((x * y, (x > 0) & (y > 0)), (x - 2 * y, True)),
     [{x: 0, y: 1}, {x: 1, y: 0}, {x: 0, y: 0}]),
    (sp.Piecewise((sp.sin(x) * y, x + y <= 0), (x**2 + y, True)), [{x: 1, y: -1}]),
    # discontinuous at the boundary, with conditions on a variable not in the branch
    (sp.Piecewise((y**2, x < 0), (2 * y, True)), [{x: 0, y: 3}]),
]


@pytest.mark.parametrize("case", range(len(PIECEWISE_CASES)))
def test_piecewise_takes_branch_selected_at_boundary(case):
    pw, points = PIECEWISE_CASES[case]
    assert isinstance(pw, sp.Piecewise)
    wrt = sorted(pw.free_symbols, key=str)
    rng = random.Random(case)
    # boundary points plus points on either side
    for point in points + [{s: v + sp.Rational(rng.choice([-1, 1]), 7) for s, v in p.items()}
                           for p in points for _ in range(3)]:
        branch = selected_branch(pw, point)
        expected = [sp.diff(branch, s).subs(point) for s in wrt]
        assert gradients(pw, wrt, point) == expected, (pw, point)


# --- Away from kinks: central differences ----------------------------------------------

COMPOSITE = (
    sp.Abs(x - y) * z
    + sg.relu(x * y - z)
    + sp.Max(x, y, z) ** 2
    + sp.Min(sp.sin(x), y) * x
    + sp.Piecewise((x**2 * y, x < z), (x * y + z, True))
    + sp.sign(x) * y**2
    + sp.Heaviside(x + y) * z**3
    + sg.softplus(sp.Max(x, 2 * z))
    + sp.Abs(sg.sigmoid(y) - HALF) * x
)


def kink_distances(point):
    """Distances (in the argument) to every kink or jump of COMPOSITE."""
    X, Y, Z = (point[s] for s in (x, y, z))
    return [X - Y, X * Y - Z, Y - Z, X - Z, np.sin(X) - Y, X, X + Y, X - 2 * Z, Y]


# High-precision central differences: f is evaluated with 30 significant
# digits at exact rational points, so rounding is negligible (~1e-30/h) and the
# error is the truncation h**2/6 * |f'''| with h = 1e-6, i.e. ~2e-13 * |f'''|.
# Away from kinks (every kink argument at least 1e-2 away, so x +- h never
# crosses one) f''' of this composite is O(10) on [-2, 2]^3; 1e-9 * (1 + |g|)
# leaves a margin > 100.
FD_H = sp.Rational(1, 10**6)


def central_difference(expr, point, s):
    up = {**point, s: point[s] + FD_H}
    down = {**point, s: point[s] - FD_H}
    return (sp.N(expr.subs(up), 30) - sp.N(expr.subs(down), 30)) / (2 * FD_H)


@pytest.mark.parametrize("seed", range(10))
def test_composite_matches_finite_differences_away_from_kinks(seed):
    rng = random.Random(seed)
    elementary = sg.expand_activations(COMPOSITE)
    wrt = [x, y, z]
    symbolic = sg.grad(COMPOSITE, wrt)
    reference = [sp.diff(elementary, s) for s in wrt]
    while True:
        point = {s: sp.Rational(rng.randint(-2000, 2000), 1000) for s in wrt}
        if min(abs(d) for d in kink_distances({s: float(v) for s, v in point.items()})) > 1e-2:
            break
    at = sg.grad(COMPOSITE, wrt, at=point)
    for i, s in enumerate(wrt):
        fd = float(central_difference(elementary, point, s))
        assert abs(at[i] - fd) <= 1e-9 * (1 + abs(fd)), (s, point, at[i], fd)
        # symbolic gradient and sympy.diff (DiracDelta terms vanish away from kinks)
        ours = float(sp.N(symbolic[i].subs(point), 30))
        ref = float(sp.N(reference[i].subs(point), 30))
        assert abs(ours - ref) <= 1e-12 * (1 + abs(ref)), (s, point, ours, ref)
        assert abs(at[i] - ours) <= 1e-12 * (1 + abs(ours))
