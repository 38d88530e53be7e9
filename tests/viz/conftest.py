"""Shared models and checks for the picture tests.

Compiling a model costs about a second, so each model is built once per
session (the root conftest's ``logreg`` is reused). matplotlib draws into
detached figures with Agg; MPLBACKEND only guards against a pyplot import.
"""

import os

import pytest
import sympy as sp

import symgrad as sg

os.environ.setdefault("MPLBACKEND", "Agg")
pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_kb: float = 8.0):
    """A real picture: PNG magic bytes and more than ``min_kb`` kilobytes."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert len(data) > min_kb * 1024, f"{path} has only {len(data)} bytes"


@pytest.fixture(scope="session")
def bowl():
    """f = x² + 10y²: gradient descent is stable for lr < 0.1 (curvature 20 along y)."""
    x, y = sp.symbols("x y")
    return sg.Model(loss=x**2 + 10 * y**2, params=[x, y])


@pytest.fixture(scope="session")
def bowl_x0(bowl):
    x, y = bowl.params
    return {x: 3.0, y: 1.0}


@pytest.fixture(scope="session")
def logreg_data():
    from symgrad.cli.demo import logistic_data

    return logistic_data(n=120, seed=3)


@pytest.fixture(scope="session")
def logreg_fit(logreg, logreg_data):
    """A mini-batch run with validation data: every History field is filled."""
    X, T = logreg_data
    return sg.fit(logreg, X[:90], T[:90], optimizer=sg.optim.Adam(lr=0.05), batch_size=30, epochs=8,
                  seed=0, validation=(X[90:], T[90:]), progress=False, fused=False)
