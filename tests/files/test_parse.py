"""The restricted expression parser: the documented grammar builds exactly what SymPy
builds directly; everything else is refused with a ParseError naming the construct."""

import builtins

import pytest
import sympy as sp

import symgrad as sg
from symgrad.declare import losses
from symgrad.declare.functions import relu, sigmoid, softplus
from symgrad.errors import DeclarationError, ParseError, SymgradError
from symgrad.files.grammar import FUNCTIONS, MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH

x, y, w = sp.symbols("x y w")
NAMES = {"x": x, "y": y, "w": w}

# (text, the same expression built with SymPy directly)
OPERATORS = [
    ("x + y", x + y),
    ("x - y", x - y),
    ("x * y", x * y),
    ("x / y", x / y),
    ("x ** 3", x**3),
    ("-x", -x),
    ("+x", x),
    ("--x", x),
    ("-x**2", -(x**2)),                       # ** binds tighter than unary minus
    ("2**-1", sp.Rational(1, 2)),
    ("x**-2", x**-2),
    ("2**3**2", sp.Integer(512)),             # ** is right-associative
    ("x - y - w", (x - y) - w),               # - and / are left-associative
    ("x / y / w", (x / y) / w),
    ("x + y * w", x + y * w),                 # * before +
    ("(x + y) * w", (x + y) * w),
    ("x * y ** 2", x * y**2),
    ("x / 2 * y", x / 2 * y),
    ("1/2", sp.Rational(1, 2)),               # integers stay exact
    ("1/3 + 1/6", sp.Rational(1, 2)),
    ("0.5*x", sp.Float(0.5) * x),
    ("1e-3*x", sp.Float(1e-3) * x),           # scientific literals
    ("2.5E+2 + x", sp.Float(250.0) + x),
    ("1.", sp.Float(1.0)),
    (".25*y", sp.Float(0.25) * y),
    ("1_000*x", 1000 * x),
    ("pi*x", sp.pi * x),
    ("E**x", sp.E**x),
    ("  x +\n   y  ", x + y),                   # whitespace and line breaks are free
    ("x**1000", x**MAX_EXPONENT),
    ("+".join(["x"] * 500), 500 * x),          # long sums are one level deep
    ("*".join(["y"] * 300), y**300),
]

FUNCTION_CASES = [
    ("exp(x)", sp.exp(x)),
    ("log(x)", sp.log(x)),
    ("log(x, 2)", sp.log(x, 2)),
    ("sqrt(x)", sp.sqrt(x)),
    ("sin(x)", sp.sin(x)),
    ("cos(x)", sp.cos(x)),
    ("tan(x)", sp.tan(x)),
    ("sinh(x)", sp.sinh(x)),
    ("cosh(x)", sp.cosh(x)),
    ("tanh(x)", sp.tanh(x)),
    ("asin(x)", sp.asin(x)),
    ("acos(x)", sp.acos(x)),
    ("atan(x)", sp.atan(x)),
    ("erf(x)", sp.erf(x)),
    ("Abs(x - y)", sp.Abs(x - y)),
    ("abs(x - y)", sp.Abs(x - y)),
    ("sign(x)", sp.sign(x)),
    ("Heaviside(x)", sp.Heaviside(x)),
    ("Heaviside(x, 0)", sp.Heaviside(x, 0)),
    ("Max(x, y)", sp.Max(x, y)),
    ("max(x, y, w)", sp.Max(x, y, w)),
    ("Min(x, 0)", sp.Min(x, 0)),
    ("min(x, y, 1)", sp.Min(x, y, 1)),
    ("sigmoid(w*x + y)", sigmoid(w * x + y)),
    ("relu(x)", relu(x)),
    ("softplus(x)", softplus(x)),
    ("where(x > 0, x, -x)", sp.Piecewise((x, x > 0), (-x, True))),
    ("where(0 <= x < 1, x**2, y)", sp.Piecewise((x**2, (x >= 0) & (x < 1)), (y, True))),
    ("where(x >= y and not x == 1 or w != 2, 1, 0)",
     sp.Piecewise((1, (sp.Ge(x, y) & sp.Not(sp.Eq(x, 1))) | sp.Ne(w, 2)), (0, True))),
    ("where(x <= 0, 0, x)", sp.Piecewise((0, x <= 0), (x, True))),
    ("binary_cross_entropy(sigmoid(x), y)", losses.binary_cross_entropy(sigmoid(x), y)),
    ("binary_cross_entropy_with_logits(x, y)", losses.binary_cross_entropy_with_logits(x, y)),
    ("squared_error(w*x, y)", losses.squared_error(w * x, y)),
    ("half_squared_error(w*x, y)", losses.half_squared_error(w * x, y)),
    ("l2_penalty([x, y], 0.1)", losses.l2_penalty([x, y], 0.1)),
    ("l1_penalty((x, w), 1/2)", losses.l1_penalty([x, w], sp.Rational(1, 2))),
    ("exp(-x**2/2)/sqrt(2*pi)", sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)),
]


