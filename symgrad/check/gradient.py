"""``gradcheck``: the exact gradient against numerical derivatives.

Three modes choose which directional derivatives are compared:

- ``full``: every (selected) parameter, one at a time — 2 loss evaluations
  per parameter with central differences;
- ``subset``: ``k`` parameters drawn at random — pinpoints a wrong entry,
  but finds a single one only with probability ``k/n``;
- ``projection``: ``k`` random Gaussian directions ``v``, comparing ``gᵀv``
  with the finite difference along ``v`` — ``2k`` evaluations whatever the
  number of parameters, and any wrong entry moves ``gᵀv`` (with probability 1),
  but a failure does not say which entry is wrong.

Steps are per parameter, ``h·max(1, |θᵢ|)`` rounded to a power of 2 with
``h`` the method's base step; in projection mode the direction is scaled the
same way, ``u = v ⊙ steps / h`` with ``h`` the smallest step, and the
stencil moves along ``u`` with step ``h``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import sympy as sp

from ..errors import DeclarationError, EvaluationError, SymgradWarning
from . import render
from .methods import METHODS, Method, method_named, tolerances
from .objective import Objective, as_objective
from .probe import Direction, probe
from .report import GradientReport

__all__ = ["gradcheck", "run_check", "steps_for", "select", "generator", "resolve_mode", "FULL_LIMIT",
           "DEFAULT_K"]

#: mode="auto" checks every parameter up to this many, else projects.
FULL_LIMIT = 1000
#: Default k: directions in projection mode, parameters in subset mode.
DEFAULT_K = {"projection": 8, "subset": 20}


def steps_for(method: Method, theta: np.ndarray, step) -> np.ndarray:
    """Per-parameter steps: ``step`` (a number or one per parameter), else the method's
    base step times ``max(1, |θᵢ|)`` rounded to a power of 2 (so θᵢ ± h is exact)."""
    n = theta.size
    if step is None:
        scale = method.base_step(theta.dtype) * np.maximum(1.0, np.abs(theta.astype(np.float64)))
        return np.exp2(np.round(np.log2(scale)))
    steps = np.broadcast_to(np.asarray(step, dtype=np.float64), (n,)) if np.ndim(step) == 0 else \
        np.asarray(step, dtype=np.float64)
    if steps.shape != (n,):
        raise DeclarationError(f"step has shape {steps.shape}; give one number or one per parameter ({n},)")
    bad = np.flatnonzero(~(np.isfinite(steps) & (steps > 0)))
    if bad.size:
        raise DeclarationError(f"step[{bad[0]}] is {steps[bad[0]]}; steps must be positive and finite")
    return steps.copy()


def select(names: Sequence[str], params) -> np.ndarray:
    """Indices of the parameters named by ``params`` (symbols, names or indices; None = all)."""
    if params is None:
        return np.arange(len(names))
    if isinstance(params, (str, sp.Basic, int, np.integer)):
        params = [params]
    position = {name: k for k, name in enumerate(names)}
    indices = []
    for p in params:
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            if not 0 <= p < len(names):
                raise DeclarationError(f"params index {p} is out of range for {len(names)} parameters")
            indices.append(int(p))
        elif str(p) in position:
            indices.append(position[str(p)])
        else:
            shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
            raise DeclarationError(f"{p} is not a parameter; the parameters are {shown}")
    if not indices:
        raise DeclarationError("params selects no parameter")
    return np.array(sorted(set(indices)), dtype=np.int64)


def generator(seed) -> tuple[np.random.Generator, int | None]:
    """A generator and the integer seed that reproduces it (drawn when ``seed`` is None)."""
    if isinstance(seed, np.random.Generator):
        return seed, None
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    return np.random.default_rng(seed), int(seed)


def resolve_mode(mode: str, k: int | None, available: int) -> tuple[str, int | None]:
    """The mode ``auto`` stands for, and ``k`` checked (capped at ``available`` for subsets)."""
    if mode not in ("auto", "full", "subset", "projection"):
        raise DeclarationError(f"mode must be 'auto', 'full', 'subset' or 'projection'; got {mode!r}")
    if mode == "auto":
        mode = "full" if available <= FULL_LIMIT else "projection"
    if mode == "full":
        if k is not None:
            raise DeclarationError("k applies to mode='subset' or 'projection', not 'full'")
        return mode, None
    k = DEFAULT_K[mode] if k is None else k
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise DeclarationError(f"k must be a positive integer, got {k!r}")
    return mode, int(min(k, available) if mode == "subset" else k)


def _check_finite(objective: Objective, loss0: float, grad: np.ndarray) -> None:
    if not np.isfinite(loss0):
        raise EvaluationError(f"the loss is {loss0} at theta; a gradient check needs a point where it "
                              "is finite")
    bad = np.flatnonzero(~np.isfinite(grad))
    if bad.size:
        raise EvaluationError(f"the gradient entry for {objective.names[bad[0]]} is {grad[bad[0]]} at theta; "
                              "a gradient check needs a point where it is finite")


def run_check(objective: Objective, theta: np.ndarray, *, method: str = "central", step=None, params=None,
              mode: str = "auto", k: int | None = None, rtol=None, atol=None, seed=None,
              verbose: bool = False, warn: bool = True) -> GradientReport:
    """:func:`gradcheck` on an :class:`~symgrad.check.objective.Objective` (the abstract core)."""
    m = method_named(method)
    rtol, atol = tolerances(m, objective.dtype, rtol, atol)
    if warn and objective.dtype == np.float32:
        warnings.warn("checking float32 kernels: tolerances are loose (float32's ε is 5e8 times "
                      "float64's); float64 is the reliable check", SymgradWarning, stacklevel=3)
    theta = objective.point(theta)
    selected = select(objective.names, params)
    mode, k = resolve_mode(mode, k, len(selected))
    rng, seed_used = generator(seed) if mode != "full" else (None, None)
    steps = steps_for(m, theta, step)
    # The second look uses central differences, at their own step unless the user chose one.
    ratio = 1.0 if step is not None or m.complex else max(1.0, 2.0 ** round(
        np.log2(METHODS["central"].base_step(objective.dtype) / m.base_step(objective.dtype))))
    before_loss, before_grad = objective.n_loss, objective.n_grad
    loss0 = objective.loss(theta)
    grad = objective.grad(theta)
    _check_finite(objective, loss0, grad)

    if mode == "projection":
        v = np.zeros((k, objective.n))
        v[:, selected] = rng.standard_normal((k, selected.size))
        # Along u = v ⊙ steps/h each coordinate moves by vᵢ times its own step; the
        # compared values gᵀu keep the gradient's magnitude.
        h = float(steps[selected].min())
        scaled = v * (steps / h)
        plan = [_Row(f"v{j + 1}", j, Direction(vector=scaled[j]), h, float(grad @ scaled[j]), np.nan)
                for j in range(k)]
        directions = v
    else:
        if mode == "subset":
            selected = np.sort(rng.choice(selected, size=k, replace=False))
        plan = [_Row(objective.names[i], int(i), Direction(index=int(i)), float(steps[i]), float(grad[i]),
                     float(theta[i])) for i in selected]
        directions = None

    stream = _Stream(plan, loss0) if verbose else None
    results = []
    for row in plan:
        result = probe(objective, theta, loss0, row.direction, row.step, row.exact, m, rtol, atol,
                       second=row.step * ratio)
        results.append(result)
        if stream:
            stream.row(row, result)

    symbols = objective.symbols or ()
    return GradientReport(
        kind="gradient", method=m.name, title=m.title, mode=mode, dtype=np.dtype(objective.dtype),
        names=tuple(r.name for r in plan), index=np.array([r.index for r in plan], dtype=np.int64),
        theta=np.array([r.value for r in plan]), step=np.array([r.step for r in plan]),
        exact=np.array([r.exact for r in plan]), numerical=np.array([r.numerical for r in results]),
        status=tuple(r.status for r in results), notes=tuple(r.note for r in results), loss=loss0,
        loss_plus=np.array([r.loss_plus for r in results]),
        loss_minus=np.array([r.loss_minus for r in results]),
        rtol=rtol, atol=atol, n_params=objective.n, n_evaluations=objective.n_loss - before_loss,
        n_gradients=objective.n_grad - before_grad, seed=seed_used, directions=directions,
        latex_names={str(s): sp.latex(s) for s in symbols},
    )


class _Row(NamedTuple):
    """One directional derivative to check: its label, the direction and step, the exact value
    and the parameter's value (nan for a random direction)."""

    name: str
    index: int
    direction: Direction
    step: float
    exact: float
    value: float


