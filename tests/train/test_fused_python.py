"""The fused compiled loop and the Python-level loop take bit-identical steps.

Both call the same numba functions (gradient kernel, schedule, stopping test,
update kernel), so theta, the optimizer state and every history array must be
equal with ``np.array_equal``, not merely close.
"""

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import DeclarationError

FIRST_ORDER = [name for name in sg.optim.OPTIMIZERS if name != "Newton"]

#: Rates that keep every optimizer on Rosenbrock finite for a few hundred steps.
ROSENBROCK_LR = {"GD": 2e-4, "Momentum": 1e-4, "Nesterov": 1e-4, "Adadelta": 1.0}

SCHEDULES = {
    "step": sg.schedules.step(7, 0.5),
    "exponential": sg.schedules.exponential(0.02),
    "inverse_time": sg.schedules.inverse_time(0.1),
}


def _first_order(name):
    return sg.optim.OPTIMIZERS[name](lr=ROSENBROCK_LR.get(name, 1e-2))


def test_first_order_list_is_complete():
    # Every built-in first-order optimizer is in the parametrisation below (Newton has no fused loop).
    assert len(FIRST_ORDER) == len(sg.optim.OPTIMIZERS) - 1 >= 11
    assert {"GD", "Momentum", "Nesterov", "Adam", "AdamW", "AMSGrad", "Nadam"} <= set(FIRST_ORDER)


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_minimize_fused_equals_python(name, rosenbrock, rosenbrock_x0, same_run):
    optimizer = _first_order(name)
    fused = sg.minimize(rosenbrock, rosenbrock_x0, optimizer, max_iter=300, tol=None, fused=True)
    python = sg.minimize(rosenbrock, rosenbrock_x0, optimizer, max_iter=300, tol=None, fused=False)
    assert fused.fused and not python.fused
    assert fused.n_iter == 300 and fused.reason == "max_iter"
    assert np.all(np.isfinite(fused.history.loss))
    # The run moved (a frozen trajectory would make the comparison vacuous).
    assert not np.array_equal(fused.theta, [-1.5, 2.0])
    same_run(fused, python)


@pytest.mark.parametrize("optimizer", [
    sg.optim.Momentum(lr=1e-4, form="seed", nesterov=True),
    sg.optim.Momentum(lr=1e-4, dampening=0.3, weight_decay=0.1),
    sg.optim.RMSProp(lr=1e-2, centered=True, momentum=0.5, eps_inside=True),
    sg.optim.Adagrad(lr=1e-1, lr_decay=0.01, initial_accumulator_value=0.1),
    sg.optim.Adam(lr=1e-2, amsgrad=True, max_of="corrected", weight_decay=0.01),
], ids=repr)
def test_minimize_fused_equals_python_variants(optimizer, rosenbrock, rosenbrock_x0, same_run):
    # Non-default options go through the same update kernels (no new compile).
    fused = sg.minimize(rosenbrock, rosenbrock_x0, optimizer, max_iter=200, tol=None, fused=True)
    python = sg.minimize(rosenbrock, rosenbrock_x0, optimizer, max_iter=200, tol=None, fused=False)
    assert fused.fused and not python.fused
    same_run(fused, python)


@pytest.mark.parametrize("optimizer", [sg.optim.GD(lr=0.5), sg.optim.Momentum(lr=0.2, nesterov=True),
                                       sg.optim.Adam(lr=0.05)], ids=lambda o: o.name)
@pytest.mark.parametrize("batch_size", [None, 1, 8])
def test_fit_fused_equals_python(optimizer, batch_size, logreg, data, theta0, same_run):
    X, T = data
    runs = [sg.fit(logreg, X, T, optimizer, batch_size=batch_size, epochs=3, shuffle=True, seed=5,
                   theta0=theta0, fused=fused) for fused in (True, False)]
    assert runs[0].fused and not runs[1].fused
    batches = {None: 1, 1: 30, 8: 4}[batch_size]
    assert runs[0].n_iter == 3 * batches and runs[0].n_epochs == 3
    assert not np.array_equal(runs[0].theta, theta0)
    same_run(*runs)


def test_fit_fused_equals_python_with_validation_and_tolerance(logreg, data, val_data, theta0, same_run):
    # Validation and a mini-batch tolerance cut the chunks at epoch ends; the steps stay the same.
    X, T = data
    runs = [sg.fit(logreg, X, T, sg.optim.Adam(lr=0.05), batch_size=8, epochs=4, seed=1, theta0=theta0,
                   validation=val_data, tol=1e-9, fused=fused) for fused in (True, False)]
    assert np.all(np.isfinite(runs[0].history.val_loss)) and runs[0].history.val_loss.size == 4
    same_run(*runs)


def test_fit_without_shuffle_fused_equals_python(logreg, data, theta0, same_run):
    # Without shuffling a fused chunk runs across epoch ends in one call.
    X, T = data
    runs = [sg.fit(logreg, X, T, sg.optim.GD(lr=0.3), batch_size=8, epochs=5, shuffle=False,
                   theta0=theta0, fused=fused) for fused in (True, False)]
    assert runs[0].history.epoch_loss.size == 5
    same_run(*runs)


