"""stabilize(): softplus(u) and softplus(-u) in one sum keep only softplus(u); the helpers.

The references are the expressions as written, evaluated by mpmath at enough
digits that 1 - σ(u) ≈ e⁻⁷⁰⁰ keeps plenty of them, and derivatives from
``sympy.diff`` of the written form. The compiled kernels are built in a
temporary cache, so an older generated module cannot stand in for them.
"""

import math
import re

import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import sigmoid, softplus
from symgrad.codegen.stable import stabilize

EPS = np.finfo(np.float64).eps
#: e⁻⁷⁵⁰ is 10⁻³²⁶: 1 - σ(u) at |u| ≤ 750 still has more than 100 significant digits at 450.
DIGITS = 450

u, v, t = sp.symbols("u v t", real=True)


def _mp(args, expr):
    return sp.lambdify(args, sg.expand_activations(expr), "mpmath")


# -- the rewrite, symbolically ------------------------------------------------------------------
PAIRS = [
    # (written, stabilised)
    (sg.losses.binary_cross_entropy(sigmoid(u - v), t), softplus(u - v) - t * (u - v)),
    (t * softplus(-u) + (1 - t) * softplus(u), softplus(u) - t * u),
    (softplus(u) - softplus(-u), u),
    (softplus(-u) + softplus(u), 2 * softplus(u) - u),
    (3 * softplus(v - u) + t * softplus(u - v) + softplus(v),
     (t + 3) * softplus(u - v) - 3 * (u - v) + softplus(v)),
    (softplus(-u) + softplus(u) + softplus(-v) + softplus(v), 2 * softplus(u) - u + 2 * softplus(v) - v),
]
KEPT = [
    softplus(-u) + t * softplus(v),
    softplus(-u) ** 2 + softplus(u),
    softplus(-u) * softplus(u),
    sigmoid(-u) + softplus(u),
    softplus(-u) + softplus(2 * u) + softplus(u + v),
]


@pytest.mark.parametrize("written, stable", PAIRS, ids=[sp.sstr(w) for w, _ in PAIRS])
def test_one_softplus_per_pair_of_opposite_arguments(written, stable):
    result = stabilize(written)
    assert result == stable
    arguments = [s.args[0] for s in result.atoms(softplus)]
    assert not any(-a in arguments for a in arguments)  # no softplus(-u) beside softplus(u)


@pytest.mark.parametrize("expr", KEPT, ids=[sp.sstr(e) for e in KEPT])
def test_sums_without_both_linear_terms_are_left_alone(expr):
    assert stabilize(expr) == expr


@pytest.mark.parametrize("written", [w for w, _ in PAIRS], ids=[sp.sstr(w) for w, _ in PAIRS])
def test_the_rewrite_is_exact_at_every_scale(written):
    original, rewritten = _mp([u, v, t], written), _mp([u, v, t], stabilize(written))
    rng = np.random.default_rng(11)
    logits = [*rng.uniform(-8, 8, 6), *rng.uniform(-700, 700, 6),
              700, -700, 699.5, -699.5, 40, -40, 1e-300, -1e-300, 0]
    with mpmath.workdps(DIGITS):
        for a in logits:
            for target in (0, 1, 0.3):
                b = rng.uniform(-2, 2)
                point = (mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(target))
                exact = original(*point)
                assert mpmath.almosteq(rewritten(*point), exact, rel_eps=mpmath.mpf(10) ** -100,
                                       abs_eps=mpmath.mpf(10) ** -(DIGITS - 60)), (a, b, target)


# -- the compiled kernels -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def one_feature(tmp_path_factory):
    """BCE of σ(w x + b): with w = 1, b = 0 each sample's logit is its x."""
    w, b, x = sp.symbols("w b x")
    loss = sg.losses.binary_cross_entropy(sigmoid(w * x + b), t)
    model = sg.Model(loss=loss, params=[w, b], inputs=[x], targets=[t])
    return model, model.compile(hessian=True, cache_dir=tmp_path_factory.mktemp("cache"))


