"""Checkpoints: a resumed run equals an uninterrupted one, bit for bit."""

import os

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import DeclarationError
from symgrad.train.checkpoint import load_checkpoint

PATHS = pytest.mark.parametrize("fused", [True, False], ids=["fused", "python"])


class CrashError(Exception):
    """Stands in for the process dying mid-run."""


def _crash_at(step):
    def callback(info):
        if info.step == step:
            raise CrashError

    return callback


@pytest.fixture(scope="module")
def fit_args(data, val_data, theta0):
    """Shuffled mini-batches (8, 8, 8, 6), validation, 5 epochs = 20 steps."""
    X, T = data
    return (X, T), dict(batch_size=8, shuffle=True, seed=21, theta0=theta0, validation=val_data, epochs=5)


@PATHS
def test_fit_resume_mid_epoch_equals_uninterrupted(fused, tmp_path, logreg, fit_args, same_run):
    (X, T), kwargs = fit_args
    optimizer = sg.optim.Adam(lr=0.05)
    path = tmp_path / "run.npz"
    whole = sg.fit(logreg, X, T, optimizer, fused=fused, **kwargs)
    assert (whole.n_iter, whole.n_epochs) == (20, 5)

    # 10 steps = 2 epochs and 2 of the 4 batches of the third.
    first = sg.fit(logreg, X, T, optimizer, max_iter=10, checkpoint=path, checkpoint_every=3, fused=fused,
                   **kwargs)
    assert (first.reason, first.n_iter, first.n_epochs) == ("max_iter", 10, 2)
    saved = load_checkpoint(path)
    assert (saved.step, saved.epoch, saved.batch) == (10, 2, 2)
    assert np.array_equal(saved.theta, first.theta)

    resumed = sg.fit(logreg, X, T, optimizer, resume=path, fused=fused, **kwargs)
    same_run(resumed, whole)
    assert resumed.seed == whole.seed
    assert os.listdir(tmp_path) == ["run.npz"]  # written atomically: no temporary files left


def test_fit_resume_from_a_periodic_checkpoint_after_a_crash(tmp_path, logreg, fit_args, same_run):
    # The run dies at step 14; the last checkpoint (every 5 steps) is from step 10, mid-epoch.
    (X, T), kwargs = fit_args
    optimizer = sg.optim.Momentum(lr=0.2, nesterov=True)
    path = tmp_path / "run.npz"
    with pytest.raises(CrashError):
        sg.fit(logreg, X, T, optimizer, checkpoint=path, checkpoint_every=5, callbacks=[_crash_at(14)],
               **kwargs)
    saved = load_checkpoint(path)
    assert (saved.step, saved.epoch, saved.batch) == (10, 2, 2)
    assert saved.history.loss.size == 10 and saved.history.epoch_loss.size == 2
    # Resumed in the fused loop, it still equals an uninterrupted run.
    resumed = sg.fit(logreg, X, T, optimizer, resume=path, **kwargs)
    assert resumed.fused
    same_run(resumed, sg.fit(logreg, X, T, optimizer, **kwargs))
    assert sorted(os.listdir(tmp_path)) == ["run.npz"]


@PATHS
def test_minimize_resume_equals_uninterrupted(fused, tmp_path, rosenbrock, rosenbrock_x0, same_run):
    optimizer = sg.optim.Adam(lr=1e-2)
    path = tmp_path / "min.npz"
    whole = sg.minimize(rosenbrock, rosenbrock_x0, optimizer, max_iter=50, tol=None, fused=fused)
    first = sg.minimize(rosenbrock, rosenbrock_x0, optimizer, max_iter=23, tol=None, checkpoint=path,
                        checkpoint_every=7, fused=fused)
    assert first.n_iter == 23 and load_checkpoint(path).step == 23
    resumed = sg.minimize(rosenbrock, rosenbrock_x0, optimizer, max_iter=50, tol=None, resume=path,
                          fused=fused)
    same_run(resumed, whole)
    assert resumed.seed is whole.seed is None
    assert os.listdir(tmp_path) == ["min.npz"]


def test_resume_with_tolerance_and_schedule(tmp_path, logreg, data, theta0, same_run):
    # The mini-batch tolerance test and the schedule continue where they were.
    X, T = data
    kwargs = dict(batch_size=8, seed=9, theta0=theta0, tol=0.02, epochs=500,
                  schedule=sg.schedules.inverse_time(0.01))
    optimizer = sg.optim.Adam(lr=0.1)
    whole = sg.fit(logreg, X, T, optimizer, **kwargs)
    assert whole.reason == "gradient_norm"
    path = tmp_path / "tol.npz"
    sg.fit(logreg, X, T, optimizer, max_iter=whole.n_iter - 3, checkpoint=path, **kwargs)
    same_run(sg.fit(logreg, X, T, optimizer, resume=path, **kwargs), whole)


def test_resume_with_another_optimizer(tmp_path, rosenbrock, rosenbrock_x0):
    path = tmp_path / "c.npz"
    sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=5, checkpoint=path)
    with pytest.raises(DeclarationError, match="same optimizer"):
        sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=2e-2), max_iter=10, resume=path)
    with pytest.raises(DeclarationError, match="same optimizer"):
        sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.GD(lr=1e-2), max_iter=10, resume=path)


def test_resume_with_another_model(tmp_path, rosenbrock, rosenbrock_x0, quadratic, logreg, data, theta0):
    path = tmp_path / "c.npz"
    sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=5, checkpoint=path)
    # Same parameters (x, y), another objective.
    with pytest.raises(DeclarationError, match="another model"):
        sg.minimize(quadratic, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=10, resume=path)
    # Another number of parameters.
    X, T = data
    with pytest.raises(DeclarationError, match="2 parameters"):
        sg.fit(logreg, X, T, sg.optim.Adam(lr=1e-2), theta0=theta0, resume=path)


def test_missing_or_corrupt_checkpoint(tmp_path, rosenbrock, rosenbrock_x0):
    def resume(path):
        return sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=10, resume=path)

    with pytest.raises(DeclarationError, match="does not exist"):
        resume(tmp_path / "missing.npz")
    good = tmp_path / "good.npz"
    sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=5, checkpoint=good)
    content = good.read_bytes()
    other = tmp_path / "other.npz"
    np.savez(other, theta=np.zeros(2))
    corrupt = {"truncated": content[: len(content) // 2], "empty": b"", "text": b"not a checkpoint",
               "other.npz": other.read_bytes()}
    for name, raw in corrupt.items():
        path = tmp_path / f"{name}.bad"
        path.write_bytes(raw)
        with pytest.raises(DeclarationError, match="not a symgrad checkpoint"):
            resume(path)


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch, rosenbrock, rosenbrock_x0):
    path = tmp_path / "c.npz"
    sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=5, checkpoint=path)
    before = path.read_bytes()

    def broken_savez(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        sg.minimize(rosenbrock, rosenbrock_x0, sg.optim.Adam(lr=1e-2), max_iter=5, checkpoint=path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["c.npz"]


def test_checkpoint_every_must_be_positive(tmp_path, rosenbrock, rosenbrock_x0):
    for every in (0, -3, 2.5, float("nan"), None):
        with pytest.raises(DeclarationError, match="checkpoint_every"):
            sg.minimize(rosenbrock, rosenbrock_x0, max_iter=5, checkpoint=tmp_path / "c.npz",
                        checkpoint_every=every)
