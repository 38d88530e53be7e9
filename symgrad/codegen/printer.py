"""Printing program expressions as numba-nopython-compatible Python.

A :class:`sympy.printing.pycode.PythonCodePrinter` subclass: dispatch on the
expression's class, functions from one table, and every symbol printed
through an explicit name map. A symbol missing from the map is an error, so a
user's symbol name (which may be any string, e.g. ``__import__("os")``) can
never reach the generated source.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from ..declare.functions import relu, sigmoid, softplus
from ..errors import UnsupportedOperationError

__all__ = ["NumbaPrinter", "ElementPrinter", "FUNCTION_TEMPLATES", "HELPERS_SOURCE", "docstring_safe"]

#: Function class -> template over the printed arguments ``{0}``, ``{1}``.
FUNCTION_TEMPLATES: dict[type, str] = {
    sp.exp: "math.exp({0})",
    sp.log: "math.log({0})",
    sp.sin: "math.sin({0})",
    sp.cos: "math.cos({0})",
    sp.tan: "math.tan({0})",
    sp.tanh: "math.tanh({0})",
    sp.sinh: "math.sinh({0})",
    sp.cosh: "math.cosh({0})",
    sp.asin: "math.asin({0})",
    sp.acos: "math.acos({0})",
    sp.atan: "math.atan({0})",
    sp.erf: "math.erf({0})",
    sp.Abs: "abs({0})",
    sp.sign: "_sign({0})",
    sigmoid: "_sigmoid({0})",
    softplus: "_softplus({0})",
    relu: "max({0}, {zero})",
}

#: Numerically stable helpers the templates call. Not inlined at the numba IR
#: level: their branches would multiply the blocks numba's SSA pass walks; LLVM
#: inlines them anyway.
HELPERS_SOURCE = '''
@numba.njit(cache=True)
def _sigmoid(x):
    # exp(-|x|) never overflows, and is the exponential _softplus(x) takes too:
    # once both are inlined, one exp serves both.
    e = math.exp(-abs(x))
    return (1.0 if x >= 0.0 else e) / (1.0 + e)


@numba.njit(cache=True)
def _softplus(x):
    # log(1 + exp(x)) without overflow for large x or cancellation for small.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@numba.njit(cache=True)
def _sign(x):
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


@numba.njit(cache=True)
def _mirror_upper(h):
    # Hessian kernels fill the upper triangle only; the matrix is symmetric.
    for i in range(h.shape[0]):
        for j in range(i):
            h[i, j] = h[j, i]
    return h


@numba.njit(cache=True)
def _heaviside(x, at_zero):
    return 1.0 if x > 0.0 else (at_zero if x == 0.0 else 0.0)
'''


#: Sums of more terms than this print as a balanced tree (see NumbaPrinter._print_Add).
_LONGEST_CHAIN = 6


class NumbaPrinter(PythonCodePrinter):
    """Prints one expression; ``names`` maps every symbol to an identifier."""

    printmethod = "_numbacode"
    #: Function class -> template; a subclass may print for another number type.
    function_templates: Mapping[type, str] = FUNCTION_TEMPLATES
    #: Names the printer calls for square roots and logarithms.
    sqrt, log, log1p = "math.sqrt", "math.log", "math.log1p"

    def __init__(self, names: Mapping[sp.Symbol, str], literal: str = "{0}"):
        super().__init__({"fully_qualified_modules": False, "standard": "python3"})
        self._names = names
        self._literal = literal  # e.g. "F({0})" to keep float32 arithmetic in float32

    def add_names(self, names: Mapping[sp.Symbol, str]) -> None:
        """Print these symbols as these texts from now on (e.g. a symbol standing for a call)."""
        self._names = {**self._names, **names}

    def _print_Symbol(self, expr):
        try:
            return self._names[expr]
        except KeyError:
            message = f"no name assigned to symbol {expr!r} in generated code"
            raise UnsupportedOperationError(message) from None

    _print_Dummy = _print_Symbol

    def _float(self, value) -> str:
        return self._literal.format(repr(float(value)))

    def _print_Float(self, expr):
        return self._float(expr)

    def _print_Rational(self, expr):
        return self._float(expr)

    def _print_Integer(self, expr):
        return self._float(expr)

    def _print_NumberSymbol(self, expr):
        return self._float(expr)

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])
        if exponent == sp.S.Half:
            return f"{self.sqrt}({self._print(base)})"
        if exponent == -sp.S.Half:
            return f"({self._float(1)} / {self.sqrt}({self._print(base)}))"
        if exponent.is_Integer and 1 <= exponent <= 4:
            return "(" + "*".join([b] * int(exponent)) + ")"
        if exponent.is_Integer and -4 <= exponent <= -1:
            return f"({self._float(1)} / (" + "*".join([b] * int(-exponent)) + "))"
        e = self.parenthesize(exponent, sp.printing.precedence.PRECEDENCE["Pow"])
        return f"{b}**{e}"

    def _print_log(self, expr):
        (arg,) = expr.args
        if arg.is_Add and sp.S.One in arg.args:  # log(1 + u) loses u when u is tiny
            return f"{self.log1p}({self._print(arg - 1)})"
        return f"{self.log}({self._print(arg)})"

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"_heaviside({self._print(expr.args[0])}, {self._print(at_zero)})"

    def _print_Piecewise(self, expr):
        # Nested conditional expressions: numba compiles them to branches.
        *pairs, (last_value, last_condition) = expr.args
        text = self._print(last_value)
        if last_condition is not sp.true:
            text = f"({text} if {self._print(last_condition)} else math.nan)"
        for value, condition in reversed(pairs):
            text = f"({self._print(value)} if {self._print(condition)} else {text})"
        return text

    def _print_Function(self, expr):
        template = self.function_templates.get(type(expr))
        if template is None:
            raise UnsupportedOperationError(f"no numba print rule for {type(expr).__name__} in {expr}")
        return template.format(*(self._print(a) for a in expr.args), zero=self._float(0))

    def _print(self, expr, **kwargs):
        # SymPy's Python printer knows more functions (gamma, floor, atan2, ...)
        # than the kernels import; only the table's functions may print.
        if isinstance(expr, sp.Function) and type(expr) not in _PRINTABLE_FUNCTIONS:
            raise UnsupportedOperationError(f"no numba print rule for {type(expr).__name__} in {expr}")
        return super()._print(expr, **kwargs)

    def _print_known_const(self, expr):
        return self._float(expr)

    def _print_Add(self, expr, order=None):
        # A long sum prints as a balanced tree of pairs: written as one chain, each addition
        # waits for the previous one (a 30-term dot product is 30 additions in a row); in pairs
        # the chain is log2(n) deep, and the rounding error grows with that depth too.
        terms = [self._print(t) for t in self._as_ordered_terms(expr, order=order)]
        if len(terms) <= _LONGEST_CHAIN:
            return super()._print_Add(expr, order)
        return self.pairwise(terms)

    def pairwise(self, terms: list[str]) -> str:
        """The sum of the printed ``terms``: the first half's sum plus the second half's."""
        if len(terms) == 1:
            return terms[0]
        half = len(terms) // 2
        left, right = self.pairwise(terms[:half]), self.pairwise(terms[half:])
        if half == len(terms) - 1 and right.startswith("-"):  # one negative term: a subtraction
            return f"({left} - {right[1:]})"
        return f"({left} + {right})"

    def _print_Max(self, expr):
        return self._nested("max", expr.args)

    def _print_Min(self, expr):
        return self._nested("min", expr.args)

    def _nested(self, name: str, args) -> str:
        # Binary calls for any arity, the way the graph lowers Max and Min.
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"{name}({text}, {self._print(arg)})"
        return text

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    def emptyPrinter(self, expr):  # noqa: N802 - SymPy's hook name
        raise UnsupportedOperationError(f"no numba print rule for {type(expr).__name__}: {expr}")


_PRINTABLE_FUNCTIONS = frozenset(FUNCTION_TEMPLATES) | {sp.log, sp.Heaviside, sp.Piecewise}

for _cls in FUNCTION_TEMPLATES:
    if _cls not in (sp.log,):
        setattr(NumbaPrinter, f"_print_{_cls.__name__}", NumbaPrinter._print_Function)


class ElementPrinter(NumbaPrinter):
    """Element loops over blocks of samples call the runtime's ``tanh``, ``sigmoid`` and ``softplus``
    (:mod:`symgrad.codegen.runtime`), which LLVM can vectorise (libm's cannot be)."""

    function_templates = {**FUNCTION_TEMPLATES, sp.tanh: "tanh({0})", sigmoid: "sigmoid({0})",
                          softplus: "softplus({0})"}


def docstring_safe(text: str) -> str:
    """``text`` fit for a generated docstring: no quote, backslash or line break
    from a user's symbol name can end the docstring early."""
    return "".join(c if c.isprintable() and c not in "\"\\" else "?" for c in text)
