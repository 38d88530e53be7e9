"""The update step of every built-in optimizer, as numba kernels.

All share one signature so the driver (Python loop or fused compiled loop)
can call any of them::

    update(theta, g, state, hyper, t, lr)

``theta`` and ``state`` (shape ``(slots, n)``) are updated in place; ``g`` is
the gradient at ``theta`` and is not modified; ``hyper`` holds the
optimizer's hyperparameters in the order its class documents; ``t`` is the
1-based step number; ``lr`` the learning rate of this step (after the
schedule). Coupled weight decay adds ``wd * theta`` to the gradient; the
formulas are written out in the classes of :mod:`symgrad.optim.optimizers`.
Elementwise loops rather than array expressions: no temporaries, one pass.
"""

from __future__ import annotations

import math

import numba

__all__ = ["gd_update", "momentum_update", "adagrad_update", "rmsprop_update", "adadelta_update",
           "adam_update", "adamax_update", "nadam_update"]

# error_model="numpy": a division by zero gives inf/nan (which the driver stops on, keeping the
# last good parameters) instead of a check and branch in every iteration that keeps LLVM from
# vectorising the loops.
_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def one_minus_power(log_beta, t):
    """``1 − βᵗ``, the Adam family's bias correction, as ``−expm1(t·log β)`` from ``log β``
    (the optimizers' ``hyper`` carry it, computed once).

    A fraction of the time of ``β ** t`` (a fused loop on two parameters spent half its
    step on the two powers), and more accurate for small ``t``, where ``1 − βᵗ``
    cancels: the power's rounding error, relative to the difference, grows as
    ``1/(1 − β)`` (66 ulp for β = 0.999 at t = 2, where this stays within a few ulp).
    """
    return -math.expm1(t * log_beta)


@_jit
def gd_update(theta, g, state, hyper, t, lr):
    # hyper: (weight_decay,)
    wd = hyper[0]
    for i in range(theta.shape[0]):
        theta[i] -= lr * (g[i] + wd * theta[i])


@_jit
def momentum_update(theta, g, state, hyper, t, lr):
    # hyper: (momentum, dampening, weight_decay, nesterov, seed_form); state: (buffer,)
    mu, dampening, wd = hyper[0], hyper[1], hyper[2]
    nesterov, seed_form = hyper[3] != 0.0, hyper[4] != 0.0
    buf = state[0]
    for i in range(theta.shape[0]):
        d = g[i] + wd * theta[i]
        if seed_form:
            # v = mu v - lr d; theta += v (Nesterov: theta is the look-ahead point)
            old = buf[i]
            buf[i] = mu * old - lr * d
            if nesterov:
                theta[i] += (1.0 + mu) * buf[i] - mu * old
            else:
                theta[i] += buf[i]
        else:
            if t == 1:
                buf[i] = d
            else:
                buf[i] = mu * buf[i] + (1.0 - dampening) * d
            theta[i] -= lr * (d + mu * buf[i] if nesterov else buf[i])


@_jit
def adagrad_update(theta, g, state, hyper, t, lr):
    # hyper: (lr_decay, eps, weight_decay, eps_inside); state: (sum of squares,)
    lr_decay, eps, wd, inside = hyper[0], hyper[1], hyper[2], hyper[3] != 0.0
    clr = lr / (1.0 + (t - 1) * lr_decay)
    acc = state[0]
    for i in range(theta.shape[0]):
        d = g[i] + wd * theta[i]
        acc[i] += d * d
        denom = math.sqrt(acc[i] + eps) if inside else math.sqrt(acc[i]) + eps
        theta[i] -= clr * d / denom


@_jit
def rmsprop_update(theta, g, state, hyper, t, lr):
    # hyper: (alpha, eps, weight_decay, momentum, centered, eps_inside);
    # state: (square average, gradient average, momentum buffer)
    alpha, eps, wd, mu = hyper[0], hyper[1], hyper[2], hyper[3]
    centered, inside = hyper[4] != 0.0, hyper[5] != 0.0
    square, mean, buf = state[0], state[1], state[2]
    for i in range(theta.shape[0]):
        d = g[i] + wd * theta[i]
        square[i] = alpha * square[i] + (1.0 - alpha) * d * d
        v = square[i]
        if centered:
            mean[i] = alpha * mean[i] + (1.0 - alpha) * d
            v -= mean[i] * mean[i]
        denom = math.sqrt(v + eps) if inside else math.sqrt(v) + eps
        if mu > 0.0:
            buf[i] = mu * buf[i] + d / denom
            theta[i] -= lr * buf[i]
        else:
            theta[i] -= lr * d / denom


