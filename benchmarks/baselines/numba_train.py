"""Training loops written by hand in numba: the peers ``sg.minimize`` and ``sg.fit`` are timed against.

Each is one ``@njit`` function that runs every step without returning to
Python, the way one would write it by hand: the gradient worked out on
paper, the update inlined. They take and return float64 arrays.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["rosenbrock_adam", "logreg_gd_blas", "mlp_adam_blas"]


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


@numba.njit(cache=True, nogil=True)
def mlp_adam_blas(X, Y, theta0, hidden, epochs, batch, lr, beta1, beta2, eps, losses):
    """Adam (torch's formulas) on a ``d``-``hidden``-``k`` tanh network with softmax cross-entropy.

    ``theta0`` is ``W1 (hidden, d), b1, W2 (k, hidden), b2``, each matrix row-major; ``Y`` is
    one-hot. Each epoch visits the rows of ``X`` in order in mini-batches of ``batch`` (the
    last one smaller when ``batch`` does not divide ``n``) and takes one step per batch on the
    batch's mean loss, which is written to ``losses`` (one entry per step). The five matrix
    products of a batch go to BLAS (``np.dot``); the bias, tanh, softmax and column sums are
    loops.
    """
    n, d = X.shape
    k = Y.shape[1]
    h = hidden
    b1_at, w2_at = h * d, h * d + h
    b2_at = w2_at + k * h
    theta = theta0.copy()
    g = np.zeros_like(theta)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    W1, W2 = theta[:b1_at].reshape((h, d)), theta[w2_at:b2_at].reshape((k, h))
    gW1, gW2 = g[:b1_at].reshape((h, d)), g[w2_at:b2_at].reshape((k, h))
    A1_full, D1_full = np.empty((batch, h)), np.empty((batch, h))
    Z2_full = np.empty((batch, k))
    step = 0
    for _ in range(epochs):
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            rows = stop - start
            Xb, Yb = X[start:stop], Y[start:stop]
            A1, D1, Z2 = A1_full[:rows], D1_full[:rows], Z2_full[:rows]
            np.dot(Xb, W1.T, A1)
            for i in range(rows):
                for j in range(h):
                    A1[i, j] = math.tanh(A1[i, j] + theta[b1_at + j])
            np.dot(A1, W2.T, Z2)
            loss = 0.0
            for i in range(rows):  # Z2 becomes the gradient of the mean loss at the logits
                top = -np.inf
                for j in range(k):
                    Z2[i, j] += theta[b2_at + j]
                    top = max(top, Z2[i, j])
                total = 0.0
                for j in range(k):
                    total += math.exp(Z2[i, j] - top)
                log_total = math.log(total)
                for j in range(k):
                    z = Z2[i, j] - top
                    loss += Yb[i, j] * (log_total - z)
                    Z2[i, j] = (math.exp(z - log_total) - Yb[i, j]) / rows
            losses[step] = loss / rows
            np.dot(Z2.T, A1, gW2)
            np.dot(Z2, W2, D1)
            for j in range(k):
                g[b2_at + j] = 0.0
            for j in range(h):
                g[b1_at + j] = 0.0
            for i in range(rows):
                for j in range(k):
                    g[b2_at + j] += Z2[i, j]
                for j in range(h):
                    D1[i, j] *= 1.0 - A1[i, j] * A1[i, j]
                    g[b1_at + j] += D1[i, j]
            np.dot(D1.T, Xb, gW1)
            step += 1
            step_size = lr / (1.0 - beta1**step)
            root_bc2 = math.sqrt(1.0 - beta2**step)
            for p in range(theta.shape[0]):
                m[p] = beta1 * m[p] + (1.0 - beta1) * g[p]
                v[p] = beta2 * v[p] + (1.0 - beta2) * g[p] * g[p]
                theta[p] -= step_size * m[p] / (math.sqrt(v[p]) / root_bc2 + eps)
    return theta
