"""A per-sample MLP gradient in numba, written the way one would by hand.

For each sample: a forward pass over the layers (``a_{l+1} = sigmoid(W_l a_l + b_l)``),
then the backward pass (``delta_L = (y - t) y (1 - y)``,
``delta_{l-1} = (W_l^T delta_l) * a_l * (1 - a_l)``), adding
``delta_l a_{l-1}^T`` and ``delta_l`` into the gradient. The network's shape is
data (``sizes``), so one compiled kernel serves every width and depth; it is
cached on disk by numba (``cache=True``). Serial, one thread.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from . import as_sizes, n_params

__all__ = ["loss_and_grad", "compile_for"]


@numba.njit(cache=True)
def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


@numba.njit(cache=True)
def loss_and_grad(theta, X, T, sizes, out):
    """Mean loss over the rows of ``X``, ``T``; the gradient (same layout as ``theta``) goes into ``out``."""
    n_samples = X.shape[0]
    n_layers = sizes.shape[0] - 1
    # Where each layer's [W | b] block starts in theta, and each layer's activations in `a`.
    block = np.zeros(n_layers + 1, dtype=np.int64)
    first = np.zeros(n_layers + 2, dtype=np.int64)
    for layer in range(n_layers):
        block[layer + 1] = block[layer] + sizes[layer + 1] * (sizes[layer] + 1)
    for layer in range(n_layers + 1):
        first[layer + 1] = first[layer] + sizes[layer]
    a = np.empty(first[n_layers + 1])
    widest = sizes.max()
    delta = np.empty(widest)
    delta_below = np.empty(widest)

    out[:] = 0.0
    total = 0.0
    for s in range(n_samples):
        # Forward.
        for i in range(sizes[0]):
            a[i] = X[s, i]
        for layer in range(n_layers):
            n_in, n_out = sizes[layer], sizes[layer + 1]
            a_in, a_out = first[layer], first[layer + 1]
            for j in range(n_out):
                row = block[layer] + j * (n_in + 1)
                z = theta[row + n_in]
                for i in range(n_in):
                    z += theta[row + i] * a[a_in + i]
                a[a_out + j] = _sigmoid(z)
        y = a[first[n_layers]]
        residual = y - T[s, 0]
        total += 0.5 * residual * residual

        # Backward: delta[j] is d loss / d z_j of the current layer.
        delta[0] = residual * y * (1.0 - y)
        for layer in range(n_layers - 1, -1, -1):
            n_in, n_out = sizes[layer], sizes[layer + 1]
            a_in = first[layer]
            for i in range(n_in):
                delta_below[i] = 0.0
            for j in range(n_out):
                row = block[layer] + j * (n_in + 1)
                d = delta[j]
                for i in range(n_in):
                    out[row + i] += d * a[a_in + i]
                    delta_below[i] += d * theta[row + i]
                out[row + n_in] += d
            if layer > 0:
                for i in range(n_in):
                    activation = a[a_in + i]
                    delta[i] = delta_below[i] * activation * (1.0 - activation)
    for k in range(out.shape[0]):
        out[k] /= n_samples
    return total / n_samples


def compile_for(sizes):
    """Compile (or load from numba's cache) and return ``f(theta, X, T, out) -> loss`` for this shape."""
    shape = as_sizes(sizes)
    dummy = np.zeros(n_params(sizes))
    loss_and_grad(dummy, np.zeros((1, shape[0])), np.zeros((1, 1)), shape, np.empty_like(dummy))

    def call(theta, X, T, out):
        return loss_and_grad(theta, X, T, shape, out)

    return call
