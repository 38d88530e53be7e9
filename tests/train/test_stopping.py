"""Why a run stops: budgets, convergence tests, time, callbacks and divergence."""

import math

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import DivergenceError, SymgradError
from symgrad.train.result import CONVERGED_REASONS
from symgrad.train.steps import grad_norm

PATHS = pytest.mark.parametrize("fused", [True, False], ids=["fused", "python"])


def _quadratic_gd(theta, lr, steps):
    """GD on x² + 10y² by hand: the iterates θ₀ … θ_steps."""
    out = [np.array(theta, dtype=np.float64)]
    for _ in range(steps):
        x, y = out[-1]
        out.append(out[-1] - lr * np.array([2 * x, 20 * y]))
    return out


def _quadratic_loss(theta):
    return theta[0] ** 2 + 10 * theta[1] ** 2


# -- budgets ------------------------------------------------------------------------
@PATHS
def test_max_iter(fused, rosenbrock, rosenbrock_x0):
    res = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=25, tol=None, fused=fused)
    assert (res.reason, res.n_iter, res.n_epochs, res.converged) == ("max_iter", 25, 0, False)
    assert res.history.loss.size == res.history.grad_norm.size == res.history.lr.size == 25


@PATHS
def test_max_epochs(fused, logreg, data, theta0):
    X, T = data
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=0.5), batch_size=8, epochs=2, seed=0, theta0=theta0,
                 fused=fused)
    assert (res.reason, res.n_iter, res.n_epochs, res.converged) == ("max_epochs", 8, 2, False)
    assert res.history.epoch_loss.size == 2


def test_max_iter_before_max_epochs(logreg, data, theta0):
    X, T = data
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=0.5), batch_size=8, epochs=3, max_iter=6, theta0=theta0)
    assert (res.reason, res.n_iter, res.n_epochs) == ("max_iter", 6, 1)
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=0.5), batch_size=8, epochs=1, max_iter=6, theta0=theta0)
    assert (res.reason, res.n_iter, res.n_epochs) == ("max_epochs", 4, 1)


def test_default_is_100_epochs(logreg, data, theta0):
    X, T = data
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), theta0=theta0)
    assert (res.reason, res.n_iter, res.n_epochs) == ("max_epochs", 100, 100)


# -- convergence --------------------------------------------------------------------
@PATHS
def test_gradient_norm_minimize(fused, quadratic):
    tol = 1e-6
    res = sg.minimize(quadratic, np.array([1.0, 1.0]), sg.optim.GD(lr=0.04), max_iter=10_000, tol=tol,
                      fused=fused)
    assert res.reason == "gradient_norm" and res.converged
    # The final gradient meets ‖∇J‖ ≤ tol; every point the run stepped from did not (n_iter is minimal).
    assert res.grad_norm <= tol
    assert np.all(res.history.grad_norm > tol)
    assert res.history.grad_norm.size == res.n_iter > 100
    # Against the hand-computed trajectory: the first iterate with ‖∇J‖ ≤ tol.
    norms = [math.hypot(2 * x, 20 * y) for x, y in _quadratic_gd([1.0, 1.0], 0.04, res.n_iter)]
    assert norms[-1] <= tol < norms[-2]
    compiled = quadratic.compile()
    assert res.grad_norm == grad_norm(compiled.grad(res.theta))
    assert res.loss == compiled.loss_and_grad(res.theta)[0]


@PATHS
def test_gradient_norm_full_batch_fit(fused, logreg, logreg_c, data, theta0):
    X, T = data
    tol = 1e-4
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=2.0), epochs=10_000, theta0=theta0, tol=tol, fused=fused)
    assert res.reason == "gradient_norm" and res.converged
    assert res.n_epochs == res.n_iter > 5
    assert res.grad_norm <= tol < res.history.grad_norm[-1]
    assert res.grad_norm == grad_norm(logreg_c.grad(res.theta, X, T))


def test_gradient_norm_mini_batch_is_tested_on_full_data_per_epoch(logreg, logreg_c, data, theta0):
    X, T = data
    tol = 0.02
    kwargs = dict(batch_size=8, seed=9, theta0=theta0, tol=tol)
    res = sg.fit(logreg, X, T, sg.optim.Adam(lr=0.1), epochs=500, **kwargs)
    assert res.reason == "gradient_norm" and res.converged
    assert res.n_epochs >= 2 and res.n_iter == 4 * res.n_epochs
    full = grad_norm(logreg_c.grad(res.theta, X, T))
    assert res.grad_norm == full <= tol
    assert res.loss == logreg_c.loss_and_grad(res.theta, X, T)[0]
    # One epoch fewer: the full gradient was still above tol, so the run went on.
    before = sg.fit(logreg, X, T, sg.optim.Adam(lr=0.1), epochs=res.n_epochs - 1, **kwargs)
    assert before.reason == "max_epochs"
    assert before.grad_norm == grad_norm(logreg_c.grad(before.theta, X, T)) > tol
    assert np.array_equal(before.history.loss, res.history.loss[: before.n_iter])


