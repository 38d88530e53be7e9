"""A content hash of a computational graph, linear in its size.

Two graphs with the same fingerprint compute the same function in the same
way: same ops in the same order, same operand structure, same leaves
(symbol name and assumptions, role) and constants. ``srepr`` of the whole
expression would say as much but re-walks every shared subtree.
"""

from __future__ import annotations

import hashlib

import networkx as nx
import sympy as sp

__all__ = ["fingerprint"]


def _leaf(data: dict) -> str:
    expr = data["expr"]
    if isinstance(expr, sp.Symbol):
        assumptions = sorted((k, v) for k, v in expr.assumptions0.items() if v is not None)
        return f"symbol {expr.name!r} {assumptions} {data.get('role')}"
    return f"{data['op']} {sp.srepr(expr)}"


def fingerprint(*graphs: nx.DiGraph) -> str:
    """sha256 over the graphs' nodes in topological order."""
    digest = hashlib.sha256()
    for graph in graphs:
        digest.update(f"graph {graph.graph.get('outputs')}\n".encode())
        for node in sorted(graph.nodes):
            data = graph.nodes[node]
            text = _leaf(data) if not data["operands"] else f"{data['op']} {data['operands']}"
            digest.update(f"{node} {text}\n".encode())
    return digest.hexdigest()
