"""The straight-line program: CSE keeps values, shares work, and the program prints and evaluates."""

import pytest
import sympy as sp

import symgrad as sg
from symgrad.errors import DeclarationError, EvaluationError
from symgrad.program.cse import eliminate_common_subexpressions, remove_dead_statements
from symgrad.program.naming import TemporaryNamer

x, y, z = sp.symbols("x y z")
EXPRS = [
    sp.sin(x * y) * sp.exp(x * y) + sp.cos(x * y) ** 2,
    sg.sigmoid(x + y) * sg.sigmoid(x + y + z) + sp.log(1 + (x + y) ** 2),
    sp.Max(x, y) * sp.Min(y, z) + sp.Abs(x - z) * sp.tanh(x * y * z),
]


@pytest.mark.parametrize("expr", EXPRS)
@pytest.mark.parametrize("order", [1, 2])
def test_cse_changes_no_value(expr, order, random_point):
    shared = sg.program(expr, [x, y, z], order=order)
    plain = sg.program(expr, [x, y, z], order=order, cse=False)
    point = random_point([x, y, z])
    assert shared.evaluate(point) == plain.evaluate(point)  # exact rationals: equal as numbers
    assert _operations(shared) <= _operations(plain)


def _operations(prog):
    # CSE may add statements (shared temporaries) but must not add arithmetic.
    return sum(sp.count_ops(rhs) for _, rhs in prog.statements) + sum(
        sp.count_ops(out.expr) for out in prog.outputs
    )


@pytest.mark.parametrize("expr", EXPRS)
def test_no_right_hand_side_is_computed_twice(expr):
    prog = sg.program(expr, [x, y, z], order=2)
    right_hand_sides = [rhs for _, rhs in prog.statements]
    assert len(set(right_hand_sides)) == len(right_hand_sides)
    assert not any(rhs.is_Atom for rhs in right_hand_sides)


def test_cse_shares_a_repeated_subexpression():
    a, b = sp.symbols("a b")
    statements = [(a, sp.sin(x) * (x + y)), (b, sp.cos(x) * (x + y))]
    namer = TemporaryNamer(["x", "y"])
    new, outputs = eliminate_common_subexpressions(statements, [a + b], namer.fresh)
    assert new[0] == (sp.Symbol("c1", real=True), x + y)
    assert len(new) == 3 and outputs == [a + b]


def test_cse_turns_copies_into_reuse():
    a, b = sp.symbols("a b")
    statements = [(a, sp.sin(x)), (b, a)]
    new, outputs = eliminate_common_subexpressions(statements, [b * 2], TemporaryNamer([]).fresh)
    assert new == [(a, sp.sin(x))] and outputs == [2 * a]


def test_dead_statements_are_removed():
    a, b = sp.symbols("a b")
    assert remove_dead_statements([(a, sp.sin(x)), (b, sp.cos(x))], [a + 1]) == [(a, sp.sin(x))]


def test_temporaries_never_collide_with_user_symbols():
    v2, d2 = sp.symbols("v2 d2")
    prog = sg.program(sp.sin(v2 * d2) + v2 * d2, [v2, d2])
    assert not {t.name for t in prog.temporaries} & {"v2", "d2"}
    (gradient,) = sg.grad(sp.sin(v2 * d2) + v2 * d2, [v2])
    assert sp.expand(gradient - (d2 * sp.cos(v2 * d2) + d2)) == 0


def test_printing_indexing_and_expansion():
    prog = sg.program(x * sp.exp(y), [x, y])
    text = str(prog)
    assert text.splitlines()[0] == "# inputs: x, y" and "∂f/∂y :=" in text
    assert repr(prog).startswith("<Program: ")
    assert prog.expanded("∂f/∂y") == x * sp.exp(y)
    assert prog["grad", 0, 0] == prog["∂f/∂x"]
    with pytest.raises(KeyError, match="no output"):
        prog["∂f/∂z"]


def test_evaluate_reports_missing_and_bad_values():
    prog = sg.program(x * y, [x])
    with pytest.raises(EvaluationError, match="no value given for y"):
        prog.evaluate({x: 1})
    with pytest.raises(EvaluationError, match="value for y must be a real number"):
        prog.evaluate({x: 1, y: "2"})
    with pytest.raises(EvaluationError, match="not finite"):
        sg.program(sp.log(x), [x]).evaluate({x: 0})


def test_bad_wrt_is_rejected():
    with pytest.raises(DeclarationError, match="listed twice"):
        sg.grad(x * y, [x, x])
    with pytest.raises(DeclarationError, match="only differentiate with respect to symbols"):
        sg.grad(x * y, [x * y])
    with pytest.raises(DeclarationError, match="wrt must be a symbol or a list"):
        sg.grad(x * y, "x")
