"""Correct gradients pass: the corpus, every method, every mode, float64 and float32.

The bounds on the observed relative error are what each method's error
model allows at these moderate points (|θ| ≲ 2, losses of order 1):
central differences ~ h² + ε/h with h = ε^(1/3) gives ~1e-10 (bound 1e-7),
Richardson ~ h⁴ + ε/h with h = ε^(1/5) gives ~1e-12 (bound 1e-9), one-sided
differences ~ h + ε/h with h = √ε give ~1e-8 (bound 1e-5), and the complex
step has no subtraction: a few ε (bound 1e-12).
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import SymgradWarning

CASES = ["seed003_case", "logreg_case", "rosenbrock_case", "activations_case"]
BOUNDS = {"central": 1e-7, "richardson": 1e-9, "forward": 1e-5, "backward": 1e-5, "complex": 1e-12}


@pytest.mark.parametrize("method", BOUNDS)
@pytest.mark.parametrize("case", CASES)
def test_correct_gradients_pass_every_method(request, case, method):
    c = request.getfixturevalue(case)
    report = sg.gradcheck(*c.args(), method=method)
    assert report.status == ("ok",) * c.compiled.n_params
    assert report.ok
    assert report.max_rel_err <= BOUNDS[method]
    assert report.assert_ok() is report


@pytest.mark.parametrize("case", CASES)
def test_projection_and_subset_modes_pass(request, case):
    c = request.getfixturevalue(case)
    projected = sg.gradcheck(*c.args(), mode="projection", k=5, seed=3)
    assert projected.mode == "projection" and len(projected) == 5
    assert projected.ok and projected.max_rel_err <= 1e-7
    # gᵀu with u = v ⊙ steps/h: the exact column is the gradient along the recorded directions.
    g = c.compiled.grad(c.theta, c.X, c.T)
    h = projected.step[0]
    steps = sg.check.gradient.steps_for(sg.check.METHODS["central"], c.theta, None)
    np.testing.assert_allclose(projected.exact, projected.directions @ (g * steps / h), rtol=1e-12)
    subset = sg.gradcheck(*c.args(), mode="subset", k=2, seed=3)
    assert len(subset) == 2 and set(subset.index) <= set(range(c.compiled.n_params)) and subset.ok


@pytest.mark.parametrize("case", CASES)
def test_taylor_remainder_has_order_two(request, case):
    c = request.getfixturevalue(case)
    report = sg.check.taylor_test(*c.args(), seed=5)
    assert report.status == "ok"
    assert abs(report.order - 2) < 0.1


@pytest.mark.parametrize("case", CASES)
def test_hessians_pass(request, case):
    c = request.getfixturevalue(case)
    report = sg.hesscheck(*c.args())
    n = c.compiled.n_params
    assert len(report) == n * (n + 1) // 2 and report.ok
    assert report.max_rel_err <= 1e-6  # central differences of a gradient: ~1e-9 observed


@pytest.mark.parametrize("case", ["logreg_case", "rosenbrock_case"])
def test_hessian_vector_products_pass(request, case):
    c = request.getfixturevalue(case)
    projected = sg.hesscheck(*c.args(), mode="projection", k=3, seed=1)
    assert projected.ok and projected.max_rel_err <= 1e-6
    assert projected.n_gradients == 3 + 2 * 3  # 3 Hessian-vector products, 2 gradients each


def test_a_model_and_an_expression_are_compiled_for_the_check(logreg_case):
    c = logreg_case
    assert sg.gradcheck(c.model, c.theta, c.X, c.T).ok  # Model: compiled (cached) on the way
    x, y = sp.symbols("x y")
    report = sg.gradcheck((1 - x) ** 2 + 100 * (y - x**2) ** 2, {y: 2.0, x: -1.5})
    assert report.names == ("y", "x")  # the mapping's order is theta's order
    np.testing.assert_allclose(report.exact, [-50.0, -155.0], rtol=1e-15)


@pytest.mark.parametrize("method", ["central", "forward", "richardson", "complex"])
def test_float32_passes_with_its_looser_defaults_and_warns(logreg32_case, method):
    with pytest.warns(SymgradWarning, match="float64 is the reliable check"):
        report = sg.gradcheck(*logreg32_case.args(), method=method)
    assert report.dtype == np.float32
    assert report.ok and report.status == ("ok",) * 3
    # float32's defaults are far looser than float64's (ε is 5e8 times larger).
    assert report.rtol >= 1e-3 > sg.check.METHODS[method].defaults["float64"][0]
    assert report.max_rel_err < report.rtol


def test_float32_still_catches_a_wrong_gradient(logreg32_case):
    c = logreg32_case

    def wrong(theta):
        g = c.compiled.grad(theta, c.X, c.T)
        g[1] *= 1.2
        return g

    objective = sg.check.as_objective(c.compiled, c.theta, c.X, c.T)
    objective.grad_fn = wrong
    with pytest.warns(SymgradWarning):
        report = sg.check.run_check(objective, c.theta)
    assert report.status == ("ok", "FAIL", "ok")
