"""The MLP gradient in numpy, batched: matrix products over all samples at once.

The textbook vectorised backprop: activations ``A_{l+1} = sigmoid(A_l W_l^T + b_l)``
with one row per sample, then ``Delta_L = (Y - T) Y (1 - Y) / n`` and
``Delta_{l-1} = (Delta_l W_l) * A_l * (1 - A_l)``; layer ``l``'s gradient is
``[Delta_l^T A_l | sum of Delta_l]``. Memory grows with samples x width.
"""

from __future__ import annotations

import numpy as np

from . import layer_blocks

__all__ = ["loss_and_grad"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def loss_and_grad(theta, X, T, sizes, out):
    """Mean loss over the rows of ``X``, ``T``; the gradient (same layout as ``theta``) goes into ``out``."""
    n = X.shape[0]
    blocks = layer_blocks(theta, sizes)
    activations = [X]
    for block in blocks:
        W, b = block[:, :-1], block[:, -1]
        activations.append(_sigmoid(activations[-1] @ W.T + b))
    Y = activations[-1]
    residual = Y - T
    loss = 0.5 * float(np.sum(residual * residual)) / n
    delta = residual * Y * (1.0 - Y) / n
    gradients = layer_blocks(out, sizes)
    for layer in range(len(blocks) - 1, -1, -1):
        A = activations[layer]
        gradients[layer][:, :-1] = delta.T @ A
        gradients[layer][:, -1] = delta.sum(axis=0)
        if layer > 0:
            delta = (delta @ blocks[layer][:, :-1]) * A * (1.0 - A)
    return loss
