"""Local derivative rules: one entry per op.

A rule receives the operand values (SymPy expressions: symbols, numbers or
temporaries of the program) and the node's own value ``out``, and returns
``∂out/∂operand`` for every operand position, or ``None`` where no derivative
flows (conditions, constant exponents, step functions). The reverse sweep
multiplies these by the node's adjoint (vector-Jacobian product).

Subgradient conventions at kinks and ties (documented in docs/derivatives.md):

=========  ===========================================================
op         derivative used
=========  ===========================================================
Abs        ``sign(u)``, so 0 at ``u = 0``
sign       0 everywhere (``DiracDelta`` is dropped)
Heaviside  0 everywhere (``DiracDelta`` is dropped)
relu       ``Heaviside(u, 0)``: 1 for ``u > 0``, 0 for ``u <= 0``
Max(a, b)  ``Heaviside(a - b, 1/2)`` for ``a``: a tie splits the gradient
           evenly, so the two partials always sum to 1
Min(a, b)  ``Heaviside(b - a, 1/2)`` for ``a``, likewise
Piecewise  the derivative of the branch whose condition holds; at a
           boundary, the branch the conditions select there
=========  ===========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import sympy as sp

from ..errors import UnsupportedOperationError
from ..graph.ops import BOOLEAN_OPS, SMOOTH_FUNCTIONS

__all__ = ["local_derivatives", "RULES"]

Partials = tuple[sp.Expr | None, ...]
Rule = Callable[[Sequence[sp.Expr], sp.Expr], Partials]

_HALF = sp.S.Half
_U = sp.Dummy("u")
_OUT = sp.Dummy("out")
_FUNCTION_BY_OP = {name: cls for cls, name in SMOOTH_FUNCTIONS.items()}


@cache
def _smooth_template(op: str) -> sp.Expr:
    # sympy.diff supplies the derivative; rewriting f(u) as the node's own
    # value lets exp' = out, tanh' = 1 - out**2, sigmoid' = out*(1 - out)
    # reuse the forward value instead of recomputing it.
    func = _FUNCTION_BY_OP[op]
    return sp.diff(func(_U), _U).xreplace({func(_U): _OUT})


def _smooth(op: str) -> Rule:
    def rule(args, out):
        return (_smooth_template(op).xreplace({_U: args[0], _OUT: out}),)

    return rule


def _mul(args, out):
    return tuple(sp.Mul(*(a for k, a in enumerate(args) if k != j)) for j in range(len(args)))


def _pow(args, out):
    base, exponent = args
    d_base = exponent * base ** (exponent - 1)
    if exponent.is_number:
        return (d_base, None)
    return (d_base, out * sp.log(base))


def _piecewise(args, out):
    conditions = args[1::2]
    partials: list[sp.Expr | None] = []
    for j in range(len(conditions)):
        pairs = [(sp.S.One if k == j else sp.S.Zero, c) for k, c in enumerate(conditions)]
        partials += [sp.Piecewise(*pairs), None]
    return tuple(partials)


RULES: dict[str, Rule] = {
    "Add": lambda args, out: (sp.S.One,) * len(args),
    "Mul": _mul,
    "Pow": _pow,
    "Abs": lambda args, out: (sp.sign(args[0]),),
    "sign": lambda args, out: (None,),
    "Heaviside": lambda args, out: (None,) * len(args),
    "relu": lambda args, out: (sp.Heaviside(args[0], 0),),
    "Max": lambda args, out: (
        sp.Heaviside(args[0] - args[1], _HALF),
        sp.Heaviside(args[1] - args[0], _HALF),
    ),
    "Min": lambda args, out: (
        sp.Heaviside(args[1] - args[0], _HALF),
        sp.Heaviside(args[0] - args[1], _HALF),
    ),
    "Piecewise": _piecewise,
    **{op: _smooth(op) for op in _FUNCTION_BY_OP},
}


def local_derivatives(op: str, args: Sequence[sp.Expr], out: sp.Expr) -> Partials:
    """``∂out/∂args[j]`` for each operand of a node with op ``op``."""
    if op in BOOLEAN_OPS:
        return (None,) * len(args)
    try:
        rule = RULES[op]
    except KeyError:
        raise UnsupportedOperationError(f"no derivative rule for op {op!r}") from None
    return rule(args, out)
