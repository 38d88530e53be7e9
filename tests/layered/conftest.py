"""Shared pieces of the layered-model tests: a 2-3-1 sigmoid network in matrix form, its
numpy reference, and central differences.

Every compiled kernel costs seconds of numba compile time, so each model is
built and compiled once per session here and shared by the test modules.
"""

import numpy as np
import pytest

import symgrad as sg


def _central_difference(f, theta, h=1e-6):
    """∂f/∂θ_k by (f(θ + h e_k) − f(θ − h e_k)) / 2h: an independent reference."""
    theta = np.asarray(theta, dtype=np.float64)
    out = np.empty_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = h
        out[k] = (f(theta + step) - f(theta - step)) / (2 * h)
    return out


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow warnings for large |z|


class Mlp231:
    """numpy reference of ``sigmoid.(W2*sigmoid.(W1*x + b1) + b2)`` with E = ½(o − t)²,
    theta = (W1 (3, 2), b1 (3,), W2 (1, 3), b2 (1,)) row-major."""

    @staticmethod
    def unpack(theta):
        theta = np.asarray(theta, dtype=np.float64)
        return theta[0:6].reshape(3, 2), theta[6:9], theta[9:12].reshape(1, 3), theta[12:13]

    @classmethod
    def forward(cls, theta, X):
        W1, b1, W2, b2 = cls.unpack(theta)
        a1 = sigmoid(X @ W1.T + b1)
        return a1, sigmoid(a1 @ W2.T + b2)

    @classmethod
    def loss(cls, theta, X, T):
        _, o = cls.forward(theta, X)
        return float(np.mean(0.5 * np.sum((o - T) ** 2, axis=1)))

    @classmethod
    def grad(cls, theta, X, T):
        """Backprop written out by hand: δ2 = (o − t) o(1 − o), δ1 = (W2ᵀ δ2) ∘ a1(1 − a1)."""
        W1, _, W2, _ = cls.unpack(theta)
        a1, o = cls.forward(theta, X)
        d2 = (o - T) * o * (1 - o)
        d1 = (d2 @ W2) * a1 * (1 - a1)
        n = X.shape[0]
        return np.concatenate([(d1.T @ X).ravel(), d1.sum(0), (d2.T @ a1).ravel(), d2.sum(0)]) / n


@pytest.fixture(scope="session")
def central_difference():
    """``central_difference(f, theta, h=1e-6)``: ∂f/∂θ by central differences."""
    return _central_difference


@pytest.fixture(scope="session")
def mlp231_reference():
    return Mlp231


@pytest.fixture(scope="session")
def mlp231():
    """The 2-3-1 sigmoid network (biases on both layers) and its squared error, in matrix form."""
    net = sg.nn.mlp([2, 3, 1], activation="sigmoid", output="sigmoid")
    t = sg.Target("t", 1)
    model = sg.Model(loss=sg.nn.squared_error(net.output, t), params=net.params, inputs=[net.x], targets=[t])
    return model, net, t


@pytest.fixture(scope="session")
def mlp231_kernels(mlp231):
    # The default cache (a fresh directory per session, see the root conftest.py) and the
    # options sg.fit uses, so training reuses these kernels.
    return mlp231[0].compile()


@pytest.fixture(scope="session")
def mlp231_theta():
    return np.random.default_rng(3).normal(0.0, 0.8, 13)


@pytest.fixture(scope="session")
def mlp231_data():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(9, 2))
    return X, rng.uniform(0.0, 1.0, size=(9, 1))
