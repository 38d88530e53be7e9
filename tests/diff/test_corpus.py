"""symgrad's derivatives of random smooth expressions, checked against
references that do not go through symgrad.

References used:

* ``sympy.diff`` of ``sg.expand_activations(f)``: the activations rewritten
  as elementary functions, so symgrad's ``fdiff`` and derivative rules play
  no part in the reference;
* central finite differences of ``f`` evaluated in double precision
  (numpy), which uses no symbolic differentiation at all.

Expressions are drawn by a seeded generator (``Corpus``) and, through
``st.randoms``, by hypothesis (which can then shrink a failing case to a
small expression). Every expression is built so that it is real and smooth
on the sampling box ``[-BOX, BOX]^3``: logarithms, square roots, rational
and symbolic powers only ever see positive bases, and ``tan``/``exp``/
``sinh``/``cosh`` only see bounded arguments.
"""

from __future__ import annotations

import random

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg

X, Y, Z = SYMBOLS = sp.symbols("x y z", real=True)
BOX = 1.25
DPS = 30

NONSMOOTH = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min, sp.Piecewise, sg.relu)

# --- Tolerances -------------------------------------------------------------
#
# Symbolic comparisons evaluate symgrad's derivative and the sympy.diff
# reference with mpmath at DPS = 30 significant digits. The two expressions are
# mathematically identical, so they can only disagree through rounding:
# about 1e-30 relative to the largest intermediate term. Even a cancellation
# losing 15 digits would leave agreement to ~1e-15, so SYMBOLIC_RTOL = 1e-10
# has ample margin, while a wrong derivative rule produces O(1) relative
# discrepancies. SYMBOLIC_ATOL = 1e-20 only matters for derivatives that are
# exactly zero (where a relative test is meaningless); it is still ~10 orders
# of magnitude above the 30-digit rounding noise of the O(1..1e3) terms here.
SYMBOLIC_RTOL = 1e-10
SYMBOLIC_ATOL = 1e-20

# The ``at=`` path evaluates the program in SymPy Floats of 53-bit precision
# (the inputs are Python floats), i.e. double-precision arithmetic, and
# rounds to float64. A program of at most a few hundred operations on values
# of modest condition accumulates at most ~1e3 * eps ~ 2e-13 relative error
# per term; we allow 1e-9 relative to the magnitude of the gradient (scale),
# i.e. > 1e3 margin (observed: < 1e-4 of it), still far below any rule error.
NUMERIC_RTOL = 1e-9

# Central differences in float64 with step h = 1e-5: truncation error
# h**2/6 * |f'''| ~ 1.7e-11 * |f'''| plus rounding error ~ eps*|f|/h ~
# 2.2e-11 * |f|. The tolerance FD_ATOL_SCALE * (1 + |f| + |f'|) with
# FD_ATOL_SCALE = 1e-6 therefore admits third derivatives up to ~6e4 times
# (1 + |f| + |f'|), more than the compositions of bounded functions drawn
# here reach (calibration over 200 corpus expressions x 2 points: the worst
# error was < 10% of the tolerance), while a wrong derivative rule is off by
# O(|f'|), i.e. by ~1e6 times the tolerance.
FD_STEP = 1e-5
FD_ATOL_SCALE = 1e-6


# --- The generator -----------------------------------------------------------


