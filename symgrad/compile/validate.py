"""Checks on the arrays handed to compiled kernels, before numba sees them.

numba's own errors on a wrong shape or dtype are typing errors deep in
generated code; these say which argument is wrong and what was expected.
"""

from __future__ import annotations

import numpy as np

from ..errors import DeclarationError, EvaluationError, ShapeError

__all__ = ["check_theta", "check_data", "check_out", "flat_parameters"]


def _check_array(value, name: str, dtype: np.dtype) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise EvaluationError(
            f"{name} must be a numpy array of {dtype}, got {type(value).__name__}; "
            f"use np.asarray({name}, dtype=np.{dtype})"
        )
    if value.dtype != dtype:
        raise EvaluationError(
            f"{name} has dtype {value.dtype}, the kernels were compiled for {dtype}; "
            f"convert with {name}.astype(np.{dtype}) or compile with dtype={str(value.dtype)!r}"
        )
    if not value.flags.c_contiguous:
        raise EvaluationError(f"{name} must be C-contiguous; pass np.ascontiguousarray({name})")
    return value


def check_theta(theta, n_params: int, dtype: np.dtype) -> np.ndarray:
    theta = _check_array(theta, "theta", dtype)
    if theta.shape != (n_params,):
        raise ShapeError(f"theta has shape {theta.shape}, expected ({n_params},): one entry per parameter")
    if not np.all(np.isfinite(theta)):
        bad = int(np.flatnonzero(~np.isfinite(theta))[0])
        raise EvaluationError(f"theta[{bad}] is {theta[bad]}; parameters must be finite")
    return theta


def check_data(value, name: str, width: int, dtype: np.dtype, rows: int | None = None,
               rows_of: str = "X") -> np.ndarray:
    """A (n, width) array; (n,) is accepted when width is 1 (one feature per sample).

    ``rows``, when given, is the sample count ``value`` must match (that of ``rows_of``).
    """
    value = _check_array(value, name, dtype)
    if value.ndim == 1 and width == 1:
        value = value.reshape(-1, 1)
    if value.ndim != 2 or value.shape[1] != width:
        raise ShapeError(f"{name} has shape {value.shape}, expected (n_samples, {width})")
    if value.shape[0] == 0:
        raise ShapeError(f"{name} has no samples (shape {value.shape}); the loss is a mean over samples")
    if rows is not None and value.shape[0] != rows:
        raise ShapeError(f"{name} has {value.shape[0]} samples but {rows_of} has {rows}")
    if not np.all(np.isfinite(value)):
        row = int(np.argwhere(~np.isfinite(value))[0][0])
        raise EvaluationError(f"{name} has a non-finite value in sample {row}")
    return value


def check_out(out, shape: tuple[int, ...], dtype: np.dtype, name: str = "out", inputs=()) -> np.ndarray:
    """``out`` checked like an input, and not overlapping ``inputs`` (``(name, array)`` pairs): the
    kernels clear ``out`` before they read their inputs, so a shared buffer would be zeroed first."""
    out = _check_array(out, name, dtype)
    if out.shape != shape:
        raise ShapeError(f"{name} has shape {out.shape}, expected {shape}")
    for other, array in inputs:
        if np.may_share_memory(out, array):
            raise EvaluationError(f"{name} shares memory with {other}; pass a separate array "
                                  f"(e.g. {name}=np.empty_like({other}))")
    return out


def flat_parameters(values, params, dtype, name: str = "theta") -> np.ndarray:
    """A new flat array in the order of ``params`` from an array-like or ``{symbol: value}``
    (which must name every parameter and nothing else); finite values only."""
    if isinstance(values, dict):
        unknown = [s for s in values if s not in params]
        if unknown:
            raise DeclarationError(f"{name} gives values for {unknown}, which are not among the "
                                   f"parameters {list(params)}")
        missing = [p for p in params if p not in values]
        if missing:
            raise DeclarationError(f"{name} has no value for parameter(s) {missing}")
        values = [values[p] for p in params]
    array = np.array(values, dtype=dtype).reshape(-1)
    if array.shape != (len(params),):
        raise DeclarationError(f"{name} has {array.size} entries, expected {len(params)} "
                               f"({', '.join(map(str, params))})")
    if not np.all(np.isfinite(array)):
        raise DeclarationError(f"{name} must be finite, got {array}")
    return array
