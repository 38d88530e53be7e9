"""symgrad: exact derivatives you can read, compiled from SymPy.

Declare a model or objective in SymPy; symgrad lowers it to a networkx
graph, differentiates it by reverse mode over that graph and gives back a
straight-line program and plain SymPy derivatives.
"""

from __future__ import annotations

from . import errors
from ._version import __version__  # noqa: E402
from .api import emit, grad, graph, hessian, jacobian, program
from .declare import losses
from .declare.functions import expand_activations, relu, sigmoid, softplus
from .inspect.explain import Explanation, explain
from .model import Model
from .program.program import Program

__all__ = [
    "Explanation",
    "Model",
    "Program",
    "emit",
    "errors",
    "expand_activations",
    "explain",
    "grad",
    "graph",
    "hessian",
    "jacobian",
    "losses",
    "program",
    "relu",
    "sigmoid",
    "softplus",
    "__version__",
]