def same(got, expected) -> bool:
    return got == expected or sp.simplify(got - expected) == 0


@pytest.mark.parametrize(("text", "expected"), OPERATORS + FUNCTION_CASES, ids=lambda v: str(v)[:40])
def test_grammar_builds_what_sympy_builds(text, expected):
    got = sg.parse_expression(text, NAMES)
    assert same(got, expected), (got, expected)


@pytest.mark.parametrize(("text", "expected"), FUNCTION_CASES, ids=lambda v: str(v)[:40])
def test_every_function_of_the_grammar_is_differentiable_by_symgrad(text, expected):
    expr = sg.parse_expression(text, NAMES)
    gradient = sg.grad(expr, [x])[0]
    # the reference: sympy.diff of the elementary form, on real symbols (Abs, sign)
    real = {s: sp.Symbol(s.name, real=True) for s in (x, y, w)}
    reference = sp.diff(sg.expand_activations(expr).subs(real), real[x])
    point = {x: sp.Rational(3, 10), y: sp.Rational(7, 10), w: sp.Rational(-6, 5)}
    value = float(gradient.subs(point))
    assert abs(value - float(reference.subs({real[s]: v for s, v in point.items()}))) < 1e-12


def test_every_function_of_the_grammar_is_tested():
    tested = {text.split("(", 1)[0] for text, _ in FUNCTION_CASES}
    assert set(FUNCTIONS) <= tested


def test_numbers_keep_their_kind():
    assert isinstance(sg.parse_expression("3"), sp.Integer)
    assert isinstance(sg.parse_expression("3/4"), sp.Rational)
    assert isinstance(sg.parse_expression("0.75"), sp.Float)


def test_names_may_stand_for_expressions_and_symbols_may_be_given_as_a_list():
    z = w * x + y
    assert sg.parse_expression("sigmoid(z)", {**NAMES, "z": z}) == sigmoid(z)
    assert sg.parse_expression("x*y", [x, y]) == x * y
    assert sg.parse_expression("x + 1", x) == x + 1


def test_unicode_names_are_read():
    theta = sp.Symbol("θ")
    assert sg.parse_expression("2*θ", [theta]) == 2 * theta


def test_the_parser_never_evaluates_the_text(monkeypatch):
    calls = []
    real_eval, real_exec = builtins.eval, builtins.exec

    def spy(function):
        def wrapped(source, *args, **kwargs):
            calls.append(source)
            return function(source, *args, **kwargs)
        return wrapped

    monkeypatch.setattr(builtins, "eval", spy(real_eval))
    monkeypatch.setattr(builtins, "exec", spy(real_exec))
    monkeypatch.setattr(sp, "sympify", spy(sp.sympify))
    monkeypatch.setattr(sp, "parse_expr", spy(sp.parse_expr))
    for text, _ in OPERATORS + FUNCTION_CASES:
        sg.parse_expression(text, NAMES)
    assert not [c for c in calls if isinstance(c, str)]


