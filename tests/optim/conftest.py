"""Shared fixtures for the optimizer tests: a fixed convex quadratic."""

from types import SimpleNamespace

import numpy as np
import pytest


@pytest.fixture(scope="session")
def quadratic():
    """``f(x) = ½ xᵀAx − bᵀx`` with a fixed SPD ``A`` (eigenvalues 1, 2, 4, 8), its minimiser and a start."""
    rng = np.random.default_rng(20260101)
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    A = Q @ np.diag([1.0, 2.0, 4.0, 8.0]) @ Q.T
    A = 0.5 * (A + A.T)
    b = rng.normal(size=4)
    return SimpleNamespace(
        A=A,
        b=b,
        x_star=np.linalg.solve(A, b),
        x0=np.array([1.0, -1.0, 0.5, 2.0]),
        grad=lambda x: A @ x - b,
        value=lambda x: 0.5 * x @ A @ x - b @ x,
    )
