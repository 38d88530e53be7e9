"""Numerically stable but mathematically equal forms, for compiled kernels.

``model.program`` keeps the form the user wrote, which is what reads well.
Kernels differentiate this rewritten form instead: ``log(sigmoid(u))``
differentiated as written gives ``(1/σ)·σ(1 - σ)``, which is ``inf·0 = nan``
once σ(u) rounds to 0, whereas ``-softplus(-u)`` has the derivative
``-σ(-u)`` and stays finite for every u.

A sum holding both ``softplus(u)`` and ``softplus(-u)`` keeps only the first,
through ``softplus(-u) = softplus(u) - u``: the cross-entropy of a sigmoid,
``t·softplus(-u) + (1 - t)·softplus(u)``, becomes ``softplus(u) - t·u`` (as
``losses.binary_cross_entropy_with_logits`` writes it), whose kernel computes
``u`` once and one exponential and logarithm instead of two, and whose
derivative is ``σ(u) - t``. Every value stays finite; the error of such a term
is a few ε·|u| absolute rather than relative: a confidently right sample's
loss ``softplus(40) - 40 = e⁻⁴⁰`` comes out as 0, and its gradient
``σ(40) - 1`` as 0 instead of ``-e⁻⁴⁰``.
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


def _softplus_term(term: sp.Basic) -> tuple[sp.Basic, sp.Basic] | None:
    # (coefficient, argument) of a term linear in one softplus: c·softplus(u) or softplus(u)
    if isinstance(term, softplus):
        return sp.S.One, term.args[0]
    if term.is_Mul:
        found = [f for f in term.args if isinstance(f, softplus)]
        if len(found) == 1:
            return sp.Mul(*(f for f in term.args if f is not found[0])), found[0].args[0]
    return None


def _kept(u: sp.Basic) -> bool:
    # Of the pair u, -u, the one written without a leading minus (exactly one of them).
    if u.could_extract_minus_sign() != (-u).could_extract_minus_sign():
        return not u.could_extract_minus_sign()
    return sp.default_sort_key(u) <= sp.default_sort_key(-u)


def _add_rule(expr: sp.Basic) -> sp.Basic | None:
    terms = [(term, _softplus_term(term)) for term in expr.args]
    arguments = {found[1] for _, found in terms if found is not None}
    pairs = {u for u in arguments if -u in arguments and u != -u and _kept(u)}
    if not pairs:
        return None
    rest, coefficients, shifts = [], dict.fromkeys(pairs, sp.S.Zero), dict.fromkeys(pairs, sp.S.Zero)
    for term, found in terms:
        if found is None or (found[1] not in pairs and -found[1] not in pairs):
            rest.append(term)
        elif found[1] in pairs:
            coefficients[found[1]] += found[0]
        else:  # c·softplus(-u) = c·softplus(u) - c·u
            coefficients[-found[1]] += found[0]
            shifts[-found[1]] += found[0]
    # Sorted, so that the result does not depend on set order.
    for u in sorted(pairs, key=sp.default_sort_key):
        rest += [coefficients[u] * softplus(u), -shifts[u] * u]
    return sp.Add(*rest)


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
    "Add": _add_rule,
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
