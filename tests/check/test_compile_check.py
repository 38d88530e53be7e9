"""``model.compile(check=True)`` and ``quick_check``: checks as part of other work."""

import types

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.check.quick import BATCH_ROWS, random_point
from symgrad.errors import GradientCheckError, SymgradWarning

from .conftest import activations_model


def test_compile_check_passes_on_a_random_batch():
    model = activations_model()  # a new Model: the check runs on its own compile call
    kernels = model.compile(check=True)
    assert isinstance(kernels, sg.compile.compiled.CompiledModel)
    theta, X, T = random_point(kernels)
    assert X.shape == (BATCH_ROWS, 1) and T.shape == (BATCH_ROWS, 1) and theta.shape == (5,)
    assert np.all(np.abs(theta) <= 1) and np.all((0.1 <= T) & (T <= 0.9))
    np.testing.assert_array_equal(random_point(kernels)[0], theta)  # a fixed seed


def test_compile_check_on_a_data_free_objective_and_a_positive_retry():
    a, b = sp.symbols("a b")
    model = sg.Model(loss=sp.log(a) * b**2 + sp.sqrt(b), params=[a, b])  # needs a, b > 0
    kernels = model.compile(check=True)
    theta, X, T = random_point(kernels)
    assert X is None and T is None and np.all(theta > 0)


def wrong_module(module, index, factor):
    """The kernels' module with a gradient entry scaled: a broken code generator."""
    def loss_and_grad(*args):
        value = module.loss_and_grad(*args)
        args[-1][index] *= factor
        return value

    return types.SimpleNamespace(loss_and_grad=loss_and_grad, loss=module.loss)


def test_compile_check_raises_on_a_wrong_gradient_kernel(monkeypatch):
    model = activations_model()
    kernels = model.compile()
    monkeypatch.setattr(kernels, "_module", wrong_module(kernels.module, 3, 1.5))
    with pytest.raises(GradientCheckError, match=r"1 of 5 entry disagrees[\s\S]*  w4: exact"):
        model.compile(check=True)  # the same options: the cached (here broken) kernels are checked


def test_compile_check_warns_for_float32(logreg_case):
    with pytest.warns(SymgradWarning, match="float64 is the reliable check"):
        logreg_case.model.compile(dtype="float32", check=True)


def test_quick_check_returns_a_report_without_raising_or_warning(logreg32_case):
    report = sg.check.quick_check(*logreg32_case.args())  # float32: no warning (they would be errors here)
    assert report.ok and report.mode == "full" and report.method == "central"
    kernels = logreg32_case.compiled
    broken = sg.check.as_objective(*logreg32_case.args())
    exact = broken.grad_fn
    broken.grad_fn = lambda theta: exact(theta) * np.array([1, 1, -1], dtype=np.float32)
    failed = sg.check.quick_check(broken, logreg32_case.theta)
    assert not failed.ok and failed.failures == ["b"]
    assert kernels.n_params == 3


def test_quick_check_projects_above_32_parameters():
    n = 40
    report = sg.check.quick_check((lambda th: float(np.sum(np.cosh(th))), np.sinh), np.linspace(-1, 1, n))
    assert report.mode == "projection" and len(report) == 8 and report.seed == 0
    assert report.n_evaluations <= 1 + 2 * 8 + 4 * 8 and report.ok
