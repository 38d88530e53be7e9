"""``sg.fit`` and ``sg.minimize``: run an optimizer over compiled kernels.

This module checks the arguments and sets up the :class:`~symgrad.train.run.Job`;
:mod:`symgrad.train.run` runs it (in chunks, fused or Python-level, with
bit-identical steps either way).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from ..codegen.tensor_kernels import flatten_blocks
from ..compile.compiled import CompiledModel
from ..compile.validate import flat_parameters
from ..errors import DeclarationError
from ..optim import Adam
from ..optim.base import Optimizer
from ..optim.schedules import as_schedule
from .result import FitResult
from .run import Job, StepInfo, run

__all__ = ["fit", "minimize", "StepInfo"]


def fit(model, X, T=None, optimizer: Optimizer | None = None, *, batch_size: int | None = None,
        epochs: int | None = None, max_iter: int | None = None, shuffle: bool = True, seed: int | None = None,
        schedule=None, callbacks: Sequence[Callable] = (), validation=None, progress: bool | None = None,
        theta0=None, init_scale: float | None = None, tol: float | None = None, ftol: float = 0.0,
        time_limit: float | None = None, diverge_above: float | None = None, checkpoint=None,
        checkpoint_every: int = 1000, resume=None, fused: bool | None = None, dtype: str = "float64",
        parallel: bool = False, check_every: int | None = None) -> FitResult:
    """Train ``model`` on the samples ``X`` (inputs) and ``T`` (targets).

    Args:
        optimizer: a :mod:`symgrad.optim` optimizer (default ``Adam()``).
        batch_size: ``None`` full-batch gradient descent, ``1`` stochastic, ``k`` mini-batches
            (the last batch of an epoch may be smaller).
        epochs: passes over the data (default 100 unless ``max_iter`` is given);
            ``max_iter``: parameter updates.
        shuffle: visit the samples in a fresh random order each epoch, drawn from ``seed``.
        schedule: a :mod:`symgrad.schedules` schedule or a callable ``f(step) -> rate``.
        callbacks: ``f(StepInfo)`` after every step; returning ``True`` stops the run.
        validation: ``(Xv, Tv)``, evaluated after every epoch.
        progress: a progress bar on stderr (default: only on a terminal, not under CI).
        theta0: initial parameters (array or ``{symbol: value}``); default N(0, init_scale²)
            with init_scale 0.1, seeded (for a layered model: its ``init_params(seed)``
            unless init_scale is given).
        tol: stop when the full-batch gradient norm is at most ``tol`` (the lecture notes'
            ‖∇J‖ ≤ ε); with mini-batches it is tested on the full data after each epoch.
        ftol: stop when a full-batch step changes the loss by at most ``ftol·|loss|``.
        time_limit: seconds; tested between chunks of steps (about every 0.2 s).
        diverge_above: a loss above this stops the run with :class:`~symgrad.errors.DivergenceError`
            (default ``1e6·max(1, |initial loss|)``); so does a NaN or infinite loss.
        checkpoint: an ``.npz`` path written atomically every ``checkpoint_every`` steps and at the end;
            ``resume``: such a path to continue from (the result equals an uninterrupted run).
        fused: run chunks inside one compiled function (default: whenever possible).
        check_every: every this many steps, compare the compiled gradient with central
            differences at the current parameters (on the first 8 samples); a mismatch
            raises :class:`~symgrad.errors.GradientCheckError`.
        dtype, parallel: passed to :meth:`Model.compile`.
    """
    compiled = _compiled(model, dtype, parallel)
    if not compiled.has_data:
        raise DeclarationError("this model has no inputs or targets; use sg.minimize instead")
    _, X, T = compiled._arguments(np.zeros(compiled.n_params, compiled.dtype), *_as_arrays(compiled, X, T))
    n = X.shape[0]
    if batch_size is not None and not _positive_integer(batch_size):
        raise DeclarationError(f"batch_size must be None or a positive integer, got {batch_size!r}")
    batch = n if batch_size is None else min(int(batch_size), n)
    if validation is not None:
        if len(validation) != 2:
            raise DeclarationError("validation must be a pair (Xv, Tv)")
        validation = compiled._arguments(np.zeros(compiled.n_params, compiled.dtype),
                                         *_as_arrays(compiled, *validation))[1:]
    if epochs is None and max_iter is None:
        epochs = 100
    theta = _initial_theta(compiled, theta0, init_scale, seed)
    job = Job(compiled, optimizer or Adam(), as_schedule(schedule), X, T, batch, bool(shuffle),
               _count(max_iter, "max_iter"), _count(epochs, "epochs"), _tolerance(tol), float(ftol),
               _limit(time_limit, "time_limit"), tuple(callbacks), validation, False, checkpoint,
               _every(checkpoint_every), None, _check_every(check_every))
    return run(job, theta, seed, diverge_above, resume, fused, progress)


def minimize(objective, x0, optimizer: Optimizer | None = None, *, params=None, max_iter: int = 1000,
             tol: float | None = 1e-8, ftol: float = 0.0, schedule=None, callbacks: Sequence[Callable] = (),
             progress: bool | None = None, time_limit: float | None = None,
             diverge_above: float | None = None, checkpoint=None, checkpoint_every: int = 1000, resume=None,
             fused: bool | None = None, dtype: str = "float64", check_every: int | None = None) -> FitResult:
    """Minimise a data-free objective: a SymPy expression or a data-free ``Model``.

    ``x0`` is ``{symbol: value}`` (its order is the order of ``theta``) or an
    array in the order of ``params`` (default: the model's parameters, or the
    expression's free symbols sorted by name). The other arguments are those
    of :func:`fit`; ``tol`` defaults to 1e-8 here.
    """
    from ..model import Model

    if isinstance(objective, Model):
        model = objective
    else:
        if not isinstance(objective, sp.Basic):
            raise DeclarationError(f"objective must be a SymPy expression or a Model, got {objective!r}")
        if params is None:
            params = list(x0) if isinstance(x0, dict) else sorted(objective.free_symbols, key=str)
        model = Model(objective, params)
    compiled = _compiled(model, dtype, False)
    if compiled.has_data:
        raise DeclarationError("this model has inputs or targets; use sg.fit(model, X, T, ...)")
    theta = _initial_theta(compiled, x0, None, None, name="x0")
    job = Job(compiled, optimizer or Adam(), as_schedule(schedule), None, None, 1, False,
               _count(max_iter, "max_iter"), math.inf, _tolerance(tol), float(ftol),
               _limit(time_limit, "time_limit"), tuple(callbacks), None, False, checkpoint,
               _every(checkpoint_every), None, _check_every(check_every))
    return run(job, theta, None, diverge_above, resume, fused, progress)


# -- setup --------------------------------------------------------------------------
def _compiled(model, dtype: str, parallel: bool) -> CompiledModel:
    if isinstance(model, CompiledModel):
        return model
    if not hasattr(model, "compile"):
        raise DeclarationError(f"expected a symgrad Model, got {model!r}")
    return model.compile(dtype=dtype, parallel=parallel)


def _as_arrays(compiled: CompiledModel, *arrays):
    # fit(dtype=...) asks for that precision: the data is converted to it (and
    # made contiguous), then validated for shape and finiteness.
    return tuple(None if a is None else np.ascontiguousarray(a, dtype=compiled.dtype) for a in arrays)


def _limit(value, name: str) -> float:
    if value is None:
        return math.inf
    if not (value >= 0):
        raise DeclarationError(f"{name} must be >= 0, got {value!r}")
    return value


def _count(value, name: str) -> float:
    """A step or epoch budget: a non-negative integer, or None for no limit."""
    if value is None:
        return math.inf
    if not (_positive_integer(value) or value == 0):
        raise DeclarationError(f"{name} must be a non-negative integer or None, got {value!r}")
    return int(value)


def _positive_integer(value) -> bool:
    try:
        return int(value) == value and value >= 1
    except (TypeError, ValueError, OverflowError):  # int() of nan, inf or a non-number
        return False


def _check_every(check_every) -> int | None:
    if check_every is not None and not _positive_integer(check_every):
        raise DeclarationError(f"check_every must be None or a positive integer, got {check_every!r}")
    return None if check_every is None else int(check_every)


def _every(checkpoint_every) -> int:
    if not _positive_integer(checkpoint_every):
        raise DeclarationError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}")
    return int(checkpoint_every)


def _tolerance(tol) -> float:
    return -1.0 if tol is None else float(_limit(tol, "tol"))


def _initial_theta(compiled: CompiledModel, theta0, init_scale, seed, name: str = "theta0") -> np.ndarray:
    layout = compiled.layout
    if theta0 is None and layout.initializer is not None and init_scale is None:
        return layout.initializer(seed=seed).astype(compiled.dtype)
    if isinstance(theta0, dict) and layout.blocks:
        return flatten_blocks(theta0, layout.blocks, compiled.dtype)
    if theta0 is None:
        init_scale = 0.1 if init_scale is None else init_scale
        # seed 000: initialise the weights from N(0, sigma^2)
        rng = np.random.default_rng(seed)
        return rng.normal(0.0, init_scale, len(compiled.layout.params)).astype(compiled.dtype)
    return flat_parameters(theta0, compiled.layout.params, compiled.dtype, name)
