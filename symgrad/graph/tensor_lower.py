"""Lowering matrix (and mixed scalar/matrix) SymPy expressions into tensor nodes.

Each SymPy matrix construct becomes one node of :mod:`symgrad.graph.tensor`;
a scalar subexpression becomes one elementwise node whose body is the scalar
formula over its matrix-valued or symbolic atoms (``W[0, 0]``, ``sum(M)``,
a target ``t``). Matrix products are folded from the right, so a product
``uᵀ A v`` with ``u`` depending on the sample becomes ``sum(u ∘ (A v))``.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from ..declare.tensors import (
    Defined,
    Element,
    Elementwise,
    LogSumExp,
    MatrixSum,
    Softmax,
    _as_lambda,
    is_matrix,
)
from ..errors import DeclarationError, ShapeError, UnsupportedOperationError
from .tensor import SCALAR, TensorStore, dummy

__all__ = ["TensorLowering"]

#: Scalar subexpressions that are operands of a scalar formula rather than part of it.
_ATOMS = (sp.Symbol, MatrixElement, Element, MatrixSum, LogSumExp, Defined)


class TensorLowering:
    """Lowers expressions into ``store``; ``roles`` maps declared symbols to param/input/target."""

    def __init__(self, store: TensorStore, roles: Mapping[sp.Basic, str], rewrite=None):
        self.store = store
        self.roles = dict(roles)
        #: Applied to every scalar body (e.g. the kernels' numerically stable forms).
        self.rewrite = rewrite or (lambda body: body)
        self.ids: dict[sp.Basic, int] = {}
        #: The SymPy expression of each node (the first one lowered to it).
        self.expressions: dict[int, sp.Basic] = {}

    def lower(self, expr) -> int:
        expr = sp.sympify(expr)
        if expr not in self.ids:
            node = self._lower(expr)
            self.ids[expr] = node
            self.expressions.setdefault(node, expr)
        return self.ids[expr]

    # -- one construct each ------------------------------------------------------------
    def _lower(self, expr) -> int:  # noqa: PLR0911 - one case per construct
        store = self.store
        if isinstance(expr, Defined):
            return self.lower(expr.definition())
        if isinstance(expr, (sp.MatrixSymbol, sp.Symbol)):
            return self._leaf(expr)
        if isinstance(expr, sp.MatAdd):
            operands = [self.lower(a) for a in expr.args]
            return store.ew(sp.Add(*(dummy(k) for k in range(len(operands)))), operands)
        if isinstance(expr, sp.HadamardProduct):
            operands = [self.lower(a) for a in expr.args]
            return store.ew(sp.Mul(*(dummy(k) for k in range(len(operands)))), operands)
        if isinstance(expr, sp.HadamardPower):
            base, exponent = expr.args
            return self._elementwise(sp.Lambda(dummy(0), dummy(0) ** exponent), [base])
        if isinstance(expr, sp.MatMul):
            return self._product(expr)
        if isinstance(expr, sp.Transpose):
            inner = self.lower(expr.args[0])
            if store[inner].is_scalar:
                return inner
            if store[inner].batched:
                raise UnsupportedOperationError(
                    f"the transpose {expr} of a per-sample vector can only be the left factor of a "
                    f"product u.T*v (a dot product)")
            rows, cols = store[inner].shape
            return store.add("transpose", [inner], (cols, rows))
        if isinstance(expr, Elementwise):
            return self._elementwise(expr.function, list(expr.operands))
        if isinstance(expr, ElementwiseApplyFunction):
            return self._elementwise(_as_lambda(expr.function), [expr.expr])
        if isinstance(expr, Softmax):
            inner = self.lower(expr.args[0])
            return store.add("softmax", [inner], store[inner].shape)
        if isinstance(expr, (MatrixSum, LogSumExp)):
            inner = self.lower(expr.args[0])
            if isinstance(expr, LogSumExp) and store[inner].shape[1:] not in ((), (1,)):
                raise ShapeError(f"logsumexp needs a column vector, got {expr.args[0]} of shape "
                                 f"{store[inner].shape}")
            if isinstance(expr, MatrixSum) and store[inner].is_scalar:
                return inner  # the sum of one element (a 1 x 1 loss term) is that element
            return store.add("sum" if isinstance(expr, MatrixSum) else "logsumexp", [inner], SCALAR)
        if isinstance(expr, (MatrixElement, Element)):
            parent, i, j = expr.args
            inner = self.lower(parent)
            if store[inner].is_scalar:
                return inner
            return store.add("element", [inner], SCALAR, index=(int(i), int(j)))
        if isinstance(expr, sp.MatrixExpr):
            raise UnsupportedOperationError(
                f"{type(expr).__name__} ({expr}) is not supported in layered models; supported: matrix "
                f"products, transposes, +, HadamardProduct, elementwise functions, sum, softmax, "
                f"logsumexp and elements")
        if isinstance(expr, sp.MatrixBase):
            raise UnsupportedOperationError(
                f"an explicit Matrix {expr.shape} in a layered model; declare it as a MatrixSymbol")
        if isinstance(expr, (sp.Number, sp.NumberSymbol)) or expr.is_number:
            return store.constant(expr)
        return self._scalar(expr)

    def _leaf(self, symbol) -> int:
        role = self.roles.get(symbol)
        if role is None:
            raise DeclarationError(
                f"{symbol} is not declared: list it in params, inputs or targets (or substitute a value)")
        shape = tuple(symbol.shape) if isinstance(symbol, sp.MatrixSymbol) else SCALAR
        batched = role in ("input", "target")
        return self.store.add("leaf", (), shape, batched=batched, symbol=symbol, role=role)

    def _elementwise(self, function: sp.Lambda, operands) -> int:
        variables = function.variables
        body = function.expr
        matrices = [self.lower(a) for a in operands]
        # Free symbols of the body (e.g. a scalar parameter) are operands too.
        extra = sorted(body.free_symbols - set(variables), key=str)
        nodes = matrices + [self.lower(s) for s in extra]
        names = list(variables) + extra
        return self.store.ew(self.rewrite(body.xreplace({v: dummy(k) for k, v in enumerate(names)})), nodes,
                             shape=self._common_shape(matrices, function))

    def _common_shape(self, nodes, what):
        shapes = {self.store[n].shape for n in nodes if not self.store[n].is_scalar}
        if len(shapes) > 1:
            raise ShapeError(f"{what}: operands of shapes {sorted(shapes)}; elementwise needs one shape")
        return shapes.pop() if shapes else SCALAR

    def _product(self, expr: sp.MatMul) -> int:
        scalars = [a for a in expr.args if not is_matrix(a)]
        factors = [a for a in expr.args if is_matrix(a)]
        acc = self.lower(factors[-1])
        for factor in reversed(factors[:-1]):
            acc = self._times(factor, acc, expr)
        if scalars:
            coefficient = self.lower(sp.Mul(*scalars))
            acc = self.store.ew(dummy(0) * dummy(1), [coefficient, acc])
        return acc

    def _times(self, factor, right: int, whole) -> int:
        store = self.store
        if isinstance(factor, sp.Transpose):
            u = self.lower(factor.args[0])
            if store[u].batched and not store[u].is_scalar:
                # uᵀ v of per-sample column vectors: a dot product.
                if store[right].shape != store[u].shape:
                    raise ShapeError(f"in {whole}: {factor} times a {store[right].shape} value; a per-sample "
                                     f"row vector can only multiply a column of shape {store[u].shape}")
                return store.add("sum", [store.ew(dummy(0) * dummy(1), [u, right])], SCALAR)
        left = self.lower(factor)
        if store[left].is_scalar or store[right].is_scalar:
            return store.ew(dummy(0) * dummy(1), [left, right])
        if store[left].batched:
            raise UnsupportedOperationError(
                f"in {whole}: the left factor {factor} depends on the sample; products of per-sample "
                f"values are supported as A*v (A not per-sample) and u.T*v")
        (r, k), (k2, c) = store[left].shape, store[right].shape
        if k != k2:
            raise ShapeError(f"in {whole}: cannot multiply {factor} of shape {(r, k)} by a {(k2, c)} value")
        return store.add("matmul", [left, right], (r, c))

    def _scalar(self, expr: sp.Expr) -> int:
        atoms: list[sp.Basic] = []
        seen: set = set()
        stack = [expr]
        while stack:
            e = stack.pop()
            if isinstance(e, _ATOMS) or is_matrix(e):
                if e not in seen:
                    seen.add(e)
                    atoms.append(e)
            elif e.args:
                stack.extend(reversed(e.args))
        if len(atoms) == 1 and atoms[0] == expr:
            return self.lower(expr)
        nodes = [self.lower(a) for a in atoms]
        for a, n in zip(atoms, nodes, strict=True):
            if not self.store[n].is_scalar:
                raise ShapeError(f"{a} of shape {self.store[n].shape} inside the scalar expression {expr}; "
                                 f"use sg.nn.sum, an element, or an elementwise function")
        body = self.rewrite(expr.xreplace({a: dummy(k) for k, a in enumerate(atoms)}))
        return self.store.ew(body, nodes, SCALAR)
