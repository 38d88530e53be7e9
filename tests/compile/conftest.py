"""Compiled models shared by the kernel and cache tests.

Every distinct (model, options) pair costs a numba compile of several
seconds, so each one is built once per session here and reused.
"""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg

LAMBDA = sp.Rational(3, 10)  # strength of the 2-3-1 net's L2 penalty


def _net():
    """A 2-3-1 network: tanh hidden layer, linear output with bias, ½(y - t)²,
    an L2 penalty on every parameter and two declared outputs (y, h1)."""
    x1, x2, t = sp.symbols("x1 x2 t")
    W = sp.symbols("W1:4(1:3)")  # W11, W12, W21, ..., W32
    v = sp.symbols("v1:4")
    c = sp.Symbol("c")
    hidden = [sp.tanh(W[2 * j] * x1 + W[2 * j + 1] * x2) for j in range(3)]
    y = sum(vj * hj for vj, hj in zip(v, hidden, strict=True)) + c
    params = [*W, *v, c]
    return sg.Model(
        loss=sg.losses.half_squared_error(y, t),
        params=params,
        inputs=[x1, x2],
        targets=[t],
        regularizer=sg.losses.l2_penalty(params, LAMBDA),
        outputs=[y, hidden[0]],
    )


def _rosenbrock():
    x, y = sp.symbols("x y")
    return sg.Model(loss=(1 - x) ** 2 + 100 * (y - x**2) ** 2, params=[x, y])


def _single_input():
    """One input, one target, one output: X and T may be given as (n,)."""
    w, b, x, t = sp.symbols("w b x t")
    y = sp.tanh(w * x + b)
    return sg.Model(loss=(y - t) ** 2, params=[w, b], inputs=[x], targets=[t], outputs=[y])


@pytest.fixture(scope="session")
def net_lambda():
    """The net's L2 strength as a float (the penalty is λ/2·Σθ²)."""
    return float(LAMBDA)


@pytest.fixture(scope="session")
def net():
    return _net()


@pytest.fixture(scope="session")
def rosenbrock():
    return _rosenbrock()


@pytest.fixture(scope="session")
def single_input():
    return _single_input()


@pytest.fixture(scope="session")
def logreg64(logreg):
    return logreg.compile()


@pytest.fixture(scope="session")
def logreg32(logreg):
    return logreg.compile(dtype="float32")


@pytest.fixture(scope="session")
def logreg_parallel(logreg):
    return logreg.compile(parallel=True)


@pytest.fixture(scope="session")
def net64(net):
    return net.compile()


@pytest.fixture(scope="session")
def rosenbrock64(rosenbrock):
    return rosenbrock.compile()


@pytest.fixture(scope="session")
def single64(single_input):
    # hessian=False on purpose: the Hessian-less error path is tested on it.
    return single_input.compile(hessian=False)


@pytest.fixture(scope="session")
def logreg_data():
    """200 samples: standard normal inputs, 0/1 targets (a fixed seed)."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 2))
    T = (rng.random((200, 1)) < 0.5).astype(np.float64)
    return X, T
