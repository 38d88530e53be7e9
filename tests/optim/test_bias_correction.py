"""``one_minus_power``: the Adam family's bias correction ``1 − βᵗ``, as ``−expm1(t·log β)``.

Checked against mpmath at 120 bits over the β the optimizers accept and the
step counts of long runs: within a few ulp, where ``1.0 - β ** t`` loses up to
``1/(1 − β)`` ulp to cancellation at small ``t``.
"""

import math

import mpmath
import numpy as np
import pytest

from symgrad.optim.updates import one_minus_power


def _ulps(value: float, exact) -> float:
    return float(abs(mpmath.mpf(value) - exact) / np.spacing(float(exact)))


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99, 0.999, 0.9999, 0.95])
def test_within_a_few_ulp_of_the_exact_value(beta):
    mpmath.mp.prec = 120
    steps = [1, 2, 3, 10, 100, 1000, 20_000, 10**6]
    worst = max(_ulps(one_minus_power(math.log(beta), t), 1 - mpmath.mpf(beta) ** t) for t in steps)
    assert worst <= 4.0


def test_more_accurate_than_the_power_where_it_cancels():
    # 1.0 - beta ** t loses the power's rounding, relative to a small difference: 66 ulp for
    # beta = 0.999 at t = 2, over a thousand for 0.9999 (the reason for expm1)
    mpmath.mp.prec = 120
    for beta, t in [(0.999, 2), (0.9999, 2), (0.9999, 3)]:
        exact = 1 - mpmath.mpf(beta) ** t
        assert _ulps(1.0 - beta ** float(t), exact) > 50.0
        assert _ulps(one_minus_power(math.log(beta), t), exact) <= 4.0


def test_beta_zero_needs_no_correction():
    assert one_minus_power(-math.inf, 1) == 1.0
    assert one_minus_power(-math.inf, 50) == 1.0