@PATHS
def test_loss_change(fused, log_barrier):
    # x² - log x has its minimum 1/2 + log(2)/2 at x = 1/√2: the relative loss change goes to 0.
    ftol = 1e-10
    res = sg.minimize(log_barrier, np.array([2.0]), sg.optim.GD(lr=0.05), max_iter=10_000, tol=None,
                      ftol=ftol, fused=fused)
    assert res.reason == "loss_change" and res.converged
    losses = np.append(res.history.loss, res.loss)

    def small(a, b):
        return abs(a - b) <= ftol * max(abs(a), abs(b))

    assert small(losses[-2], losses[-1])
    assert not any(small(a, b) for a, b in zip(losses[:-2], losses[1:-1], strict=True))
    assert res.n_iter > 10
    assert res.loss == pytest.approx(0.5 + math.log(2) / 2, rel=1e-9)


def test_loss_change_is_full_batch_only(logreg, data, theta0):
    # ftol is not tested on mini-batch losses: the run uses its whole budget.
    X, T = data
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=1e-9), batch_size=8, epochs=3, theta0=theta0, ftol=0.5)
    assert res.reason == "max_epochs"
    full = sg.fit(logreg, X, T, sg.optim.GD(lr=1e-9), epochs=3, theta0=theta0, ftol=0.5)
    assert (full.reason, full.n_iter) == ("loss_change", 1)


def test_time_limit_zero_stops_before_any_step(logreg, logreg_c, data, theta0, rosenbrock, rosenbrock_x0):
    X, T = data
    res = sg.fit(logreg, X, T, sg.optim.Adam(), batch_size=8, epochs=10, theta0=theta0, time_limit=0)
    assert (res.reason, res.n_iter, res.n_epochs, res.converged) == ("time_limit", 0, 0, False)
    assert np.array_equal(res.theta, theta0) and res.history.loss.size == 0
    assert res.loss == logreg_c.loss_and_grad(theta0, X, T)[0]
    res = sg.minimize(rosenbrock, rosenbrock_x0, time_limit=0)
    assert (res.reason, res.n_iter) == ("time_limit", 0)
    assert np.array_equal(res.theta, [-1.5, 2.0])


@PATHS
def test_tiny_time_limit_with_huge_budget(fused, rosenbrock, rosenbrock_x0):
    budget = 10**12
    res = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.GD(lr=1e-5), max_iter=budget, tol=None,
                      time_limit=0.05, fused=fused)
    assert res.reason == "time_limit" and not res.converged
    assert res.n_iter < budget and res.history.loss.size == res.n_iter


def test_callback_stop(rosenbrock, rosenbrock_x0):
    res = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=100, tol=None,
                      callbacks=[lambda info: info.step == 7])
    assert (res.reason, res.n_iter, res.converged) == ("callback", 7, False)
    assert res.history.loss.size == 7
    plain = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=7, tol=None)
    assert np.array_equal(res.theta, plain.theta)


def test_callback_stop_mid_epoch(logreg, data, theta0):
    X, T = data
    # Only True stops: a truthy non-bool return value does not.
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=0.5), batch_size=8, epochs=5, theta0=theta0,
                 callbacks=[lambda info: 1, lambda info: info.step == 6])
    assert (res.reason, res.n_iter, res.n_epochs) == ("callback", 6, 1)
    assert res.history.epoch_loss.size == 1


def test_converged_only_for_convergence_reasons():
    assert set(CONVERGED_REASONS) == {"gradient_norm", "loss_change"}
    res = sg.FitResult(params={}, theta=np.zeros(0), history=sg.History(), loss=0.0, grad_norm=0.0,
                       n_iter=0, n_epochs=0, reason="max_iter", elapsed=0.0, fused=False)
    for reason in ("max_iter", "max_epochs", "time_limit", "callback"):
        res.reason = reason
        assert not res.converged
    for reason in CONVERGED_REASONS:
        res.reason = reason
        assert res.converged


