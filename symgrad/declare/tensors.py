"""Matrix-valued declarations: shaped symbols and the matrix functions symgrad adds to SymPy.

Parameters and data of layered models are ``sympy.MatrixSymbol``s; an int shape
``n`` is a column vector ``(n, 1)``. SymPy's own matrix algebra (``*`` is the
matrix product, ``.T``, ``+``, ``HadamardProduct``) works on them unchanged;
this module adds what SymPy lacks, as unevaluated SymPy objects that print
readably and that symgrad lowers and differentiates itself:

* :class:`Elementwise` — a scalar function (or ``Lambda``) applied to every
  element, printed ``tanh.(W*x + b)``;
* :class:`MatrixSum`, :class:`LogSumExp` — scalars from a matrix;
* :class:`Softmax` — a column vector's softmax;
* :class:`Element` — one element of a compound matrix expression (SymPy would
  expand ``(W*x)[0, 0]`` into a sum over the product).

:func:`explicit` expands any of these into ordinary SymPy scalars of the
matrix elements ``W[i, j]``: the scalar form the tests compare against.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..errors import DeclarationError, ShapeError

__all__ = ["Param", "Input", "Target", "matrix_shape", "Elementwise", "MatrixSum", "LogSumExp", "Softmax",
           "Element", "Defined", "apply", "element", "explicit", "is_matrix", "matrix_symbols", "elements"]


def matrix_shape(shape, name: str) -> tuple[int, int] | tuple[()]:
    """``()`` (a scalar), ``n`` (a column vector ``(n, 1)``) or ``(rows, cols)``, checked."""
    if shape == () or shape is None:
        return ()
    dims = (shape, 1) if isinstance(shape, int) and not isinstance(shape, bool) else tuple(shape)
    if len(dims) != 2 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ShapeError(f"{name}: shape must be (), a positive int n (a column vector) or (rows, cols) of "
                         f"positive ints, got {shape!r}")
    return dims


def _declare(name: str, shape):
    if not isinstance(name, str) or not name.isidentifier():
        raise DeclarationError(f"a symbol name must be an identifier, got {name!r}")
    dims = matrix_shape(shape, name)
    return sp.Symbol(name, real=True) if dims == () else sp.MatrixSymbol(name, *dims)


def Param(name: str, shape=()):  # noqa: N802 - reads like a declaration
    """A trained parameter: a ``MatrixSymbol`` of ``shape`` (an int is a column vector), or a
    real ``Symbol`` for ``shape=()``.

    >>> W1 = Param("W1", (32, 64)); b1 = Param("b1", 32)
    >>> W1.shape, b1.shape
    ((32, 64), (32, 1))
    """
    return _declare(name, shape)


def Input(name: str, shape=()):  # noqa: N802
    """One sample's input: a column vector for an int shape (data rows are ``(n, size)``)."""
    return _declare(name, shape)


def Target(name: str, shape=()):  # noqa: N802
    """One sample's target (e.g. a one-hot column vector)."""
    return _declare(name, shape)


def is_matrix(expr) -> bool:
    return isinstance(expr, sp.MatrixExpr) or (isinstance(expr, sp.Basic) and expr.is_Matrix is True)


def matrix_symbols(expr: sp.Basic) -> set[sp.MatrixSymbol]:
    """The ``MatrixSymbol``s ``expr`` reads."""
    return {a for a in sp.preorder_traversal(expr) if isinstance(a, sp.MatrixSymbol)}


def elements(symbol) -> list[sp.Basic]:
    """The scalar entries of a declared symbol in ``theta`` order (row-major)."""
    if isinstance(symbol, sp.MatrixSymbol):
        rows, cols = symbol.shape
        return [symbol[i, j] for i in range(rows) for j in range(cols)]
    return [symbol]


def _u(k: int) -> sp.Symbol:
    return sp.Symbol(f"u{k}" if k else "u", real=True)


