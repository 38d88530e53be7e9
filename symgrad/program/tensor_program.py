"""Tensor programs as SymPy: derivatives of layered models in matrix form, and their δ recursion.

Every node of a tensor store can be written back as a SymPy (matrix)
expression of one sample: a forward node as the expression it was lowered
from, an adjoint node through its op — ``matmul`` as a product, ``outer`` as
``g bᵀ`` (one sample's share of the batch sum), an elementwise node as a
Hadamard product of its factors. That is what ``model.gradient()`` returns,
so ``∂J/∂W1`` prints as ``δ1*x.T`` with ``δ1`` the backprop error of layer 1.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ..declare.tensors import Elementwise, LogSumExp, MatrixSum, Softmax, element
from ..graph.tensor import TensorStore, dummy

__all__ = ["TensorDisplay"]


class TensorDisplay:
    """SymPy expressions of the nodes of ``store``; ``known`` gives forward nodes' own expressions
    and ``names`` replaces chosen nodes by a symbol (``z1``, ``δ1``)."""

    def __init__(self, store: TensorStore, known: Mapping[int, sp.Basic], names: Mapping[int, sp.Basic] = ()):
        self.store = store
        self.known = dict(known)
        self.names = dict(names)
        self._memo: dict[int, sp.Basic] = {}
        self._named: dict[int, bool] = {}

    def _reads_named(self, k: int) -> bool:
        if k not in self._named:
            node = self.store[k]
            self._named[k] = k in self.names or any(self._reads_named(o) for o in node.operands)
        return self._named[k]

    def __call__(self, k: int, expand_name: bool = False) -> sp.Basic:
        if k in self.names and not expand_name:
            return self.names[k]
        if expand_name:
            return self._build(k)
        if k not in self._memo:
            self._memo[k] = self._build(k)
        return self._memo[k]

    def _build(self, k: int) -> sp.Basic:  # noqa: PLR0911 - one case per op
        node = self.store[k]
        if k in self.known and not any(self._reads_named(o) for o in node.operands):
            return self.known[k]
        args = [self(o) for o in node.operands]
        op = node.op
        if op == "leaf":
            return node.attr("symbol")
        if op == "ew":
            return self._elementwise(node.attr("body"), args, node.shape)
        if op == "matmul":
            return sp.MatMul(*args)
        if op == "transpose":
            return sp.Transpose(args[0])
        if op == "outer":
            return sp.MatMul(args[0], sp.Transpose(args[1]))
        if op == "batch_sum":
            return args[0]
        if op in ("sum", "logsumexp", "element") and not isinstance(args[0], sp.MatrixExpr):
            return args[0]  # of a 1×1 value shown as its number
        if op == "sum":
            return MatrixSum(args[0])
        if op == "logsumexp":
            return LogSumExp(args[0])
        if op == "softmax":
            return Softmax(args[0])
        if op == "element":
            return element(args[0], *node.attr("index"))
        if op == "embed":
            rows, cols = node.shape
            i, j = node.attr("index")
            unit = sp.ImmutableMatrix(rows, cols, lambda r, c: 1 if (r, c) == (i, j) else 0)
            return sp.MatMul(args[0], unit)
        raise AssertionError(op)  # pragma: no cover

    @staticmethod
    def _elementwise(body: sp.Expr, args: list, shape) -> sp.Basic:
        if shape == () or tuple(shape) == (1, 1):
            # One number per sample: a 1×1 matrix operand is its only element.
            args = [element(a, 0, 0) if isinstance(a, sp.MatrixExpr) else a for a in args]
        is_matrix = [isinstance(a, sp.MatrixExpr) for a in args]
        scalars = {dummy(i): a for i, a in enumerate(args) if not is_matrix[i]}
        body = body.xreplace(scalars)
        matrices = [(dummy(i), a) for i, a in enumerate(args) if is_matrix[i]]
        if not matrices:
            return body  # a scalar, broadcast by whatever reads it
        if body.is_Add:
            terms = [TensorDisplay._elementwise(t, args, shape) for t in body.args]
            if all(isinstance(t, sp.MatrixExpr) for t in terms):
                return sp.MatAdd(*terms)
        # A product: scalar factor ∘ the matrices ∘ one elementwise function per matrix.
        factors = sp.Mul.make_args(body)
        coefficient, per_matrix, mixed = [], {}, []
        for f in factors:
            used = [d for d, _ in matrices if d in f.free_symbols]
            if not used:
                coefficient.append(f)
            elif len(used) == 1:
                per_matrix.setdefault(used[0], []).append(f)
            else:
                mixed.append(f)
        hadamard = []
        for d, a in matrices:
            if d in per_matrix:
                product = sp.Mul(*per_matrix[d])
                u = sp.Symbol("u", real=True)
                hadamard.append(a if product == d else Elementwise(sp.Lambda(u, product.xreplace({d: u})), a))
        if mixed:
            variables = [sp.Symbol(f"u{i}" if i else "u", real=True) for i in range(len(matrices))]
            rest = sp.Mul(*mixed).xreplace({d: v for (d, _), v in zip(matrices, variables, strict=True)})
            hadamard.append(Elementwise(sp.Lambda(tuple(variables), rest), *(a for _, a in matrices)))
        if not hadamard:
            return sp.Mul(*coefficient)
        product = hadamard[0] if len(hadamard) == 1 else sp.HadamardProduct(*hadamard)
        scale = sp.Mul(*coefficient)
        return product if scale == 1 else sp.MatMul(scale, product)