class Corpus:
    """Draws random smooth real expressions in x, y, z with shared subexpressions.

    Three kinds of expression are drawn, each with a guarantee on the box
    ``|x|, |y|, |z| <= BOX``:

    * ``bounded``: |value| <= 1.5 (safe as argument of tan, exp, sinh, cosh);
    * ``positive``: value >= ~1e-3 (safe for log, sqrt, rational and symbolic powers);
    * ``real``: any real value.

    Every subexpression drawn is remembered; with probability ``share`` a
    later draw of the same kind returns an earlier one, so the result is a DAG
    whose shared nodes have several consumers (the case reverse mode must
    accumulate correctly).
    """

    def __init__(self, rng: random.Random, share: float = 0.3):
        self.rng = rng
        self.share = share
        self.pool: dict[str, list[sp.Expr]] = {"bounded": [], "positive": [], "real": []}

    # helpers
    def _reuse(self, kind: str) -> sp.Expr | None:
        candidates = list(self.pool[kind])
        if kind == "real":
            candidates += self.pool["bounded"] + self.pool["positive"]
        if candidates and self.rng.random() < self.share:
            return self.rng.choice(candidates)
        return None

    def _keep(self, kind: str, expr: sp.Expr) -> sp.Expr:
        if not expr.is_Atom:
            self.pool[kind].append(expr)
        return expr

    def symbol(self) -> sp.Symbol:
        return self.rng.choice(SYMBOLS)

    def small_constant(self) -> sp.Rational:
        # |c| <= 3/2, nonzero
        return sp.Rational(self.rng.choice([-3, -2, -1, 1, 2, 3]), 2)

    # the three kinds
    def bounded(self, depth: int) -> sp.Expr:
        again = self._reuse("bounded")
        if again is not None:
            return again
        if depth <= 0:
            return self.symbol() if self.rng.random() < 0.8 else self.small_constant()
        u = self.real(depth - 1)
        make = self.rng.choice([
            sp.sin,
            sp.cos,
            sp.tanh,
            lambda a: sp.atan(a) / 2,
            sp.erf,
            sg.sigmoid,
            lambda a: 2 * sg.sigmoid(a) - 1,
            lambda a: sp.sin(a) * sp.tanh(self.real(depth - 1)),
        ])
        return self._keep("bounded", make(u))

    def positive(self, depth: int) -> sp.Expr:
        again = self._reuse("positive")
        if again is not None:
            return again
        rng = self.rng
        if depth <= 0:
            s = self.symbol()
            return rng.choice([1 + s**2, 2 + s, sp.exp(s), 3 - s])
        kind = rng.randrange(12)
        if kind == 0:
            expr = 1 + self.real(depth - 1) ** 2
        elif kind == 1:
            expr = sp.exp(self.bounded(depth - 1))
        elif kind == 2:
            expr = sp.cosh(self.bounded(depth - 1))
        elif kind == 3:
            expr = rng.choice([sg.sigmoid, sg.softplus])(self.bounded(depth - 1))
        elif kind == 4:
            expr = 2 + rng.choice([sp.sin, sp.erf, sp.cos])(self.real(depth - 1))
        elif kind == 5:
            expr = 1 + sp.tanh(self.real(depth - 1)) ** 2
        elif kind == 6:
            expr = self.positive(depth - 1) * self.positive(depth - 1)
        elif kind == 7:
            expr = self.positive(depth - 1) + self.positive(depth - 1)
        elif kind == 8:
            r = rng.choice([sp.S.Half, -sp.S.Half, sp.Rational(3, 2), sp.Rational(-3, 2),
                            sp.Rational(1, 3), -1, 2])
            expr = self.positive(depth - 1) ** r
        elif kind == 9:
            # symbolic exponent on a positive base
            expr = self.positive(depth - 1) ** self.bounded(depth - 1)
        elif kind == 10:
            expr = sp.sqrt(self.positive(depth - 1))
        else:
            expr = sp.log(1 + self.positive(depth - 1))
        return self._keep("positive", expr)

    def real(self, depth: int) -> sp.Expr:
        again = self._reuse("real")
        if again is not None:
            return again
        rng = self.rng
        if depth <= 0:
            return self.symbol() if rng.random() < 0.85 else self.small_constant()
        kind = rng.randrange(16)
        d = depth - 1
        if kind == 0:
            expr = self.real(d) + self.real(d)
        elif kind == 1:
            expr = self.real(d) * self.real(d)
        elif kind == 2:
            expr = self.small_constant() * self.real(d) - self.real(d)
        elif kind == 3:
            expr = self.real(d) ** rng.choice([2, 3])
        elif kind == 4:
            expr = self.real(d) / self.positive(d)
        elif kind == 5:
            expr = sp.log(self.positive(d))
        elif kind == 6:
            expr = sp.sqrt(self.positive(d)) - self.real(d)
        elif kind == 7:
            expr = self.positive(d) ** rng.choice([sp.Rational(-3, 2), sp.Rational(3, 2)])
        elif kind == 8:
            expr = self.positive(d) ** self.bounded(d) * self.real(d)
        elif kind == 9:
            expr = rng.choice([sp.sin, sp.cos, sp.tanh, sp.atan, sp.erf])(self.real(d))
        elif kind == 10:
            expr = rng.choice([sg.sigmoid, sg.softplus])(self.real(d))
        elif kind == 11:
            expr = rng.choice([sp.exp, sp.sinh, sp.cosh])(self.bounded(d))
        elif kind == 12:
            expr = sp.tan(self.bounded(d))
        elif kind == 13:
            expr = sp.log(1 + sp.exp(self.bounded(d))) * self.real(d)
        elif kind == 14:
            # an explicitly shared operand: u appears under two different parents
            u = self.real(d)
            expr = sp.sin(u) * u + sp.exp(sp.tanh(u))
        else:
            expr = self.bounded(d) * self.real(d) + self.positive(d)
        return self._keep("real", expr)

    def expression(self, depth: int = 3) -> sp.Expr:
        """One top-level expression that depends on at least one symbol."""
        for _ in range(100):
            # a sum/product of a few terms drawn from one pool, so the terms
            # tend to share subexpressions with each other
            terms = [self.real(depth) for _ in range(self.rng.randint(1, 3))]
            expr = terms[0]
            for term in terms[1:]:
                expr = expr + term if self.rng.random() < 0.6 else expr * term
            if expr.free_symbols and not expr.has(*NONSMOOTH):
                return expr
        raise AssertionError("generator failed to produce a smooth non-constant expression")