class Elementwise(sp.MatrixExpr):
    """``function`` applied to each element of equally shaped matrices (scalar arguments broadcast).

    ``Elementwise(Lambda(u, tanh(u)), M)`` prints as ``tanh.(M)``; a function of
    several matrices prints as ``(u, u1 ↦ body).(A, B)``.
    """

    def __new__(cls, function, *args):
        args = tuple(sp.sympify(a) for a in args)
        if not isinstance(function, sp.Lambda):
            raise DeclarationError(f"Elementwise needs a sympy Lambda, got {type(function).__name__}")
        if len(function.variables) != len(args):
            raise DeclarationError(f"{function} takes {len(function.variables)} argument(s), got {len(args)}")
        shapes = {a.shape for a in args if is_matrix(a)}
        if not shapes:
            raise ShapeError("Elementwise needs at least one matrix argument")
        if len(shapes) > 1:
            raise ShapeError(f"elementwise arguments must have one shape, got {sorted(shapes)}")
        return sp.Basic.__new__(cls, function, *args)

    @property
    def function(self) -> sp.Lambda:
        return self.args[0]

    @property
    def operands(self) -> tuple:
        return self.args[1:]

    @property
    def shape(self):
        return next(a.shape for a in self.operands if is_matrix(a))

    def _entry(self, i, j, **kwargs):
        return self.function(*(a[i, j] if is_matrix(a) else a for a in self.operands))

    def _eval_transpose(self):
        return Elementwise(self.function, *(a.T if is_matrix(a) else a for a in self.operands))

    def _sympystr(self, printer):
        body = self.function.expr
        names = self.function.variables
        if len(names) == 1 and isinstance(body, sp.Function) and body.args == names:
            return f"{printer._print(body.func)}.({printer._print(self.operands[0])})"
        head = ", ".join(printer._print(v) for v in names)
        operands = ", ".join(printer._print(a) for a in self.operands)
        return f"({head} ↦ {printer._print(body)}).({operands})"

    def _latex(self, printer):
        body = self.function.expr
        names = self.function.variables
        operands = ", ".join(printer._print(a) for a in self.operands)
        if len(names) == 1 and isinstance(body, sp.Function) and body.args == names:
            return rf"{printer._print(body.func)}.\left({operands}\right)"
        head = ", ".join(printer._print(v) for v in names)
        return rf"\left({head} \mapsto {printer._print(body)}\right).\left({operands}\right)"


class MatrixSum(sp.Expr):
    """The sum of all elements of a matrix (a scalar)."""

    is_commutative = True

    def __new__(cls, matrix):
        if not is_matrix(matrix):
            raise ShapeError(f"sum needs a matrix expression, got {matrix!r}")
        return sp.Expr.__new__(cls, matrix)

    def _sympystr(self, printer):
        return f"sum({printer._print(self.args[0])})"

    def _latex(self, printer):
        return rf"\operatorname{{sum}}\left({printer._print(self.args[0])}\right)"


class LogSumExp(sp.Expr):
    r"""``log Σ exp(v_i)`` over the elements of a matrix, computed stably (max subtracted)."""

    is_commutative = True

    def __new__(cls, matrix):
        if not is_matrix(matrix):
            raise ShapeError(f"logsumexp needs a matrix expression, got {matrix!r}")
        return sp.Expr.__new__(cls, matrix)

    def _sympystr(self, printer):
        return f"logsumexp({printer._print(self.args[0])})"

    def _latex(self, printer):
        return rf"\operatorname{{logsumexp}}\left({printer._print(self.args[0])}\right)"


