"""Newton's method with the compiled Hessian, damped where it must be."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DeclarationError
from .base import Optimizer, OptimizerState, check_nonnegative

__all__ = ["Newton"]


@dataclass(frozen=True)
class Newton(Optimizer):
    """Newton's method: ``θ ← θ − lr·(H + λI)⁻¹ g``.

    ``λ`` starts at ``damping``; when ``H + λI`` is not positive definite
    (its Cholesky factorisation fails) ``λ`` grows tenfold from
    ``1e-8·max(1, max|Hᵢᵢ|)`` until it is, at most ``max_tries`` times, after
    which the step falls back to gradient descent ``θ ← θ − lr·g / max(1, max|Hᵢᵢ|)``.
    The damping of the last step is in ``state.damping``. With ``lr=1`` it
    minimises a convex quadratic in one step. Needs ``model.compile(hessian=True)``
    (the default for models with at most 20 parameters).
    """

    lr: float = 1.0
    damping: float = 0.0
    max_tries: int = 40
    slots = ("damping",)
    needs_hessian = True

    def __post_init__(self):
        super().__post_init__()
        check_nonnegative(self, "damping", self.damping)
        if int(self.max_tries) < 1:
            raise DeclarationError(f"Newton: max_tries must be >= 1, got {self.max_tries!r}")

    def update(self, theta: np.ndarray, grad: np.ndarray, state: OptimizerState, lr: float | None = None,
               hessian: np.ndarray | None = None):
        if hessian is None:
            raise DeclarationError("Newton needs the Hessian at theta: update(theta, grad, state, hessian=H)")
        state.step += 1
        rate = self.lr if lr is None else lr
        direction, damping = self.direction(np.asarray(hessian, dtype=np.float64), grad)
        state.arrays[0] = damping
        theta -= (rate * direction).astype(theta.dtype)
        return theta, state

    def direction(self, hessian: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, float]:
        """The Newton direction and the damping it needed (``inf`` for the gradient fallback)."""
        scale = max(1.0, float(np.max(np.abs(np.diag(hessian))))) if hessian.size else 1.0
        identity = np.eye(hessian.shape[0])
        damping = float(self.damping)
        for _ in range(int(self.max_tries)):
            try:
                factor = np.linalg.cholesky(hessian + damping * identity)
            except np.linalg.LinAlgError:
                damping = max(10.0 * damping, 1e-8 * scale)
                continue
            direction = np.linalg.solve(factor.T, np.linalg.solve(factor, grad))
            if not np.all(np.isfinite(direction)):
                break  # numpy's Cholesky does not fail on NaN entries, and no damping repairs them
            return direction, damping
        return np.asarray(grad, dtype=np.float64) / scale, float("inf")
