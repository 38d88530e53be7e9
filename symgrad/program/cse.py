"""Common-subexpression elimination and dead-code removal for programs.

``sympy.cse`` took about a second on 1,500 small statements here, more than
the whole derivation budget, so this pass exploits what the program already
is: short SSA right-hand sides. One walk counts repeated subtrees (not
descending into a subtree already seen, so a repeated parent does not
inflate its children's counts), a second walk binds each repeat to a
temporary just before its first use. Both walks are linear in program size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

__all__ = ["eliminate_common_subexpressions", "remove_dead_statements"]

Statement = tuple[sp.Symbol, sp.Expr]


def _worth_sharing(expr: sp.Basic) -> bool:
    if expr.is_Atom or isinstance(expr, (sp.logic.boolalg.Boolean, sp.Tuple)):
        return False
    if isinstance(expr, sp.functions.elementary.piecewise.ExprCondPair):
        return False
    # -x and 2*x cost one multiplication: a temporary would not pay for itself.
    if expr.is_Mul and len(expr.args) == 2 and expr.args[0].is_Number and expr.args[1].is_Atom:
        return False
    return True


def _count_repeats(exprs: Sequence[sp.Basic]) -> set[sp.Basic]:
    seen: set[sp.Basic] = set()
    repeated: set[sp.Basic] = set()
    # Whole right-hand sides count too: a statement's value reused inside a
    # later expression becomes a shared temporary instead of being recomputed.
    for root in exprs:
        stack = [root]
        while stack:
            expr = stack.pop()
            if not _worth_sharing(expr):
                stack.extend(a for a in expr.args if not a.is_Atom)
                continue
            if expr in seen:
                repeated.add(expr)
                continue
            seen.add(expr)
            stack.extend(expr.args)
    return repeated


def eliminate_common_subexpressions(
    statements: Sequence[Statement],
    outputs: Sequence[sp.Expr],
    new_temporary: Callable[[], sp.Symbol],
) -> tuple[list[Statement], list[sp.Expr]]:
    """Share repeated subexpressions and drop copy statements.

    Returns the new statements and the outputs rewritten to use them.
    """
    repeated = _count_repeats([e for _, e in statements] + list(outputs))
    replacement: dict[sp.Basic, sp.Basic] = {}
    result: list[Statement] = []
    by_value: dict[sp.Basic, sp.Symbol] = {}

    def bind_repeats(expr: sp.Basic, include_root: bool) -> None:
        for sub in sp.postorder_traversal(expr):
            if sub is expr and not include_root:
                break
            if sub in repeated and sub not in replacement:
                temporary = new_temporary()
                result.append((temporary, sub.xreplace(replacement)))
                replacement[sub] = temporary

    for target, expr in statements:
        bind_repeats(expr, include_root=False)
        rewritten = expr.xreplace(replacement)
        if rewritten.is_Atom:  # a copy: later uses read the source directly
            replacement[target] = rewritten
        elif rewritten in by_value:  # same value computed twice
            replacement[target] = by_value[rewritten]
        else:
            by_value[rewritten] = target
            result.append((target, rewritten))
            if expr in repeated:  # later repeats of this value read the target
                replacement[expr] = target
    new_outputs = []
    for expr in outputs:
        bind_repeats(expr, include_root=True)
        new_outputs.append(expr.xreplace(replacement))
    return result, new_outputs


def remove_dead_statements(
    statements: Sequence[Statement], outputs: Sequence[sp.Expr]
) -> list[Statement]:
    """Drop assignments no output depends on."""
    live: set[sp.Basic] = set()
    for expr in outputs:
        live |= expr.free_symbols
    kept: list[Statement] = []
    for target, expr in reversed(statements):
        if target in live:
            kept.append((target, expr))
            live |= expr.free_symbols
    kept.reverse()
    return kept
