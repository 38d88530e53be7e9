"""The functional entry points: graph, grad, jacobian, hessian.

Each takes plain SymPy expressions and returns plain SymPy objects (or a
numpy array when a point ``at`` is given), so results can be printed,
simplified, LaTeX'd and substituted into like any SymPy expression.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from .codegen.emit import emit_source
from .errors import DeclarationError, UnsupportedOperationError
from .graph.lower import to_graph
from .program.build import build_program
from .program.program import Program

__all__ = ["graph", "grad", "jacobian", "hessian", "program", "emit"]

Point = Mapping[sp.Symbol, object]


def graph(expr: sp.Basic | Sequence[sp.Basic], roles: Mapping[sp.Symbol, str] | None = None) -> nx.DiGraph:
    """Lower a scalar expression (or several) into the computational graph.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> G = graph(sp.sin(x * y) + x * y)      # x*y is one shared node
    >>> sorted(d["op"] for _, d in G.nodes(data=True))
    ['Add', 'Mul', 'sin', 'symbol', 'symbol']
    """
    return to_graph(expr, roles)


def program(exprs, wrt: Sequence[sp.Symbol] = (), order: int = 1, cse: bool = True) -> Program:
    """The straight-line program (forward + adjoint passes) for ``exprs``.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> print(program(x * sp.exp(y), [x, y]))
    # inputs: x, y
    v2 = exp(y)
    v3 = v2*x
    f := v3
    ∂f/∂x := v2
    ∂f/∂y := v3
    """
    return build_program(exprs, _as_wrt(wrt), order=order, cse=cse)


def _as_wrt(wrt) -> list[sp.Symbol]:
    if isinstance(wrt, sp.Basic):
        return [wrt]
    if isinstance(wrt, (str, bytes)) or not isinstance(wrt, Sequence):
        raise DeclarationError(f"wrt must be a symbol or a list of symbols, got {wrt!r}")
    return list(wrt)


def _at(prog: Program, at: Point, keys: Sequence) -> np.ndarray:
    values = prog.evaluate(at)
    return np.array([float(sp.N(values[k], 20)) for k in keys], dtype=np.float64)


def grad(expr: sp.Basic, wrt, at: Point | None = None):
    """Exact gradient of a scalar expression by reverse mode over its graph.

    Args:
        expr: a scalar SymPy expression.
        wrt: the symbols to differentiate with respect to (any symbols).
        at: optional point ``{symbol: number}`` covering every free symbol.

    Returns:
        A list of SymPy expressions, or a float64 array when ``at`` is given.

    >>> import sympy as sp
    >>> x, y, z, w = sp.symbols("x y z w")
    >>> f = 2 * (x * y + sp.Max(z, w))
    >>> grad(f, [x, y])
    [2*y, 2*x]
    >>> grad(f, [x, y, z, w], at={x: 3, y: -4, z: 2, w: -1})
    array([-8.,  6.,  2.,  0.])
    """
    wrt = _as_wrt(wrt)
    if _has_matrices(expr, wrt):
        return _elementwise_grad(expr, wrt, at)
    prog = build_program(expr, wrt, order=1, cse=at is None)
    keys = [("grad", 0, i) for i in range(len(wrt))]
    if at is not None:
        return _at(prog, at, keys)
    expanded = prog.expanded()
    return [expanded[k] for k in keys]


def _has_matrices(expr, wrt) -> bool:
    from .declare.tensors import matrix_symbols

    return isinstance(expr, sp.Basic) and bool(matrix_symbols(expr)) or any(
        isinstance(w, (sp.MatrixSymbol, MatrixElement)) for w in wrt)


def _elementwise_grad(expr, wrt, at):
    """``grad`` of an expression of matrices with respect to single elements (``W1[2, 0]``):
    the matrices are written out element by element and each element is a scalar symbol."""
    from .declare.tensors import explicit

    for w in wrt:
        if not isinstance(w, (sp.Symbol, MatrixElement)):
            raise DeclarationError(f"differentiate with respect to symbols or single elements such as "
                                   f"W[2, 0]; got {w!r} (a layered Model gives whole-matrix gradients)")
    scalar = explicit(expr)
    if isinstance(scalar, sp.MatrixBase):
        if scalar.shape != (1, 1):
            raise UnsupportedOperationError(f"grad needs a scalar expression, got the {type(expr).__name__} "
                                            f"{expr} of shape {scalar.shape}")
        scalar = scalar[0, 0]
    elements = {e for e in sp.preorder_traversal(scalar) if isinstance(e, MatrixElement)} | {
        w for w in wrt if isinstance(w, MatrixElement)}
    stand_in = {e: sp.Dummy(f"{e.parent}_{e.i}_{e.j}", real=True) for e in elements}
    back = {s: e for e, s in stand_in.items()}
    result = grad(scalar.xreplace(stand_in), [stand_in.get(w, w) for w in wrt],
                  at=None if at is None else {stand_in.get(k, k): v for k, v in at.items()})
    return result if at is not None else [g.xreplace(back) for g in result]


def jacobian(exprs: Sequence[sp.Basic], wrt, at: Point | None = None):
    """Jacobian matrix ``J[k, i] = ∂exprs[k]/∂wrt[i]`` (one reverse sweep per row).

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> jacobian([x * y, x + y], [x, y])
    Matrix([
    [y, x],
    [1, 1]])
    """
    if isinstance(exprs, sp.Basic):
        raise DeclarationError("jacobian takes a list of expressions; use grad for a single one")
    exprs, wrt = list(exprs), _as_wrt(wrt)
    prog = build_program(exprs, wrt, order=1, cse=at is None)
    keys = [("grad", k, i) for k in range(len(exprs)) for i in range(len(wrt))]
    if at is not None:
        return _at(prog, at, keys).reshape(len(exprs), len(wrt))
    expanded = prog.expanded()
    return sp.Matrix(len(exprs), len(wrt), [expanded[k] for k in keys])


def hessian(expr: sp.Basic, wrt, at: Point | None = None):
    """Exact Hessian by reverse over reverse mode on the gradient program.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> hessian(x**2 * y, [x, y])
    Matrix([
    [2*y, 2*x],
    [2*x,   0]])
    """
    wrt = _as_wrt(wrt)
    prog = build_program(expr, wrt, order=2, cse=at is None)
    n = len(wrt)
    keys = [("hess", 0, i, j) for i in range(n) for j in range(n)]
    if at is not None:
        return _at(prog, at, keys).reshape(n, n)
    expanded = prog.expanded()
    return sp.Matrix(n, n, [expanded[k] for k in keys])


def emit(model, path, *, optimizer: str = "adam", epochs: int = 100, batch_size: int | None = None,
         seed: int = 0, dtype: str = "float64", **settings) -> Path:
    """Write a standalone training module for ``model`` (numpy and numba only).

    The module holds the compiled kernels' source, the parameter layout and a
    training loop; run it as ``python train_model.py data.npz`` or import it.

    Args:
        model: a :class:`symgrad.Model` with inputs or targets.
        path: the ``.py`` file to write.
        optimizer: ``"adam"`` (torch defaults: lr 1e-3, betas 0.9/0.999, eps 1e-8)
            or ``"gd"`` (lr 0.1); override with ``lr=``, ``beta1=``, ...
        epochs, batch_size, seed: the defaults of the emitted ``train``;
            ``batch_size=None`` is full-batch gradient descent.
    """
    if not (model.inputs or model.targets):
        raise DeclarationError("emit writes a training script over data: the model needs inputs or targets")
    from .matrix_model import MatrixModel

    if isinstance(model, MatrixModel):
        raise DeclarationError("standalone scripts are written for scalar models; a layered model's kernels "
                               "call symgrad's compiled helpers (see model.compile().source)")
    path = Path(path)
    source = emit_source(model.kernel_programs(), filename=path.name, description=repr(model),
                         optimizer=optimizer, epochs=epochs, batch_size=batch_size, seed=seed,
                         dtype=dtype, **settings)
    path.write_text(source)
    return path
