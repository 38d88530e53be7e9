"""The vocabulary of model-file expressions: callable functions, constants, limits.

One table drives the parser, the docs and the tests: a name here is
callable in an expression, a name not here is not. Every function builds an
expression the graph supports (see :mod:`symgrad.graph.ops`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from ..declare import losses
from ..declare.functions import relu, sigmoid, softplus

__all__ = ["Function", "FUNCTIONS", "CONSTANTS", "RESERVED", "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT",
           "MAX_INT_BITS", "MAX_MAGNITUDE",
           "MAX_CONSTANT_NODES", "MAX_CHOICES"]

#: Longest expression string accepted (characters).
MAX_LENGTH = 10_000
#: Deepest nesting of brackets, calls, powers and unary operators (sums and products
#: of many terms count as one level).
MAX_DEPTH = 100
#: Largest magnitude of a numeric exponent: ``x**1000`` is accepted, ``x**1001`` is not.
MAX_EXPONENT = 1000
#: Largest exact integer (numerator or denominator of a rational) an expression may hold.
MAX_INT_BITS = 1024
#: Largest magnitude of a constant subexpression such as ``exp(700)``: the float64 range.
MAX_MAGNITUDE = sys.float_info.max
#: Largest constant subexpression (nodes of its tree), which SymPy may evaluate numerically.
MAX_CONSTANT_NODES = 1000
#: Most arguments of Max and Min (every pair is compared).
MAX_CHOICES = 64


@dataclass(frozen=True)
class Function:
    """A callable name: its SymPy builder and its positional arity.

    ``sequences`` are the argument positions that take a list ``[a, b, ...]``;
    ``conditions`` those that take a comparison such as ``x > 0``; ``compares``
    marks functions that compare their arguments (the parser checks those
    comparisons are decidable before SymPy tries).
    """

    build: Callable[..., sp.Basic]
    min_args: int = 1
    max_args: int | None = 1
    sequences: frozenset[int] = frozenset()
    conditions: frozenset[int] = frozenset()
    compares: bool = False

    def arity(self) -> str:
        if self.max_args == self.min_args:
            return f"{self.min_args} argument{'s' if self.min_args != 1 else ''}"
        if self.max_args is None:
            return f"at least {self.min_args} arguments"
        return f"{self.min_args} to {self.max_args} arguments"


def where(condition, if_true, if_false) -> sp.Expr:
    """``if_true`` where ``condition`` holds, else ``if_false`` (a two-piece ``Piecewise``)."""
    return sp.Piecewise((if_true, condition), (if_false, True))


_ONE = {name: Function(getattr(sp, name)) for name in
        ("exp", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "erf",
         "Abs", "sign")}

#: Every function an expression may call, by name.
FUNCTIONS: dict[str, Function] = {
    **_ONE,
    "log": Function(sp.log, 1, 2),  # log(x) natural, log(x, base)
    "abs": _ONE["Abs"],
    "Heaviside": Function(sp.Heaviside, 1, 2),  # Heaviside(x, value_at_0), default 1/2
    "Max": Function(sp.Max, 2, MAX_CHOICES, compares=True),
    "max": Function(sp.Max, 2, MAX_CHOICES, compares=True),
    "Min": Function(sp.Min, 2, MAX_CHOICES, compares=True),
    "min": Function(sp.Min, 2, MAX_CHOICES, compares=True),
    "sigmoid": Function(sigmoid),
    "relu": Function(relu),
    "softplus": Function(softplus),
    "where": Function(where, 3, 3, conditions=frozenset({0})),
    "binary_cross_entropy": Function(losses.binary_cross_entropy, 2, 2),
    "binary_cross_entropy_with_logits": Function(losses.binary_cross_entropy_with_logits, 2, 2),
    "squared_error": Function(losses.squared_error, 2, 2),
    "half_squared_error": Function(losses.half_squared_error, 2, 2),
    "l1_penalty": Function(losses.l1_penalty, 2, 2, sequences=frozenset({0})),
    "l2_penalty": Function(losses.l2_penalty, 2, 2, sequences=frozenset({0})),
}

#: Named constants.
CONSTANTS: dict[str, sp.Basic] = {"pi": sp.pi, "E": sp.E}

#: Names a symbol or definition may not take.
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS)