# -- divergence ---------------------------------------------------------------------
@PATHS
def test_divergence_error_carries_last_finite_parameters(fused, quadratic):
    start = [1.0, 1.0]
    with pytest.raises(DivergenceError) as caught:
        sg.minimize(quadratic, np.array(start), sg.optim.GD(lr=0.2), max_iter=1000, tol=None, fused=fused)
    error = caught.value
    assert isinstance(error, SymgradError)
    # y is multiplied by -3 per step: the loss ≈ 10·9^k first exceeds 1e6·11 at k = 7.
    trajectory = _quadratic_gd(start, 0.2, 7)
    threshold = 1e6 * _quadratic_loss(trajectory[0])
    assert error.step == 7
    assert _quadratic_loss(trajectory[7]) > threshold >= max(map(_quadratic_loss, trajectory[:7]))
    assert error.loss == pytest.approx(_quadratic_loss(trajectory[7]), rel=1e-15)
    assert error.loss > threshold and math.isfinite(error.loss)
    assert np.all(np.isfinite(error.theta))
    np.testing.assert_allclose(error.theta, trajectory[6], rtol=1e-15)
    x, y = quadratic.params
    assert error.params == {x: error.theta[0], y: error.theta[1]}
    assert "step 7" in str(error) and "divergence threshold" in str(error)
    # The same run stopped one step before the bad one ends at those parameters.
    before = sg.minimize(quadratic, np.array(start), sg.optim.GD(lr=0.2), max_iter=error.step - 1, tol=None,
                         fused=fused)
    assert np.array_equal(before.theta, error.theta)


@PATHS
def test_divergence_threshold(fused, quadratic):
    start = np.array([1.0, 1.0])
    with pytest.raises(DivergenceError) as caught:
        sg.minimize(quadratic, start, sg.optim.GD(lr=0.2), max_iter=1000, tol=None, diverge_above=100,
                    fused=fused)
    trajectory = _quadratic_gd(start, 0.2, 3)
    losses = [_quadratic_loss(theta) for theta in trajectory]
    assert losses[1] <= 100 < losses[2]
    assert caught.value.step == 2 and caught.value.loss > 100
    np.testing.assert_allclose(caught.value.theta, trajectory[1], rtol=1e-15)
    # Without a threshold the run goes on until the gradient norm overflows (the loss is still finite).
    with pytest.raises(DivergenceError, match="gradient norm became inf") as caught:
        sg.minimize(quadratic, start, sg.optim.GD(lr=0.2), max_iter=10_000, tol=None,
                    diverge_above=math.inf, fused=fused)
    assert caught.value.step > 300 and np.all(np.isfinite(caught.value.theta))
    assert math.isfinite(caught.value.loss)


@PATHS
def test_nan_loss(fused, log_barrier):
    (x,) = log_barrier.params
    with pytest.raises(DivergenceError, match="the loss became nan") as caught:
        sg.minimize(log_barrier, {x: 1.0}, sg.optim.GD(lr=2.0), max_iter=10, tol=None, fused=fused)
    # x = 1 - 2·(2·1 - 1/1) = -1: log(-1) is NaN at step 1.
    assert caught.value.step == 1 and math.isnan(caught.value.loss)
    assert np.array_equal(caught.value.theta, [1.0]) and caught.value.params == {x: 1.0}


def test_initial_non_finite_loss(log_barrier):
    (x,) = log_barrier.params
    with pytest.raises(DivergenceError, match="initial parameters") as caught:
        sg.minimize(log_barrier, {x: -1.0}, sg.optim.GD(lr=0.1), max_iter=10)
    assert caught.value.step == 0 and math.isnan(caught.value.loss)
    assert np.array_equal(caught.value.theta, [-1.0])


def test_mini_batch_divergence(logreg, data, theta0):
    X, T = data
    kwargs = dict(batch_size=8, epochs=50, theta0=theta0, seed=3)
    with pytest.raises(DivergenceError) as caught:
        sg.fit(logreg, X, T, sg.optim.GD(lr=30.0), diverge_above=5.0, **kwargs)
    error = caught.value
    assert error.step >= 2 and error.loss > 5.0
    # The parameters before the bad step are where a run stopped there ends.
    before = sg.fit(logreg, X, T, sg.optim.GD(lr=30.0), max_iter=error.step - 1, **kwargs)
    assert np.array_equal(before.theta, error.theta)
    assert np.all(before.history.loss <= 5.0)
