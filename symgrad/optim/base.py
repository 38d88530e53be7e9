"""What every optimizer is: hyperparameters, state slots, an update step.

An optimizer is a small state machine. ``init(theta)`` gives its state: a
few arrays the size of ``theta`` (``state.m``, ``state.v``, ...) and the
step count. ``update(theta, grad, state)`` takes one step in place. Built-in
optimizers do that with a numba kernel from :mod:`symgrad.optim.updates`,
which is also what the fused training loop calls, so the Python-level loop
and the compiled loop take bit-identical steps.

A custom optimizer subclasses :class:`Optimizer` and overrides ``update``
(``kernel = None``); the driver then runs its Python-level loop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import DeclarationError

__all__ = ["Optimizer", "OptimizerState", "check_fraction", "check_nonnegative"]


@dataclass
class OptimizerState:
    """An optimizer's state: ``arrays[k]`` is the slot ``names[k]``; ``step`` counts updates."""

    names: tuple[str, ...]
    arrays: np.ndarray
    step: int = 0

    def __getattr__(self, name: str) -> np.ndarray:
        names = self.__dict__.get("names", ())
        if name in names:
            return self.__dict__["arrays"][names.index(name)]
        raise AttributeError(f"optimizer state has slots {names}, not {name!r}")

    def copy(self) -> OptimizerState:
        return OptimizerState(self.names, self.arrays.copy(), self.step)


@dataclass(frozen=True)
class Optimizer:
    """Base class: subclasses declare ``slots``, ``kernel`` and ``hyper()``."""

    lr: float = 1e-3
    #: Names of the state arrays and their initial values.
    slots: ClassVar[tuple[str, ...]] = ()
    kernel: ClassVar = None
    #: Whether the update needs the Hessian (Newton).
    needs_hessian: ClassVar[bool] = False
    _initial: ClassVar[dict[str, float]] = {}

    def __post_init__(self):
        check_nonnegative(self, "lr", self.lr)

    @property
    def name(self) -> str:
        return type(self).__name__

    def hyper(self) -> np.ndarray:
        """Hyperparameters in the order the update kernel reads them."""
        return np.zeros(1)

    @functools.cached_property
    def _hyper64(self) -> np.ndarray:
        # built once: the Python-level loop calls update every step
        return self.hyper().astype(np.float64)

    def init(self, theta) -> OptimizerState:
        """Fresh state for parameters shaped like ``theta``."""
        n = np.asarray(theta).shape[0]
        arrays = np.zeros((max(len(self.slots), 1), n), dtype=np.asarray(theta).dtype)
        for k, slot in enumerate(self.slots):
            arrays[k] = self._initial_value(slot)
        return OptimizerState(self.slots, arrays, 0)

    def _initial_value(self, slot: str) -> float:
        return self._initial.get(slot, 0.0)

    def update(self, theta: np.ndarray, grad: np.ndarray, state: OptimizerState, lr: float | None = None):
        """One step in place: ``theta`` and ``state`` change; returns ``(theta, state)``.

        ``lr`` overrides the optimizer's own rate for this step (schedules use it).
        """
        state.step += 1
        rate = self.lr if lr is None else lr
        # float64 hyperparameters and rate whatever theta's dtype: the fused loop does the same
        self.kernel(theta, grad, state.arrays, self._hyper64, state.step, float(rate))
        return theta, state


def check_nonnegative(owner, name: str, value: float) -> None:
    if not (np.isfinite(value) and value >= 0):
        raise DeclarationError(f"{type(owner).__name__}: {name} must be a finite number >= 0, got {value!r}")


def check_fraction(owner, name: str, value: float) -> None:
    if not (np.isfinite(value) and 0 <= value < 1):
        raise DeclarationError(f"{type(owner).__name__}: {name} must be in [0, 1), got {value!r}")
