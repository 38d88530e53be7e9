"""Building programs: forward pass, reverse sweeps, second-order sweeps, CSE.

This is where the pipeline stages meet: expressions are lowered to a graph,
the graph's nodes become forward assignments, reverse mode adds the adjoint
assignments, and for second order the gradient program is lowered again and
differentiated once more (reverse over reverse).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import networkx as nx
import sympy as sp

from ..diff.reverse import reverse_sweep
from ..errors import DeclarationError
from ..graph.lower import leaf_symbols, to_graph
from ..graph.ops import BOOLEAN_OPS, LEAF_OPS
from .cse import eliminate_common_subexpressions, remove_dead_statements
from .naming import TemporaryNamer
from .program import Output, Program

__all__ = ["build_program", "forward_pass", "rebuild", "rewrite_bottom_up"]

Statement = tuple[sp.Symbol, sp.Expr]


def rebuild(op: str, expr: sp.Basic, args: Sequence[sp.Basic]) -> sp.Basic:
    """The node's operation applied to new operand values."""
    if op == "Piecewise":
        return sp.Piecewise(*zip(args[0::2], args[1::2], strict=True))
    return type(expr)(*args)


def rewrite_bottom_up(graph: nx.DiGraph, visit) -> dict[int, sp.Basic]:
    """Every node's expression rebuilt from its operands' results, operands first.

    ``visit(node, value)`` sees each operation node's rebuilt value and returns
    what stands for the node from then on; leaves are kept as they are.
    """
    values: dict[int, sp.Basic] = {}
    for node in sorted(graph.nodes):
        data = graph.nodes[node]
        if not data["operands"]:
            values[node] = data["expr"]
        else:
            operands = [values[o] for o in data["operands"]]
            values[node] = visit(node, rebuild(data["op"], data["expr"], operands))
    return values


def forward_pass(graph: nx.DiGraph, namer: TemporaryNamer) -> tuple[list[Statement], dict[int, sp.Expr]]:
    """One assignment per operation node; leaves and conditions stay inline."""
    statements: list[Statement] = []
    values: dict[int, sp.Expr] = {}
    for node in sorted(graph.nodes):
        data = graph.nodes[node]
        if data["op"] in LEAF_OPS:
            values[node] = data["expr"]
            continue
        value = rebuild(data["op"], data["expr"], [values[o] for o in data["operands"]])
        if data["op"] in BOOLEAN_OPS or value.is_Atom:
            values[node] = value
            continue
        temporary = namer("v", node)
        statements.append((temporary, value))
        values[node] = temporary
    return statements, values


def _check_wrt(wrt: Sequence[sp.Symbol]) -> tuple[sp.Symbol, ...]:
    wrt = tuple(wrt)
    for s in wrt:
        if not isinstance(s, sp.Symbol):
            raise DeclarationError(
                f"can only differentiate with respect to symbols; got {type(s).__name__} {s!r}"
            )
    duplicates = sorted(str(s) for s, n in Counter(wrt).items() if n > 1)
    if duplicates:
        raise DeclarationError(f"symbol(s) {', '.join(duplicates)} listed twice in wrt")
    return wrt


def _sweeps(graph, outputs, wrt, values, namer, kind):
    statements: list[Statement] = []
    gradients: list[list[sp.Expr]] = []
    for k, output in enumerate(outputs):
        tag = (k,) if len(outputs) > 1 else ()
        sweep = reverse_sweep(graph, output, wrt, values, lambda n, tag=tag: namer(kind, *tag, n))
        statements += sweep.statements
        gradients.append(sweep.gradient)
    return statements, gradients


def _names(n_values: int, names: Sequence[str] | None) -> list[str]:
    if names is not None:
        return list(names)
    return ["f"] if n_values == 1 else [f"f{k}" for k in range(n_values)]