def random_point(rng: random.Random) -> dict[sp.Symbol, float]:
    return {s: rng.uniform(-BOX, BOX) for s in SYMBOLS}


# --- Evaluation helpers ------------------------------------------------------


def _mp_sigmoid(u):
    return 1 / (1 + mpmath.exp(-u))


def _mp_softplus(u):
    return mpmath.log1p(mpmath.exp(u))


# Used only to evaluate *symgrad's* output, which may mention sigmoid/softplus;
# the reference expressions have them expanded away before sympy.diff.
MP_NAMESPACE = [{"sigmoid": _mp_sigmoid, "softplus": _mp_softplus}, "mpmath"]


def mp_values(exprs, point):
    """Evaluate SymPy expressions at ``point`` with mpmath, DPS digits."""
    fn = sp.lambdify(SYMBOLS, list(exprs), modules=MP_NAMESPACE)
    with mpmath.workdps(DPS):
        args = [mpmath.mpf(point[s]) for s in SYMBOLS]
        return [mpmath.mpf(v) for v in fn(*args)]


def reference_gradient(expr, wrt):
    elementary = sg.expand_activations(expr)
    assert not elementary.has(sg.sigmoid, sg.softplus, sg.relu)
    return [sp.diff(elementary, s) for s in wrt]


def reference_hessian(expr, wrt):
    elementary = sg.expand_activations(expr)
    # both orders of differentiation are computed independently
    return [[sp.diff(sp.diff(elementary, a), b) for b in wrt] for a in wrt]


def assert_close_mp(actual, expected, rtol, atol, what):
    for k, (a, e) in enumerate(zip(actual, expected, strict=True)):
        err = abs(a - e)
        assert err <= rtol * abs(e) + atol, (
            f"{what}[{k}]: symgrad {mpmath.nstr(a, 20)} vs reference {mpmath.nstr(e, 20)}"
        )


def central_differences(expr, point, h=FD_STEP):
    """float64 central differences of ``expr`` at ``point`` in every symbol."""
    # plain float64 via the math module (no scipy needed for erf)
    f = sp.lambdify(SYMBOLS, sg.expand_activations(expr), modules="math")
    base = np.array([point[s] for s in SYMBOLS], dtype=np.float64)
    value = float(f(*base))
    out = []
    for i in range(len(SYMBOLS)):
        up, down = base.copy(), base.copy()
        up[i] += h
        down[i] -= h
        out.append((float(f(*up)) - float(f(*down))) / (up[i] - down[i]))
    return value, np.array(out)


# --- The checks ----------------------------------------------------------------


