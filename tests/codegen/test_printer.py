"""NumbaPrinter: exact output, semantics, symbol-name safety; stabilize(): its rewrites."""

import ast
import math
import re
import types

import mpmath
import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad import relu, sigmoid, softplus
from symgrad.codegen.printer import FUNCTION_TEMPLATES, HELPERS_SOURCE, NumbaPrinter
from symgrad.codegen.stable import stabilize
from symgrad.errors import UnsupportedOperationError

x, y, z = sp.symbols("x y z")
NAMES = {x: "x0", y: "x1", z: "x2"}

# (expression, float64 text, float32-literal text)
GOLDEN = [
    (x**2, "(x0*x0)", "(x0*x0)"),
    (x**3, "(x0*x0*x0)", "(x0*x0*x0)"),
    (x**4, "(x0*x0*x0*x0)", "(x0*x0*x0*x0)"),
    (x**5, "x0**5.0", "x0**F(5.0)"),
    (x**-5, "x0**(-5.0)", "x0**(F(-5.0))"),
    (x ** sp.Rational(3, 2), "x0**(1.5)", "x0**(F(1.5))"),
    (x**y, "x0**x1", "x0**x1"),
    ((x + y) ** 2, "((x0 + x1)*(x0 + x1))", "((x0 + x1)*(x0 + x1))"),
    ((x + y) ** y, "(x0 + x1)**x1", "(x0 + x1)**x1"),
    (x ** (y + 1), "x0**(x1 + 1.0)", "x0**(x1 + F(1.0))"),
    (x**-y, "x0**(-x1)", "x0**(-x1)"),
    (2**x, "2.0**x0", "F(2.0)**x0"),
    (-(x**2), "-(x0*x0)", "-(x0*x0)"),
    (sp.sqrt(x), "math.sqrt(x0)", "math.sqrt(x0)"),
    (sp.sqrt(x + y), "math.sqrt(x0 + x1)", "math.sqrt(x0 + x1)"),
    (1 / x, "(1.0 / (x0))", None),
    (x**-2, "(1.0 / (x0*x0))", None),
    (x**-4, "(1.0 / (x0*x0*x0*x0))", None),
    (1 / (x + y), "(1.0 / ((x0 + x1)))", None),
    (1 / sp.sqrt(x), "(1.0 / math.sqrt(x0))", None),
    (sp.log(1 + x), "math.log1p(x0)", "math.log1p(x0)"),
    (sp.log(1 + x * y), "math.log1p(x0*x1)", "math.log1p(x0*x1)"),
    (sp.log(1 + x + y), "math.log1p(x0 + x1)", "math.log1p(x0 + x1)"),
    (sp.log(x), "math.log(x0)", "math.log(x0)"),
    (sp.log(x + 2), "math.log(x0 + 2.0)", "math.log(x0 + F(2.0))"),
    (sp.exp(-x), "math.exp(-x0)", "math.exp(-x0)"),
    (sp.exp(2 * x + 2 * y), "math.exp(2.0*x0 + 2.0*x1)", "math.exp(F(2.0)*x0 + F(2.0)*x1)"),
    (sp.Piecewise((x, x > 0), (y, True)), "(x0 if (x0 > 0.0) else x1)", "(x0 if (x0 > F(0.0)) else x1)"),
    (
        sp.Piecewise((x, x > 0), (y, x < -1), (z, True)),
        "(x0 if (x0 > 0.0) else (x1 if (x0 < -1.0) else x2))",
        "(x0 if (x0 > F(0.0)) else (x1 if (x0 < F(-1.0)) else x2))",
    ),
    (
        sp.Piecewise((x, x > 0), (y, y < 1)),  # no catch-all: nan outside every piece
        "(x0 if (x0 > 0.0) else (x1 if (x1 < 1.0) else math.nan))",
        "(x0 if (x0 > F(0.0)) else (x1 if (x1 < F(1.0)) else math.nan))",
    ),
    (
        sp.Piecewise((x, sp.And(x > 0, y < 1)), (0, True)),
        "(x0 if (x0 > 0.0) and (x1 < 1.0) else 0.0)",
        "(x0 if (x0 > F(0.0)) and (x1 < F(1.0)) else F(0.0))",
    ),
    (
        sp.Piecewise((x, sp.Or(x >= 0, y > 1)), (0, True)),
        "(x0 if (x0 >= 0.0) or (x1 > 1.0) else 0.0)",
        "(x0 if (x0 >= F(0.0)) or (x1 > F(1.0)) else F(0.0))",
    ),
    (
        sp.Piecewise((x, sp.Eq(x, 0)), (y, sp.Ne(y, 1)), (1, True)),
        "(x0 if (x0 == 0.0) else (x1 if (x1 != 1.0) else 1.0))",
        "(x0 if (x0 == F(0.0)) else (x1 if (x1 != F(1.0)) else F(1.0)))",
    ),
    (sp.Heaviside(x), "_heaviside(x0, 0.5)", "_heaviside(x0, F(0.5))"),
    (sp.Heaviside(x, 0), "_heaviside(x0, 0.0)", "_heaviside(x0, F(0.0))"),
    (sp.Heaviside(x, 1), "_heaviside(x0, 1.0)", "_heaviside(x0, F(1.0))"),
    (sp.Max(x, y), "max(x0, x1)", "max(x0, x1)"),
    (sp.Min(x, y), "min(x0, x1)", "min(x0, x1)"),
    (sp.Min(x, 0), "min(0.0, x0)", "min(F(0.0), x0)"),
    (sp.sign(x), "_sign(x0)", "_sign(x0)"),
    (sp.Abs(x - y), "abs(x0 - x1)", "abs(x0 - x1)"),
    (sigmoid(x), "_sigmoid(x0)", "_sigmoid(x0)"),
    (softplus(-x), "_softplus(-x0)", "_softplus(-x0)"),
    (relu(x), "max(x0, 0.0)", None),
    (sp.tanh(x), "math.tanh(x0)", "math.tanh(x0)"),
    (sp.erf(x), "math.erf(x0)", "math.erf(x0)"),
    (sp.atan(x), "math.atan(x0)", "math.atan(x0)"),
    (2 * x, "2.0*x0", "F(2.0)*x0"),
    (x / 3, "(0.3333333333333333)*x0", "(F(0.3333333333333333))*x0"),
    (sp.pi * x, "3.141592653589793*x0", "F(3.141592653589793)*x0"),
    (sp.E * x, "2.718281828459045*x0", "F(2.718281828459045)*x0"),
    (sp.Float("0.1") * x, "0.1*x0", "F(0.1)*x0"),
    (2 * x + 1, "2.0*x0 + 1.0", "F(2.0)*x0 + F(1.0)"),
    (x * y / z, "x0*x1/x2", "x0*x1/x2"),
]


