"""Newton's method: exact on quadratics, damped when the Hessian is not positive definite."""

import numpy as np
import pytest

from symgrad.errors import DeclarationError
from symgrad.optim import OPTIMIZERS, Newton


def is_positive_definite(M):
    try:
        np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        return False
    return True


@pytest.fixture(scope="module")
def indefinite():
    """A symmetric matrix with eigenvalues −1, 0.5, 2, 3 (max |Hᵢᵢ| below 3) and a gradient."""
    rng = np.random.default_rng(7)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    H = Q @ np.diag([-1.0, 0.5, 2.0, 3.0]) @ Q.T
    return 0.5 * (H + H.T), rng.normal(size=4)


def test_newton_is_in_the_table_and_needs_the_hessian():
    assert OPTIMIZERS["Newton"] is Newton
    assert Newton.needs_hessian
    assert Newton().lr == 1.0 and Newton().damping == 0.0
    state = Newton().init(np.zeros(3))
    assert state.names == ("damping",) and state.step == 0
    np.testing.assert_array_equal(state.damping, 0.0)


def test_one_step_at_lr_1_lands_on_the_minimiser_of_a_quadratic(quadratic):
    x = quadratic.x0.copy()
    optimizer = Newton()
    state = optimizer.init(x)
    out, out_state = optimizer.update(x, quadratic.grad(x), state, hessian=quadratic.A)
    assert out is x and out_state is state and state.step == 1
    np.testing.assert_allclose(x, quadratic.x_star, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(quadratic.grad(x), 0.0, atol=1e-12)
    np.testing.assert_array_equal(state.damping, 0.0)  # A is positive definite: no damping


def test_the_rate_scales_the_newton_step(quadratic):
    x = quadratic.x0.copy()
    optimizer = Newton()
    state = optimizer.init(x)
    optimizer.update(x, quadratic.grad(x), state, lr=0.25, hessian=quadratic.A)
    np.testing.assert_allclose(x, quadratic.x0 + 0.25 * (quadratic.x_star - quadratic.x0), rtol=1e-12)
    optimizer = Newton(lr=0.5)
    x = quadratic.x0.copy()
    optimizer.update(x, quadratic.grad(x), optimizer.init(x), hessian=quadratic.A)
    np.testing.assert_allclose(x, 0.5 * (quadratic.x0 + quadratic.x_star), rtol=1e-12)


def test_initial_damping_is_added_to_the_hessian(quadratic):
    x = quadratic.x0.copy()
    optimizer = Newton(damping=0.5)
    state = optimizer.init(x)
    g = quadratic.grad(x)
    optimizer.update(x, g, state, hessian=quadratic.A)
    expected = quadratic.x0 - np.linalg.solve(quadratic.A + 0.5 * np.eye(4), g)
    np.testing.assert_allclose(x, expected, rtol=1e-12)
    np.testing.assert_array_equal(state.damping, 0.5)


def test_indefinite_hessian_is_damped_to_a_descent_direction(indefinite):
    H, g = indefinite
    theta = np.zeros(4)
    optimizer = Newton()
    state = optimizer.init(theta)
    optimizer.update(theta, g, state, hessian=H)
    damping = state.damping[0]
    assert 0 < damping < np.inf
    np.testing.assert_array_equal(state.damping, damping)
    # the smallest of 1e-8·max(1, max|Hᵢᵢ|)·10ᵏ that makes H + λI positive definite
    assert is_positive_definite(H + damping * np.eye(4))
    assert not is_positive_definite(H + damping / 10 * np.eye(4))
    scale = max(1.0, np.max(np.abs(np.diag(H))))
    k = np.log10(damping / (1e-8 * scale))
    assert abs(k - round(k)) < 1e-9
    step = theta  # theta started at 0
    np.testing.assert_allclose(step, -np.linalg.solve(H + damping * np.eye(4), g), rtol=1e-12)
    assert g @ step < 0


def test_singular_hessian_is_damped():
    g = np.array([1.0, -2.0, 0.0, 0.5])
    theta = np.zeros(4)
    state = Newton().init(theta)
    Newton().update(theta, g, state, hessian=np.zeros((4, 4)))
    assert state.damping[0] == 1e-8  # scale max(1, 0) = 1
    np.testing.assert_allclose(theta, -g / 1e-8, rtol=1e-12)
    assert g @ theta < 0


def test_missing_hessian_is_a_declaration_error_and_changes_nothing(quadratic):
    x = quadratic.x0.copy()
    optimizer = Newton()
    state = optimizer.init(x)
    with pytest.raises(DeclarationError, match="Hessian"):
        optimizer.update(x, quadratic.grad(x), state)
    assert state.step == 0
    np.testing.assert_array_equal(x, quadratic.x0)


def test_gradient_step_when_the_tries_run_out(indefinite):
    H, g = indefinite
    theta = np.ones(4)
    optimizer = Newton(lr=0.5, max_tries=1)
    state = optimizer.init(theta)
    optimizer.update(theta, g, state, hessian=H)
    np.testing.assert_array_equal(state.damping, np.inf)
    scale = max(1.0, np.max(np.abs(np.diag(H))))
    np.testing.assert_allclose(theta, 1.0 - 0.5 * g / scale, rtol=1e-14)
    assert g @ (theta - 1.0) < 0


def test_damping_grows_tenfold_until_positive_definite_or_the_tries_run_out():
    H = np.array([[1.0, 1e6], [1e6, 1.0]])  # eigenvalues 1 ± 1e6; max|Hᵢᵢ| = 1
    g = np.array([1.0, 2.0])
    # λ = 0, 1e-8, 1e-7, ..., 1e6: the 16th try is the first to make H + λI positive definite
    for tries in (1, 5, 15):
        theta = np.zeros(2)
        state = Newton(max_tries=tries).init(theta)
        Newton(max_tries=tries).update(theta, g, state, hessian=H)
        np.testing.assert_array_equal(state.damping, np.inf)
        np.testing.assert_array_equal(theta, -g)  # the gradient step, scaled by max(1, max|Hᵢᵢ|) = 1
    for tries in (16, 40):
        theta = np.zeros(2)
        state = Newton(max_tries=tries).init(theta)
        Newton(max_tries=tries).update(theta, g, state, hessian=H)
        assert state.damping[0] == pytest.approx(1e6, rel=1e-12)
        np.testing.assert_allclose(theta, -np.linalg.solve(H + state.damping[0] * np.eye(2), g), rtol=1e-9)
        assert g @ theta < 0


@pytest.mark.parametrize("H", [
    [[2.0, 0.0], [0.0, np.nan]],
    [[2.0, np.nan], [np.nan, 3.0]],
    [[np.nan, np.nan], [np.nan, np.nan]],
], ids=["nan-diagonal", "nan-off-diagonal", "all-nan"])
def test_hessian_that_no_damping_repairs_falls_back_to_a_gradient_step(H):
    """numpy's Cholesky returns NaN instead of failing on NaN: the step must still be the fallback."""
    H = np.array(H)
    g = np.array([1.0, -1.0])
    theta = np.zeros(2)
    state = Newton().init(theta)
    Newton().update(theta, g, state, hessian=H)
    np.testing.assert_array_equal(state.damping, np.inf)
    assert np.all(np.isfinite(theta))
    assert g @ theta <= 0


def test_nan_off_the_diagonal_falls_back_to_the_scaled_gradient_step():
    H = np.array([[2.0, np.nan], [np.nan, 3.0]])
    g = np.array([1.0, -1.0])
    theta = np.zeros(2)
    Newton(lr=0.5).update(theta, g, Newton().init(theta), hessian=H)
    np.testing.assert_allclose(theta, -0.5 * g / 3.0, rtol=1e-15)


def test_infinite_curvature_gives_no_step_in_that_direction():
    H = np.diag([2.0, np.inf])
    g = np.array([1.0, -1.0])
    theta = np.zeros(2)
    state = Newton().init(theta)
    Newton().update(theta, g, state, hessian=H)
    np.testing.assert_allclose(theta, [-0.5, 0.0], rtol=1e-15, atol=0)
    np.testing.assert_array_equal(state.damping, 0.0)


def test_converges_quadratically_on_a_smooth_convex_function(quadratic):
    """f(x) = Σ cosh(xᵢ − cᵢ) + ½ xᵀAx: a handful of Newton steps reach the stationary point."""
    A, c = quadratic.A, np.array([1.0, -2.0, 0.5, 3.0])

    def grad(x):
        return np.sinh(x - c) + A @ x

    def hessian(x):
        return np.diag(np.cosh(x - c)) + A

    x = np.zeros(4)
    optimizer = Newton()
    state = optimizer.init(x)
    norms = []
    for _ in range(8):
        optimizer.update(x, grad(x), state, hessian=hessian(x))
        norms.append(np.linalg.norm(grad(x)))
    assert norms[-1] < 1e-12
    np.testing.assert_array_equal(state.damping, 0.0)


def test_float32_theta_keeps_its_dtype(quadratic):
    x = quadratic.x0.astype(np.float32)
    optimizer = Newton()
    state = optimizer.init(x)
    out, _ = optimizer.update(x, quadratic.grad(x.astype(np.float64)).astype(np.float32), state,
                              hessian=quadratic.A.astype(np.float32))
    assert out is x and x.dtype == np.float32
    np.testing.assert_allclose(x, quadratic.x_star, rtol=1e-5, atol=1e-6)