# (text, what the message must name)
REJECTED = [
    ("__import__('os').system('x')", "attribute access '.system'"),
    ("__import__('os')", "'__import__'"),
    ("__builtins__", "'__builtins__'"),
    ("x.__class__", "attribute access '.__class__'"),
    ("().__class__.__bases__", "attribute access '.__bases__'"),
    ("x.__class__.__base__.__subclasses__()", "attribute access '.__subclasses__'"),
    ("x.real", "attribute access '.real'"),
    ("lambda: 1", "lambda"),
    ("(lambda: 1)()", "calling lambda"),
    ("[x for x in y]", "list comprehension"),
    ("(x for x in y)", "generator expression"),
    ("{x: 1 for x in y}", "dict comprehension"),
    ("{x for x in y}", "set comprehension"),
    ("x[0]", "subscript"),
    ("x[1:2]", "subscript"),
    ("exp(x=1)", "keyword argument 'x='"),
    ("exp(**x)", "'**' argument unpacking"),
    ("exp(*x)", "starred argument"),
    ("l2_penalty([*x], 1)", "starred argument"),
    ("open('f')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("exec('1')", "unknown function 'exec'"),
    ("getattr(x, 'y')", "unknown function 'getattr'"),
    ("globals()", "unknown function 'globals'"),
    ("'a'", "string literal 'a'"),
    ("b'a'", "bytes literal"),
    ("f'{x}'", "f-string"),
    ("1j", "complex literal"),
    ("True", "literal True"),
    ("None", "literal None"),
    ("...", "'...'"),
    ("(x := 1)", "walrus"),
    ("x if y else w", "conditional expression"),
    ("x < y", "comparison"),
    ("x and y", "boolean operator 'and'"),
    ("not x", "operator 'not'"),
    ("~x", "operator '~'"),
    ("x // y", "operator '//'"),
    ("x % y", "operator '%'"),
    ("x @ y", "operator '@'"),
    ("x ^ 2", "operator '^'"),
    ("x | y", "operator '|'"),
    ("x & y", "operator '&'"),
    ("x << 1", "operator '<<'"),
    ("[x, y]", "list literal"),
    ("(x, y)", "tuple"),
    ("{x}", "set literal"),
    ("{x: y}", "dict literal"),
    ("await x", "'await'"),
    ("(yield x)", "'yield'"),
    ("q + 1", "unknown name 'q'; declared symbols are x, y, w"),
    ("x(1)", "'x' is a symbol, not a function"),
    ("pi(1)", "'pi' is a constant, not a function"),
    ("exp(x)(y)", "calling the result of a call"),
    ("exp", "function 'exp' used without arguments"),
    ("exp(x, y)", "exp(...) takes 1 argument, got 2"),
    ("Max(x)", "Max(...) takes 2 to 64 arguments, got 1"),
    ("where(x, 1, 2)", "the condition of where(...) must be a comparison"),
    ("where(x in y, 1, 2)", "comparison 'in'"),
    ("l2_penalty(x, 1)", "argument 1 of l2_penalty(...) must be a list"),
    ("9**9**9", "exponent 387420489 is too large"),
    ("x**99999", "exponent 99999 is too large"),
    ("x**-1001", "exponent -1001 is too large"),
    ("x**1000.5", "exponent"),
    ("3**1000", "3 to the power 1000 would be an integer of 1585 bits"),
    ("(2**1000)**1000", "a number to the power 1000 would be an integer of 1000000 bits"),
    ("9" * 400, "integer literal"),
    ("1e999", "float literal that is not finite"),
    ("exp(exp(exp(100)))", "the constant exp(exp(100)) is too large"),
    ("Max(exp(exp(exp(100))), 1)", "is too large"),
    ("x*(sqrt(2) + sqrt(3) - sqrt(5 + 2*sqrt(6)))", "is zero or too close to zero to evaluate"),
    ("Max((2**1000 - 1)**(1/7), (2**1000 - 3)**(1/7))", "too close to zero"),
    ("where(x + (2**1000 - 1)**(1/7) > x + (2**1000 - 3)**(1/7), x, y)", "too close to zero"),
    ("max(" + ", ".join(["x"] * 65) + ")", "max(...) takes 2 to 64 arguments, got 65"),
    ("x*(" + "+".join(f"sin({k})" for k in range(1, 600)) + ")", "constant expression of 1199 nodes"),
    ("1/0", "non-finite"),
    ("x/0", "non-finite"),
    ("sqrt(-1)", "complex-valued"),
    ("x*acos(2)", "the constant acos(2) is complex-valued"),
    ("log(-2)", "complex-valued"),
    ("(" * 1000 + "x" + ")" * 1000, f"nesting deeper than {MAX_DEPTH} levels"),
    ("exp(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), "nesting deeper"),
    ("-" * (MAX_DEPTH + 5) + "x", "nesting deeper"),
    ("-" * 9000 + "x", "nested too deeply"),
    ("x" + "+x" * MAX_LENGTH, "characters long"),
    ("x; y", "invalid syntax"),
    ("import os", "invalid syntax"),
    ("x = 1", "invalid syntax"),
    ("x )(", "unbalanced ')'"),
    ("(x", "'(' is never closed"),
    ("x\x00", "null bytes"),
    ("   ", "empty"),
]


@pytest.mark.parametrize(("text", "named"), REJECTED, ids=lambda v: repr(v)[:40])
def test_constructs_outside_the_grammar_are_refused_by_name(text, named):
    with pytest.raises(ParseError) as info:
        sg.parse_expression(text, NAMES)
    assert isinstance(info.value, DeclarationError) and isinstance(info.value, SymgradError)
    assert named in str(info.value)


@pytest.mark.parametrize(("text", "offset"), [
    ("x.__class__", 1),
    ("exp(x) + y[0]", 10),
    ("exp(y=1)", 4),
    ("x + q", 4),
    ("x // y", 2),
    ("θ + x.y", 5),          # columns count characters, not UTF-8 bytes
    ("x +\n  y.z", 7),      # the offset into the whole text
])
def test_errors_carry_the_offset_of_the_construct(text, offset):
    with pytest.raises(ParseError) as info:
        sg.parse_expression(text, {**NAMES, "θ": sp.Symbol("θ"), "z": sp.Symbol("z")})
    assert info.value.offset == offset
    assert info.value.text == text


def test_messages_quote_the_line_with_a_caret_and_name_the_key():
    with pytest.raises(ParseError) as info:
        sg.parse_expression("x +\n  y.z", NAMES, where="[model] loss")
    assert str(info.value) == ("[model] loss: attribute access '.z' is not allowed (column 4 of line 2)\n"
                               "    y.z\n"
                               "     ^")


def test_unknown_names_list_definitions_and_suggest_a_close_name():
    with pytest.raises(ParseError, match=r"unknown name 'zz'; declared symbols are x, y, w, definitions "
                                         r"are z \(did you mean 'z'\?\)"):
        sg.parse_expression("zz", {**NAMES, "z": x + y})
    with pytest.raises(ParseError, match="did you mean 'sigmoid'"):
        sg.parse_expression("sigmod(x)", NAMES)


def test_names_may_not_shadow_functions_or_constants():
    with pytest.raises(DeclarationError, match="'E' is the name of a constant"):
        sg.parse_expression("x", {"E": x})
    with pytest.raises(DeclarationError, match="'exp' is the name of a function"):
        sg.parse_expression("x", [sp.Symbol("exp")])
    with pytest.raises(DeclarationError, match="must stand for a SymPy expression"):
        sg.parse_expression("x", {"x": "x"})


def test_only_strings_are_parsed():
    with pytest.raises(ParseError, match="expected an expression string, got int"):
        sg.parse_expression(3)
