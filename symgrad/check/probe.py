"""One directional derivative: estimate it, compare it, classify the entry.

The classification rule (documented in docs/gradient-checking.md):

- ``ok``: ``|a − b| ≤ max(atol, rtol·max(|a|, |b|))`` for the exact value
  ``a`` and the estimate ``b``; equivalently ``rel_err ≤ rtol`` with the
  relative error ``|a − b| / max(|a|, |b|, atol/rtol)``.
- A *second look* runs when a finite-difference estimate fails, or when a
  two-sided stencil's one-sided slopes ``(J(θ+hu) − J(θ))/h`` and
  ``(J(θ) − J(θ−hu))/h`` differ by more than 1% (smoothly they differ by
  ``h·J''``). It evaluates ``J(θ ± H·u)`` and ``J(θ ± H·u/4)`` with H the
  step central differences want (h itself for central and Richardson,
  ε^(1/3)-sized for one-sided methods unless ``step=`` was given):
  - ``kink``: the one-sided slopes still differ at H/4 by more than half
    their difference at H (smoothly it would shrink 4-fold) — a
    non-differentiable point within the step. The exact value must lie
    between the one-sided slopes (the subgradient hull, within tolerance),
    else ``FAIL``.
  - otherwise the Richardson estimate ``(16·D(H/4) − D(H))/15`` of the
    central differences ``D`` removes the first estimate's truncation error
    (large at stationary points of strongly curved losses); the exact value
    is compared with it (and with ``D(H/4)``).
- ``unresolved``: not ok after the second look, but within the rounding
  noise ``ρ·ε·Σ|w_k·J_k|/h`` of the estimates (ρ = 4·√rows), or central
  differences at h and h/4 differ by more than 1% (the loss varies on a
  scale below the step), or the loss is not finite at a perturbed point:
  finite differences cannot decide this entry at this step.
- ``FAIL``: anything else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .methods import Method
from .objective import Objective

__all__ = ["Direction", "Probe", "probe", "KINK_SUSPICION", "NOT_CONVERGED"]

#: One-sided slopes differing by more than this fraction trigger the second look.
KINK_SUSPICION = 1e-2
#: Central differences at h and h/4 differing by more than this fraction have not converged.
NOT_CONVERGED = 1e-2
_SECOND = 0.25  # the second look's step, relative to the first


@dataclass(frozen=True)
class Direction:
    """``θ + t·u`` with ``u`` the ``index``-th basis vector or a dense ``vector``."""

    index: int | None = None
    vector: np.ndarray | None = None

    def at(self, theta: np.ndarray, t: float) -> np.ndarray:
        if self.index is not None:
            x = theta.copy()
            x[self.index] = float(theta[self.index]) + t
            return x
        return (theta + t * self.vector).astype(theta.dtype)

    def complex_at(self, theta: np.ndarray, t: float) -> np.ndarray:
        z = theta.astype(np.complex128)
        if self.index is not None:
            z[self.index] += 1j * t
        else:
            z += 1j * t * self.vector
        return z


@dataclass(frozen=True)
class Probe:
    """The estimate of one directional derivative, its verdict, and J(θ ± h·u) (nan if not evaluated)."""

    numerical: float
    status: str
    note: str
    loss_plus: float
    loss_minus: float


def _within(a: float, b: float, rtol: float, atol: float) -> bool:
    return abs(a - b) <= max(atol, rtol * max(abs(a), abs(b)))


class _Losses:
    """``J(θ + t·u)`` by step ``t``, each evaluated at most once."""

    def __init__(self, objective: Objective, theta, direction: Direction, loss0: float, rounding: float):
        self.objective, self.theta, self.direction = objective, theta, direction
        self.values = {0.0: loss0}
        self.rounding = rounding  # relative accuracy of one loss value

    def __call__(self, t: float) -> float:
        if t not in self.values:
            self.values[t] = self.objective.loss(self.direction.at(self.theta, t))
        return self.values[t]

    def stencil(self, offsets, weights, h: float) -> tuple[float, float]:
        """The estimate ``Σ w·J(o·h) / h`` and its rounding noise ``ρε·Σ|w·J(o·h)| / h``."""
        values = [self(o * h) for o in offsets]
        estimate = sum(w * v for w, v in zip(weights, values, strict=True)) / h
        return estimate, self.rounding * sum(abs(w * v) for w, v in zip(weights, values, strict=True)) / h

    def jump(self, h: float) -> tuple[float, float, float, float]:
        """One-sided slopes at h, the absolute difference between them and its rounding noise."""
        plus, minus = (self(h) - self(0.0)) / h, (self(0.0) - self(-h)) / h
        noise = self.rounding * (abs(self(h)) + abs(self(-h)) + 2 * abs(self(0.0))) / h
        return plus, minus, abs(plus - minus), noise


def probe(objective: Objective, theta: np.ndarray, loss0: float, direction: Direction, h: float,
          exact: float, method: Method, rtol: float, atol: float, second: float | None = None) -> Probe:
    """Estimate the derivative along ``direction`` with step ``h`` and classify it (module docstring).

    ``second`` is the step of the second look's central differences (default ``h``;
    one-sided methods pass the larger step that suits central differences).
    """
    rounding = float(np.finfo(objective.dtype).eps) * objective.rounding
    if method.complex:
        value = objective.complex_loss(direction.complex_at(theta, h)).imag / h
        if not math.isfinite(value):
            return Probe(value, "unresolved", "loss not finite at θ + ih·u", math.nan, math.nan)
        return Probe(value, "ok" if _within(exact, value, rtol, atol) else "FAIL", "", math.nan, math.nan)

    losses = _Losses(objective, theta, direction, loss0, rounding)
    estimate, noise = losses.stencil(method.offsets, method.weights, h)
    plus, minus = losses.values.get(h, math.nan), losses.values.get(-h, math.nan)

    def result(value, status, note=""):
        return Probe(value, status, note, plus, minus)

    if not math.isfinite(estimate):
        return result(estimate, "unresolved", "loss not finite at a perturbed point")
    ok = _within(exact, estimate, rtol, atol)
    suspicious = False
    if method.two_sided:
        slope_plus, slope_minus, jump, jump_noise = losses.jump(h)
        suspicious = jump > max(KINK_SUSPICION * max(abs(slope_plus), abs(slope_minus)), atol, 4 * jump_noise)
    if ok and not suspicious:
        return result(estimate, "ok")

    # The second look: one-sided slopes and central differences at H and H/4 (at h if the
    # loss is not finite that far out).
    for H in dict.fromkeys((h if second is None else second, h)):
        far_plus, far_minus, far_jump, _ = losses.jump(H)
        near_plus, near_minus, near_jump, near_noise = losses.jump(_SECOND * H)
        if all(map(math.isfinite, (far_plus, far_minus, near_plus, near_minus))):
            break
    else:
        return result(estimate, "ok" if ok else "unresolved", "" if ok else
                      "no second look: the loss is not finite at θ ± h·u or θ ± h·u/4")
    if near_jump > max(far_jump / 2, 2 * near_noise, atol):
        low, high = sorted((near_minus, near_plus))
        margin = max(atol, rtol * max(abs(low), abs(high))) + near_noise
        note = f"one-sided slopes {low:.6g} and {high:.6g}"
        if low - margin <= exact <= high + margin:
            return result(estimate, "kink", note)
        return result(estimate, "FAIL", f"{note}; the exact value is not between them")
    if ok:
        return result(estimate, "ok")
    far, far_noise = losses.stencil((1.0, -1.0), (0.5, -0.5), H)
    near, near_noise = losses.stencil((1.0, -1.0), (0.5, -0.5), _SECOND * H)
    refined = (16 * near - far) / 15
    noise = max(noise, (16 * near_noise + far_noise) / 15)
    note = "second look: Richardson extrapolation of central differences at h and h/4"
    if _within(exact, refined, rtol, atol) or _within(exact, near, rtol, atol):
        return result(refined, "ok", note)
    if min(abs(exact - estimate), abs(exact - refined)) <= noise:
        return result(refined, "unresolved", f"within the rounding noise (≈{noise:.1e}) of the finite "
                      "differences; a larger step= or method='complex' can resolve it")
    if abs(far - near) > NOT_CONVERGED * max(abs(far), abs(near), atol / rtol):
        return result(refined, "unresolved", f"central differences at h and h/4 disagree ({far:.6g}, "
                      f"{near:.6g}): the loss varies on a scale below the step; pass a smaller step=")
    return result(refined, "FAIL", note)
