"""What gradcheck accepts, and the errors that name what is wrong."""

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DeclarationError, EvaluationError, ShapeError, SymgradError

x, y = sp.symbols("x y")


def quadratic():
    return (lambda th: float(th @ th)), (lambda th: 2 * th)


def test_theta_as_a_mapping_of_symbols_or_names(seed003_case):
    c = seed003_case
    by_symbol = dict(zip(c.model.params, c.theta, strict=True))
    by_name = {str(p): v for p, v in by_symbol.items()}
    reference = sg.gradcheck(*c.args())
    for theta in (by_symbol, by_name):
        report = sg.gradcheck(c.compiled, theta, c.X, c.T)
        np.testing.assert_array_equal(report.exact, reference.exact)


@pytest.mark.parametrize("theta, error, message", [
    ({"w31": 0.1}, EvaluationError, "theta has no value for w32, w41, w42, w53, w54"),
    ({"w31": 0.1, "w99": 1.0}, EvaluationError, "theta names w99, which are not parameters"),
    (np.zeros(6, dtype=np.float32), EvaluationError, "theta has dtype float32, the objective takes float64"),
    (np.zeros(5), ShapeError, r"theta has shape \(5,\), expected \(6,\)"),
    (np.array([0, 0, np.nan, 0, 0, 0.0]), EvaluationError, r"theta\[2\] \(w41\) is nan"),
    ("abc", EvaluationError, "theta must be an array of 6 numbers or a mapping"),
])
def test_bad_points_are_named(seed003_case, theta, error, message):
    c = seed003_case
    with pytest.raises(error, match=message):
        sg.gradcheck(c.compiled, theta, c.X, c.T)


@pytest.mark.parametrize("options, message", [
    ({"method": "secant"}, "method must be one of forward, backward, central, richardson, complex; "
                           "got 'secant'"),
    ({"mode": "some"}, "mode must be 'auto', 'full', 'subset' or 'projection'; got 'some'"),
    ({"mode": "projection", "k": 0}, "k must be a positive integer, got 0"),
    ({"k": 3}, "k applies to mode='subset' or 'projection', not 'full'"),
    ({"params": ["w31", "v7"]}, "v7 is not a parameter; the parameters are w31, w32, w41, w42, w53, w54"),
    ({"params": [9]}, "params index 9 is out of range for 6 parameters"),
    ({"params": []}, "params selects no parameter"),
    ({"step": [1e-5, 1e-5]}, r"step has shape \(2,\); give one number or one per parameter \(6,\)"),
    ({"step": -1e-5}, r"step\[0\] is -1e-05; steps must be positive and finite"),
    ({"rtol": -1.0}, "rtol must be a positive finite number, got -1.0"),
    ({"atol": float("nan")}, "atol must be a positive finite number, got nan"),
])
def test_bad_options_are_named(seed003_case, options, message):
    with pytest.raises(DeclarationError, match=message):
        sg.gradcheck(*seed003_case.args(), **options)


def test_params_selects_by_name_symbol_or_index(seed003_case):
    c = seed003_case
    w53 = c.model.params[4]
    for selection in ("w53", w53, 4, ["w53", 0]):
        report = sg.gradcheck(*c.args(), params=selection)
        assert "w53" in report.names and report.n_params == 6
    assert sg.gradcheck(*c.args(), params=["w53", 0]).names == ("w31", "w53")


def test_targets_that_are_not_checkable():
    with pytest.raises(DeclarationError, match="takes a sg.Model, a compiled model, a data-free SymPy "
                                               "expression or a pair"):
        sg.gradcheck("x**2", {"x": 1.0})
    with pytest.raises(DeclarationError, match="a SymPy expression is a data-free objective"):
        sg.gradcheck(x**2, {x: 1.0}, X=np.ones((2, 1)))
    with pytest.raises(DeclarationError, match="bind the data inside them"):
        sg.gradcheck(quadratic(), np.ones(2), X=np.ones((2, 1)))
    with pytest.raises(DeclarationError, match=r"theta is a flat array; to name its entries, build "
                                               r"sg.check.Objective\(loss_fn, grad_fn, names=...\)"):
        sg.gradcheck(quadratic(), {"a": 1.0, "b": 2.0})
    named = sg.gradcheck(sg.check.Objective(*quadratic(), names=("a", "b")), {"b": 2.0, "a": 1.0})
    assert named.names == ("a", "b") and list(named.exact) == [2.0, 4.0]
    with pytest.raises(DeclarationError, match="must be an expression of its parameters"):
        sg.gradcheck(sp.Integer(3), {})
    with pytest.raises(EvaluationError, match="theta names z, which the expression does not contain"):
        sg.gradcheck(x**2 + y, {x: 1.0, y: 2.0, "z": 3.0})
    with pytest.raises(EvaluationError, match="theta has no value for y"):
        sg.gradcheck(x**2 + y, {x: 1.0})


def test_a_model_with_data_needs_its_data(logreg_case):
    with pytest.raises(DeclarationError, match=r"X is required: one row per sample with 2 input\(s\)"):
        sg.gradcheck(logreg_case.compiled, logreg_case.theta)


def test_an_expression_with_an_array_orders_its_symbols_by_name():
    report = sg.gradcheck(y**2 + 3 * x, np.array([1.0, 2.0]))  # x = 1, y = 2
    assert report.names == ("x", "y")
    np.testing.assert_allclose(report.exact, [3.0, 4.0])


def test_a_wrong_gradient_shape_is_named():
    with pytest.raises(ShapeError, match=r"the gradient has shape \(3,\), expected \(2,\)"):
        sg.gradcheck((lambda th: 0.0, lambda th: np.zeros(3)), np.zeros(2))


def test_hesscheck_inputs():
    with pytest.raises(DeclarationError, match="the objective has no Hessian kernel"):
        sg.hesscheck(quadratic(), np.ones(2))
    with pytest.raises(DeclarationError, match="no complex kernel"):
        sg.hesscheck(x**2 * y, {x: 1.0, y: 2.0}, method="complex")
    with pytest.raises(DeclarationError, match="modes 'full' and 'projection'"):
        sg.hesscheck(x**2 * y, {x: 1.0, y: 2.0}, mode="subset")
    loss, grad = quadratic()
    report = sg.hesscheck((loss, grad, lambda th: 2 * np.eye(th.size)), np.array([0.5, -1.0]))
    assert report.status == ("ok",) * 3


def test_every_error_is_a_symgrad_error():
    for error in (DeclarationError, EvaluationError, ShapeError, sg.errors.ComplexStepError,
                  sg.errors.GradientCheckError):
        assert issubclass(error, SymgradError)