class Softmax(sp.MatrixExpr):
    """``exp(v_i) / Σ_j exp(v_j)`` of a column vector (computed stably)."""

    def __new__(cls, vector):
        if not is_matrix(vector) or vector.shape[1] != 1:
            shape = getattr(vector, "shape", "a scalar")
            raise ShapeError(f"softmax needs a column vector (n, 1), got {shape}")
        return sp.Basic.__new__(cls, vector)

    @property
    def shape(self):
        return self.args[0].shape

    def _entry(self, i, j, **kwargs):
        v = self.args[0]
        return sp.exp(v[i, 0]) / sp.Add(*(sp.exp(v[k, 0]) for k in range(v.shape[0])))

    def _sympystr(self, printer):
        return f"softmax({printer._print(self.args[0])})"

    def _latex(self, printer):
        return rf"\operatorname{{softmax}}\left({printer._print(self.args[0])}\right)"


class Element(sp.Expr):
    """Element ``(i, j)`` of a matrix expression, kept unexpanded (``M[i, j]``)."""

    is_commutative = True

    def __new__(cls, matrix, i, j):
        if not is_matrix(matrix):
            raise ShapeError(f"element of a non-matrix {matrix!r}")
        rows, cols = matrix.shape
        i, j = int(i), int(j)
        if not (0 <= i < rows and 0 <= j < cols):
            raise ShapeError(f"index ({i}, {j}) is outside the shape {matrix.shape} of {matrix}")
        return sp.Expr.__new__(cls, matrix, sp.Integer(i), sp.Integer(j))

    def _sympystr(self, printer):
        return f"({printer._print(self.args[0])})[{self.args[1]}, {self.args[2]}]"

    def _latex(self, printer):
        return rf"\left({printer._print(self.args[0])}\right)_{{{self.args[1]}{self.args[2]}}}"


def _as_lambda(function, arity: int = 1) -> sp.Lambda:
    if isinstance(function, sp.Lambda):
        return function
    variables = [_u(k) for k in range(arity)]
    if isinstance(function, sp.FunctionClass):
        return sp.Lambda(variables[0] if arity == 1 else tuple(variables), function(*variables))
    if callable(function):
        body = function(*variables)
        if not isinstance(body, sp.Expr):
            raise DeclarationError(f"an elementwise function must return a SymPy expression, got {body!r}")
        return sp.Lambda(variables[0] if arity == 1 else tuple(variables), body)
    raise DeclarationError(f"expected a SymPy function, Lambda or callable, got {function!r}")


def apply(function, expr):
    """``function`` of a scalar, or applied to each element of a matrix expression."""
    if is_matrix(expr):
        return Elementwise(_as_lambda(function), expr)
    return _as_lambda(function)(expr)


def element(matrix, i: int = 0, j: int = 0):
    """``matrix[i, j]`` without expanding a product (``MatrixSymbol`` elements stay ``W[i, j]``)."""
    if isinstance(matrix, sp.MatrixSymbol):
        return matrix[i, j]
    if isinstance(matrix, sp.MatMul) and len(matrix.args) == 2 and not is_matrix(matrix.args[0]):
        return matrix.args[0] * element(matrix.args[1], i, j)  # c*M: c times the element
    return Element(matrix, i, j)


class Defined(sp.Expr):
    """A named scalar function of matrices (a loss, a penalty) that prints as itself and
    is lowered and differentiated as its :meth:`definition`."""

    is_commutative = True
    name = "defined"

    def definition(self) -> sp.Expr:
        raise NotImplementedError

    def _sympystr(self, printer):
        return f"{self.name}({', '.join(printer._print(a) for a in self.args)})"

    def _latex(self, printer):
        args = ", ".join(printer._print(a) for a in self.args)
        return rf"\operatorname{{{self.name}}}\left({args}\right)"


# -- the scalar form ------------------------------------------------------------------------
def explicit(expr):
    """``expr`` with every matrix expanded into ordinary SymPy scalars of the elements ``W[i, j]``.

    Matrix expressions become ``sympy.ImmutableMatrix``; scalar expressions stay
    scalars. An independent reference for the tensor-level derivatives.
    """
    memo: dict = {}
    return _explicit(sp.sympify(expr), memo)


def _explicit(expr, memo):
    if expr in memo:
        return memo[expr]
    result = _explicit_node(expr, memo)
    memo[expr] = result
    return result