@pytest.mark.parametrize("expr, text, _", GOLDEN, ids=[sp.sstr(e) for e, *_ in GOLDEN])
def test_golden_float64(expr, text, _):
    assert NumbaPrinter(NAMES).doprint(expr) == text


F32 = [(e, t) for e, _, t in GOLDEN if t is not None]


@pytest.mark.parametrize("expr, text", F32, ids=[sp.sstr(e) for e, _ in F32])
def test_golden_float32_literals(expr, text):
    assert NumbaPrinter(NAMES, literal="F({0})").doprint(expr) == text


def test_float32_mode_emits_no_bare_float64_literal():
    # A bare literal such as 1.0 is a float64 in numba and promotes the float32
    # arithmetic around it to float64: the literal mode exists to prevent that.
    printer = NumbaPrinter(NAMES, literal="F({0})")
    offenders = {}
    for expr in [1 / x, x**-2, 1 / (x + y), 1 / sp.sqrt(x), relu(x), 2 * x + 1, sp.Heaviside(x)]:
        text = printer.doprint(expr)
        bare = [
            m.group()
            for m in re.finditer(r"(?<![\w.])\d+\.\d+", text)
            if not text[: m.start()].endswith("F(")
        ]
        if bare:
            offenders[text] = bare
    assert not offenders, f"float64 literals in float32 mode: {offenders}"


# -- the printed text means what the expression means --------------------------------------
def _namespace(literal_type=float):
    """The generated module's globals, in plain Python: math, the helpers, F."""
    fake_numba = types.SimpleNamespace(njit=lambda *a, **k: lambda f: f)
    namespace = {"math": math, "numba": fake_numba, "F": literal_type}
    exec(HELPERS_SOURCE, namespace)
    return namespace


SEMANTIC = [
    sp.Max(x, y, z),
    sp.Min(x, y, z),
    sp.Max(x, y, 0),
    sp.Min(x, -y, z, 1),
    x**5 - 3 * x**-3 + y ** sp.Rational(1, 3),
    sp.log(1 + x * y) - sp.log(x + 1),
    sp.Piecewise((x * y, x > 0.5), (y**2, y < 0), (z, True)),
    sp.Piecewise((x, sp.And(x > 0, sp.Not(y > 1))), (-x, True)),
    sp.Heaviside(x - 1) + sp.Heaviside(y - 1, 0) + sp.sign(x - y),
    sigmoid(x - 2 * y) * softplus(z - x) + relu(y - x),
    sp.Abs(x - z) / sp.sqrt(x + y),
    sp.tanh(x) * sp.atan(y) + sp.erf(z) + sp.exp(-x * y),
]


