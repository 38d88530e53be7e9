"""The exception hierarchy of symgrad.

Every error a user can provoke derives from :class:`SymgradError`, so
``except sg.errors.SymgradError`` catches them all. Messages name the symbol,
shape or value at fault and say what was expected.
"""

from __future__ import annotations

__all__ = [
    "SymgradError",
    "DeclarationError",
    "UnsupportedOperationError",
    "ShapeError",
    "EvaluationError",
    "SymgradWarning",
    "DivergenceError",
]


class SymgradError(Exception):
    """Base class of every error raised by symgrad."""


class DeclarationError(SymgradError, ValueError):
    """A model or a call was declared inconsistently (roles, symbols, arguments)."""


class UnsupportedOperationError(SymgradError, TypeError):
    """An expression contains a construct symgrad has no rule for."""


class ShapeError(SymgradError, ValueError):
    """An expression or array has a shape other than the one expected."""


class EvaluationError(SymgradError, ValueError):
    """A numeric evaluation was asked for with missing or invalid values."""


class SymgradWarning(UserWarning):
    """Something legal but probably unintended (e.g. an unused parameter)."""


class DivergenceError(SymgradError, ArithmeticError):
    """Training diverged (a non-finite or exploding loss).

    Attributes:
        theta: the last parameters at which the loss and gradient were finite.
        params: the same, as ``{symbol: value}``.
        step: the step whose loss was bad.
        loss: that loss.
    """

    def __init__(self, message: str, *, theta=None, params=None, step: int = 0, loss: float = float("nan")):
        super().__init__(message)
        self.theta = theta
        self.params = params
        self.step = step
        self.loss = loss