def build_program(
    exprs: sp.Basic | Sequence[sp.Basic],
    wrt: Sequence[sp.Symbol] = (),
    *,
    order: int = 1,
    roles: Mapping[sp.Symbol, str] | None = None,
    names: Sequence[str] | None = None,
    inputs: Sequence[sp.Symbol] | None = None,
    cse: bool = True,
    graph: nx.DiGraph | None = None,
    direction: Sequence[sp.Symbol] | None = None,
) -> Program:
    """The straight-line program computing ``exprs`` and their derivatives.

    Args:
        exprs: one scalar SymPy expression or a sequence of them.
        wrt: symbols to differentiate with respect to.
        order: 0 for values only, 1 adds gradients, 2 adds Hessians.
        roles: leaf roles recorded in the graph (param, input, target ...).
        names: display names of the values (default ``f`` or ``f0, f1, ...``).
        inputs: the program's input order (default: free symbols by name).
        cse: share common subexpressions across all outputs.
        graph: the graph of ``exprs`` with ``roles``, if already lowered.
        direction: symbols ``v`` (one per ``wrt``); adds the Hessian-vector
            products ``("hvp", k, i)`` = (H v)[i] at the cost of one more sweep.
    """
    exprs = [exprs] if isinstance(exprs, sp.Basic) or not isinstance(exprs, Sequence) else list(exprs)
    wrt = _check_wrt(wrt)
    if order not in (0, 1, 2):
        raise DeclarationError(f"order must be 0, 1 or 2, got {order!r}")
    if graph is None:
        graph = to_graph(exprs, roles)
    free = set(leaf_symbols(graph))
    namer = TemporaryNamer(str(s) for s in free | set(wrt) | set(direction or ()))
    statements, values = forward_pass(graph, namer)
    outputs = graph.graph["outputs"]
    value_exprs = [values[o] for o in outputs]
    gradients: list[list[sp.Expr]] = []
    hessians: list[list[list[sp.Expr]]] = []
    if order >= 1:
        adjoint, gradients = _sweeps(graph, outputs, wrt, values, namer, "d")
        statements += adjoint
    if order == 2:
        statements, value_exprs, gradients, hessians = _second_order(
            statements, value_exprs, gradients, wrt, roles, namer
        )
    products: list[list[sp.Expr]] = []
    if direction is not None:
        if order != 1 or len(direction) != len(wrt):
            raise DeclarationError("direction needs order=1 and one symbol per wrt symbol")
        statements, value_exprs, gradients, products = _hessian_vector(
            statements, value_exprs, gradients, wrt, tuple(direction), roles, namer
        )
        free |= set(direction)

    labels = _names(len(exprs), names)
    result: list[Output] = []
    for k, label in enumerate(labels):
        result.append(Output(("value", k), label, value_exprs[k]))
        if gradients:
            result += [Output(("grad", k, i), f"∂{label}/∂{s}", gradients[k][i]) for i, s in enumerate(wrt)]
        if products:
            result += [Output(("hvp", k, i), f"(H{label}·v)[{s}]", products[k][i]) for i, s in enumerate(wrt)]
        if hessians:
            result += [
                Output(("hess", k, i, j), f"∂²{label}/∂{si}∂{sj}", hessians[k][i][j])
                for i, si in enumerate(wrt)
                for j, sj in enumerate(wrt)
            ]
    return _finish(statements, result, wrt, free, inputs, namer, cse)


def _second_order(statements, value_exprs, gradients, wrt, roles, namer):
    # Reverse over reverse: the gradient program, lowered again as a graph
    # (temporaries inlined through their definitions), gets one more sweep
    # per gradient entry. Only the upper triangle is swept; H is symmetric.
    flat = [g for row in gradients for g in row]
    graph = to_graph(value_exprs + flat, roles, definitions=dict(statements))
    forward, values = forward_pass(graph, namer)
    outs = [values[o] for o in graph.graph["outputs"]]
    n_values, n = len(value_exprs), len(wrt)
    new_values, new_flat = outs[:n_values], outs[n_values:]
    new_gradients = [new_flat[k * n:(k + 1) * n] for k in range(n_values)]
    sweep_statements: list[Statement] = []
    hessians = []
    for k in range(n_values):
        rows = [[sp.S.Zero] * n for _ in range(n)]
        for i in range(n):
            output = graph.graph["outputs"][n_values + k * n + i]
            tag = (k, i) if n_values > 1 else (i,)
            temporary = lambda node, tag=tag: namer("h", *tag, node)  # noqa: E731
            sweep = reverse_sweep(graph, output, wrt[i:], values, temporary)
            sweep_statements += sweep.statements
            for j, entry in enumerate(sweep.gradient, start=i):
                rows[i][j] = rows[j][i] = entry
        hessians.append(rows)
    return forward + sweep_statements, new_values, new_gradients, hessians


def _hessian_vector(statements, value_exprs, gradients, wrt, direction, roles, namer):
    # H v is the gradient of the scalar Σ_i g_i v_i: one more reverse sweep
    # over the gradient program, instead of one sweep per Hessian row.
    flat = [g for row in gradients for g in row]
    n_values, n = len(value_exprs), len(wrt)
    contractions = [sp.Add(*(g * v for g, v in zip(row, direction, strict=True))) for row in gradients]
    graph = to_graph(value_exprs + flat + contractions, roles, definitions=dict(statements))
    forward, values = forward_pass(graph, namer)
    outs = [values[o] for o in graph.graph["outputs"]]
    new_flat = outs[n_values:n_values + n_values * n]
    sweeps: list[Statement] = []
    products = []
    for k in range(n_values):
        output = graph.graph["outputs"][n_values + n_values * n + k]
        tag = (k,) if n_values > 1 else ()
        sweep = reverse_sweep(graph, output, wrt, values, lambda node, tag=tag: namer("u", *tag, node))
        sweeps += sweep.statements
        products.append(sweep.gradient)
    new_gradients = [new_flat[k * n:(k + 1) * n] for k in range(n_values)]
    return forward + sweeps, outs[:n_values], new_gradients, products


def _finish(statements, outputs, wrt, free, inputs, namer, cse) -> Program:
    exprs = [o.expr for o in outputs]
    if cse:
        statements, exprs = eliminate_common_subexpressions(statements, exprs, namer.fresh)
    statements = remove_dead_statements(statements, exprs)
    outputs = tuple(Output(o.key, o.name, e) for o, e in zip(outputs, exprs, strict=True))
    if inputs is None:
        inputs = sorted(free, key=lambda s: (str(s), s.sort_key()))
    return Program(tuple(inputs), tuple(wrt), tuple(statements), outputs)
