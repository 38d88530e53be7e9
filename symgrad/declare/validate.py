"""Checks on a model declaration, each failing with a message that names the culprit."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence

import sympy as sp

from ..errors import DeclarationError, ShapeError, SymgradWarning

__all__ = ["as_symbol_list", "check_scalar", "check_roles", "check_outputs"]


def as_symbol_list(value, role: str) -> tuple[sp.Symbol, ...]:
    """A role's symbols as a tuple; rejects non-symbols and repeats."""
    if value is None:
        return ()
    if isinstance(value, sp.Symbol):
        value = [value]
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise DeclarationError(
            f"{role} must be a list of SymPy symbols, got {type(value).__name__}: {value!r}"
        )
    symbols = tuple(value)
    for s in symbols:
        if not isinstance(s, sp.Symbol):
            raise DeclarationError(
                f"{role} must contain SymPy symbols only; got {type(s).__name__} {s!r}"
            )
    repeated = sorted(str(s) for s, n in Counter(symbols).items() if n > 1)
    if repeated:
        raise DeclarationError(f"{', '.join(repeated)} listed more than once in {role}")
    return symbols


def check_scalar(expr, what: str) -> sp.Expr:
    """``expr`` as a real scalar SymPy expression."""
    if isinstance(expr, (sp.MatrixBase, sp.MatrixExpr)):
        raise ShapeError(f"{what} must be a scalar expression, got a matrix of shape {expr.shape}")
    if isinstance(expr, (list, tuple)):
        raise ShapeError(f"{what} must be a scalar expression, got a {type(expr).__name__} of {len(expr)}")
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        return sp.sympify(expr)
    if not isinstance(expr, sp.Expr):
        raise DeclarationError(f"{what} must be a SymPy expression, got {type(expr).__name__}: {expr!r}")
    return expr


def check_roles(
    roles: dict[str, tuple[sp.Symbol, ...]],
    used: set[sp.Symbol],
    regularizer: sp.Expr,
) -> None:
    """Every symbol in one role; every used symbol declared; the regulariser data-free.

    ``used`` is the set of symbols the objective reads.
    """
    seen: dict[sp.Symbol, str] = {}
    for role, symbols in roles.items():
        for s in symbols:
            if s in seen:
                raise DeclarationError(f"{s} is declared both as {seen[s]} and as {role}")
            seen[s] = role
    undeclared = used - seen.keys()
    if undeclared:
        names = ", ".join(sorted(map(str, undeclared)))
        raise DeclarationError(
            f"the loss uses {names}, which is not declared; "
            "list every free symbol in params, inputs or targets"
        )
    data = {s for s in regularizer.free_symbols if seen[s] != "params"}
    if data:
        raise DeclarationError(
            f"the regularizer depends on {', '.join(sorted(map(str, data)))}; "
            "it must depend on parameters only (it is added once to the mean loss)"
        )
    unused = [s for s in roles["params"] if s not in used]
    if unused:
        warnings.warn(
            f"the loss does not depend on parameter(s) {', '.join(map(str, unused))}; "
            "their gradient is always 0",
            SymgradWarning,
            stacklevel=4,
        )


def check_outputs(outputs, allowed: set[sp.Symbol]) -> tuple[sp.Expr, ...]:
    """Prediction expressions: scalars of parameters and inputs only."""
    if outputs is None:
        return ()
    if isinstance(outputs, (sp.Basic, int, float)):
        outputs = [outputs]
    result = tuple(check_scalar(o, "each output") for o in outputs)
    for out in result:
        extra = out.free_symbols - allowed
        if extra:
            raise DeclarationError(
                f"output {out} uses {', '.join(sorted(map(str, extra)))}; "
                "outputs may use parameters and inputs only"
            )
    return result
