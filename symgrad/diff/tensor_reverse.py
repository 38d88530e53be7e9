"""Reverse mode at the tensor level: one vector-Jacobian rule per tensor op.

The sweep runs over the node store once, from the loss back to the
parameters, and adds the adjoint (the δ of backprop) of every node to the same
hash-consed store, so forward values are reused and equal adjoint terms are
built once. Elementwise nodes differentiate their scalar body by symgrad's
scalar reverse mode (its subgradient conventions included); a derivative
that repeats the node's own value (``σ(z)(1 − σ(z))``, ``1 − tanh(z)²``) reads
the node instead of recomputing it.

Adjoints of values that do not depend on the sample are summed over the batch
where they meet a per-sample adjoint (``batch_sum`` and ``outer``), which is
where one sample's backprop becomes the batch gradient.
"""

from __future__ import annotations

import functools

import sympy as sp

from ..graph.tensor import SCALAR, TensorStore, dummy

__all__ = ["tensor_gradients"]

#: Placeholder for a node's own value inside its local derivative.
_OWN = sp.Symbol("_own", real=True)


@functools.lru_cache(maxsize=4096)
def _local_derivatives(body: sp.Expr, arity: int) -> tuple[sp.Expr, ...]:
    from ..api import grad  # the scalar pipeline, with its subgradient conventions

    wrt = [dummy(k) for k in range(arity)]
    derivatives = grad(body, wrt) if arity else []
    if isinstance(body, sp.Function):
        derivatives = [d.xreplace({body: _OWN}) for d in derivatives]
    return tuple(derivatives)


def tensor_gradients(store: TensorStore, loss: int, wrt: list[int], adjoints: dict | None = None
                     ) -> list[int | None]:
    """Adjoint nodes ``∂loss/∂wrt[k]`` (``None`` where the loss does not depend on it).

    ``adjoints``, if given, receives the adjoint node of every node the sweep visits.
    """
    nodes = store.nodes
    depends = set(wrt)
    for k in range(min(wrt, default=loss), loss + 1):
        if any(o in depends for o in nodes[k].operands):
            depends.add(k)
    contributions: dict[int, list[int]] = {loss: [store.constant(1)]}
    adjoints = {} if adjoints is None else adjoints
    for k in range(loss, -1, -1):
        parts = contributions.pop(k, None)
        if not parts or k not in depends:
            continue
        g = parts[0] if len(parts) == 1 else store.ew(sp.Add(*(dummy(i) for i in range(len(parts)))), parts)
        if nodes[k].batched and not store[g].batched:
            # The adjoint of a per-sample value is per-sample (the seed 1 of each sample's loss).
            g = (store.constant(store[g].attr("body"), nodes[k].shape, batched=True) if store.is_constant(g)
                 else store.add("ew", [g], nodes[k].shape, batched=True, body=dummy(0)))
        adjoints[k] = g
        for operand, part in _vjp(store, k, g):
            if operand in depends and part is not None:
                contributions.setdefault(operand, []).append(_reduce_to(store, operand, part))
    return [adjoints.get(w) for w in wrt]


def _reduce_to(store: TensorStore, operand: int, part: int) -> int:
    """``part`` summed over what ``operand`` was broadcast along (its elements, the batch)."""
    if store[operand].is_scalar and not store[part].is_scalar:
        part = store.add("sum", [part], SCALAR)
    if store[part].batched and not store[operand].batched:
        part = store.add("batch_sum", [part], store[part].shape, batched=False)
    return part


def _vjp(store: TensorStore, k: int, g: int):  # noqa: PLR0911 - one rule per op
    """(operand, contribution) pairs of node ``k`` with adjoint ``g``."""
    node = store[k]
    op, operands = node.op, node.operands
    if op == "ew":
        body = node.attr("body")
        derivatives = _local_derivatives(body, len(operands))
        pairs = []
        for operand, d in zip(operands, derivatives, strict=True):
            own = [k] if _OWN in d.free_symbols else []
            n = len(operands)
            local = d.xreplace({_OWN: dummy(n + 1)}) if own else d
            pairs.append((operand, store.ew(dummy(0) * local.xreplace(
                {dummy(i): dummy(i + 1) for i in range(n)}), [g, *operands, *own], node.shape)))
        return pairs
    if op == "matmul":
        a, b = operands
        left = (store.add("outer", [g, b], store[a].shape, batched=False) if store[b].batched else
                store.add("matmul", [g, _transpose(store, b)], store[a].shape))
        right = store.add("matmul", [_transpose(store, a), g], store[b].shape)
        return [(a, left), (b, right)]
    if op == "transpose":
        return [(operands[0], _transpose(store, g))]
    if op == "sum":
        (u,) = operands
        return [(u, store.ew(dummy(0), [_batch_total(store, u, g)], store[u].shape))]
    if op == "logsumexp":
        (v,) = operands
        probabilities = store.add("softmax", [v], store[v].shape)
        return [(v, store.ew(dummy(0) * dummy(1), [_batch_total(store, v, g), probabilities]))]
    if op == "softmax":
        (v,) = operands
        weighted = store.add("sum", [store.ew(dummy(0) * dummy(1), [g, k])], SCALAR)
        return [(v, store.ew(dummy(1) * (dummy(0) - dummy(2)), [g, k, weighted]))]
    if op == "element":
        (a,) = operands
        embedded = store.add("embed", [_batch_total(store, a, g)], store[a].shape, index=node.attr("index"))
        return [(a, embedded)]
    return []


def _batch_total(store: TensorStore, operand: int, g: int) -> int:
    """``g`` summed over the batch first when ``operand`` does not depend on the sample."""
    if store[g].batched and not store[operand].batched:
        return store.add("batch_sum", [g], store[g].shape, batched=False)
    return g


def _transpose(store: TensorStore, a: int) -> int:
    node = store[a]
    if node.is_scalar:
        return a
    if node.op == "transpose":
        return node.operands[0]
    rows, cols = node.shape
    return store.add("transpose", [a], (cols, rows))
