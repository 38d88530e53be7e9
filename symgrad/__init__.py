"""symgrad: exact derivatives you can read, compiled from SymPy.

Declare a model or objective in SymPy; symgrad lowers it to a networkx
graph, differentiates it by reverse mode over that graph and gives back a
straight-line program and plain SymPy derivatives.
"""

from __future__ import annotations

from . import check, errors, nn, optim, schedules
from ._version import __version__  # noqa: E402
from .api import emit, grad, graph, hessian, jacobian, program
from .check import GradientReport, gradcheck, hesscheck
from .declare import losses
from .declare.functions import expand_activations, relu, sigmoid, softplus
from .declare.tensors import Input, Param, Target
from .files import load_data, load_model, parse_expression
from .inspect.explain import Explanation, explain
from .model import Model
from .program.program import Program
from .train.driver import StepInfo, fit, minimize
from .train.result import FitResult, History

__all__ = [
    "Explanation",
    "FitResult",
    "GradientReport",
    "History",
    "Input",
    "Param",
    "Target",
    "StepInfo",
    "Model",
    "Program",
    "emit",
    "check",
    "errors",
    "expand_activations",
    "explain",
    "fit",
    "grad",
    "gradcheck",
    "graph",
    "hessian",
    "hesscheck",
    "jacobian",
    "load_data",
    "load_model",
    "losses",
    "minimize",
    "nn",
    "optim",
    "parse_expression",
    "program",
    "relu",
    "schedules",
    "sigmoid",
    "softplus",
    "__version__",
]
