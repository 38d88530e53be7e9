"""Gradient checking: exact derivatives against numerical ones.

``gradcheck`` compares a model's compiled gradient with finite differences
(forward, backward, central, Richardson) or the complex step, per parameter,
on a random subset, or along random directions; ``hesscheck`` does the same
for the Hessian; ``taylor_test`` checks that the first-order Taylor remainder
shrinks like h². The checks run on loss/gradient callables
(:class:`Objective`); models, compiled models, SymPy expressions and plain
``(loss_fn, grad_fn)`` pairs are adapted to them. See docs/gradient-checking.md.
"""

from .gradient import gradcheck, run_check
from .hessian import hesscheck
from .methods import METHODS, Method
from .objective import Objective, as_objective
from .quick import quick_check
from .report import STATUSES, Entry, GradientReport
from .taylor import TaylorReport, taylor_test

__all__ = [
    "METHODS",
    "STATUSES",
    "Entry",
    "GradientReport",
    "Method",
    "Objective",
    "TaylorReport",
    "as_objective",
    "gradcheck",
    "hesscheck",
    "quick_check",
    "run_check",
    "taylor_test",
]
