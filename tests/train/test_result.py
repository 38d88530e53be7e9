"""FitResult and History, and trajectories against independent numpy references."""

import sys

import numpy as np
import pytest

import symgrad as sg
from symgrad.train.steps import grad_norm


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _logreg_loss_grad(theta, X, T):
    """Mean binary cross-entropy of sigmoid(w·x + b) and its closed-form gradient mean((p − t)·(x, 1))."""
    t = T[:, 0]
    z = X @ theta[:2] + theta[2]
    p = _sigmoid(z)
    loss = np.mean(np.logaddexp(0.0, z) - t * z)
    r = p - t
    return loss, np.array([np.mean(r * X[:, 0]), np.mean(r * X[:, 1]), np.mean(r)])


# -- history and result -------------------------------------------------------------
@pytest.fixture(scope="module")
def run(logreg, data, val_data, theta0):
    """Mini-batches of 8, 8, 8, 6 with shuffling, validation and a schedule: 4 epochs."""
    X, T = data
    return sg.fit(logreg, X, T, sg.optim.Adam(lr=0.05), batch_size=8, epochs=4, seed=3, theta0=theta0,
                  validation=val_data, schedule=sg.schedules.step(5, 0.5))


def test_history_lengths(run):
    h = run.history
    assert run.n_iter == 16 and run.n_epochs == 4
    assert h.loss.size == h.grad_norm.size == h.lr.size == run.n_iter
    assert h.epoch_loss.size == h.val_loss.size == run.n_epochs
    assert np.all(np.isfinite(h.loss)) and np.all(h.grad_norm > 0)


def test_epoch_loss_is_the_size_weighted_mean_of_batch_losses(run, data):
    n = data[0].shape[0]
    sizes = np.array([8, 8, 8, 6])
    losses = run.history.loss.reshape(4, 4)
    expected = losses @ sizes / n
    np.testing.assert_allclose(run.history.epoch_loss, expected, rtol=1e-15)
    # Not the plain mean of the four batch losses (the last batch is smaller).
    assert not np.allclose(run.history.epoch_loss, losses.mean(axis=1), rtol=1e-12, atol=0)


def test_full_batch_epochs_recorded_at_once_equal_one_at_a_time(logreg, data, val_data, theta0):
    """Full batch: every step is an epoch. Without validation a chunk's epochs are recorded in one
    go; with it, chunk by chunk through the general loop. The epoch losses must not differ."""
    X, T = data
    kwargs = dict(optimizer=sg.optim.GD(lr=0.5), batch_size=None, max_iter=40, tol=None, theta0=theta0)
    at_once = sg.fit(logreg, X, T, **kwargs)
    one_by_one = sg.fit(logreg, X, T, validation=val_data, **kwargs)
    assert at_once.n_epochs == one_by_one.n_epochs == 40
    np.testing.assert_array_equal(at_once.history.loss, one_by_one.history.loss)
    np.testing.assert_array_equal(at_once.history.epoch_loss, one_by_one.history.epoch_loss)
    assert np.all(np.isnan(at_once.history.val_loss)) and np.all(np.isfinite(one_by_one.history.val_loss))


def test_val_loss_at_epoch_end_parameters(run, logreg, logreg_c, data, val_data, theta0):
    Xv, Tv = val_data
    assert run.history.val_loss[-1] == logreg_c.loss(run.theta, Xv, Tv)
    # An earlier epoch: where a 2-epoch run of the same seed ends.
    X, T = data
    two = sg.fit(logreg, X, T, sg.optim.Adam(lr=0.05), batch_size=8, epochs=2, seed=3, theta0=theta0,
                 schedule=sg.schedules.step(5, 0.5))
    assert run.history.val_loss[1] == logreg_c.loss(two.theta, Xv, Tv)
    assert np.all(np.isnan(two.history.val_loss)) and two.history.val_loss.size == 2
    assert len(set(run.history.val_loss)) == 4


