"""Training loops written by hand in numba: the peers ``sg.minimize`` and ``sg.fit`` are timed against.

Each is one ``@njit`` function that runs every step without returning to
Python, the way one would write it by hand: the gradient worked out on
paper, the update inlined. They take and return float64 arrays.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["rosenbrock_adam", "logreg_gd_blas"]


@numba.njit(cache=True, nogil=True)
def rosenbrock_adam(theta0, steps, lr, beta1, beta2, eps):
    """``steps`` Adam steps (torch's formulas) on ``(1 - x)**2 + 100 (y - x**2)**2`` from ``theta0``."""
    x, y = theta0[0], theta0[1]
    mx = my = vx = vy = 0.0
    for t in range(1, steps + 1):
        r = y - x * x
        gx = -2.0 * (1.0 - x) - 400.0 * x * r
        gy = 200.0 * r
        mx = beta1 * mx + (1.0 - beta1) * gx
        my = beta1 * my + (1.0 - beta1) * gy
        vx = beta2 * vx + (1.0 - beta2) * gx * gx
        vy = beta2 * vy + (1.0 - beta2) * gy * gy
        step = lr / (1.0 - beta1**t)
        root_bc2 = math.sqrt(1.0 - beta2**t)
        x -= step * mx / (math.sqrt(vx) / root_bc2 + eps)
        y -= step * my / (math.sqrt(vy) / root_bc2 + eps)
    return np.array([x, y])


@numba.njit(cache=True, nogil=True)
def logreg_gd_blas(X, t, theta0, steps, lr, losses):
    """Full-batch gradient descent on the mean binary cross-entropy of ``sigmoid(X w + b)``.

    ``theta0`` is ``(w, b)``. The two matrix-vector products go to BLAS
    (``np.dot`` inside numba); the rest is one loop over the samples. When
    ``losses`` has ``steps`` entries, the loss at each step's starting point
    is written there as well (what ``sg.fit`` records); when it is empty, only
    the gradient is computed.
    """
    n, k = X.shape
    w = theta0[:k].copy()
    b = theta0[k]
    XT = X.T
    z = np.empty(n)
    r = np.empty(n)
    gw = np.empty(k)
    track = losses.shape[0] > 0
    for step in range(steps):
        np.dot(X, w, z)
        total = 0.0
        loss = 0.0
        for i in range(n):
            zi = z[i] + b
            if zi >= 0.0:
                e = math.exp(-zi)
                p = 1.0 / (1.0 + e)
            else:
                e = math.exp(zi)
                p = e / (1.0 + e)
            if track:  # softplus(z) - t z, without overflow
                loss += max(zi, 0.0) + math.log1p(e) - t[i] * zi
            r[i] = p - t[i]
            total += r[i]
        if track:
            losses[step] = loss / n
        np.dot(XT, r, gw)
        for j in range(k):
            w[j] -= lr * (gw[j] / n)
        b -= lr * (total / n)
    out = np.empty(k + 1)
    out[:k] = w
    out[k] = b
    return out