def check_gradient(expr, rng, n_points=3):
    """Symbolic grad, the at= path and finite differences, at several points."""
    wrt = list(SYMBOLS)
    ours = sg.grad(expr, wrt)
    assert isinstance(ours, list) and len(ours) == len(wrt)
    assert all(isinstance(g, sp.Basic) for g in ours)
    reference = reference_gradient(expr, wrt)
    for _ in range(n_points):
        point = random_point(rng)
        ours_mp = mp_values(ours, point)
        ref_mp = mp_values(reference, point)
        assert_close_mp(ours_mp, ref_mp, SYMBOLIC_RTOL, SYMBOLIC_ATOL, f"grad of {expr} at {point}")

        # numeric path: a float64 array of the same derivative
        at = sg.grad(expr, wrt, at=point)
        assert isinstance(at, np.ndarray) and at.dtype == np.float64 and at.shape == (3,)
        ref_f = np.array([float(v) for v in ref_mp])
        scale = 1.0 + np.max(np.abs(ref_f))
        np.testing.assert_allclose(at, ref_f, rtol=NUMERIC_RTOL, atol=NUMERIC_RTOL * scale,
                                   err_msg=f"grad(at=) of {expr} at {point}")

        # finite differences (no symbolic differentiation involved)
        value, fd = central_differences(expr, point)
        tol = FD_ATOL_SCALE * (1 + abs(value) + np.abs(ref_f))
        assert np.all(np.abs(at - fd) <= tol), (
            f"grad of {expr} at {point}: symgrad {at} vs central differences {fd}"
        )


CORPUS_SEEDS = range(40)


@pytest.mark.parametrize("seed", CORPUS_SEEDS)
def test_gradient_matches_sympy_and_finite_differences(seed):
    rng = random.Random(1000 + seed)
    expr = Corpus(rng).expression(depth=3)
    check_gradient(expr, rng)


@settings(max_examples=25, deadline=None, database=None, derandomize=True)
@given(st.randoms(use_true_random=False))
def test_gradient_hypothesis(rng):
    expr = Corpus(rng).expression(depth=rng.choice([1, 2, 3]))
    check_gradient(expr, rng, n_points=2)


def test_corpus_is_smooth_diverse_and_shared():
    """The generator really exercises what the tests above claim to test."""
    ops_seen: set[str] = set()
    n_shared = 0
    for seed in CORPUS_SEEDS:
        expr = Corpus(random.Random(1000 + seed)).expression(depth=3)
        assert not expr.has(*NONSMOOTH), expr
        assert expr.free_symbols <= set(SYMBOLS)
        G = sg.graph(expr)
        ops_seen |= {d["op"] for _, d in G.nodes(data=True)}
        # a shared (non-leaf) subexpression: an op node with >= 2 consumers
        if any(G.out_degree(n) >= 2 for n, d in G.nodes(data=True) if d["op"] not in ("symbol", "constant")):
            n_shared += 1
    wanted = {"Add", "Mul", "Pow", "exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh",
              "atan", "erf", "sigmoid", "softplus"}
    assert wanted <= ops_seen, f"generator never produced {wanted - ops_seen}"
    assert n_shared >= len(CORPUS_SEEDS) // 2, f"only {n_shared} expressions had shared nodes"


def test_value_at_point_matches_expression():
    """The forward value computed by the program is the expression's value."""
    for seed in range(10):
        rng = random.Random(5000 + seed)
        expr = Corpus(rng).expression(depth=3)
        prog = sg.program(expr, list(SYMBOLS))
        for _ in range(2):
            point = random_point(rng)
            got = prog.evaluate(point)[("value", 0)]
            (expected,) = mp_values([sg.expand_activations(expr)], point)
            assert abs(float(got) - float(expected)) <= NUMERIC_RTOL * (1 + abs(float(expected))), expr


def test_at_path_equals_symbolic_gradient_evaluated():
    """``grad(at=)`` is the symbolic gradient evaluated, also at exact rational points."""
    for seed in range(8):
        rng = random.Random(7000 + seed)
        expr = Corpus(rng).expression(depth=2)
        wrt = [Z, X]  # a subset, in a non-sorted order
        symbolic = sg.grad(expr, wrt)
        point = {s: sp.Rational(rng.randint(-9, 9), 8) for s in SYMBOLS}
        at = sg.grad(expr, wrt, at=point)
        expected = mp_values(symbolic, point)
        np.testing.assert_allclose(at, [float(v) for v in expected], rtol=1e-12, atol=1e-14)
        reference = mp_values(reference_gradient(expr, wrt), point)
        np.testing.assert_allclose(at, [float(v) for v in reference], rtol=1e-12, atol=1e-14)


HESSIAN_SEEDS = range(12)