def test_lr_history_follows_the_schedule(run):
    t = np.arange(16)
    assert np.array_equal(run.history.lr, 0.05 * 0.5 ** (t // 5))


def test_params_loss_and_grad_norm(run, logreg, logreg_c, data):
    X, T = data
    assert list(run.params) == list(logreg.params)
    assert list(run.params.values()) == list(run.theta)
    loss, grad = logreg_c.loss_and_grad(run.theta, X, T)
    assert run.loss == loss
    assert run.loss == pytest.approx(logreg_c.loss(run.theta, X, T), rel=1e-14)
    assert run.grad_norm == grad_norm(grad)
    assert run.reason == "max_epochs" and not run.converged
    assert run.fused and run.elapsed >= 0 and run.state.step == 16
    assert "max_epochs after 16 steps (4 epochs)" in repr(run)


def test_history_to_dict(run):
    d = run.history.to_dict()
    assert set(d) == {"loss", "grad_norm", "lr", "epoch_loss", "val_loss"}
    d["loss"][:] = 0.0  # copies: the history is untouched
    assert np.all(run.history.loss != 0.0)


def test_to_dataframe(run):
    pd = pytest.importorskip("pandas")
    steps = run.history.to_dataframe()
    assert isinstance(steps, pd.DataFrame) and list(steps.columns) == ["loss", "grad_norm", "lr"]
    assert len(steps) == 16 and np.array_equal(steps["lr"].to_numpy(), run.history.lr)
    epochs = run.history.to_dataframe("epoch")
    assert len(epochs) == 4 and np.array_equal(epochs["val_loss"].to_numpy(), run.history.val_loss)


def test_to_dataframe_without_pandas(run, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        run.history.to_dataframe()


def test_history_grows_past_its_first_capacity(rosenbrock, rosenbrock_x0):
    res = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=1000, tol=None)
    # (1 + 1.5)² + 100·(2 - 1.5²)² = 12.5 at the start.
    assert res.history.loss.size == 1000 and res.history.loss[0] == 12.5
    assert res.history.loss[-1] < res.history.loss[0] and np.all(res.history.lr == 1e-2)


def test_minimize_expression_and_default_params(rosenbrock):
    x, y = rosenbrock.params
    expr = (1 - x) ** 2 + 100 * (y - x**2) ** 2
    res = sg.minimize(expr, np.array([-1.5, 2.0]), sg.optim.Adam(lr=1e-2), max_iter=30, tol=None)
    model = sg.minimize(rosenbrock, {y: 2.0, x: -1.5}, sg.optim.Adam(lr=1e-2), max_iter=30, tol=None)
    assert list(res.params) == [x, y]  # free symbols sorted by name
    assert np.array_equal(res.theta, model.theta)
    # A dict x0 sets the order of theta.
    swapped = sg.minimize(expr, {y: 2.0, x: -1.5}, sg.optim.Adam(lr=1e-2), max_iter=30, tol=None,
                          fused=False)  # another kernel module: spare its fused-loop compile
    assert list(swapped.params) == [y, x] and np.array_equal(swapped.theta, model.theta[::-1])


def test_seeded_default_initialisation(logreg, data):
    X, T = data
    a = sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), epochs=1, seed=4, init_scale=0.3, time_limit=0)
    b = sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), epochs=1, seed=4, init_scale=0.3, time_limit=0)
    assert np.array_equal(a.theta, np.random.default_rng(4).normal(0.0, 0.3, 3))
    assert np.array_equal(a.theta, b.theta)


# -- independent references ---------------------------------------------------------
def test_full_batch_gd_matches_numpy(logreg, data, theta0):
    X, T = data
    lr = 0.7
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=lr), max_iter=50, theta0=theta0)
    theta = theta0.copy()
    losses = []
    for _ in range(50):
        loss, grad = _logreg_loss_grad(theta, X, T)
        losses.append(loss)
        theta = theta - lr * grad
    # 50 steps of a contraction: rounding differences stay at the 1e-15 level.
    np.testing.assert_allclose(res.theta, theta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.history.loss, losses, rtol=1e-13)
    assert res.n_iter == 50 and res.loss == pytest.approx(_logreg_loss_grad(theta, X, T)[0], rel=1e-13)
    assert np.linalg.norm(res.theta - theta0) > 0.5  # it moved


