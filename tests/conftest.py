"""Shared fixtures: the lecture notes' models, built once per session."""

import numpy as np
import pytest
import sympy as sp

from symgrad.cli.demo import logistic_regression, seed003_network


@pytest.fixture(scope="session")
def seed003():
    """The 2-2-1 sigmoid network of the notes and its exact point."""
    return seed003_network()


@pytest.fixture(scope="session")
def logreg():
    return logistic_regression()


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)


@pytest.fixture
def random_point(rng):
    """Exact rational values in [-1.5, 1.5], so SymPy references are exact too."""

    def make(symbols):
        return {s: sp.Rational(int(rng.integers(-1_500_000, 1_500_000)), 10**6) for s in symbols}

    return make
