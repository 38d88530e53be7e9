"""Models shared by the training tests.

Compiling a model's kernels costs about a second, and so does each fused
training loop (one per model, optimizer update kernel and dtype), so every
model here is built once per session and passed to ``sg.fit`` / ``sg.minimize``
as the same ``Model`` object (which keeps its compiled kernels). The models
are tiny: two or three parameters.
"""

import math

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

HISTORY_FIELDS = ("loss", "grad_norm", "lr", "epoch_loss", "val_loss")


@pytest.fixture(scope="session")
def rosenbrock():
    x, y = sp.symbols("x y")
    return sg.Model(loss=(1 - x) ** 2 + 100 * (y - x**2) ** 2, params=[x, y])


@pytest.fixture(scope="session")
def rosenbrock_x0(rosenbrock):
    x, y = rosenbrock.params
    return {x: -1.5, y: 2.0}


@pytest.fixture(scope="session")
def quadratic():
    """x² + 10y²: GD multiplies x by (1 - 2lr) and y by (1 - 20lr) per step."""
    x, y = sp.symbols("x y")
    return sg.Model(loss=x**2 + 10 * y**2, params=[x, y])


@pytest.fixture(scope="session")
def log_barrier():
    """x² - log(x): NaN for x < 0 (GD with lr 2 from x = 1 jumps to x = -1)."""
    x = sp.Symbol("x")
    return sg.Model(loss=x**2 - sp.log(x), params=[x])


@pytest.fixture(scope="session")
def logreg_c(logreg):
    """The logistic regression of tests/conftest.py (params w1, w2, b), compiled as sg.fit compiles it."""
    return logreg.compile()


@pytest.fixture(scope="session")
def data():
    """30 samples (not linearly separable): batch_size 8 gives batches of 8, 8, 8, 6."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((30, 2))
    T = (rng.random((30, 1)) < 1 / (1 + np.exp(-(1.5 * X[:, :1] - X[:, 1:] + 0.3)))).astype(np.float64)
    return X, T


@pytest.fixture(scope="session")
def val_data():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((12, 2))
    T = (rng.random((12, 1)) < 0.5).astype(np.float64)
    return X, T


@pytest.fixture(scope="session")
def theta0():
    """A fixed start for the logistic regression (w1, w2, b)."""
    return np.array([0.1, -0.2, 0.05])


@pytest.fixture(scope="session")
def same_run():
    """Assert two FitResults are the same run, to the last bit."""

    def check(a, b, *, state=True):
        assert a.theta.dtype == b.theta.dtype
        assert np.array_equal(a.theta, b.theta)
        for name in HISTORY_FIELDS:
            assert np.array_equal(getattr(a.history, name), getattr(b.history, name), equal_nan=True), name
        assert (a.n_iter, a.n_epochs, a.reason) == (b.n_iter, b.n_epochs, b.reason)
        assert a.loss == b.loss or (math.isnan(a.loss) and math.isnan(b.loss))
        assert a.grad_norm == b.grad_norm
        if state:
            assert a.state.step == b.state.step
            assert np.array_equal(a.state.arrays, b.state.arrays)

    return check
