"""The exception hierarchy of symgrad.

Every error a user can provoke derives from :class:`SymgradError`, so
``except sg.errors.SymgradError`` catches them all. Messages name the symbol,
shape or value at fault and say what was expected.
"""

from __future__ import annotations

__all__ = [
    "SymgradError",
    "DeclarationError",
    "ParseError",
    "UnsupportedOperationError",
    "ShapeError",
    "EvaluationError",
    "SymgradWarning",
    "DivergenceError",
    "ComplexStepError",
    "GradientCheckError",
]


class SymgradError(Exception):
    """Base class of every error raised by symgrad."""


class DeclarationError(SymgradError, ValueError):
    """A model or a call was declared inconsistently (roles, symbols, arguments)."""


class ParseError(DeclarationError):
    """A string (an expression or a model file) is outside the grammar symgrad accepts.

    Attributes:
        text: the text that was parsed (``None`` if not a single expression).
        offset: 0-based character offset of the offending construct in ``text``, if known.
    """

    def __init__(self, message: str, *, text: str | None = None, offset: int | None = None):
        super().__init__(message)
        self.text = text
        self.offset = offset


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


class ComplexStepError(UnsupportedOperationError):
    """Complex-step differentiation was asked for a loss that is not complex-analytic
    (Abs, Max, Min, relu, sign, Heaviside, Piecewise) or not evaluable in complex numbers."""


class GradientCheckError(SymgradError, AssertionError):
    """A gradient or Hessian check found entries that disagree with finite differences.

    Attributes:
        report: the full report (a :class:`symgrad.check.GradientReport` or
            :class:`symgrad.check.TaylorReport`).
    """

    def __init__(self, message: str, *, report=None):
        super().__init__(message)
        self.report = report
