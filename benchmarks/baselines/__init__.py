"""Hand-written gradients of the sigmoid MLP of ``benchmarks/models.py``, the peers symgrad is timed against.

All of them use symgrad's parameter layout: ``theta`` is flat and holds, layer
by layer and unit by unit, the unit's incoming weights then its bias, so layer
``l``'s block reshaped to ``(n_out, n_in + 1)`` is ``[W | b]``. Each computes
the mean over the samples of ``(y - t)**2 / 2`` and its gradient.
"""

from __future__ import annotations

import numpy as np

__all__ = ["layer_blocks", "n_params"]


def n_params(sizes) -> int:
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


def layer_blocks(flat, sizes) -> list:
    """Views of ``flat`` (numpy or torch, 1-D) as one ``(n_out, n_in + 1)`` ``[W | b]`` block per layer."""
    if len(flat) != n_params(sizes):
        raise ValueError(f"expected {n_params(sizes)} parameters for sizes {tuple(sizes)}, got {len(flat)}")
    blocks, start = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        stop = start + (n_in + 1) * n_out
        blocks.append(flat[start:stop].reshape(n_out, n_in + 1))
        start = stop
    return blocks


def as_sizes(sizes) -> np.ndarray:
    return np.asarray(sizes, dtype=np.int64)
