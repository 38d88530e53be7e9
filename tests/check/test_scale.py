"""Checking 10⁵ parameters costs a few dozen loss evaluations (plain numpy callables).

Scalar-symbol models with 10⁴ parameters are too slow to build, so the scale
tests use the documented ``(loss_fn, grad_fn)`` form: a numpy objective of
a 10⁵-vector. Loss calls are counted by the callables themselves, an
independent tally of what the report claims.
"""

import numpy as np
import pytest

import symgrad as sg

N = 100_000


class Counted:
    """f(θ) = Σ cᵢ(θᵢ − dᵢ)²/2 + Σ log(1 + exp(θᵢθᵢ₊₁))/n with a counter of loss calls."""

    def __init__(self, n=N, wrong=None):
        rng = np.random.default_rng(0)
        self.c, self.d, self.n = rng.uniform(0.5, 2.0, n), rng.normal(size=n), n
        self.wrong = wrong
        self.calls = 0

    def loss(self, theta):
        self.calls += 1
        coupling = np.sum(np.log1p(np.exp(theta[:-1] * theta[1:]))) / self.n
        return 0.5 * np.sum(self.c * (theta - self.d) ** 2) + coupling

    def grad(self, theta):
        g = self.c * (theta - self.d)
        s = 1 / (1 + np.exp(-theta[:-1] * theta[1:])) / self.n
        g[:-1] += s * theta[1:]
        g[1:] += s * theta[:-1]
        if self.wrong is not None:
            g[self.wrong] *= 1.5
        return g

    def pair(self):
        return self.loss, self.grad


@pytest.fixture(scope="module")
def theta():
    return np.random.default_rng(1).normal(size=N)


def test_projection_checks_1e5_parameters_with_a_few_dozen_evaluations(theta):
    f = Counted()
    # mode="auto" projects above 1000 parameters. Seeded: the central difference's error along a
    # random direction is heavy-tailed (median 8e-9 over 30 seeds, the worst 3e-7, all within the
    # check's own tolerance), so an unseeded bound of 1e-7 failed for about one draw in ten.
    report = sg.gradcheck(f.pair(), theta, seed=0)
    assert report.mode == "projection" and len(report) == 8 and report.ok
    assert report.n_evaluations == f.calls <= 1 + 2 * 8 + 4 * 8
    assert report.n_gradients == 1 and report.max_rel_err < 1e-7


def test_projection_catches_one_wrong_entry_in_1e5(theta):
    f = Counted(wrong=12_345)
    report = sg.gradcheck(f.pair(), theta, mode="projection", k=4, seed=0)
    assert report.status == ("FAIL",) * 4
    assert f.calls <= 1 + 2 * 4 + 4 * 4


def test_subset_checks_k_parameters_and_finds_a_wrong_one_it_draws(theta):
    right = Counted()
    # Per-parameter differences of a sum of 10⁵ terms: Richardson's larger step keeps the
    # rounding noise (ε·J/h) below the tolerance.
    report = sg.gradcheck(right.pair(), theta, mode="subset", k=10, seed=0, method="richardson", rtol=1e-6)
    assert len(report) == 10 and report.status == ("ok",) * 10
    assert right.calls == report.n_evaluations <= 1 + 4 * 10 + 4 * 10
    central = sg.gradcheck(right.pair(), theta, mode="subset", k=10, seed=0)
    assert "FAIL" not in central.status  # ok or unresolved: never a false alarm
    wrong = Counted(wrong=12_345)
    found = sg.gradcheck(wrong.pair(), theta, mode="subset", k=3, params=[7, 12_345, 99_999], seed=0)
    assert found.failures == ["θ[12345]"]


def test_taylor_test_at_scale(theta):
    right, wrong = Counted(), Counted(wrong=12_345)
    ok = sg.check.taylor_test(right.pair(), theta, seed=0)
    assert ok.status == "ok" and ok.n_evaluations == right.calls == 28
    failed = sg.check.taylor_test(wrong.pair(), theta, seed=0)
    assert failed.status == "FAIL" and failed.order < 1.5
