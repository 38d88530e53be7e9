"""``hesscheck``: the compiled Hessian against finite differences of the gradient.

Column j of the Hessian is the derivative of the gradient along e_j, so the
same stencils as for the gradient apply, with gradient evaluations in place
of loss evaluations. The finite-difference matrix is symmetrised (its
(i, j) and (j, i) entries are two estimates of the same number) and the upper
triangle is compared. In projection mode, ``wᵀ H u`` is compared with
``wᵀ (g(θ + h·u) − g(θ − h·u)) / 2h`` for random ``u``, ``w`` — with the
Hessian-vector-product kernel when the model has one (which checks that
kernel, and the Hessian is never formed).
"""

from __future__ import annotations

import numpy as np

from ..errors import DeclarationError
from .gradient import generator, resolve_mode, select, steps_for
from .methods import method_named, tolerances
from .objective import Objective, as_objective
from .report import GradientReport

__all__ = ["hesscheck", "run_hessian_check"]


def _product(objective: Objective, theta: np.ndarray, H: np.ndarray | None, u: np.ndarray) -> np.ndarray:
    if H is not None:
        return H @ u
    objective.n_grad += 1
    return np.asarray(objective.hvp_fn(theta, u), dtype=np.float64)


def run_hessian_check(objective: Objective, theta, *, method: str = "central", step=None, params=None,
                      mode: str = "auto", k: int | None = None, rtol=None, atol=None,
                      seed=None) -> GradientReport:
    """:func:`hesscheck` on an :class:`~symgrad.check.objective.Objective`."""
    m = method_named(method)
    if m.complex:
        raise DeclarationError("hesscheck differentiates the gradient, which has no complex kernel; "
                               "use method='central' or 'richardson'")
    rtol, atol = tolerances(m, objective.dtype, rtol, atol)
    theta = objective.point(theta)
    selected = select(objective.names, params)
    mode, k = resolve_mode(mode, k, len(selected))
    if mode == "subset":
        raise DeclarationError("hesscheck has modes 'full' and 'projection'; choose a subset with params=")
    if objective.hessian_fn is None and (mode == "full" or objective.hvp_fn is None):
        raise DeclarationError("the objective has no Hessian kernel; compile with hessian=True "
                               "(or hvp=True for mode='projection')")
    rng, seed_used = generator(seed) if mode == "projection" else (None, None)
    steps = steps_for(m, theta, step)
    eps = float(np.finfo(objective.dtype).eps) * objective.rounding
    before = objective.n_grad
    H = None
    # Projections go through the Hessian-vector-product kernel when there is one (it is checked too).
    if objective.hessian_fn is not None and (mode == "full" or objective.hvp_fn is None):
        objective.n_grad += 1
        H = np.asarray(objective.hessian_fn(theta), dtype=np.float64)
    gradients = {}

    def derivative(u: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
        """The stencil applied to the gradient along u: estimate and rounding noise per entry."""
        total, noise = np.zeros(objective.n), np.zeros(objective.n)
        for offset, weight in zip(m.offsets, m.weights, strict=True):
            key = (offset, u.tobytes()) if offset else 0.0
            if key not in gradients:
                point = (theta + offset * h * u).astype(theta.dtype)
                gradients[key] = objective.grad(point).astype(np.float64)
            total += weight * gradients[key]
            noise += abs(weight) * np.abs(gradients[key])
        return total / h, eps * noise / h

    names, index, exact, numerical, noises, shown_steps = [], [], [], [], [], []
    if mode == "full":
        columns = {}
        for j in selected:
            e = np.zeros(objective.n)
            e[j] = 1.0
            columns[j] = derivative(e, float(steps[j]))
        for a, i in enumerate(selected):
            for j in selected[a:]:
                names.append(f"{objective.names[i]},{objective.names[j]}")
                index.append(i * objective.n + j)
                exact.append(H[i, j])
                numerical.append((columns[j][0][i] + columns[i][0][j]) / 2)
                noises.append((columns[j][1][i] + columns[i][1][j]) / 2)
                shown_steps.append(max(steps[i], steps[j]))
    else:
        h = float(steps[selected].min())
        for d in range(k):
            u, w = np.zeros(objective.n), np.zeros(objective.n)
            u[selected] = rng.standard_normal(selected.size) * steps[selected] / h
            w[selected] = rng.standard_normal(selected.size)
            estimate, noise = derivative(u, h)
            names.append(f"v{d + 1}")
            index.append(d)
            exact.append(float(w @ _product(objective, theta, H, u)))
            numerical.append(float(w @ estimate))
            noises.append(float(np.abs(w) @ noise))
            shown_steps.append(h)

    exact, numerical = np.array(exact), np.array(numerical)
    errors = np.abs(exact - numerical)
    tol = np.maximum(atol, rtol * np.maximum(np.abs(exact), np.abs(numerical)))
    status = tuple("ok" if e <= t else ("unresolved" if e <= n else "FAIL")
                   for e, t, n in zip(errors, tol, noises, strict=True))
    notes = tuple("within the rounding noise of the finite difference" if s == "unresolved" else ""
                  for s in status)
    nan = np.full(len(names), np.nan)
    return GradientReport(
        kind="hessian", method=m.name, title=m.title + " of the gradient", mode=mode,
        dtype=np.dtype(objective.dtype), names=tuple(names), index=np.array(index, dtype=np.int64),
        theta=nan, step=np.array(shown_steps), exact=exact, numerical=numerical, status=status, notes=notes,
        loss=float("nan"), loss_plus=nan, loss_minus=nan, rtol=rtol, atol=atol, n_params=objective.n,
        n_evaluations=0, n_gradients=objective.n_grad - before, seed=seed_used,
    )


def hesscheck(target, theta, X=None, T=None, *, method: str = "central", step=None, params=None,
              mode: str = "auto", k: int | None = None, rtol: float | None = None,
              atol: float | None = None, seed=None) -> GradientReport:
    """Compare the exact Hessian with finite differences of the exact gradient.

    Arguments as for :func:`symgrad.gradcheck` (a Model is compiled with its
    Hessian); ``mode`` is ``"full"`` (the upper triangle of the selected
    parameters' block, 2 gradient evaluations per parameter with central
    differences) or ``"projection"`` (``k`` random products ``wᵀHu``).

    >>> import sympy as sp
    >>> import symgrad as sg
    >>> x, y = sp.symbols("x y")
    >>> sg.hesscheck((1 - x)**2 + 100 * (y - x**2)**2, {x: -1.5, y: 2.0}).ok
    True
    """
    objective = as_objective(target, theta, X, T, hessian=True)
    return run_hessian_check(objective, theta, method=method, step=step, params=params, mode=mode, k=k,
                             rtol=rtol, atol=atol, seed=seed)
