"""Models and points shared by the gradient-check tests, compiled once per session.

The corpus: the notes' 2-2-1 sigmoid network (seed 003) at its exact point,
logistic regression on 200 samples, Rosenbrock, and a small model using
every smooth activation (sigmoid, softplus, tanh, exp, log). Points are
drawn at moderate scale (|θ| ≲ 1), where central differences resolve
gradients to ~1e-9; the extreme scales have their own tests.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg


class Case:
    """A compiled model with a point: ``compiled``, ``theta``, ``X``, ``T``."""

    def __init__(self, name, model, compiled, theta, X=None, T=None):
        self.name, self.model, self.compiled = name, model, compiled
        self.theta, self.X, self.T = theta, X, T

    def args(self):
        return self.compiled, self.theta, self.X, self.T

    def __repr__(self):
        return self.name


@pytest.fixture(scope="session")
def seed003_case(seed003):
    model, point = seed003
    theta = np.array([float(point[p]) for p in model.params])
    X = np.array([[float(point[s]) for s in model.inputs]])
    T = np.array([[float(point[s]) for s in model.targets]])
    return Case("seed003", model, model.compile(), theta, X, T)


@pytest.fixture(scope="session")
def logreg_case(logreg):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 2))
    T = (rng.random((200, 1)) < 0.5).astype(np.float64)
    return Case("logreg", logreg, logreg.compile(), np.array([0.8, -0.4, 0.3]), X, T)


@pytest.fixture(scope="session")
def rosenbrock_case():
    x, y = sp.symbols("x y")
    model = sg.Model(loss=(1 - x) ** 2 + 100 * (y - x**2) ** 2, params=[x, y])
    return Case("rosenbrock", model, model.compile(), np.array([-1.5, 2.0]))


def activations_model():
    w1, w2, w3, w4, b, x, t = sp.symbols("w1 w2 w3 w4 b x t")
    y = sg.softplus(w1 * x) + sp.tanh(w2 * x + b) + sg.sigmoid(w3 * x) * sp.exp(-w4 * x)
    return sg.Model(loss=(y - t) ** 2 + sp.log(1 + w4**2 * x**2), params=[w1, w2, w3, w4, b],
                    inputs=[x], targets=[t])


@pytest.fixture(scope="session")
def activations_case():
    model = activations_model()
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, (50, 1))
    T = rng.uniform(-1, 1, (50, 1))
    return Case("activations", model, model.compile(), rng.uniform(-1, 1, 5), X, T)


@pytest.fixture(scope="session")
def corpus(seed003_case, logreg_case, rosenbrock_case, activations_case):
    return [seed003_case, logreg_case, rosenbrock_case, activations_case]


@pytest.fixture(scope="session")
def logreg32_case(logreg_case):
    c = logreg_case
    return Case("logreg32", c.model, c.model.compile(dtype="float32"), c.theta.astype(np.float32),
                c.X.astype(np.float32), c.T.astype(np.float32))


@pytest.fixture(scope="session")
def kinked():
    """relu(x) + Max(y, z) + |w|, compiled once: kinks at x = 0, y = z and w = 0."""
    x, y, z, w = sp.symbols("x y z w")
    model = sg.Model(loss=sg.relu(x) + sp.Max(y, z) + sp.Abs(w), params=[x, y, z, w])
    return model.compile()
