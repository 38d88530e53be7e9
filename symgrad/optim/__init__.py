"""Optimizers: small state machines, ``init(theta) -> state`` and ``update(theta, grad, state)``.

See :mod:`symgrad.optim.optimizers` for the formulas and
:mod:`symgrad.optim.schedules` for learning-rate schedules.
"""

from __future__ import annotations

from .base import Optimizer, OptimizerState
from .newton import Newton
from .optimizers import (
    GD,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    AMSGrad,
    Momentum,
    Nadam,
    Nesterov,
    RMSProp,
)

__all__ = ["Optimizer", "OptimizerState", "GD", "SGD", "Momentum", "Nesterov", "Adagrad", "RMSProp",
           "Adadelta", "Adam", "AdamW", "Adamax", "Nadam", "AMSGrad", "Newton", "OPTIMIZERS"]

#: Every built-in optimizer class, by name (drives the docs table and the tests).
OPTIMIZERS = {cls.__name__: cls for cls in (GD, Momentum, Nesterov, Adagrad, RMSProp, Adadelta, Adam,
                                             AdamW, Adamax, Nadam, AMSGrad, Newton)}
