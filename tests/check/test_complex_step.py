"""The complex-step kernel: generated from the value program, exact to rounding,
refused (with the construct named) where the loss is not complex-analytic."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.codegen.complex import ComplexPrinter, generate_complex_loss_source
from symgrad.errors import ComplexStepError, EvaluationError, UnsupportedOperationError

x, y, t = sp.symbols("x y t")


@pytest.mark.parametrize("expr, named", [
    (sp.Abs(x - y), r"Abs\(x - y\): \|u\| has a kink"),
    (sp.sign(x) * y, r"sign\(x\): sign is piecewise constant"),
    (sp.Heaviside(x) * y, r"Heaviside\(x\): Heaviside is piecewise constant"),
    (sg.relu(x) + y, r"relu\(x\): relu\(u\) = max\(u, 0\)"),
    (sp.Max(x, y), r"Max\(x, y\): Max compares real numbers"),
    (sp.Min(x, y**2), r"Min\(x, y\*\*2\): Min compares real numbers"),
    (sp.Piecewise((x, y > 0), (y, True)), r"Piecewise\(.*\): Piecewise branches"),
    (sp.erf(x) * y, r"erf\(x\): erf is analytic but numba has no complex erf"),
])
def test_non_analytic_constructs_are_refused_by_name(expr, named):
    programs = sg.Model(loss=expr + x**2, params=[x, y]).kernel_programs()
    with pytest.raises(ComplexStepError, match="method='complex' needs a loss that is complex-analytic.*"
                       + named + r".*Use method='central'"):
        generate_complex_loss_source(programs)


def test_a_non_analytic_regularizer_is_refused_too():
    w, u = sp.symbols("w u")
    model = sg.Model(loss=(w * u - t) ** 2, params=[w], inputs=[u], targets=[t], regularizer=sp.Abs(w) / 10)
    with pytest.raises(ComplexStepError, match=r"contains Abs\(w\)/10|contains Abs\(w\)"):
        generate_complex_loss_source(model.kernel_programs())
    assert issubclass(ComplexStepError, UnsupportedOperationError)


@pytest.mark.parametrize("expr, text", [
    (x**7, "_ipow(x0, 7)"),
    (x**-6, "(1.0 / _ipow(x0, 6))"),
    (x**3, "(x0*x0*x0)"),
    (x**sp.Rational(3, 2), "x0**(1.5)"),
    (sp.sqrt(x), "np.sqrt(x0)"),
    (sp.log(1 + x), "np.log1p(x0)"),
    (sp.log(x), "np.log(x0)"),
    (sp.atan(x), "np.arctan(x0)"),
    (sg.sigmoid(x), "_sigmoid(x0)"),
])
def test_the_complex_printer(expr, text):
    assert ComplexPrinter({x: "x0"}).doprint(expr) == text


def test_every_complex_template_calls_a_numpy_function():
    # numba compiles each complex function slowly, so the compiled test below uses some of
    # them; the others are at least real numpy functions that take complex numbers.
    from symgrad.codegen.complex import _COMPLEX_TEMPLATES
    for template in _COMPLEX_TEMPLATES.values():
        if template.startswith("np."):
            function = getattr(np, template[3:].split("(")[0])
            assert np.iscomplexobj(function(0.25 + 1e-20j))


@pytest.fixture(scope="module")
def analytic():
    """Integer powers of a negative base, a power of a parameter, roots, logarithms, atan."""
    f = (x**7 + sp.exp(y) / x**6 + sp.sqrt(y) + sp.log(1 + x**2) + sp.atan(x * y) + y**x
         + sg.softplus(x * y) + sp.log(sg.sigmoid(3 * x)))
    return sg.Model(loss=f, params=[x, y])


@pytest.fixture(scope="module")
def analytic_kernels(analytic):
    return analytic.compile(hessian=False, hvp=False)  # the second-order kernels of f are large


def test_complex_step_is_exact_to_rounding(analytic_kernels):
    report = sg.gradcheck(analytic_kernels, np.array([-1.3, 2.0]), method="complex")
    assert report.status == ("ok", "ok") and report.max_rel_err < 1e-14
    # the complex kernel's real part is the loss
    kernels = analytic_kernels
    theta = np.array([-1.3, 2.0])
    assert kernels.complex_loss(theta.astype(np.complex128)).real == pytest.approx(kernels.loss(theta),
                                                                                   rel=1e-14)


def test_complex_loss_checks_its_arguments(analytic_kernels):
    kernels = analytic_kernels
    with pytest.raises(EvaluationError, match="theta has dtype float64.*complex128"):
        kernels.complex_loss(np.array([1.0, 2.0]))


def test_the_complex_kernel_is_cached_like_the_others(analytic, analytic_kernels, monkeypatch):
    analytic_kernels.complex_loss(np.array([1.0 + 0j, 2.0]))
    fresh = sg.Model(loss=analytic.loss, params=analytic.params).compile(hessian=False, hvp=False)

    def regenerate(*args, **kwargs):
        raise AssertionError("the complex kernel was generated again")

    monkeypatch.setattr(sg.compile.compiled, "generate_complex_loss_source", regenerate)
    assert np.isfinite(fresh.complex_loss(np.array([1.0 + 0j, 2.0])))


def test_callables_may_support_complex_numbers_or_say_they_do_not():
    def loss(theta):
        return np.sum(np.exp(theta) * theta**3)

    def grad(theta):
        return np.exp(theta) * (theta**3 + 3 * theta**2)

    theta = np.array([-0.5, 0.25, 1.5])
    assert sg.gradcheck((loss, grad), theta, method="complex").max_rel_err < 1e-15
    with pytest.raises(ComplexStepError, match="returned float"):
        sg.gradcheck((lambda th: float(np.real(loss(th))), grad), theta, method="complex")
