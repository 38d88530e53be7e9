"""Shared fixtures: the lecture notes' models, built once per session."""

import os

import numpy as np
import pytest
import sympy as sp

from symgrad.cli.demo import logistic_regression, seed003_network


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory):
    """Compiled kernels go to a fresh cache for the session (and its subprocesses),
    never to the user's cache directory."""
    directory = tmp_path_factory.mktemp("symgrad-cache")
    previous = os.environ.get("SYMGRAD_CACHE_DIR")
    os.environ["SYMGRAD_CACHE_DIR"] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop("SYMGRAD_CACHE_DIR", None)
    else:
        os.environ["SYMGRAD_CACHE_DIR"] = previous


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
