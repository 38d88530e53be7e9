"""Numerically stable but mathematically equal forms, for compiled kernels.

``model.program`` keeps the form the user wrote, which is what reads well.
Kernels differentiate this rewritten form instead: ``log(sigmoid(u))``
differentiated as written gives ``(1/σ)·σ(1 - σ)``, which is ``inf·0 = nan``
once σ(u) rounds to 0, whereas ``-softplus(-u)`` has the derivative
``-σ(-u)`` and stays finite for every u.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from ..declare.functions import sigmoid, softplus
from ..graph.lower import to_graph
from ..program.build import rewrite_bottom_up

__all__ = ["stabilize", "REWRITES"]


def _sigmoid_argument(expr: sp.Basic) -> sp.Basic | None:
    return expr.args[0] if isinstance(expr, sigmoid) else None


def _one_minus_sigmoid_argument(expr: sp.Basic) -> sp.Basic | None:
    # 1 - sigmoid(u), as SymPy stores it: Add(1, Mul(-1, sigmoid(u)))
    if expr.is_Add and len(expr.args) == 2 and sp.S.One in expr.args:
        other = expr.args[1] if expr.args[0] == 1 else expr.args[0]
        if other.is_Mul and len(other.args) == 2 and other.args[0] == -1:
            return _sigmoid_argument(other.args[1])
    return None


def _log_rule(expr: sp.Basic) -> sp.Basic | None:
    (arg,) = expr.args
    if (u := _sigmoid_argument(arg)) is not None:
        return -softplus(-u)  # log σ(u)
    if (u := _one_minus_sigmoid_argument(arg)) is not None:
        return -softplus(u)  # log(1 - σ(u)) = log σ(-u)
    if arg.is_Add and len(arg.args) == 2 and sp.S.One in arg.args:
        other = arg.args[1] if arg.args[0] == 1 else arg.args[0]
        if isinstance(other, sp.exp):
            return softplus(other.args[0])  # log(1 + e^u)
    return None


def _pow_rule(expr: sp.Basic) -> sp.Basic | None:
    base, exponent = expr.args
    if exponent == -1 and base.is_Add and len(base.args) == 2 and sp.S.One in base.args:
        other = base.args[1] if base.args[0] == 1 else base.args[0]
        if isinstance(other, sp.exp):
            return sigmoid(-other.args[0])  # 1 / (1 + e^{-u}) written out by hand
    return None


#: op -> rule returning the stable replacement, or None to keep the node.
REWRITES: dict[str, Callable[[sp.Basic], sp.Basic | None]] = {
    "log": _log_rule,
    "Pow": _pow_rule,
}


def stabilize(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every pattern of :data:`REWRITES` replaced (linear in the graph)."""
    graph = to_graph(expr)

    def visit(node: int, value: sp.Basic) -> sp.Basic:
        data = graph.nodes[node]
        rule = REWRITES.get(data["op"])
        if rule is None or type(value) is not type(data["expr"]):
            return value
        replacement = rule(value)
        return value if replacement is None else replacement

    values = rewrite_bottom_up(graph, visit)
    return values[graph.graph["outputs"][0]]
