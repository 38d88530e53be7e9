"""The Taylor-remainder test: ``|J(θ + h·u) − J(θ) − h·gᵀu|`` must shrink like h².

For a smooth J and the right gradient g the first-order remainder is
``½h²·uᵀHu + O(h³)``: halving h divides it by 4 (observed order 2). With a
wrong gradient the remainder keeps a term ``h·(g_true − g)ᵀu`` that wins as h
shrinks: order 1. The test needs one gradient and one loss evaluation per
step, whatever the number of parameters, and needs no tolerance: the order
is read off the remainders where they stand clear of rounding noise
(``remainder > 16·ρ·ε·(|J(θ + h·u)| + |J(θ)|)``, ρ as for gradcheck). The
observed order is the median of the orders between consecutive such steps,
over the three smallest steps; it passes above 1.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import GradientCheckError, ShapeError
from . import render
from .gradient import generator
from .objective import as_objective

__all__ = ["taylor_test", "TaylorReport", "MIN_ORDER"]

#: The observed order must exceed this (2 for a right gradient, 1 for a wrong one).
MIN_ORDER = 1.5


@dataclass(frozen=True, eq=False, repr=False)
class TaylorReport:
    """The result of :func:`taylor_test`.

    Attributes:
        steps: the steps h, largest first.
        losses: J(θ + h·u) per step.
        remainder0: ``|J(θ + h·u) − J(θ)|`` (order 1 unless gᵀu = 0).
        remainder1: ``|J(θ + h·u) − J(θ) − h·gᵀu|`` (order 2 for a right gradient).
        orders: ``log2`` of the ratio of consecutive remainders over the ratio of their steps
            (nan where either remainder is at rounding level).
        order: the observed order (nan when fewer than two remainders clear the noise).
        status: ``ok``, ``FAIL``, ``exact`` (every remainder at rounding level: J is
            linear along u) or ``unresolved``.
        slope: ``gᵀu``; loss: ``J(θ)``; direction: u.
    """

    steps: np.ndarray
    losses: np.ndarray
    remainder0: np.ndarray
    remainder1: np.ndarray
    resolved: np.ndarray
    orders: np.ndarray
    order: float
    status: str
    slope: float
    loss: float
    direction: np.ndarray
    dtype: np.dtype
    n_evaluations: int
    n_gradients: int
    seed: int | None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "exact")

    def _table(self) -> render.Table:
        rows = [(render.error(h), render.number(j), render.error(r0), render.error(r1),
                 "—" if math.isnan(o) else f"{o:.2f}", "" if ok else "rounding")
                for h, j, r0, r1, o, ok in zip(self.steps, self.losses, self.remainder0, self.remainder1,
                                               self.orders, self.resolved, strict=True)]
        headers = ("h", "J(θ+h·u)", "|J(θ+h·u)−J(θ)|", "|J(θ+h·u)−J(θ)−h·gᵀu|", "order", "")
        title = (f"Taylor remainder test: {self.dtype}, {len(self.steps)} steps, {self.n_evaluations} loss "
                 f"evaluations, {self.n_gradients} gradient; J(θ) = {render.number(self.loss)}, "
                 f"gᵀu = {render.number(self.slope)}")
        order = "undetermined" if math.isnan(self.order) else f"{self.order:.2f}"
        footer = [f"observed order {order} (2 for a right gradient, 1 for a wrong one; "
                  f"passes above {MIN_ORDER}): {self.status}"]
        if self.seed is not None:
            footer.append(f"seed {self.seed} (pass seed={self.seed} to repeat)")
        return render.Table(title, headers, rows, "rrrrrl", footer)

    def __str__(self) -> str:
        return render.text(self._table())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return render.to_html(self._table())

    def _repr_latex_(self) -> str:
        return render.to_latex(self._table())

    def to_dict(self) -> dict:
        return {"status": self.status, "ok": self.ok, "order": None if math.isnan(self.order) else self.order,
                "slope": self.slope, "loss": self.loss, "steps": self.steps.tolist(),
                "remainder0": self.remainder0.tolist(), "remainder1": self.remainder1.tolist(),
                "n_evaluations": self.n_evaluations, "n_gradients": self.n_gradients, "seed": self.seed}

    def assert_ok(self) -> TaylorReport:
        if self.ok:
            return self
        order = "undetermined" if math.isnan(self.order) else f"{self.order:.2f}"
        raise GradientCheckError(f"Taylor remainder test {self.status}: the first-order remainder shrinks "
                                 f"with order {order}, expected 2 (a wrong gradient gives 1)\n{self}",
                                 report=self)


def _observed_order(steps, remainders, resolved) -> tuple[np.ndarray, float]:
    orders = np.full(len(steps), np.nan)
    for j in range(1, len(steps)):
        if resolved[j] and resolved[j - 1]:
            orders[j] = math.log(remainders[j - 1] / remainders[j]) / math.log(steps[j - 1] / steps[j])
    found = orders[~np.isnan(orders)]
    return orders, float(np.median(found[-3:])) if found.size else math.nan


def taylor_test(target, theta, X=None, T=None, *, direction=None, steps=None, seed=None) -> TaylorReport:
    """Check that the first-order Taylor remainder of J along a random direction is O(h²).

    Args:
        target, theta, X, T: as for :func:`symgrad.gradcheck`.
        direction: the direction u (default: Gaussian, scaled by ``max(1, |θᵢ|)``).
        steps: the steps h (default ``2**-4, 2**-5, …, 2**-30``: small enough that a
            wrong gradient's first-order term shows below the curvature's h² term,
            steps whose remainder is at rounding level are left out of the order).
        seed: seed of the random direction.

    >>> import sympy as sp
    >>> import symgrad as sg
    >>> x, y = sp.symbols("x y")
    >>> report = sg.check.taylor_test((1 - x)**2 + 100 * (y - x**2)**2, {x: -1.5, y: 2.0}, seed=0)
    >>> report.status, round(report.order)
    ('ok', 2)
    """
    objective = as_objective(target, theta, X, T)
    theta = objective.point(theta)
    seed_used = None
    if direction is None:
        rng, seed_used = generator(seed)
        u = rng.standard_normal(objective.n) * np.maximum(1.0, np.abs(theta.astype(np.float64)))
    else:
        u = np.asarray(direction, dtype=np.float64)
        if u.shape != theta.shape:
            raise ShapeError(f"direction has shape {u.shape}, expected {theta.shape}: "
                             "one entry per parameter")
    steps = np.exp2(-np.arange(4.0, 31.0)) if steps is None else np.asarray(steps, dtype=np.float64)
    before_loss, before_grad = objective.n_loss, objective.n_grad
    loss0 = objective.loss(theta)
    slope = float(objective.grad(theta).astype(np.float64) @ u)
    losses = np.array([objective.loss((theta + h * u).astype(theta.dtype)) for h in steps])
    remainder0 = np.abs(losses - loss0)
    remainder1 = np.abs(losses - loss0 - steps * slope)
    noise = 16 * objective.rounding * float(np.finfo(objective.dtype).eps) * (np.abs(losses) + abs(loss0))
    resolved = np.isfinite(remainder1) & (remainder1 > noise)
    orders, order = _observed_order(steps, remainder1, resolved)
    if not resolved.any():
        status = "exact" if np.isfinite(losses).all() else "unresolved"
    elif math.isnan(order):
        status = "unresolved"
    else:
        status = "ok" if order > MIN_ORDER else "FAIL"
    return TaylorReport(steps, losses, remainder0, remainder1, resolved, orders, order, status, slope, loss0,
                        u, np.dtype(objective.dtype), objective.n_loss - before_loss,
                        objective.n_grad - before_grad, seed_used)