def test_sgd_without_shuffle_visits_samples_in_order(logreg, data, theta0):
    X, T = data
    lr = 0.3
    res = sg.fit(logreg, X, T, sg.optim.SGD(lr=lr), batch_size=1, epochs=2, shuffle=False, theta0=theta0)
    theta = theta0.copy()
    losses = []
    for _ in range(2):
        for i in range(X.shape[0]):
            loss, grad = _logreg_loss_grad(theta, X[i:i + 1], T[i:i + 1])
            losses.append(loss)
            theta = theta - lr * grad
    assert res.n_iter == 60
    np.testing.assert_allclose(res.history.loss, losses, rtol=1e-12)
    np.testing.assert_allclose(res.theta, theta, rtol=0, atol=1e-12)
    # The order matters: reversed samples give another trajectory.
    reverse = sg.fit(logreg, X[::-1].copy(), T[::-1].copy(), sg.optim.SGD(lr=lr), batch_size=1, epochs=2,
                     shuffle=False, theta0=theta0)
    assert not np.allclose(reverse.theta, theta, rtol=0, atol=1e-6)


def test_mini_batches_without_shuffle_are_consecutive_rows(logreg, data, theta0):
    X, T = data
    lr = 0.5
    res = sg.fit(logreg, X, T, sg.optim.GD(lr=lr), batch_size=8, epochs=1, shuffle=False, theta0=theta0)
    theta = theta0.copy()
    for start in range(0, 30, 8):
        theta = theta - lr * _logreg_loss_grad(theta, X[start:start + 8], T[start:start + 8])[1]
    np.testing.assert_allclose(res.theta, theta, rtol=0, atol=1e-13)


def test_shuffle_is_seeded(logreg, data, theta0):
    X, T = data
    runs = [sg.fit(logreg, X, T, sg.optim.GD(lr=0.5), batch_size=8, epochs=2, seed=seed, theta0=theta0)
            for seed in (1, 1, 2)]
    assert np.array_equal(runs[0].theta, runs[1].theta) and runs[0].seed == runs[1].seed
    assert not np.array_equal(runs[0].theta, runs[2].theta)
    # Shuffled batches are not the consecutive rows.
    plain = sg.fit(logreg, X, T, sg.optim.GD(lr=0.5), batch_size=8, epochs=2, shuffle=False, theta0=theta0)
    assert not np.array_equal(plain.theta, runs[0].theta)


# -- Newton -------------------------------------------------------------------------
@pytest.mark.parametrize("x0", [[1.0, 1.0], [-3.0, 0.25]])
def test_newton_one_step_on_a_quadratic(quadratic, x0):
    res = sg.minimize(quadratic, np.array(x0), sg.optim.Newton(), tol=1e-10)
    assert (res.n_iter, res.reason, res.converged, res.fused) == (1, "gradient_norm", True, False)
    assert res.grad_norm <= 1e-10
    np.testing.assert_allclose(res.theta, [0.0, 0.0], atol=1e-14)


def test_newton_on_logistic_regression(logreg, logreg_c, data, theta0):
    X, T = data
    res = sg.fit(logreg, X, T, sg.optim.Newton(), epochs=50, theta0=theta0, tol=1e-10)
    assert res.reason == "gradient_norm" and res.n_iter <= 8
    assert res.grad_norm <= 1e-10
    assert res.grad_norm == grad_norm(logreg_c.grad(res.theta, X, T))
    # The closed-form gradient vanishes there too (the loss is convex: it is the minimiser).
    assert np.linalg.norm(_logreg_loss_grad(res.theta, X, T)[1]) < 1e-9
    assert np.linalg.norm(res.theta - theta0) > 0.5
