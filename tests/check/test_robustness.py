"""No false alarms: zero gradients, parameters of magnitude 1e±8, kinks, rounding noise.

Every test here would fail if the checker compared naively (|a − b| / |a|
at a zero gradient, a fixed step at θ = 1e8, a kink counted as a failure).
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import ComplexStepError, EvaluationError

METHODS = ["central", "forward", "backward", "richardson", "complex"]
x, y, z, w = sp.symbols("x y z w")


def compiled(expr, params):
    return sg.Model(loss=expr, params=params).compile()


@pytest.fixture(scope="module")
def stationary():
    """Zero gradient at (1, -2, 0, 1), with a strongly curved third-order term in w."""
    return compiled((x - 1) ** 2 + 3 * (y + 2) ** 4 + sp.exp(z) - z + 1000 * (w - 1) ** 3, [x, y, z, w])


@pytest.mark.parametrize("method", METHODS)
def test_zero_gradients_are_ok(stationary, method):
    report = sg.gradcheck(stationary, np.array([1.0, -2.0, 0.0, 1.0]), method=method)
    assert np.all(report.exact == 0.0)
    assert report.status == ("ok",) * 4


@pytest.fixture(scope="module")
def least_squares():
    """A linear model at its least-squares solution: the gradient is a sum of terms that cancel."""
    a, b, u, t = sp.symbols("a b u t")
    model = sg.Model(loss=(a * u + b - t) ** 2, params=[a, b], inputs=[u], targets=[t])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 1))
    T = 3 * X - 1 + rng.normal(size=(500, 1))
    solution = np.linalg.lstsq(np.hstack([X, np.ones_like(X)]), T[:, 0], rcond=None)[0]
    return model.compile(), solution, X, T


@pytest.mark.parametrize("method", METHODS)
def test_a_fitted_model_at_its_optimum_is_ok(least_squares, method):
    kernels, theta, X, T = least_squares
    report = sg.gradcheck(kernels, theta, X, T, method=method)
    assert np.max(np.abs(report.exact)) < 1e-12  # a zero gradient, to rounding
    assert report.status == ("ok", "ok")


@pytest.fixture(scope="module")
def huge():
    return compiled((x - 3e8) ** 2 / 1e16 + sp.log(y) + 1e-8 * z**2 + sp.sin(w / 1e8), [x, y, z, w])


@pytest.fixture(scope="module")
def tiny():
    return compiled(1e8 * sp.sin(x) + 1e16 * y**2 + w**3 + sp.exp(z), [x, y, z, w])


@pytest.mark.parametrize("method", METHODS)
def test_parameters_of_magnitude_1e8_and_1e_minus_8_are_ok(huge, tiny, method):
    big = sg.gradcheck(huge, np.array([1e8, 1e8, -1e8, 2e8]), method=method)
    assert big.status == ("ok",) * 4, big
    # Steps scale with max(1, |θ|): the method's base step times 1e8, to the nearest power of 2.
    assert 0.7 < big.step[0] / (sg.check.METHODS[method].base_step(np.float64) * 1e8) < 1.42
    small = sg.gradcheck(tiny, np.array([1e-8, -1e-8, 1e-8, 1e-8]), method=method)
    assert small.status == ("ok",) * 4, small


def scaled_objective(scale):
    """f(θ) = Σ softplus(θ/s)·cos(θ/s) + (θ₀θ₁/s²): the same function at every scale s."""
    def loss(theta):
        u = theta / scale
        return np.sum(np.log1p(np.exp(u)) * np.cos(u)) + u[0] * u[1]

    def grad(theta):
        u = theta / scale
        g = (np.cos(u) / (1 + np.exp(-u)) - np.log1p(np.exp(u)) * np.sin(u))
        g[0] += u[1]
        g[1] += u[0]
        return g / scale

    return loss, grad


@pytest.mark.parametrize("scale", [1.0, 1e4, 1e8])
@pytest.mark.parametrize("method", METHODS)
def test_the_same_function_at_any_scale_is_ok(scale, method):
    theta = np.array([0.7, -1.3, 0.2, 2.5]) * scale
    report = sg.gradcheck(scaled_objective(scale), theta, method=method)
    assert report.status == ("ok",) * 4, report


@pytest.mark.parametrize("method", METHODS)
def test_a_loss_varying_on_a_tiny_scale_needs_its_step(method):
    """Steps assume J varies on the scale max(1, |θᵢ|); at scale 1e-8 the default step
    overshoots (unresolved, never FAIL), and a step of that scale fixes it."""
    theta = np.array([0.7, -1.3, 0.2, 2.5]) * 1e-8
    with np.errstate(over="ignore"):
        default = sg.gradcheck(scaled_objective(1e-8), theta, method=method)
    assert "FAIL" not in default.status
    if method != "complex":
        assert "unresolved" in default.status
    base = sg.check.METHODS[method].base_step(np.float64)
    fitted = sg.gradcheck(scaled_objective(1e-8), theta, method=method, step=base * 1e-8)
    assert fitted.status == ("ok",) * 4, fitted


@pytest.mark.parametrize("method", ["central", "richardson"])
def test_kinks_are_reported_as_kinks(kinked, method):
    report = sg.gradcheck(kinked, np.array([0.0, 0.5, 0.5, 0.0]), method=method)
    assert report.status == ("kink",) * 4
    assert report.ok and report.kinks == ["x", "y", "z", "w"]
    # The notes name the one-sided slopes; the exact values are the documented subgradients.
    assert report["x"].note == "one-sided slopes 0 and 1" and report["x"].exact == 0.0
    assert report["y"].exact == 0.5  # Max at a tie splits the gradient evenly
    assert report["w"].note == "one-sided slopes -1 and 1"
    assert "4 kink" in str(report)


@pytest.mark.parametrize("method", ["forward", "backward"])
def test_one_sided_methods_report_a_kink_when_their_slope_disagrees(kinked, method):
    report = sg.gradcheck(kinked, np.array([0.0, 0.5, 0.5, 0.0]), method=method)
    # forward sees relu's right slope 1 ≠ 0; backward sees its left slope 0, which agrees.
    expected = ("kink",) * 4 if method == "forward" else ("ok", "kink", "kink", "kink")
    assert report.status == expected


def test_a_subgradient_outside_the_one_sided_slopes_fails(kinked):
    objective = sg.check.as_objective(kinked, None)
    exact = objective.grad_fn
    objective.grad_fn = lambda theta: exact(theta) + np.array([2.0, 0, 0, 0])
    report = sg.check.run_check(objective, np.array([0.0, 0.5, 0.5, 0.0]))
    assert report.status == ("FAIL", "kink", "kink", "kink")
    assert report["x"].note == "one-sided slopes 0 and 1; the exact value is not between them"


def test_kinks_near_the_point_and_smooth_points(kinked):
    near = sg.gradcheck(kinked, np.array([1e-7, 0.5, 0.5 + 1e-7, -1e-7]))  # closer than the step
    assert near.status == ("kink",) * 4
    away = sg.gradcheck(kinked, np.array([0.3, 0.5, 0.7, -2.0]))
    assert away.status == ("ok",) * 4


def test_complex_step_refuses_a_kinked_loss_and_names_the_construct(kinked):
    with pytest.raises(ComplexStepError, match=r"contains (relu\(x\)|Max\(y, z\)|Abs\(w\)): "):
        sg.gradcheck(kinked, np.array([0.3, 0.5, 0.7, -2.0]), method="complex")


def test_gradients_below_rounding_noise_are_unresolved_not_failures():
    kernels = compiled(x**2 * y + 1e-8 * z + w, [x, y, z, w])
    theta = np.array([1e8, 1e-8, 0.0, 1e8])  # J ≈ 2e8: its rounding swamps ∂J/∂z = 1e-8
    report = sg.gradcheck(kernels, theta)
    assert report["z"].status == "unresolved" and report.ok
    assert "rounding noise" in report["z"].note and "method='complex'" in report["z"].note
    assert report.unresolved == ["z"]
    assert sg.gradcheck(kernels, theta, method="complex").status == ("ok",) * 4


def test_a_step_larger_than_the_loss_scale_is_unresolved_and_step_fixes_it():
    kernels = compiled(sp.exp(1e6 * z) + x, [x, z])  # varies on a scale of 1e-6 in z
    report = sg.gradcheck(kernels, np.array([0.0, 1e-8]))
    assert report.status == ("ok", "unresolved")
    assert "pass a smaller step=" in report["z"].note
    assert sg.gradcheck(kernels, np.array([0.0, 1e-8]), step=1e-10).status == ("ok", "ok")


def test_a_loss_not_finite_at_a_perturbed_point_is_unresolved():
    kernels = compiled(sp.log(x) + y**2, [x, y])
    report = sg.gradcheck(kernels, np.array([1e-6, 1.0]))  # x − h < 0
    assert report.status == ("unresolved", "ok")
    assert report["x"].note == "loss not finite at a perturbed point"
    assert np.isnan(report.rel_err[0]) and report.max_rel_err < 1e-8


def test_a_point_where_the_loss_is_not_finite_is_an_error():
    kernels = compiled(sp.log(x) + y**2, [x, y])
    with pytest.raises(EvaluationError, match="the loss is nan at theta"):
        sg.gradcheck(kernels, np.array([-1.0, 1.0]))
    infinite = sg.check.Objective(lambda th: 0.0, lambda th: np.array([np.inf, 0.0]), names=("x", "y"))
    with pytest.raises(EvaluationError, match="the gradient entry for x is inf at theta"):
        sg.gradcheck(infinite, np.array([1.0, 1.0]))
