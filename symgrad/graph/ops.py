"""Which SymPy constructs the graph supports, and how each one becomes an op.

``classify(expr)`` returns the op name and the operand expressions of one
SymPy node. The tables below are the single list of what symgrad accepts;
anything else raises :class:`UnsupportedOperationError` naming the construct.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp

from ..declare.functions import relu, sigmoid, softplus
from ..errors import UnsupportedOperationError

__all__ = ["OpInfo", "classify", "SMOOTH_FUNCTIONS", "LEAF_OPS", "BOOLEAN_OPS", "supported_ops"]

#: Elementwise functions whose local derivative is taken from ``sympy.diff``.
SMOOTH_FUNCTIONS: dict[type, str] = {
    sp.exp: "exp",
    sp.log: "log",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.tan: "tan",
    sp.tanh: "tanh",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.asin: "asin",
    sp.acos: "acos",
    sp.atan: "atan",
    sp.erf: "erf",
    sigmoid: "sigmoid",
    softplus: "softplus",
}

#: Non-smooth functions; their derivative rule states the subgradient convention.
KINKED_FUNCTIONS: dict[type, str] = {
    sp.Abs: "Abs",
    sp.sign: "sign",
    sp.Heaviside: "Heaviside",
    relu: "relu",
}

_RELATIONALS: dict[type, str] = {
    sp.StrictGreaterThan: "Gt",
    sp.GreaterThan: "Ge",
    sp.StrictLessThan: "Lt",
    sp.LessThan: "Le",
    sp.Equality: "Eq",
    sp.Unequality: "Ne",
}

_LOGIC: dict[type, str] = {sp.And: "And", sp.Or: "Or", sp.Not: "Not"}

LEAF_OPS = frozenset({"symbol", "constant", "boolean"})
#: Ops whose value is a truth value: they carry no derivative.
BOOLEAN_OPS = frozenset(_RELATIONALS.values()) | frozenset(_LOGIC.values()) | {"boolean"}


class OpInfo(NamedTuple):
    """The op of one SymPy node and its operands, in order."""

    op: str
    operands: tuple[sp.Basic, ...]


def supported_ops() -> list[str]:
    """The names of every op the graph accepts (for docs and error messages)."""
    names = ["symbol", "constant", "Add", "Mul", "Pow", "Max", "Min", "Piecewise"]
    names += list(SMOOTH_FUNCTIONS.values()) + list(KINKED_FUNCTIONS.values())
    return names + sorted(BOOLEAN_OPS)


def _binary_chain(expr: sp.Basic) -> tuple[sp.Basic, ...]:
    # Max/Min of n arguments become a left-leaning chain of binary nodes, so
    # that one derivative rule (with its tie convention) covers every arity.
    args = expr.args
    if len(args) == 2:
        return args
    return (type(expr)(*args[:-1]), args[-1])


def classify(expr: sp.Basic) -> OpInfo:
    """Return the op name and operands of ``expr``; raise if unsupported."""
    cls = type(expr)
    if isinstance(expr, sp.Symbol):
        return OpInfo("symbol", ())
    if isinstance(expr, (sp.Integer, sp.Rational, sp.Float, sp.NumberSymbol)):
        return OpInfo("constant", ())
    if expr is sp.true or expr is sp.false:
        return OpInfo("boolean", ())
    if cls is sp.Add:
        return OpInfo("Add", expr.args)
    if cls is sp.Mul:
        return OpInfo("Mul", expr.args)
    if cls is sp.Pow:
        return OpInfo("Pow", expr.args)
    if cls in SMOOTH_FUNCTIONS and len(expr.args) == 1:
        return OpInfo(SMOOTH_FUNCTIONS[cls], expr.args)
    if cls in KINKED_FUNCTIONS:
        return OpInfo(KINKED_FUNCTIONS[cls], expr.args)
    if cls is sp.Max or cls is sp.Min:
        return OpInfo(cls.__name__, _binary_chain(expr))
    if cls is sp.Piecewise:
        return OpInfo("Piecewise", tuple(part for pair in expr.args for part in pair))
    if cls in _RELATIONALS:
        return OpInfo(_RELATIONALS[cls], expr.args)
    if cls in _LOGIC:
        return OpInfo(_LOGIC[cls], expr.args)
    raise UnsupportedOperationError(_unsupported_message(expr))


def _unsupported_message(expr: sp.Basic) -> str:
    name = type(expr).__name__
    if isinstance(expr, (sp.MatrixBase, sp.MatrixExpr)):
        hint = "matrix-valued expressions are not supported here; pass a scalar expression"
    elif expr.is_number and expr.is_extended_real is False:
        hint = "complex numbers are not supported; expressions must be real-valued"
    elif isinstance(expr, sp.core.function.AppliedUndef):
        hint = "an undefined function has no derivative rule; define it with SymPy functions"
    else:
        hint = "supported ops: " + ", ".join(supported_ops())
    return f"unsupported construct {name} in {sp.sstr(expr)[:120]!r}: {hint}"
