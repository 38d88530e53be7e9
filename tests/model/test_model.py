"""Model declaration: validation errors, warnings, and derivatives against sympy.diff."""

import warnings

import mpmath
import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import (
    DeclarationError,
    ShapeError,
    SymgradError,
    SymgradWarning,
    UnsupportedOperationError,
)

w, b, x, t, u = sp.symbols("w b x t u")


def test_symbol_in_two_roles_is_rejected_naming_both_roles():
    with pytest.raises(DeclarationError, match="x is declared both as params and as inputs"):
        sg.Model(loss=(w * x - t) ** 2, params=[w, x], inputs=[x], targets=[t])


def test_undeclared_free_symbol_is_named():
    with pytest.raises(DeclarationError, match="uses t, which is not declared"):
        sg.Model(loss=(w * x - t) ** 2, params=[w], inputs=[x])


def test_duplicate_symbols_are_named():
    with pytest.raises(DeclarationError, match="w listed more than once in params"):
        sg.Model(loss=(w * x - t) ** 2, params=[w, w], inputs=[x], targets=[t])


@pytest.mark.parametrize("loss", [sp.Matrix([w, b]), sp.MatrixSymbol("A", 2, 2), [w, b]])
def test_non_scalar_loss_is_a_shape_error(loss):
    with pytest.raises(ShapeError, match="scalar"):
        sg.Model(loss=loss, params=[w, b])


def test_non_symbol_parameter_is_named():
    with pytest.raises(DeclarationError, match="got Mul 2\\*w"):
        sg.Model(loss=w**2, params=[2 * w])
    with pytest.raises(DeclarationError, match="list of SymPy symbols"):
        sg.Model(loss=w**2, params="w")


def test_model_needs_a_parameter():
    with pytest.raises(DeclarationError, match="at least one parameter"):
        sg.Model(loss=x**2, params=[], inputs=[x])


def test_unused_parameter_warns_and_has_zero_gradient():
    with pytest.warns(SymgradWarning, match="does not depend on parameter\\(s\\) b"):
        model = sg.Model(loss=(w * x - t) ** 2, params=[w, b], inputs=[x], targets=[t])
    assert model.gradient()[b] == 0


def test_regularizer_must_be_data_free():
    with pytest.raises(DeclarationError, match="regularizer depends on x"):
        sg.Model(loss=(w * x - t) ** 2, params=[w], inputs=[x], targets=[t], regularizer=x * w**2)


def test_unsupported_construct_fails_at_declaration():
    f = sp.Function("f")
    with pytest.raises(UnsupportedOperationError, match="AppliedUndef|f\\(w\\)|undefined function"):
        sg.Model(loss=f(w) * x, params=[w], inputs=[x])


def test_every_error_is_a_symgrad_error():
    for cls in (DeclarationError, ShapeError, UnsupportedOperationError):
        assert issubclass(cls, SymgradError)


def test_gradient_and_hessian_match_sympy_diff_at_random_points(seed003, random_point):
    model, _ = seed003
    reference_loss = sg.expand_activations(model.objective)
    symbols = list(model.roles)
    n = model.n_params
    upper = [(i, j) for i in range(n) for j in range(i, n)]
    keys = [("grad", 0, i) for i in range(n)] + [("hess", 0, i, j) for i, j in upper]
    references = [sp.diff(reference_loss, p) for p in model.params]
    references += [sp.diff(reference_loss, model.params[i], model.params[j]) for i, j in upper]
    evaluate = sp.lambdify(symbols, references, "mpmath")
    second_order = sg.program(model.objective, model.params, order=2)
    for _ in range(2):
        point = random_point(symbols)
        ours = second_order.evaluate({s: sp.Float(v, 50) for s, v in point.items()})
        with mpmath.workdps(50):
            values = evaluate(*[mpmath.mpf(v.p) / v.q for v in point.values()])
            expected = [sp.Float(mpmath.nstr(v, 50), 50) for v in values]
        for key, reference in zip(keys, expected, strict=True):
            # 50-digit arithmetic on both sides: agreement far beyond float
            # precision; a wrong term would differ in the leading digits.
            assert abs(ours[key] - reference) < 1e-40
        for i, j in upper:
            assert ours["hess", 0, i, j] == ours["hess", 0, j, i]
    assert model.hessian().shape == (n, n)


def test_regularizer_enters_the_per_sample_objective_once():
    lam = sp.Rational(3, 10)
    model = sg.Model(loss=(w * x + b - t) ** 2 / 2, params=[w, b], inputs=[x], targets=[t],
                     regularizer=sg.losses.l2_penalty([w], lam))
    assert sp.expand(model.gradient()[w] - x * (w * x + b - t)) == lam * w
    assert sp.expand(model.gradient()[b] - (w * x + b - t)) == 0


def test_graph_records_roles(logreg):
    roles = {d["expr"]: d["role"] for _, d in logreg.graph.nodes(data=True) if d["op"] == "symbol"}
    assert roles == {**{p: "param" for p in logreg.params}, **{s: "input" for s in logreg.inputs},
                     logreg.targets[0]: "target"}


def test_program_inputs_are_params_then_inputs_then_targets(logreg):
    assert logreg.program.inputs == logreg.params + logreg.inputs + logreg.targets
    assert logreg.program.wrt == logreg.params


def test_repr_says_what_it_is(logreg):
    text = repr(logreg)
    assert text.startswith("Model(loss=") and "params=[w1, w2, b]" in text and "targets=[t]" in text


def test_valid_model_emits_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.Model(loss=(w * x + b - t) ** 2, params=[w, b], inputs=[x], targets=[t])


def test_explain_rejects_foreign_symbol(logreg):
    with pytest.raises(DeclarationError, match="u is not a symbol of this model"):
        logreg.explain(u)