def _explicit_node(expr, memo):  # noqa: PLR0911 - one case per construct
    if isinstance(expr, Defined):
        return _explicit(expr.definition(), memo)
    if isinstance(expr, sp.MatrixSymbol):
        return sp.ImmutableMatrix(*expr.shape, lambda i, j: expr[i, j])
    if isinstance(expr, sp.MatrixBase):
        return sp.ImmutableMatrix(expr)
    if isinstance(expr, sp.matrices.expressions.matexpr.MatrixElement):
        parent = expr.args[0]
        if isinstance(parent, sp.MatrixSymbol):
            return expr
        return _explicit(parent, memo)[int(expr.args[1]), int(expr.args[2])]
    if isinstance(expr, Element):
        return _explicit(expr.args[0], memo)[int(expr.args[1]), int(expr.args[2])]
    if isinstance(expr, sp.MatAdd):
        parts = [_explicit(a, memo) for a in expr.args]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return sp.ImmutableMatrix(total)
    if isinstance(expr, sp.MatMul):
        parts = [_explicit(a, memo) for a in expr.args]
        total = parts[0]
        for p in parts[1:]:
            total = total * p
        return sp.ImmutableMatrix(total) if isinstance(total, sp.MatrixBase) else total
    if isinstance(expr, sp.Transpose):
        return _explicit(expr.args[0], memo).T
    if isinstance(expr, sp.HadamardProduct):
        parts = [_explicit(a, memo) for a in expr.args]
        total = parts[0]
        for p in parts[1:]:
            total = total.multiply_elementwise(p)
        return sp.ImmutableMatrix(total)
    if isinstance(expr, sp.HadamardPower):
        base, exponent = (_explicit(a, memo) for a in expr.args)
        return base.applyfunc(lambda e: e ** exponent)
    if isinstance(expr, (Elementwise, ElementwiseApplyFunction)):
        function = expr.function if isinstance(expr, Elementwise) else _as_lambda(expr.function)
        operands = expr.operands if isinstance(expr, Elementwise) else (expr.expr,)
        values = [_explicit(a, memo) for a in operands]
        rows, cols = expr.shape
        # The body may itself hold matrices (sum(M), softmax(M)): written out first, then each
        # element substituted for the bound variables.
        body = _explicit(function.expr, memo)
        variables = function.variables
        return sp.ImmutableMatrix(rows, cols, lambda i, j: body.xreplace(dict(zip(variables, (
            v[i, j] if isinstance(v, sp.MatrixBase) else v for v in values), strict=True))))
    if isinstance(expr, Softmax):
        v = _explicit(expr.args[0], memo)
        total = sp.Add(*(sp.exp(e) for e in v))
        return v.applyfunc(lambda e: sp.exp(e) / total)
    if isinstance(expr, MatrixSum):
        return sp.Add(*_explicit(expr.args[0], memo))
    if isinstance(expr, LogSumExp):
        return sp.log(sp.Add(*(sp.exp(e) for e in _explicit(expr.args[0], memo))))
    if isinstance(expr, sp.MatrixExpr):
        explicit_form = getattr(expr, "explicit", None)
        if explicit_form is not None:
            return _explicit(explicit_form(), memo)
        return sp.ImmutableMatrix(expr.as_explicit())
    if not expr.args or isinstance(expr, sp.Lambda):
        return expr
    args = [_explicit(a, memo) for a in expr.args]
    if any(isinstance(a, sp.MatrixBase) for a in args):
        if all(isinstance(a, sp.MatrixBase) and a.shape == (1, 1) or not isinstance(a, sp.MatrixBase)
               for a in args):
            args = [a[0, 0] if isinstance(a, sp.MatrixBase) else a for a in args]
        else:
            raise ShapeError(f"{type(expr).__name__} of a matrix in {expr}; use an elementwise function")
    return expr.func(*args)
