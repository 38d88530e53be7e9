"""Seeded initial parameters for layered models.

Weight matrices are drawn by the chosen rule; column vectors (biases) and
scalars start at zero, as in the lecture notes (biases zero, weights random so
that hidden units differ).

* ``"xavier"`` (Glorot): uniform on ±√(6 / (fan_in + fan_out)).
* ``"he"``: normal with standard deviation √(2 / fan_in), for ReLU layers.
* ``"normal"``: N(0, σ²) with σ = ``scale`` (default 0.01), the notes' choice.

For a weight ``W`` of shape ``(out, in)``, fan_in is ``in`` and fan_out ``out``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import DeclarationError

__all__ = ["initial_theta", "INITIALISERS"]

INITIALISERS = ("xavier", "he", "normal")


def initial_theta(slots, seed=0, weights: str = "xavier", scale: float | None = None) -> np.ndarray:
    """A flat theta for ``slots`` (see :class:`symgrad.codegen.tensor_kernels.Slot`)."""
    if weights not in INITIALISERS:
        raise DeclarationError(f"weights must be one of {', '.join(INITIALISERS)}, got {weights!r}")
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise DeclarationError(f"scale must be a positive number, got {scale!r}")
    rng = np.random.default_rng(seed)
    theta = np.zeros(sum(s.size for s in slots))
    for slot in slots:
        rows, cols = slot.shape
        if not isinstance(slot.symbol, sp.MatrixSymbol) or cols == 1:
            continue  # scalars and biases start at zero
        fan_out, fan_in = rows, cols
        if weights == "xavier":
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            values = rng.uniform(-limit, limit, slot.size)
        elif weights == "he":
            values = rng.normal(0.0, np.sqrt(2.0 / fan_in), slot.size)
        else:
            values = rng.normal(0.0, 0.01 if scale is None else scale, slot.size)
        theta[slot.offset:slot.offset + slot.size] = values
    return theta