EXTREME = [-1000.0, -745.0, -700.0, -300.0, -40.0, -1.5, -1e-300, 0.0,
           1e-300, 1.5, 40.0, 300.0, 700.0, 745.0, 1000.0]


@pytest.mark.parametrize("target", [0.0, 1.0, 0.25])
@pytest.mark.parametrize("z", EXTREME)
def test_kernel_value_gradient_and_hessian_at_extreme_logits(one_feature, z, target):
    model, compiled = one_feature
    theta, X, T = np.array([1.0, 0.0]), np.array([[z]]), np.array([[target]])
    value, gradient = compiled.loss_and_grad(theta, X, T)
    hessian = compiled.hessian(theta, X, T)
    assert np.isfinite(value) and np.all(np.isfinite(gradient)) and np.all(np.isfinite(hessian))
    # References from the loss as written: exp(±1000) is fine in mpmath.
    loss = sg.expand_activations(model.loss)
    args = [*model.params, *model.inputs, *model.targets]
    point = [mpmath.mpf(1), mpmath.mpf(0), mpmath.mpf(z), mpmath.mpf(target)]
    with mpmath.workdps(DIGITS):
        exact = float(sp.lambdify(args, loss, "mpmath")(*point))
        grad = [float(sp.lambdify(args, sp.diff(loss, p), "mpmath")(*point)) for p in model.params]
        hess = [[float(sp.lambdify(args, sp.diff(loss, p, q), "mpmath")(*point)) for q in model.params]
                for p in model.params]
    # softplus(z) - t·z: each of its three roundings is at most ε·(|z| + 1) in size.
    assert abs(value - exact) <= 3 * EPS * (abs(z) + 1), (value, exact)
    # σ(z) - t, times x = z for w: a few ε relative to the factors.
    assert abs(gradient[1] - grad[1]) <= 3 * EPS
    assert abs(gradient[0] - grad[0]) <= 3 * EPS * abs(z) + 1e-300
    # σ(z)(1 - σ(z)) x²: 1 - σ(z) is exact to ε absolute; the weight is ≤ 1/4.
    np.testing.assert_allclose(hessian, hess, rtol=1e-14, atol=EPS * max(1.0, z * z))


def test_kernel_gradient_of_a_symmetric_pair(tmp_path):
    # softplus(a x) + softplus(-a x) = 2·softplus(a x) - a x; its derivative tanh(a x / 2)·x.
    a, x = sp.symbols("a x")
    model = sg.Model(loss=softplus(a * x) + softplus(-a * x), params=[a], inputs=[x], targets=[])
    compiled = model.compile(cache_dir=tmp_path)
    for z in EXTREME:
        value, gradient = compiled.loss_and_grad(np.array([1.0]), np.array([[z]]))
        with mpmath.workdps(DIGITS):
            exact = float(mpmath.log1p(mpmath.exp(z)) + mpmath.log1p(mpmath.exp(-z)))
            slope = float(mpmath.tanh(mpmath.mpf(z) / 2) * z)
        assert abs(value - exact) <= 4 * EPS * (abs(z) + 1)
        assert abs(gradient[0] - slope) <= 4 * EPS * (abs(z) + 1)


@pytest.fixture(scope="module")
def thirty_features(tmp_path_factory):
    """The benchmark's logistic regression: 30 scalar weights, inputs and a bias."""
    w, x = sp.symbols("w0:30"), sp.symbols("x0:30")
    b = sp.Symbol("b")
    z = sp.Add(*(wi * xi for wi, xi in zip(w, x, strict=True))) + b
    model = sg.Model(loss=sg.losses.binary_cross_entropy(sigmoid(z), t), params=[*w, b], inputs=list(x),
                     targets=[t])
    return model.compile(hvp=False, cache_dir=tmp_path_factory.mktemp("cache"))


def _function(source: str, name: str) -> str:
    return re.search(rf"^def {name}\(.*?(?=^@|\Z)", source, re.M | re.S).group()