@pytest.mark.parametrize("expr", SEMANTIC, ids=[sp.sstr(e) for e in SEMANTIC])
def test_printed_text_evaluates_to_the_expression(expr):
    text = NumbaPrinter(NAMES).doprint(expr)
    namespace = _namespace()
    rng = np.random.default_rng(1)
    reference = sp.lambdify([x, y, z], sg.expand_activations(expr), "mpmath")
    for point in rng.uniform(0.05, 2.0, size=(20, 3)):
        namespace.update(x0=float(point[0]), x1=float(point[1]), x2=float(point[2]))
        value = eval(text, namespace)  # our own printer output, not user input
        with mpmath.workdps(30):
            expected = float(reference(*map(mpmath.mpf, point)))
        # A handful of float64 operations: agreement to ~1e-14 relative.
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-14), (text, point)


@pytest.mark.parametrize("n", [7, 8, 9, 30, 31])
def test_long_sums_print_as_balanced_pairs(n):
    """A dot product of n terms (some subtracted) nests log2(n) deep, not n, and keeps its value."""
    ws, xs = sp.symbols(f"w0:{n}"), sp.symbols(f"v0:{n}")
    expr = sum((-1) ** (i % 3 == 0) * w * v for i, (w, v) in enumerate(zip(ws, xs, strict=True))) + 1
    names = {s: str(s) for s in (*ws, *xs)}
    text = NumbaPrinter(names).doprint(expr)
    depth = deepest = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    assert deepest <= math.ceil(math.log2(n + 1))
    assert "+ -" not in text and "- -" not in text  # a subtracted term prints as a subtraction
    rng = np.random.default_rng(n)
    values = dict(zip(map(str, (*ws, *xs)), rng.normal(size=2 * n), strict=True))
    expected = math.fsum(float(expr.args[i].subs({s: values[str(s)] for s in expr.args[i].free_symbols}))
                         for i in range(len(expr.args)))
    assert eval(text, {}, values) == pytest.approx(expected, rel=1e-13)  # our own printer output


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr, name",
    [(sp.Function("mystery")(x), "mystery"), (sp.cot(x), "cot"), (sp.besselj(0, x), "besselj")],
    ids=["undefined", "cot", "besselj"],
)
def test_unknown_function_is_rejected_by_name(expr, name):
    with pytest.raises(UnsupportedOperationError, match=name):
        NumbaPrinter(NAMES).doprint(expr + x)


def test_functions_outside_the_table_are_rejected_even_if_python_can_print_them():
    # PythonCodePrinter knows these (as bare names such as gamma(x0), undefined
    # in a module that only imports math); NumbaPrinter prints from its table only.
    printed = {}
    for expr in [sp.gamma(x), sp.loggamma(x), sp.floor(x), sp.atan2(x, y), sp.erfc(x), sp.acosh(x)]:
        assert type(expr) not in FUNCTION_TEMPLATES
        try:
            printed[type(expr).__name__] = NumbaPrinter(NAMES).doprint(expr)
        except UnsupportedOperationError as error:
            assert type(expr).__name__ in str(error)
    assert not printed, f"printed instead of rejected: {printed}"


def test_symbol_without_a_name_is_rejected():
    stray = sp.Symbol("stray")
    with pytest.raises(UnsupportedOperationError, match="stray"):
        NumbaPrinter(NAMES).doprint(x + stray)


# -- hostile symbol names ------------------------------------------------------------------------
HOSTILE = [
    '__import__("os").system("x")',
    "a'b\"c",
    "new\nline",
    'triple"""quote',
    "back\\slash",
    "θ₁ ünïcode",
]


@pytest.fixture(scope="module")
def hostile_kernels():
    s = [sp.Symbol(name) for name in HOSTILE]
    params, inputs, (target,) = s[:3], s[3:5], s[5:]
    prediction = params[0] * inputs[0] + params[1] * sp.tanh(inputs[1]) + params[2]
    model = sg.Model(loss=(prediction - target) ** 2, params=params, inputs=inputs, targets=[target])
    return model.compile(hessian=False)


def _code_without_docstring(source):
    tree = ast.parse(source)
    docstring = tree.body[0]
    assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
    # After the docstring only imports, assignments and function definitions:
    # a name that ended the docstring early would leave a stray statement here.
    for node in tree.body[1:]:
        allowed = ast.Import | ast.ImportFrom | ast.Assign | ast.FunctionDef
        assert isinstance(node, allowed), ast.dump(node)[:200]
    return "\n".join(ast.unparse(node) for node in tree.body[1:])


def test_hostile_symbol_names_never_reach_the_source(hostile_kernels):
    source = hostile_kernels.source
    assert source == hostile_kernels.path.read_text(encoding="utf-8")
    code = _code_without_docstring(source)
    for name in HOSTILE:
        assert name not in code, name
        if not name.isprintable() or any(c in name for c in "\"'\\"):
            assert name not in source, name
    assert "__import__" not in code and "system" not in code


