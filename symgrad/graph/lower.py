"""Lowering SymPy expressions into the computational graph (a networkx.DiGraph).

One node per distinct subexpression: the lowering is hash-consed on the SymPy
expression, so a subexpression shared by several parents (or several outputs)
is one node. Node ids are integers in topological order (operands first).

Node attributes:
    ``op``        op name from :mod:`symgrad.graph.ops`
    ``shape``     ``()`` for scalars
    ``dtype``     ``"real"`` or ``"bool"`` (conditions of Piecewise)
    ``expr``      the SymPy expression of the node
    ``operands``  operand node ids, in operand order (repeats allowed)
    ``role``      for leaves: ``param``/``input``/``target``/``variable``/``constant``
Edges run operand -> result and carry ``pos`` (first operand position) and
``positions`` (all positions, when one node is used twice by the same op).
Graph attribute ``outputs`` lists the output node ids in the order given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx
import sympy as sp

from ..errors import DeclarationError, UnsupportedOperationError
from .ops import BOOLEAN_OPS, classify

__all__ = ["to_graph", "leaf_symbols"]


def to_graph(
    exprs: sp.Basic | Iterable[sp.Basic],
    roles: Mapping[sp.Symbol, str] | None = None,
    definitions: Mapping[sp.Symbol, sp.Basic] | None = None,
) -> nx.DiGraph:
    """Lower one or several scalar expressions into one shared graph.

    Args:
        exprs: a SymPy expression or a sequence of them (the graph's outputs).
        roles: leaf role per symbol; symbols not listed get ``"variable"``.
        definitions: symbols standing for expressions (e.g. the temporaries of
            a program); such a symbol is lowered as its definition.
    """
    single = (sp.Basic, sp.MatrixBase, int, float)
    # A Matrix is iterable but is one (non-scalar) output, rejected below.
    outputs = [exprs] if isinstance(exprs, single) or not isinstance(exprs, Iterable) else list(exprs)
    roles = dict(roles or {})
    definitions = dict(definitions or {})
    graph = nx.DiGraph(outputs=[])
    ids: dict[sp.Basic, int] = {}
    for out in outputs:
        out = _sympify_output(out)
        graph.graph["outputs"].append(_lower(out, graph, ids, roles, definitions))
    return graph


def leaf_symbols(graph: nx.DiGraph) -> list[sp.Symbol]:
    """The symbols a graph reads, in node order.

    Linear in the graph, unlike ``expr.free_symbols``, which re-walks every
    shared subtree of a SymPy expression each time it is reached.
    """
    return [d["expr"] for _, d in sorted(graph.nodes(data=True)) if d["op"] == "symbol"]


def _sympify_output(out) -> sp.Basic:
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return sp.sympify(out)
    if isinstance(out, (sp.MatrixBase, sp.MatrixExpr)):
        raise UnsupportedOperationError(
            f"expected a scalar expression, got a {type(out).__name__} of shape {out.shape}"
        )
    if not isinstance(out, sp.Basic):
        raise DeclarationError(
            f"expected a SymPy expression, got {type(out).__name__}: {out!r}"
        )
    return out


def _lower(root, graph, ids, roles, definitions) -> int:
    # Iterative post-order walk: deep expressions must not hit the recursion limit.
    stack: list[tuple[sp.Basic, bool]] = [(root, False)]
    pending: dict[sp.Basic, tuple[str, tuple[sp.Basic, ...]]] = {}
    while stack:
        expr, operands_done = stack.pop()
        if expr in ids:
            continue
        if expr in definitions:
            # A defined symbol is the node of its definition: revisit it after.
            definition = definitions[expr]
            if definition in ids:
                ids[expr] = ids[definition]
            else:
                stack += [(expr, False), (definition, False)]
            continue
        if not operands_done:
            info = classify(expr)
            pending[expr] = info
            stack.append((expr, True))
            stack.extend((o, False) for o in reversed(info.operands) if o not in ids)
            continue
        op, operands = pending.pop(expr)
        ids[expr] = _add_node(graph, expr, op, [ids[o] for o in operands], roles)
    return ids[root]


def _add_node(graph, expr, op, operand_ids, roles) -> int:
    node = graph.number_of_nodes()
    attrs = {
        "op": op,
        "shape": (),
        "dtype": "bool" if op in BOOLEAN_OPS else "real",
        "expr": expr,
        "operands": tuple(operand_ids),
    }
    if op == "symbol":
        attrs["role"] = roles.get(expr, "variable")
    elif op in ("constant", "boolean"):
        attrs["role"] = "constant"
    graph.add_node(node, **attrs)
    for pos, operand in enumerate(operand_ids):
        if graph.has_edge(operand, node):
            graph.edges[operand, node]["positions"] += (pos,)
        else:
            graph.add_edge(operand, node, pos=pos, positions=(pos,))
    return node
