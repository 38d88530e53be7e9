"""The per-step checks shared by the Python loop and the fused compiled loop.

Both loops call these same numba functions, so they stop at the same step
for the same reason and record the same numbers.
"""

from __future__ import annotations

import math

import numba

__all__ = ["grad_norm", "step_status", "RUNNING", "GRADIENT_NORM", "LOSS_CHANGE", "NON_FINITE", "EXPLODED",
           "STATUS_REASONS"]

RUNNING, GRADIENT_NORM, LOSS_CHANGE, NON_FINITE, EXPLODED = 0, 1, 2, 3, 4
STATUS_REASONS = {GRADIENT_NORM: "gradient_norm", LOSS_CHANGE: "loss_change", NON_FINITE: "non_finite",
                  EXPLODED: "exploded"}


@numba.njit(cache=True, nogil=True)
def grad_norm(g):
    """Euclidean norm: four running sums of squares (entries i mod 4), then their sum.

    Four independent sums, not one, so that each addition need not wait for the
    previous one (LLVM packs them into one vector register): a fixed order all
    the same, so every loop records the same norm.
    """
    s0 = s1 = s2 = s3 = 0.0
    n = g.shape[0]
    full = n - n % 4
    for i in range(0, full, 4):
        s0 += g[i] * g[i]
        s1 += g[i + 1] * g[i + 1]
        s2 += g[i + 2] * g[i + 2]
        s3 += g[i + 3] * g[i + 3]
    for i in range(full, n):
        s0 += g[i] * g[i]
    return math.sqrt((s0 + s1) + (s2 + s3))


@numba.njit(cache=True, nogil=True)
def step_status(loss, norm, previous, has_previous, tol, ftol, explode, converge):
    """Why to stop before stepping from a point with this ``loss`` and gradient ``norm``.

    ``converge`` enables the convergence tests (full-batch only: a mini-batch
    gradient says nothing about the objective's); ``explode`` is the loss
    above which the run counts as diverging.
    """
    if not (math.isfinite(loss) and math.isfinite(norm)):
        return NON_FINITE
    if loss > explode:
        return EXPLODED
    if converge:
        if norm <= tol:
            return GRADIENT_NORM
        if ftol > 0.0 and has_previous and abs(previous - loss) <= ftol * max(abs(previous), abs(loss)):
            return LOSS_CHANGE
    return RUNNING
