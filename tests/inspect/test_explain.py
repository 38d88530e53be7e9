"""explain: the chain-rule breakdown must add up to the exact derivative."""

import pytest
import sympy as sp

import symgrad as sg


def _product(path, env):
    value = sp.S.One
    for factor in path:
        value *= factor.expr.xreplace(env)
    return value


@pytest.mark.parametrize("name", ["w31", "w41", "w53", "x1", "x2"])
def test_paths_sum_to_the_gradient(seed003, name):
    model, point = seed003
    variable = sp.Symbol(name)
    explanation = model.explain(variable, at=point)
    exact = sg.grad(model.objective, [variable], at=point)[0]
    assert explanation.n_paths == len(explanation.paths) == (2 if name.startswith("x") else 1)
    env = {**point, **{label: value for label, value in explanation.values.items() if label.is_Symbol}}
    total = sum(_product(path, env) for path in explanation.paths)
    assert abs(float(total) - exact) < 1e-14 * max(1.0, abs(exact))
    assert abs(explanation.value - exact) < 1e-14 * max(1.0, abs(exact))


def test_seed003_chain_has_the_notes_three_factors(seed003):
    model, point = seed003
    e = model.explain(sp.Symbol("w53"), at=point)
    (path,) = e.paths
    assert [f.name for f in path] == ["∂loss/∂a3", "∂a3/∂z3", "∂z3/∂w53"]
    a3 = sp.Symbol("a3", real=True)
    assert path[1].expr == a3 * (1 - a3)  # σ' written through the unit's own output
    assert abs(e.value - 0.027674034938736) < 1e-12


def test_deltas_follow_the_backprop_recursion(seed003):
    model, point = seed003
    e = model.explain(sp.Symbol("w31"), at=point)
    labels = [str(label) for label, _ in e.deltas]
    assert labels == ["a3", "z3", "a1", "z1"]
    delta_z3 = sp.Symbol("δ_z3")
    assert sp.Symbol("w53") in e.deltas[2][1].free_symbols and delta_z3 in e.deltas[2][1].free_symbols


def test_user_names_label_intermediates():
    w, x, b, t = sp.symbols("w x b t")
    z = w * x + b
    e = sg.explain((sg.sigmoid(z) - t) ** 2, w, names={z: "z", sg.sigmoid(z): "y"})
    assert [str(label) for label, _ in e.definitions] == ["z", "y", "f"]
    assert "∂y/∂z = y*(1 - y)" in str(e)


def test_text_and_latex_renderings():
    x, y = sp.symbols("x y")
    e = sg.explain(sp.exp(x * y) * x, x, at={x: 1, y: 2})
    text = str(e)
    assert text.startswith("∂f/∂x by the chain rule") and "δ terms" in text and "= " in text
    latex = e._repr_latex_()
    assert latex.startswith(r"$\begin{aligned}") and r"\frac{\partial f}{\partial x}" in latex
    assert repr(e).startswith("<Explanation of ∂f/∂x")


def test_variable_not_in_expression_has_no_paths():
    x, y = sp.symbols("x y")
    e = sg.explain(x**2, y)
    assert e.n_paths == 0 and e.derivative == 0


def test_path_listing_is_capped_but_counted():
    x = sp.Symbol("x")
    expr = sum(sp.sin(k * x) for k in range(1, 12))
    e = sg.explain(expr, x, max_paths=3)
    assert e.n_paths == 11 and len(e.paths) == 3 and "8 more paths" in str(e)
