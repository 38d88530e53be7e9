"""The runtime's softmax and log-sum-exp of a block's rows.

A C-contiguous block is exponentiated in one vectorised loop over all its
entries; any other layout (a transposed operand) row by row with libm's exp.
Both are checked against mpmath at 120 bits, and against each other on rows
holding nan and infinities.
"""

import math

import mpmath
import numpy as np
import pytest

from symgrad.codegen.runtime import logsumexp_rows, softmax_logsumexp_rows, softmax_rows


def _exact_row(row):
    top = max(mpmath.mpf(float(x)) for x in row)
    exps = [mpmath.exp(mpmath.mpf(float(x)) - top) for x in row]
    total = mpmath.fsum(exps)
    return [e / total for e in exps], top + mpmath.log(total)


def _softmax(a, layout):
    rows, cols = a.shape
    if layout == "C":
        block, soft = np.ascontiguousarray(a), np.zeros((rows, cols))
    else:  # the transposed views the kernels pass for a parameter's softmax
        block, soft = np.asfortranarray(a), np.zeros((cols, rows)).T
    lse = np.zeros((rows, 1))
    softmax_logsumexp_rows(block, soft, lse)
    return soft, lse[:, 0]


@pytest.mark.parametrize("layout", ["C", "F"])
def test_rows_within_a_few_ulp_of_the_exact_values(layout):
    mpmath.mp.prec = 120
    rng = np.random.default_rng(5)
    a = np.concatenate([rng.normal(size=(24, 10)) * 4.0,        # typical logits
                        rng.normal(size=(4, 10)) * 300.0,       # entries whose exp underflows
                        rng.normal(size=(4, 10)) + 1e4])        # large, close together
    soft, lse = _softmax(a, layout)
    worst_soft = worst_lse = 0.0
    for r, row in enumerate(a):
        probs, exact_lse = _exact_row(row)
        for value, exact in zip(soft[r], probs, strict=True):
            worst_soft = max(worst_soft, float(abs(mpmath.mpf(value) - exact)) / np.spacing(1.0))
        unit = np.spacing(abs(float(exact_lse)))
        worst_lse = max(worst_lse, float(abs(mpmath.mpf(lse[r]) - exact_lse) / unit))
    assert worst_soft <= 4.0  # in units of the spacing at 1: probabilities are at most 1
    assert worst_lse <= 2.0
    assert np.allclose(soft.sum(axis=1), 1.0, rtol=0.0, atol=8 * np.spacing(1.0))


def test_both_layouts_agree_on_nan_and_infinities():
    rng = np.random.default_rng(6)
    a = rng.normal(size=(5, 7))
    a[0, 3] = math.nan        # the whole row becomes nan
    a[1, 2] = math.inf        # so does a row with +inf (inf - inf)
    a[2, 5] = -math.inf       # probability exactly 0; the rest of the row is finite
    a[3, :] = -math.inf       # no finite entry: nan, as exp(-inf - -inf)
    c_soft, c_lse = _softmax(a, "C")
    f_soft, f_lse = _softmax(a, "F")
    for soft, lse in ((c_soft, c_lse), (f_soft, f_lse)):
        assert np.isnan(soft[0]).all() and np.isnan(lse[0])
        assert np.isnan(soft[1]).all() and np.isnan(lse[1])
        assert soft[2, 5] == 0.0 and np.isfinite(soft[2]).all() and math.isclose(soft[2].sum(), 1.0)
        assert np.isnan(soft[3]).all()
        assert np.isfinite(soft[4]).all() and np.isfinite(lse[4])
    np.testing.assert_allclose(c_soft[2:], f_soft[2:], rtol=4e-16, atol=0.0, equal_nan=True)


@pytest.mark.parametrize("layout", ["C", "F"])
def test_softmax_alone_gives_the_same_numbers(layout):
    # a model's predictions (softmax_rows) and its loss (paired with the log-sum-exp) agree bit for bit
    a = np.random.default_rng(7).normal(size=(9, 6)) * 5.0
    a[2, 1] = math.nan
    soft, _ = _softmax(a, layout)
    alone = np.zeros_like(soft) if layout == "C" else np.zeros(soft.shape[::-1]).T
    softmax_rows(np.ascontiguousarray(a) if layout == "C" else np.asfortranarray(a), alone)
    np.testing.assert_array_equal(alone, soft)


@pytest.mark.parametrize("layout", ["C", "F"])
def test_log_sum_exp_alone_gives_the_same_numbers(layout):
    # a loss-only kernel (logsumexp_rows) and loss_and_grad (paired with the softmax) agree bit for bit
    a = np.random.default_rng(8).normal(size=(2000, 10)) * 4.0
    _, lse = _softmax(a, layout)
    alone = np.zeros((a.shape[0], 1))
    logsumexp_rows(np.ascontiguousarray(a) if layout == "C" else np.asfortranarray(a), alone)
    np.testing.assert_array_equal(alone[:, 0], lse)