def test_hostile_symbol_names_give_correct_numbers(hostile_kernels):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 2))
    T = rng.standard_normal((30, 1))
    theta = np.array([0.5, -1.5, 0.25])
    residual = theta[0] * X[:, 0] + theta[1] * np.tanh(X[:, 1]) + theta[2] - T[:, 0]
    features = np.column_stack([X[:, 0], np.tanh(X[:, 1]), np.ones(30)])
    value, gradient = hostile_kernels.loss_and_grad(theta, X, T)
    # 30 terms of order 1, same formula: rounding differences ≲ 1e-14 relative.
    assert value == pytest.approx(np.mean(residual**2), rel=1e-12)
    np.testing.assert_allclose(
        gradient, (2 * residual[:, None] * features).mean(axis=0), rtol=1e-11, atol=1e-13
    )


# -- stabilize -----------------------------------------------------------------------------------
u, v = sp.symbols("u v", real=True)
w = 2 * u - v

REWRITES = [
    (sp.log(sigmoid(w)), -softplus(-w)),
    (sp.log(1 - sigmoid(w)), -softplus(w)),
    (sp.log(1 + sp.exp(w)), softplus(w)),
    (1 / (1 + sp.exp(-w)), sigmoid(w)),
    (1 / (1 + sp.exp(w)), sigmoid(-w)),
    (v * sp.log(sigmoid(w)) + sp.log(1 - sigmoid(u)), -v * softplus(-w) - softplus(u)),
    (sp.log(sigmoid(sp.log(1 + sp.exp(u)))), -softplus(-softplus(u))),
    (sp.exp(sp.log(1 + sp.exp(w)) * v), sp.exp(softplus(w) * v)),
]
UNCHANGED = [
    sp.log(2 - sigmoid(w)),
    sp.log(1 + 2 * sp.exp(w)),
    1 / (2 + sp.exp(w)),
    sp.log(1 - 2 * sigmoid(w)),
    sp.log(sigmoid(w) ** 2),
    sigmoid(w) * sp.log(u**2 + 1),
]


def _mp(expr):
    return sp.lambdify([u, v], sg.expand_activations(expr), "mpmath")


@pytest.mark.parametrize("expr, stable", REWRITES, ids=[sp.sstr(e) for e, _ in REWRITES])
def test_stabilize_rewrites_and_preserves_value(expr, stable):
    result = stabilize(expr)
    assert result == stable
    assert not any(
        isinstance(a, sp.log) and isinstance(a.args[0], sigmoid) for a in sp.preorder_traversal(result)
    )
    original, rewritten = _mp(expr), _mp(result)
    rng = np.random.default_rng(4)
    points = [*rng.uniform(-6, 6, size=(15, 2)), (40.0, -3.0), (-40.0, 3.0), (0.0, 0.0)]
    # 100 digits: at |w| = 83 the written form loses ~36 digits to 1 - σ(w) ≈ e⁻⁸³,
    # which still leaves 60, far more than the 40 compared.
    with mpmath.workdps(100):
        for a, b in points:
            exact = original(mpmath.mpf(a), mpmath.mpf(b))
            assert mpmath.almosteq(
                rewritten(mpmath.mpf(a), mpmath.mpf(b)), exact, rel_eps=mpmath.mpf(10) ** -40
            ), (a, b)


@pytest.mark.parametrize("expr", UNCHANGED, ids=[sp.sstr(e) for e in UNCHANGED])
def test_stabilize_leaves_other_forms_alone(expr):
    assert stabilize(expr) == expr


def test_stabilize_turns_the_cross_entropy_into_softplus(logreg):
    stable = stabilize(logreg.loss)
    assert not stable.atoms(sp.log) and not stable.atoms(sigmoid)
    # t·softplus(-z) + (1 - t)·softplus(z) = softplus(z) - t·z: one softplus, of the logit itself.
    (only,) = stable.atoms(softplus)
    assert not only.args[0].could_extract_minus_sign()
    rng = np.random.default_rng(6)
    args = list(logreg.params) + list(logreg.inputs) + list(logreg.targets)
    f = sp.lambdify(args, sg.expand_activations(logreg.loss), "mpmath")
    g = sp.lambdify(args, sg.expand_activations(stable), "mpmath")
    with mpmath.workdps(50):
        for values in rng.uniform(-3, 3, size=(10, 6)):
            values[-1] = round(abs(values[-1])) % 2  # a 0/1 target
            point = [mpmath.mpf(float(a)) for a in values]
            assert mpmath.almosteq(f(*point), g(*point), rel_eps=mpmath.mpf(10) ** -40)
