"""Reverse mode (backpropagation) over the computational graph.

The sweep visits the nodes from the output back to the leaves once, so its
cost grows with the size of the graph, not with graph size times the number
of variables. Each node's adjoint (the δ of backprop, ``∂output/∂node``) is
the sum of its consumers' adjoints times their local derivatives; a
non-trivial adjoint is bound to a fresh temporary so that every consumer
reuses it instead of repeating the expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import sympy as sp

from .rules import local_derivatives

__all__ = ["Sweep", "reverse_sweep", "active_nodes"]


@dataclass
class Sweep:
    """The adjoint pass for one output.

    Attributes:
        statements: ``(temporary, expression)`` assignments in execution order.
        gradient: ``∂output/∂wrt[i]`` for each requested leaf, in terms of the
            forward values and the temporaries of ``statements``.
        adjoints: the adjoint (δ) of every node that influences the output
            and depends on a requested leaf.
    """

    statements: list[tuple[sp.Symbol, sp.Expr]] = field(default_factory=list)
    gradient: list[sp.Expr] = field(default_factory=list)
    adjoints: dict[int, sp.Expr] = field(default_factory=dict)


def active_nodes(graph: nx.DiGraph, output: int, sources: Sequence[int]) -> set[int]:
    """Nodes on some path from one of ``sources`` to ``output``."""
    downstream: set[int] = set(sources)
    for node in sorted(graph.nodes):  # ids are topological
        if any(p in downstream for p in graph.predecessors(node)):
            downstream.add(node)
    upstream = nx.ancestors(graph, output) | {output}
    return downstream & upstream


def reverse_sweep(
    graph: nx.DiGraph,
    output: int,
    wrt: Sequence[sp.Symbol],
    values: Mapping[int, sp.Expr],
    new_temporary: Callable[[int], sp.Symbol],
) -> Sweep:
    """Run reverse mode from ``output`` to the leaves named in ``wrt``.

    Args:
        graph: a graph from :func:`symgrad.graph.to_graph`.
        output: the node whose derivatives are wanted.
        wrt: leaf symbols to differentiate with respect to (any role).
        values: the forward value of every node (symbol, number or temporary).
        new_temporary: returns the symbol that will hold a node's adjoint.
    """
    leaf_of = {graph.nodes[n]["expr"]: n for n in graph.nodes if graph.nodes[n]["op"] == "symbol"}
    sources = [leaf_of[s] for s in wrt if s in leaf_of]
    active = active_nodes(graph, output, sources)
    sweep = Sweep()
    contributions: dict[int, list[sp.Expr]] = {output: [sp.S.One]}
    for node in sorted(active, reverse=True):
        terms = contributions.pop(node, None)
        if not terms:
            continue
        adjoint = sp.Add(*terms)
        data = graph.nodes[node]
        # Structural zero tests: `.is_zero` would run SymPy's assumption
        # engine on every adjoint, which dominated the sweep's cost.
        if data["op"] == "symbol" or adjoint is sp.S.Zero:
            sweep.adjoints[node] = adjoint
            continue
        if not adjoint.is_Atom:
            temporary = new_temporary(node)
            sweep.statements.append((temporary, adjoint))
            adjoint = temporary
        sweep.adjoints[node] = adjoint
        operands = data["operands"]
        args = [values[o] for o in operands]
        partials = local_derivatives(data["op"], args, values[node])
        for operand, partial in zip(operands, partials, strict=True):
            if partial is None or operand not in active or partial is sp.S.Zero:
                continue
            contributions.setdefault(operand, []).append(adjoint * partial)
    sweep.gradient = [
        sweep.adjoints.get(leaf_of[s], sp.S.Zero) if s in leaf_of else sp.S.Zero for s in wrt
    ]
    return sweep
