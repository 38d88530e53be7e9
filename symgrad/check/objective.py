"""What the checks evaluate: loss and gradient callables of θ alone.

The checks are written against :class:`Objective`, a bundle of callables with
the data already bound; :func:`as_objective` builds one from everything
``gradcheck`` accepts: a :class:`~symgrad.Model`, a compiled model, a
data-free SymPy expression, or a pair ``(loss_fn, grad_fn)`` of plain Python
callables (numpy functions of a vector of any length).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..compile.compiled import CompiledModel
from ..errors import ComplexStepError, DeclarationError, EvaluationError, ShapeError
from ..model import Model

__all__ = ["Objective", "as_objective"]

_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


@dataclass(eq=False)
class Objective:
    """Callables of ``theta`` the checks call, counting each call.

    Build one directly to give callables names (``Objective(loss, grad, names=("a", "b"))``).

    Args:
        loss_fn: ``theta -> float``, the objective.
        grad_fn: ``theta -> array``, its claimed gradient.
        names: one display name per entry of ``theta``.
        dtype: the dtype of ``theta`` the callables take (default float64).
        complex_fn: ``complex theta -> complex``, for the complex step (optional).
        hessian_fn: ``theta -> (n, n) array`` (optional).
        hvp_fn: ``(theta, v) -> array`` (optional).
        symbols: the parameters' SymPy symbols, for LaTeX (optional).
        rows: samples in the batch; a batch mean of m terms is accurate to about √m·ε.
    """

    loss_fn: Callable[[np.ndarray], float]
    grad_fn: Callable[[np.ndarray], np.ndarray]
    names: tuple[str, ...]
    dtype: np.dtype = np.dtype(np.float64)
    complex_fn: Callable[[np.ndarray], complex] | None = None
    hessian_fn: Callable[[np.ndarray], np.ndarray] | None = None
    hvp_fn: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    symbols: tuple[sp.Symbol, ...] | None = None
    rows: int = 1
    n_loss: int = field(default=0, init=False)
    n_grad: int = field(default=0, init=False)

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def rounding(self) -> float:
        """Relative accuracy of one loss value, in units of ε (a documented heuristic)."""
        return 4.0 * np.sqrt(max(self.rows, 1))

    def loss(self, theta: np.ndarray) -> float:
        self.n_loss += 1
        return float(self.loss_fn(theta))

    def complex_loss(self, theta: np.ndarray) -> complex:
        if self.complex_fn is None:
            raise ComplexStepError("method='complex' needs a complex-capable loss; give the Objective "
                                   "complex_fn= (a loss that takes complex parameters)")
        self.n_loss += 1
        value = self.complex_fn(theta)
        if not np.iscomplexobj(value):
            raise ComplexStepError(
                f"method='complex': the loss returned {type(value).__name__} {value!r} for complex "
                "parameters; write it with numpy functions that keep complex numbers complex"
            )
        return complex(value)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        self.n_grad += 1
        g = np.asarray(self.grad_fn(theta))
        if g.shape != (self.n,):
            raise ShapeError(f"the gradient has shape {g.shape}, expected ({self.n},): "
                             "one entry per parameter")
        return g

    def point(self, theta) -> np.ndarray:
        """``theta`` (an array, or a ``{symbol or name: value}`` mapping) as a validated array."""
        if isinstance(theta, Mapping):
            theta = self._from_mapping(theta)
        elif isinstance(theta, np.ndarray):
            if theta.dtype in _FLOATS and theta.dtype != self.dtype:
                raise EvaluationError(f"theta has dtype {theta.dtype}, the objective takes {self.dtype}; "
                                      f"convert with theta.astype(np.{self.dtype})")
            theta = np.array(theta, dtype=self.dtype)
        else:
            try:
                theta = np.array(theta, dtype=self.dtype)
            except (TypeError, ValueError):
                raise EvaluationError(f"theta must be an array of {self.n} numbers or a mapping "
                                      f"{{symbol: value}}, got {type(theta).__name__}") from None
        if theta.shape != (self.n,):
            raise ShapeError(f"theta has shape {theta.shape}, expected ({self.n},): one entry per parameter")
        bad = np.flatnonzero(~np.isfinite(theta))
        if bad.size:
            raise EvaluationError(f"theta[{bad[0]}] ({self.names[bad[0]]}) is {theta[bad[0]]}; "
                                  "parameters must be finite")
        return theta

    def _from_mapping(self, values: Mapping) -> np.ndarray:
        by_name = {str(k): v for k, v in values.items()}
        unknown = sorted(set(by_name) - set(self.names))
        if unknown:
            raise EvaluationError(f"theta names {', '.join(unknown)}, which are not parameters; "
                                  f"the parameters are {_listing(self.names)}")
        missing = [name for name in self.names if name not in by_name]
        if missing:
            raise EvaluationError(f"theta has no value for {_listing(missing)}")
        try:
            return np.array([float(by_name[name]) for name in self.names], dtype=self.dtype)
        except (TypeError, ValueError) as error:
            raise EvaluationError(f"theta values must be real numbers: {error}") from None


def _listing(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, … ({len(names)} in all)"


def _from_compiled(compiled: CompiledModel, X, T) -> Objective:
    layout = compiled.layout
    rows = 1
    if compiled.has_data and (X is not None or T is not None):
        # The kernels validate X and T; their row count sets the rounding estimate.
        rows = int(np.shape(X if X is not None else T)[0])

    def hvp(theta, v):
        return compiled.hvp(theta, np.ascontiguousarray(v, dtype=compiled.dtype), X, T)

    return Objective(
        loss_fn=lambda theta: compiled.loss(theta, X, T),
        grad_fn=lambda theta: compiled.grad(theta, X, T),
        names=tuple(str(p) for p in layout.params),
        dtype=compiled.dtype,
        complex_fn=lambda theta: compiled.complex_loss(theta, X, T),
        hessian_fn=(lambda theta: compiled.hessian(theta, X, T)) if layout.hessian else None,
        hvp_fn=hvp if layout.hvp else None,
        symbols=tuple(layout.params),
        rows=rows,
    )


def _expression_params(expr: sp.Expr, theta) -> list[sp.Symbol]:
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    if not isinstance(theta, Mapping):
        return free
    by_name = {s.name: s for s in free}
    unknown = [str(k) for k in theta if str(k) not in by_name]
    if unknown:
        raise EvaluationError(f"theta names {_listing(unknown)}, which the expression does not contain; "
                              f"its symbols are {_listing(list(by_name))}")
    params = [by_name[str(k)] for k in theta]
    missing = [s.name for s in free if s not in params]
    if missing:
        raise EvaluationError(f"theta has no value for {_listing(missing)}; a data-free expression's "
                              "free symbols are all parameters")
    return params


def as_objective(target, theta, X=None, T=None, *, hessian: bool = False) -> Objective:
    """An :class:`Objective` for ``target`` with the data ``X``, ``T`` bound.

    Args:
        target: a :class:`~symgrad.Model` (compiled on first use, float64), a
            compiled model, a data-free SymPy expression (its free symbols are
            the parameters: the keys of ``theta`` when it is a mapping, else
            sorted by name), a pair ``(loss_fn, grad_fn)`` of callables of
            ``theta`` (optionally a third, ``hessian_fn``), or an Objective.
        theta: the point (used here only to order an expression's parameters).
        hessian: compile a model's Hessian kernel even above 20 parameters.
    """
    if isinstance(target, Objective):
        return target
    if isinstance(target, sp.Basic):
        if not isinstance(target, sp.Expr) or target.free_symbols == set():
            raise DeclarationError(f"a SymPy objective must be an expression of its parameters, "
                                   f"got {target!r}")
        if X is not None or T is not None:
            raise DeclarationError("a SymPy expression is a data-free objective; X and T must be None "
                                   "(declare a sg.Model with inputs and targets for a loss over data)")
        target = Model(loss=target, params=_expression_params(target, theta))
    if isinstance(target, Model):
        target = target.compile(hessian=True if hessian else None)
    if isinstance(target, CompiledModel):
        return _from_compiled(target, X, T)
    if isinstance(target, (tuple, list)) and len(target) in (2, 3) and all(map(callable, target)):
        if X is not None or T is not None:
            raise DeclarationError("with (loss_fn, grad_fn) callables, bind the data inside them; "
                                   "X and T must be None")
        if isinstance(theta, Mapping):
            raise DeclarationError("with (loss_fn, grad_fn) callables theta is a flat array; to name its "
                                   "entries, build sg.check.Objective(loss_fn, grad_fn, names=...)")
        array = theta if isinstance(theta, np.ndarray) and theta.dtype in _FLOATS else None
        n = int(np.size(theta))
        hessian_fn = target[2] if len(target) == 3 else None

        def complex_fn(z):
            return target[0](z)

        return Objective(loss_fn=target[0], grad_fn=target[1], names=tuple(f"θ[{i}]" for i in range(n)),
                         dtype=np.dtype(np.float64) if array is None else array.dtype,
                         complex_fn=complex_fn, hessian_fn=hessian_fn)
    raise DeclarationError(
        "gradcheck takes a sg.Model, a compiled model, a data-free SymPy expression or a pair "
        f"(loss_fn, grad_fn) of callables; got {type(target).__name__}"
    )
