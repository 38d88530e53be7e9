"""The runtime's sigmoid and softplus, which element loops call instead of libm's exp and log1p
so that LLVM vectorises the loops.

Checked against mpmath at 120 bits: within 3 ulp (the sigmoid; 2 the softplus and
the two parts) from the typical range to where the results underflow, exact at the
special values.
"""

import math

import mpmath
import numpy as np
import pytest

from symgrad.codegen.runtime import _exp_neg, _log1p_unit, sigmoid, softplus


def _ulps(value: float, exact) -> float:
    unit = np.spacing(abs(float(exact))) if exact != 0 else np.spacing(0.0)
    return float(abs(mpmath.mpf(value) - exact) / unit)


def _points():
    rng = np.random.default_rng(11)
    return np.concatenate([
        rng.normal(size=1500) * 3.0,                                # typical logits
        rng.uniform(-750.0, 750.0, 1500),                           # to underflow and beyond
        np.arange(-2980, 2981) * 0.25,                              # multiples of 1/4 (k ln 2 nearby)
        np.arange(-1075, 1076) * math.log(2.0),                     # the reduction's boundaries
        10.0 ** rng.uniform(-320.0, 0.0, 500) * rng.choice([-1.0, 1.0], 500),  # tiny, subnormal
    ])


def test_sigmoid_and_softplus_within_three_and_two_ulp():
    mpmath.mp.prec = 120
    points = [float(x) for x in _points()]
    worst_sigmoid = max(_ulps(sigmoid(x), 1 / (1 + mpmath.exp(-mpmath.mpf(x)))) for x in points)
    worst_softplus = max(_ulps(softplus(x), mpmath.log1p(mpmath.exp(mpmath.mpf(x)))) for x in points)
    assert worst_sigmoid <= 3.0  # e / (1 + e): e's, the sum's and the quotient's rounding
    assert worst_softplus <= 2.0


def test_their_parts_within_two_ulp():
    mpmath.mp.prec = 120
    rng = np.random.default_rng(12)
    ys = np.concatenate([np.abs(_points()), [0.0, 708.0, 744.0, 745.0, 745.2]])
    assert max(_ulps(_exp_neg(float(y)), mpmath.exp(-mpmath.mpf(float(y)))) for y in ys) <= 2.0
    us = np.concatenate([rng.uniform(0.0, 1.0, 3000), 10.0 ** rng.uniform(-320.0, 0.0, 1000), [0.0, 1.0]])
    assert max(_ulps(_log1p_unit(float(u)), mpmath.log1p(mpmath.mpf(float(u)))) for u in us) <= 2.0


@pytest.mark.parametrize("x, expected_sigmoid, expected_softplus", [
    (0.0, 0.5, math.log(2.0)), (-0.0, 0.5, math.log(2.0)), (math.inf, 1.0, math.inf), (-math.inf, 0.0, 0.0),
    (1e300, 1.0, 1e300), (-1e300, 0.0, 0.0), (800.0, 1.0, 800.0), (-800.0, 0.0, 0.0)])
def test_special_values(x, expected_sigmoid, expected_softplus):
    assert sigmoid(x) == expected_sigmoid
    assert softplus(x) == expected_softplus


def test_nan_stays_nan():
    assert math.isnan(sigmoid(math.nan))
    assert math.isnan(softplus(math.nan))