def test_the_kernel_computes_the_logit_once(thirty_features):
    # The kernels run over blocks of samples (symgrad.codegen.sample_blocks): b + Σ wⱼ·xⱼ is one
    # column of one matrix product, read once per sample and not negated again.
    source = thirty_features.source
    for name, calls in (("_loss_grad_range", ("softplus(", "sigmoid(")), ("_loss_range", ("softplus(",))):
        body = _function(source, name)
        assert body.count("matmul_nt(xb, lin, zb)") == 1 and body.count("zb[b, 0]") == 1, name
        assert "-zb[" not in body and "- zb[" not in body, name
        assert '_place(lin, theta, "' + ",".join(f"0:{j}:{j}" for j in range(30)) + '")' in body, name
        for call in calls:
            assert len(re.findall(rf"(?<![\w.]){re.escape(call)}", body)) == 1, (name, call)
    # The gradient of each weight is one product, (σ(z) - t)·xⱼ, summed over a block as Fᵀ X with the
    # residual as F's one column; the bias's is the residual itself, summed as a column.
    body = _function(source, "_loss_grad_range")
    stores = re.findall(r"_store\((fxb|f1b)\[b\], \((.*)\), \"(.*)\"\)\n", body)
    assert [(array, factors, layout) for array, factors, layout in stores] == [
        ("fxb", stores[0][1], "0:0"), ("f1b", stores[0][1], "0:0")]
    assert stores[0][1].startswith("_d") and stores[0][1].endswith(",")
    assert '_add_entries(out, gx, "' + ",".join(f"{j}:0:{j}" for j in range(30)) + '")' in body
    assert '_add_entries(out, s1, "30:0:0")' in body


def test_the_kernel_agrees_with_the_written_loss(thirty_features):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 30))
    T = (rng.random((64, 1)) < 0.5).astype(np.float64)
    theta = rng.standard_normal(31)
    value, gradient = thirty_features.loss_and_grad(theta, X, T)
    z = X @ theta[:30] + theta[30]
    p = 1 / (1 + np.exp(-z))
    expected = np.mean(-T[:, 0] * np.log(p) - (1 - T[:, 0]) * np.log1p(-p))
    assert value == pytest.approx(expected, rel=1e-12)
    features = np.column_stack([X, np.ones(len(X))])
    np.testing.assert_allclose(gradient, features.T @ (p - T[:, 0]) / len(X), rtol=1e-11, atol=1e-14)


# -- the helpers ----------------------------------------------------------------------------------
HELPER_POINTS = [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 20.0, -20.0,
                 36.0, -36.0, 37.5, -37.5, 300.0, -300.0, 700.0, -700.0, 708.0, -708.0,
                 *np.linspace(-50, 50, 401), *np.random.default_rng(8).uniform(-700, 700, 200)]


def test_helpers_are_correctly_rounded_to_a_few_ulps(thirty_features):
    module = thirty_features.module
    with mpmath.workdps(60):
        for x in HELPER_POINTS:
            e = mpmath.exp(-abs(mpmath.mpf(x)))
            s = 1 / (1 + e) if x >= 0 else e / (1 + e)
            sp_exact = max(mpmath.mpf(x), 0) + mpmath.log1p(e)
            assert abs(module._sigmoid(x) - float(s)) <= 2 * EPS * float(s), x
            assert abs(module._softplus(x) - float(sp_exact)) <= 2 * EPS * float(sp_exact), x


def test_helpers_at_the_ends_of_the_range(thirty_features):
    module = thirty_features.module
    assert module._sigmoid(math.inf) == 1.0 and module._sigmoid(-math.inf) == 0.0
    assert module._softplus(math.inf) == math.inf and module._softplus(-math.inf) == 0.0
    assert module._sigmoid(-1000.0) == 0.0 and module._sigmoid(1000.0) == 1.0
    assert module._softplus(-1000.0) == 0.0 and module._softplus(1000.0) == 1000.0
    assert module._sigmoid(-745.0) == math.exp(-745.0)  # the smallest subnormal, still nonzero
    assert math.isnan(module._sigmoid(math.nan)) and math.isnan(module._softplus(math.nan))
