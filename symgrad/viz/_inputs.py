"""The objectives and points pictures accept, turned into compiled kernels and arrays.

An objective is a :class:`~symgrad.Model`, a
:class:`~symgrad.compile.compiled.CompiledModel` or (data-free) a SymPy
expression, whose parameters are then its free symbols sorted by name, as
in :func:`symgrad.minimize`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..compile.compiled import CompiledModel
from ..compile.validate import flat_parameters
from ..errors import DeclarationError
from ..model import Model

__all__ = ["as_model", "as_compiled", "as_theta", "LossEvaluator"]


def as_model(objective, params=None):
    """A Model (or an already compiled one) for ``objective``."""
    if isinstance(objective, (Model, CompiledModel)):
        if params is not None:
            raise DeclarationError("params= is for SymPy expressions; a model already names its parameters")
        return objective
    if isinstance(objective, sp.Basic):
        if params is None:
            params = sorted(objective.free_symbols, key=str)
        return Model(objective, params)
    raise DeclarationError(f"expected a symgrad Model, a CompiledModel or a SymPy expression, got "
                           f"{type(objective).__name__}: {objective!r}")


def as_compiled(objective, params=None) -> CompiledModel:
    model = as_model(objective, params)
    return model if isinstance(model, CompiledModel) else model.compile()


def as_theta(theta, compiled: CompiledModel, name: str = "theta") -> np.ndarray:
    """A float64 copy of ``theta``: an array, ``{symbol: value}`` or a FitResult (its ``.theta``)."""
    if hasattr(theta, "theta") and not isinstance(theta, np.ndarray):
        theta = theta.theta
    return flat_parameters(theta, compiled.layout.params, np.float64, name)


class LossEvaluator:
    """The objective at many points: data validated once, then the raw loss kernel.

    Calling ``compiled.loss`` per point would validate ``X`` and ``T`` again
    for every grid point, which costs thirty times the kernel call itself.
    """

    def __init__(self, compiled: CompiledModel, X=None, T=None):
        self.compiled = compiled
        zeros = np.zeros(compiled.n_params, compiled.dtype)
        # The same validation (and messages) as compiled.loss, done once.
        self._data = compiled._arguments(zeros, X, T)[1:]
        self._kernel = compiled.module.loss

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """The objective at each row of ``points`` (shape ``(..., n_params)``)."""
        points = np.asarray(points, dtype=np.float64)
        flat = points.reshape(-1, points.shape[-1]).astype(self.compiled.dtype)
        values = np.empty(flat.shape[0])
        for k, point in enumerate(flat):
            values[k] = self._kernel(point, *self._data) if np.all(np.isfinite(point)) else np.nan
        return values.reshape(points.shape[:-1])
