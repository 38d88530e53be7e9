"""The tensor-level node store: hash-consed nodes with per-sample shapes.

Layered models are lowered (and differentiated) into nodes whose value for one
sample is a scalar (shape ``()``) or a matrix ``(rows, cols)``. A node is
*batched* when it depends on the sample (an input or a target); batched
values must be scalars or column vectors, so a batch of them is a matrix with
one row per sample — the layout data arrays already have.

Ops (operands in brackets):

=============  =====================================================================
``leaf``       a declared symbol (``role``: param / input / target), attr ``symbol``
``ew``         elementwise ``body`` over operands (dummies ``_a0, _a1, …``); scalar
               operands broadcast; no operands: ``body`` fills ``shape``
``matmul``     [A, B], A not batched
``transpose``  [A], A not batched
``sum``        [A] → scalar: all elements of one sample
``logsumexp``  [A] → scalar, computed with the maximum subtracted
``softmax``    [v] → column vector
``element``    [A] → scalar ``A[index]``
``outer``      [g, b] → Σ over the batch of g bᵀ (a not batched matrix)
``batch_sum``  [g] → Σ over the batch (the adjoint of a not batched operand)
``embed``      [g] → a zero matrix of ``shape`` with ``g`` at ``index``
=============  =====================================================================

Nodes are hash-consed on (op, operands, attributes): building the same
expression twice gives the same node, which is common-subexpression
elimination for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import sympy as sp

from ..errors import ShapeError, UnsupportedOperationError

__all__ = ["TensorNode", "TensorStore", "dummy", "SCALAR"]

SCALAR: tuple = ()


def dummy(k: int) -> sp.Symbol:
    """The k-th placeholder of an elementwise body (never a user symbol: bodies hold only these)."""
    return sp.Symbol(f"_a{k}", real=True)


def _size(shape) -> tuple[int, int]:
    return (1, 1) if shape == SCALAR else shape


@dataclass(frozen=True)
class TensorNode:
    op: str
    operands: tuple[int, ...]
    shape: tuple
    batched: bool
    attrs: tuple = field(default=())

    def attr(self, name: str, default=None):
        return dict(self.attrs).get(name, default)

    @property
    def is_scalar(self) -> bool:
        return _size(self.shape) == (1, 1)


class TensorStore:
    """Append-only, hash-consed list of :class:`TensorNode` (ids are positions: operands first)."""

    def __init__(self):
        self.nodes: list[TensorNode] = []
        self._ids: dict[TensorNode, int] = {}

    def __getitem__(self, node_id: int) -> TensorNode:
        return self.nodes[node_id]

    def __len__(self) -> int:
        return len(self.nodes)

    def add(self, op: str, operands=(), shape=SCALAR, batched: bool | None = None, **attrs) -> int:
        operands = tuple(operands)
        if batched is None:
            batched = any(self.nodes[o].batched for o in operands)
        if batched and _size(shape)[1] != 1:
            raise UnsupportedOperationError(
                f"a value of shape {shape} that depends on the sample ({op} of "
                f"{', '.join(self.describe(o) for o in operands)}); per-sample values must be scalars "
                f"or column vectors (write uᵀv products as u.T*v, keep vectors as columns)")
        node = TensorNode(op, operands, tuple(shape), bool(batched), tuple(sorted(attrs.items(), key=str)))
        if node not in self._ids:
            self._ids[node] = len(self.nodes)
            self.nodes.append(node)
        return self._ids[node]

    def describe(self, node_id: int) -> str:
        node = self.nodes[node_id]
        if node.op == "leaf":
            return str(node.attr("symbol"))
        return f"{node.op} of shape {node.shape or '()'}"

    # -- elementwise nodes with their simplifications ------------------------------------
    def ew(self, body: sp.Expr, operands, shape=None) -> int | None:
        """An elementwise node, simplified: constants inlined, unused and repeated operands
        dropped, identities removed. ``None`` when the body is identically zero."""
        body = sp.sympify(body)
        operands = list(operands)
        if shape is None:
            shapes = {self.nodes[o].shape for o in operands if not self.nodes[o].is_scalar}
            if len(shapes) > 1:
                raise ShapeError(f"elementwise operands of different shapes {sorted(shapes)}")
            shape = shapes.pop() if shapes else SCALAR
        replace, kept, per_sample_constant = {}, [], False
        for k, o in enumerate(operands):
            node = self.nodes[o]
            if self.is_constant(o):  # every element equals the body
                replace[dummy(k)] = node.attr("body")
                per_sample_constant |= node.batched
            elif o in kept:
                replace[dummy(k)] = dummy(kept.index(o))
            else:
                replace[dummy(k)] = dummy(len(kept))
                kept.append(o)
        body = body.xreplace(replace)
        if body == 0:
            return None
        used = body.free_symbols
        final = [o for k, o in enumerate(kept) if dummy(k) in used]
        body = body.xreplace({dummy(kept.index(o)): dummy(k) for k, o in enumerate(final)})
        # An inlined per-sample constant (the seed 1 of each sample's loss) keeps the result
        # per-sample: summed over the batch it counts once per sample.
        batched = per_sample_constant and not any(self.nodes[o].batched for o in final)
        if body == dummy(0) and len(final) == 1 and self._same_size(final[0], shape) and not batched:
            return final[0]
        return self.add("ew", final, shape, batched=batched or None, body=body)

    def constant(self, value, shape=SCALAR, batched: bool = False) -> int:
        """A node whose elements all equal ``value``; ``batched``: one such value per sample."""
        return self.add("ew", (), shape, batched=batched, body=sp.sympify(value))

    def is_constant(self, node_id: int) -> bool:
        node = self.nodes[node_id]
        return node.op == "ew" and not node.operands

    def _same_size(self, node_id: int, shape) -> bool:
        return _size(self.nodes[node_id].shape) == _size(shape)

    def to_networkx(self, expressions: dict[int, sp.Basic] | None = None,
                    outputs: tuple[int, ...] = ()) -> nx.DiGraph:
        """The nodes as a ``networkx.DiGraph`` (attributes ``op``, ``shape``, ``batched``,
        ``operands``, ``expr`` where known, ``role`` for leaves, ``body`` for elementwise)."""
        graph = nx.DiGraph(outputs=list(outputs))
        for k, node in enumerate(self.nodes):
            attrs = {"op": node.op, "shape": node.shape, "batched": node.batched, "operands": node.operands,
                     "dtype": "real", **dict(node.attrs)}
            if node.op == "leaf":
                attrs["expr"] = node.attr("symbol")
            elif expressions and k in expressions:
                attrs["expr"] = expressions[k]
            graph.add_node(k, **attrs)
            for pos, o in enumerate(node.operands):
                if graph.has_edge(o, k):
                    graph.edges[o, k]["positions"] += (pos,)
                else:
                    graph.add_edge(o, k, pos=pos, positions=(pos,))
        return graph
