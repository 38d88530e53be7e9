"""Learning-rate schedules: the rate of step ``t`` (counted from 0) from the base rate ``lr₀``.

=================  ==================================  ==========================
schedule           rate at step t                      torch.optim.lr_scheduler
=================  ==================================  ==========================
``constant()``     lr₀                                 —
``step(s, γ)``     lr₀·γ^⌊t/s⌋                          ``StepLR(step_size=s, gamma=γ)``
``exponential(k)`` lr₀·e^(−k·t)  (the lecture notes)   ``ExponentialLR(gamma=e^(−k))``
``inverse_time(k)`` lr₀ / (1 + k·t)  ("1/t decay")     —
any callable       ``f(t)``                            ``LambdaLR`` (absolute rate)
=================  ==================================  ==========================

Built-in schedules are evaluated by one numba function shared by the Python
loop and the fused compiled loop, so both see the same rates to the last bit.
A user callable makes the driver use its Python-level loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from ..errors import DeclarationError

__all__ = ["Schedule", "constant", "step", "exponential", "inverse_time", "as_schedule", "scheduled_rate"]

_CONSTANT, _STEP, _EXPONENTIAL, _INVERSE_TIME = 0, 1, 2, 3


@numba.njit(cache=True, nogil=True)
def scheduled_rate(kind, a, b, lr0, t):
    """The rate of step ``t`` (from 0) for a built-in schedule (kind, a, b)."""
    if kind == _STEP:
        return lr0 * b ** (t // int(a))
    if kind == _EXPONENTIAL:
        return lr0 * math.exp(-a * t)
    if kind == _INVERSE_TIME:
        return lr0 / (1.0 + a * t)
    return lr0


@dataclass(frozen=True)
class Schedule:
    """A built-in schedule; call it as ``schedule(t, lr0)``."""

    kind: int
    a: float = 0.0
    b: float = 0.0
    description: str = "constant"

    def __call__(self, t: int, lr0: float) -> float:
        return float(scheduled_rate(self.kind, float(self.a), float(self.b), float(lr0), int(t)))

    def __repr__(self) -> str:
        return f"<Schedule {self.description}>"


@dataclass(frozen=True)
class _CallableSchedule:
    function: Callable[[int], float]

    def __call__(self, t: int, lr0: float) -> float:
        rate = float(self.function(t))
        if not (math.isfinite(rate) and rate >= 0):
            raise DeclarationError(f"schedule {self.function!r} gave the rate {rate!r} at step {t}; "
                                   "expected a finite number >= 0")
        return rate


def constant() -> Schedule:
    """The base rate at every step."""
    return Schedule(_CONSTANT)


def step(step_size: int, gamma: float = 0.1) -> Schedule:
    """Multiply the rate by ``gamma`` every ``step_size`` steps."""
    try:
        valid = int(step_size) == step_size and step_size >= 1
    except (TypeError, ValueError, OverflowError):  # int() of nan, inf or a non-number
        valid = False
    if not valid:
        raise DeclarationError(f"step_size must be a positive integer, got {step_size!r}")
    _check(gamma, "gamma")
    return Schedule(_STEP, float(step_size), float(gamma), f"step(step_size={step_size}, gamma={gamma})")


def exponential(k: float) -> Schedule:
    """``lr₀·e^(−k·t)``."""
    _check(k, "k")
    return Schedule(_EXPONENTIAL, float(k), 0.0, f"exponential(k={k})")


def inverse_time(k: float) -> Schedule:
    """``lr₀ / (1 + k·t)``."""
    _check(k, "k")
    return Schedule(_INVERSE_TIME, float(k), 0.0, f"inverse_time(k={k})")


def as_schedule(schedule) -> Schedule | _CallableSchedule:
    """``None`` → constant; a :class:`Schedule` as is; a callable of the step → its rates."""
    if schedule is None:
        return constant()
    if isinstance(schedule, Schedule):
        return schedule
    if callable(schedule):
        return _CallableSchedule(schedule)
    raise DeclarationError(f"schedule must be a symgrad schedule or a callable of the step, got {schedule!r}")


def _check(value: float, name: str) -> None:
    number = isinstance(value, (int, float, np.integer, np.floating))
    if not (number and np.isfinite(value) and value >= 0):
        raise DeclarationError(f"{name} must be a finite number >= 0, got {value!r}")