def test_fused_is_the_default_for_builtins(logreg, data, theta0, rosenbrock, rosenbrock_x0):
    X, T = data
    assert sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), epochs=2, theta0=theta0).fused
    assert sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=5).fused


@pytest.mark.parametrize("kind", SCHEDULES)
def test_schedules_fused_equals_python(kind, rosenbrock, rosenbrock_x0, logreg, data, theta0, same_run):
    schedule = SCHEDULES[kind]
    optimizer = sg.optim.Adam(lr=0.05)
    runs = [sg.minimize(rosenbrock, rosenbrock_x0, optimizer, max_iter=60, tol=None, schedule=schedule,
                        fused=fused) for fused in (True, False)]
    same_run(*runs)
    t = np.arange(60)
    expected = {"step": 0.05 * 0.5 ** (t // 7), "exponential": 0.05 * np.exp(-0.02 * t),
                "inverse_time": 0.05 / (1 + 0.1 * t)}[kind]
    np.testing.assert_allclose(runs[0].history.lr, expected, rtol=1e-14)
    assert runs[0].history.lr[-1] < runs[0].history.lr[0]

    X, T = data
    runs = [sg.fit(logreg, X, T, sg.optim.GD(lr=0.5), batch_size=8, epochs=4, seed=2, theta0=theta0,
                   schedule=schedule, fused=fused) for fused in (True, False)]
    same_run(*runs)
    assert np.array_equal(runs[0].history.lr, [schedule(k, 0.5) for k in range(16)])


def test_callbacks_force_the_python_path(logreg, data, theta0, rosenbrock, rosenbrock_x0, same_run):
    X, T = data
    seen = []
    fused = sg.fit(logreg, X, T, sg.optim.Adam(lr=0.05), batch_size=8, epochs=3, seed=4, theta0=theta0)
    called = sg.fit(logreg, X, T, sg.optim.Adam(lr=0.05), batch_size=8, epochs=3, seed=4, theta0=theta0,
                    callbacks=[seen.append])
    assert fused.fused and not called.fused
    same_run(fused, called)
    assert [info.step for info in seen] == list(range(1, 13))
    assert [info.epoch for info in seen] == [0] * 4 + [1] * 4 + [2] * 4
    assert [info.loss for info in seen] == list(fused.history.loss)
    assert [info.grad_norm for info in seen] == list(fused.history.grad_norm)
    assert [info.lr for info in seen] == list(fused.history.lr)

    snapshots = []
    called = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=40, tol=None,
                         callbacks=[lambda info: snapshots.append(info.theta.copy())])
    fused = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=40, tol=None)
    assert not called.fused and fused.fused
    same_run(fused, called)
    assert np.array_equal(snapshots[-1], fused.theta)
    # The callback's theta after step 10 is where a 10-step run ends.
    ten = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=10, tol=None)
    assert np.array_equal(snapshots[9], ten.theta)


def test_callback_epoch_in_full_batch_runs(logreg, data, theta0):
    # Full batch: every step is an epoch, even within one chunk of steps.
    X, T = data
    seen = []
    sg.fit(logreg, X, T, sg.optim.GD(lr=0.1), epochs=5, theta0=theta0, callbacks=[seen.append])
    assert [(info.step, info.epoch) for info in seen] == [(k + 1, k) for k in range(5)]


def test_callable_schedule_runs_in_python(rosenbrock, rosenbrock_x0):
    res = sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.GD(lr=1.0), max_iter=20, tol=None,
                      schedule=lambda t: 1e-4 / (t + 1))
    assert not res.fused
    assert np.array_equal(res.history.lr, [1e-4 / (t + 1) for t in range(20)])
    with pytest.raises(DeclarationError, match="fused loop"):
        sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.GD(lr=1.0), max_iter=20,
                    schedule=lambda t: 1e-4, fused=True)


def test_float32_fused_equals_python(logreg, data, theta0, same_run):
    X, T = data
    X32, T32 = X.astype(np.float32), T.astype(np.float32)
    runs = [sg.fit(logreg, X32, T32, sg.optim.Adam(lr=0.05), batch_size=8, epochs=3, seed=6, theta0=theta0,
                   dtype="float32", fused=fused) for fused in (True, False)]
    assert runs[0].fused and not runs[1].fused
    assert runs[0].theta.dtype == np.float32
    same_run(*runs)
    # float32 follows the float64 trajectory to float32 accuracy.
    ref = sg.fit(logreg, X, T, sg.optim.Adam(lr=0.05), batch_size=8, epochs=3, seed=6, theta0=theta0)
    np.testing.assert_allclose(runs[0].theta, ref.theta, rtol=1e-4, atol=1e-5)
    assert runs[0].state.arrays.dtype == np.float32