@_jit
def adadelta_update(theta, g, state, hyper, t, lr):
    # hyper: (rho, eps, weight_decay); state: (square average, delta square average)
    rho, eps, wd = hyper[0], hyper[1], hyper[2]
    square, deltas = state[0], state[1]
    for i in range(theta.shape[0]):
        d = g[i] + wd * theta[i]
        square[i] = rho * square[i] + (1.0 - rho) * d * d
        delta = math.sqrt(deltas[i] + eps) / math.sqrt(square[i] + eps) * d
        deltas[i] = rho * deltas[i] + (1.0 - rho) * delta * delta
        theta[i] -= lr * delta


@_jit
def adam_update(theta, g, state, hyper, t, lr):
    # hyper: (beta1, beta2, eps, weight_decay, decoupled, amsgrad, max_of_corrected, log beta1,
    #         log beta2);
    # state: (m, v, v max)
    b1, b2, eps, wd = hyper[0], hyper[1], hyper[2], hyper[3]
    decoupled, amsgrad, corrected = hyper[4] != 0.0, hyper[5] != 0.0, hyper[6] != 0.0
    m, v, vmax = state[0], state[1], state[2]
    bc1 = one_minus_power(hyper[7], t)
    bc2 = one_minus_power(hyper[8], t)
    step = lr / bc1
    # times the reciprocal, not divided by the root: one division less per entry (the loop is
    # bound by its divisions and square roots); the same value to within an ulp
    inv_root_bc2 = 1.0 / math.sqrt(bc2)
    n = theta.shape[0]
    if decoupled:
        shrink = 1.0 - lr * wd
        for i in range(n):
            theta[i] *= shrink
        wd = 0.0
    # One loop per variant, no branch inside: the common one vectorises.
    if amsgrad and corrected:
        for i in range(n):
            d = g[i] + wd * theta[i]
            m[i] = b1 * m[i] + (1.0 - b1) * d
            v[i] = b2 * v[i] + (1.0 - b2) * d * d
            # the maximum of the bias-corrected second moments
            vmax[i] = max(vmax[i], v[i] / bc2)
            theta[i] -= step * m[i] / (math.sqrt(vmax[i]) + eps)
    elif amsgrad:
        for i in range(n):
            d = g[i] + wd * theta[i]
            m[i] = b1 * m[i] + (1.0 - b1) * d
            v[i] = b2 * v[i] + (1.0 - b2) * d * d
            vmax[i] = max(vmax[i], v[i])
            theta[i] -= step * m[i] / (math.sqrt(vmax[i]) * inv_root_bc2 + eps)
    else:
        for i in range(n):
            d = g[i] + wd * theta[i]
            m[i] = b1 * m[i] + (1.0 - b1) * d
            v[i] = b2 * v[i] + (1.0 - b2) * d * d
            theta[i] -= step * m[i] / (math.sqrt(v[i]) * inv_root_bc2 + eps)


@_jit
def adamax_update(theta, g, state, hyper, t, lr):
    # hyper: (beta1, beta2, eps, weight_decay, log beta1, log beta2); state: (m, infinity norm)
    b1, b2, eps, wd = hyper[0], hyper[1], hyper[2], hyper[3]
    m, u = state[0], state[1]
    step = lr / one_minus_power(hyper[4], t)
    for i in range(theta.shape[0]):
        d = g[i] + wd * theta[i]
        m[i] = b1 * m[i] + (1.0 - b1) * d
        u[i] = max(b2 * u[i], abs(d) + eps)
        theta[i] -= step * m[i] / u[i]


@_jit
def nadam_update(theta, g, state, hyper, t, lr):
    # hyper: (beta1, beta2, eps, weight_decay, momentum_decay, log beta1, log beta2);
    # state: (m, v, running product of the momentum schedule, starts at 1)
    b1, b2, eps, wd, psi = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
    m, v, product = state[0], state[1], state[2]
    mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
    bc2 = one_minus_power(hyper[6], t)
    for i in range(theta.shape[0]):
        d = g[i] + wd * theta[i]
        prod = product[i] * mu
        product[i] = prod
        m[i] = b1 * m[i] + (1.0 - b1) * d
        v[i] = b2 * v[i] + (1.0 - b2) * d * d
        denom = math.sqrt(v[i] / bc2) + eps
        theta[i] -= lr * (1.0 - mu) / (1.0 - prod) * d / denom
        theta[i] -= lr * mu_next / (1.0 - prod * mu_next) * m[i] / denom