@pytest.mark.parametrize("seed", HESSIAN_SEEDS)
def test_hessian_matches_sympy_and_is_symmetric(seed):
    rng = random.Random(3000 + seed)
    expr = Corpus(rng).expression(depth=2)
    wrt = list(SYMBOLS)
    H = sg.hessian(expr, wrt)
    assert isinstance(H, sp.MatrixBase) and H.shape == (3, 3)
    assert H == H.T  # symmetric as SymPy expressions, not only numerically
    reference = reference_hessian(expr, wrt)
    flat_ref = [reference[i][j] for i in range(3) for j in range(3)]
    for _ in range(2):
        point = random_point(rng)
        ours = mp_values(list(H), point)
        ref = mp_values(flat_ref, point)
        assert_close_mp(ours, ref, SYMBOLIC_RTOL, SYMBOLIC_ATOL, f"hessian of {expr} at {point}")

        at = sg.hessian(expr, wrt, at=point)
        assert isinstance(at, np.ndarray) and at.shape == (3, 3) and at.dtype == np.float64
        np.testing.assert_array_equal(at, at.T)
        ref_f = np.array([float(v) for v in ref]).reshape(3, 3)
        scale = 1.0 + np.max(np.abs(ref_f))
        np.testing.assert_allclose(at, ref_f, rtol=NUMERIC_RTOL, atol=NUMERIC_RTOL * scale)

        # Central differences of symgrad's own (already verified) gradient:
        # column j of H is d(grad)/d(x_j). Same error budget as above, one
        # derivative higher.
        base = np.array([point[s] for s in SYMBOLS])
        for j in range(3):
            up, down = base.copy(), base.copy()
            up[j] += FD_STEP
            down[j] -= FD_STEP
            g_up = sg.grad(expr, wrt, at=dict(zip(SYMBOLS, up, strict=True)))
            g_down = sg.grad(expr, wrt, at=dict(zip(SYMBOLS, down, strict=True)))
            fd = (g_up - g_down) / (up[j] - down[j])
            tol = FD_ATOL_SCALE * (1 + np.abs(g_up) + np.abs(ref_f[:, j]))
            assert np.all(np.abs(at[:, j] - fd) <= tol), (expr, j, at[:, j], fd)


@pytest.mark.parametrize("seed", range(8))
def test_jacobian_of_outputs_sharing_subexpressions(seed):
    rng = random.Random(9000 + seed)
    corpus = Corpus(rng, share=0.45)  # one pool: the outputs share subexpressions
    exprs = [corpus.expression(depth=2) for _ in range(2 + seed % 2)]
    wrt = [Y, X, Z]
    J = sg.jacobian(exprs, wrt)
    assert isinstance(J, sp.MatrixBase) and J.shape == (len(exprs), 3)
    reference = [g for e in exprs for g in reference_gradient(e, wrt)]
    for _ in range(2):
        point = random_point(rng)
        ours = mp_values(list(J), point)
        ref = mp_values(reference, point)
        assert_close_mp(ours, ref, SYMBOLIC_RTOL, SYMBOLIC_ATOL, f"jacobian of {exprs}")
        at = sg.jacobian(exprs, wrt, at=point)
        assert at.shape == (len(exprs), 3) and at.dtype == np.float64
        ref_f = np.array([float(v) for v in ref]).reshape(len(exprs), 3)
        scale = 1.0 + np.max(np.abs(ref_f))
        np.testing.assert_allclose(at, ref_f, rtol=NUMERIC_RTOL, atol=NUMERIC_RTOL * scale)
        # row k of the Jacobian is the gradient of output k alone
        for k, e in enumerate(exprs):
            np.testing.assert_allclose(at[k], sg.grad(e, wrt, at=point), rtol=1e-12, atol=1e-12 * scale)


def test_wrt_symbol_not_in_expression_has_zero_derivative():
    rng = random.Random(42)
    w = sp.Symbol("w", real=True)
    expr = Corpus(rng).expression(depth=3)
    g = sg.grad(expr, [X, w, Y])
    assert g[1] == 0
    point = {**random_point(rng), w: 0.7}
    at = sg.grad(expr, [X, w, Y], at=point)
    assert at[1] == 0.0
    H = sg.hessian(expr, [w, X])
    assert H[0, 0] == 0 and H[0, 1] == 0 and H[1, 0] == 0
