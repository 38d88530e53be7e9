"""Training layered models: sg.fit (fused and Python loops), and sg.minimize of a data-free
matrix objective."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg


@pytest.fixture(scope="module")
def runs(mlp231, mlp231_kernels):
    model = mlp231[0]
    rng = np.random.default_rng(21)
    X = rng.normal(size=(40, 2))
    T = (X[:, :1] - X[:, 1:] > 0).astype(np.float64)
    settings = dict(optimizer=sg.optim.Adam(lr=0.05), batch_size=8, epochs=4, seed=0, progress=False)
    fused = sg.fit(model, X, T, **settings)
    # A callback is Python code, so it forces the Python-level loop.
    steps = []
    python = sg.fit(model, X, T, callbacks=[lambda info: steps.append(info.step)], **settings)
    return model, fused, python, steps, (X, T)


def test_fused_and_python_loops_take_identical_steps(runs):
    model, fused, python, steps, _ = runs
    assert fused.fused and not python.fused
    assert len(steps) == fused.n_iter == python.n_iter == 4 * 5
    np.testing.assert_array_equal(fused.theta, python.theta)
    np.testing.assert_array_equal(fused.history.loss, python.history.loss)
    # The run moved away from the initial parameters it started from.
    assert not np.allclose(fused.theta, model.init_params(seed=0))


def test_training_lowers_the_loss(runs, mlp231_kernels):
    model, fused, _, _, (X, T) = runs
    before, _ = mlp231_kernels.loss_and_grad(model.init_params(seed=0), X, T)
    after, _ = mlp231_kernels.loss_and_grad(fused.theta, X, T)
    assert after < 0.8 * before


def test_params_are_arrays_of_the_declared_shapes(runs):
    model, fused, _, _, _ = runs
    W1, b1, W2, b2 = model.params
    assert list(fused.params) == [W1, b1, W2, b2]
    assert {str(p): v.shape for p, v in fused.params.items()} == {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3),
                                                                  "b2": (1, 1)}
    np.testing.assert_array_equal(fused.params[W1], fused.theta[0:6].reshape(3, 2))
    np.testing.assert_array_equal(fused.params[b2], fused.theta[12:13].reshape(1, 1))
    np.testing.assert_array_equal(model.flatten(fused.params), fused.theta)


def test_minimize_least_squares_matrix_objective():
    # ||A W − B||² over W (3, 2): A and B are constants, so the objective is written with the
    # elements W[i, j] (explicit matrices cannot appear in a layered model's expressions).
    rng = np.random.default_rng(5)
    A = rng.normal(size=(5, 3)) + 2 * np.eye(5, 3)
    B = rng.normal(size=(5, 2))
    W = sg.Param("W", (3, 2))
    residual = sp.Matrix(A) * W.as_explicit() - sp.Matrix(B)
    objective = sum(r**2 for r in residual)
    # GD on a quadratic converges for lr < 2/λmax of its Hessian 2AᵀA; 1/λmax is safe and fast.
    lr = 1.0 / np.linalg.eigvalsh(2 * A.T @ A).max()
    result = sg.minimize(objective, {W: np.zeros((3, 2))}, sg.optim.GD(lr=lr), max_iter=5000, tol=1e-10,
                         progress=False)
    expected = np.linalg.lstsq(A, B, rcond=None)[0]
    assert result.reason != "max_iter"
    assert result.params[W].shape == (3, 2)
    np.testing.assert_allclose(result.params[W], expected, atol=1e-9)
    assert result.loss == pytest.approx(np.sum((A @ expected - B) ** 2), rel=1e-9)
