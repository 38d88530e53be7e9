"""The numerical differentiation methods: one table entry per method.

A finite-difference method is a stencil: the derivative of J along a
direction ``u`` is estimated as ``Σ_k w_k J(θ + o_k·h·u) / h`` for offsets
``o_k`` and weights ``w_k``. Its truncation error is O(h^p) and its rounding
error O(ε/h), so the step that balances them is ``h ≈ ε^(1/(p+1))`` times the
parameter's scale ``max(1, |θᵢ|)``: ε^(1/2) for forward and backward
differences, ε^(1/3) for central differences, ε^(1/5) for Richardson
extrapolation of central differences. The complex step ``Im J(θ + ih·u) / h``
has no subtraction, hence no rounding error to balance: h is tiny.

Default tolerances are per method and dtype; they are what a correct gradient
meets with a wide margin at ordinary points (see docs/gradient-checking.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DeclarationError

__all__ = ["Method", "METHODS", "method_named", "tolerances"]


@dataclass(frozen=True)
class Method:
    """One way to estimate a directional derivative from loss values."""

    name: str
    title: str
    offsets: tuple[float, ...]
    weights: tuple[float, ...]
    order: int
    #: dtype name -> (rtol, atol)
    defaults: dict[str, tuple[float, float]]
    complex: bool = False

    def base_step(self, dtype: np.dtype) -> float:
        """The step relative to a parameter's scale ``max(1, |θᵢ|)``, before rounding to a power of 2."""
        if self.complex:
            return 2.0**-66  # ≈ 1.4e-20: h² vanishes next to 1 in any dtype
        return float(np.finfo(dtype).eps) ** (1.0 / (self.order + 1))

    @property
    def two_sided(self) -> bool:
        """Whether the stencil sees both sides of θ (then one-sided slopes come for free)."""
        return any(o > 0 for o in self.offsets) and any(o < 0 for o in self.offsets)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("forward", "forward differences", (1.0, 0.0), (1.0, -1.0), 1,
               {"float64": (1e-5, 1e-8), "float32": (5e-2, 1e-3)}),
        Method("backward", "backward differences", (0.0, -1.0), (1.0, -1.0), 1,
               {"float64": (1e-5, 1e-8), "float32": (5e-2, 1e-3)}),
        Method("central", "central differences", (1.0, -1.0), (0.5, -0.5), 2,
               {"float64": (1e-6, 1e-9), "float32": (1e-2, 1e-4)}),
        Method("richardson", "Richardson extrapolation of central differences",
               (1.0, 0.5, -0.5, -1.0), (-1 / 6, 8 / 6, -8 / 6, 1 / 6), 4,
               {"float64": (1e-8, 1e-11), "float32": (1e-2, 1e-4)}),
        Method("complex", "complex step", (1.0,), (1.0,), 2,
               {"float64": (1e-10, 1e-13), "float32": (1e-3, 1e-5)}, complex=True),
    )
}


def method_named(name: str) -> Method:
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise DeclarationError(f"method must be one of {', '.join(METHODS)}; got {name!r}") from None


def tolerances(method: Method, dtype: np.dtype, rtol: float | None,
               atol: float | None) -> tuple[float, float]:
    """``(rtol, atol)``: the given ones, else the method's defaults for ``dtype``."""
    default_rtol, default_atol = method.defaults[np.dtype(dtype).name]
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(value, (int, float, np.floating)) and np.isfinite(value) and value > 0):
            raise DeclarationError(f"{name} must be a positive finite number, got {value!r}")
    return float(rtol), float(atol)