class _Stream:
    """verbose=True: the perturbation table, one row per probe as it is computed."""

    def __init__(self, plan: list[_Row], loss0: float):
        self.width = max(len("parameter"), *(len(row.name) for row in plan))
        headers = ("parameter".ljust(self.width), "θ".rjust(15), "h".rjust(7), "J(θ+h)".rjust(15),
                   "J(θ−h)".rjust(15), "slope".rjust(15), "exact".rjust(15), "status")
        print(f"J(θ) = {render.number(loss0)}", file=sys.stdout)
        print("  ".join(headers), file=sys.stdout)

    def row(self, row: _Row, result) -> None:
        values = (row.value, result.loss_plus, result.loss_minus, result.numerical, row.exact)
        cells = [row.name.ljust(self.width), *(render.number(x).rjust(15) for x in values), result.status]
        cells.insert(2, render.error(row.step).rjust(7))
        print("  ".join(cells), file=sys.stdout, flush=True)


def gradcheck(target, theta, X=None, T=None, *, method: str = "central", step=None, params=None,
              mode: str = "auto", k: int | None = None, rtol: float | None = None,
              atol: float | None = None, seed=None, verbose: bool = False) -> GradientReport:
    """Compare the exact gradient with numerical derivatives, parameter by parameter.

    Args:
        target: a :class:`~symgrad.Model` (compiled, float64), a compiled model,
            a data-free SymPy expression, or a pair ``(loss_fn, grad_fn)`` of
            callables of a flat parameter vector (e.g. numpy functions).
        theta: the point: an array in the order of the parameters, or a mapping
            ``{symbol or name: value}`` (for an expression, its keys give the order).
        X, T: the batch for a model with inputs or targets.
        method: ``"central"`` (default), ``"forward"``, ``"backward"``,
            ``"richardson"`` (Richardson extrapolation of central differences) or
            ``"complex"`` (complex step: exact to rounding, for complex-analytic losses).
        step: the finite-difference step, one number or one per parameter
            (default: the method's base step times ``max(1, |θᵢ|)``).
        params: check only these parameters (symbols, names or indices).
        mode: ``"full"``, ``"subset"`` (``k`` random parameters), ``"projection"``
            (``k`` random directions) or ``"auto"`` (full up to 1000 parameters).
        k: parameters (subset) or directions (projection); default 20 and 8.
        rtol, atol: tolerances; defaults depend on the method and the dtype.
        seed: seed (or numpy Generator) of the random choices; None draws one
            and the report records it.
        verbose: print the perturbation table (θᵢ, h, J(θ ± h), slope) row by row.

    Returns:
        A :class:`~symgrad.check.GradientReport`; ``.assert_ok()`` raises on failure.

    >>> import sympy as sp
    >>> import symgrad as sg
    >>> x, y = sp.symbols("x y")
    >>> report = sg.gradcheck((1 - x)**2 + 100 * (y - x**2)**2, {x: -1.5, y: 2.0})
    >>> report.ok, report.max_rel_err < 1e-9
    (True, True)
    """
    objective = as_objective(target, theta, X, T)
    return run_check(objective, theta, method=method, step=step, params=params, mode=mode, k=k,
                     rtol=rtol, atol=atol, seed=seed, verbose=verbose)
