"""The MLP gradient with PyTorch autograd on the CPU, batched, float64.

The forward pass is written with matrix products over all samples; the
parameters are views of one flat leaf tensor ``theta`` in symgrad's layout,
so ``theta.grad`` comes back in that layout. Importing this module needs
PyTorch (``pip install torch``).
"""

from __future__ import annotations

import numpy as np
import torch

from . import layer_blocks

__all__ = ["loss_and_grad", "prepare"]


def prepare(theta: np.ndarray, X: np.ndarray, T: np.ndarray, threads: int):
    """Tensors sharing memory with the arrays, and the intra-op thread count set to ``threads``."""
    torch.set_num_threads(threads)
    leaf = torch.from_numpy(theta).requires_grad_(True)
    return leaf, torch.from_numpy(X), torch.from_numpy(T)


def loss_and_grad(theta: torch.Tensor, X: torch.Tensor, T: torch.Tensor, sizes) -> tuple[float, np.ndarray]:
    """Mean loss over the rows of ``X``, ``T`` and its gradient with respect to the leaf ``theta``."""
    theta.grad = None
    a = X
    for block in layer_blocks(theta, sizes):
        a = torch.sigmoid(torch.addmm(block[:, -1], a, block[:, :-1].T))
    loss = ((a - T) ** 2 / 2).mean()
    loss.backward()
    return loss.item(), theta.grad.numpy()
