"""Activations, dense layers and multi-layer perceptrons, as SymPy matrix expressions.

Nothing here computes: each helper returns the expression a user could have
written by hand (``tanh.(W1*x + b1)``), which ``sg.Model`` then lowers,
differentiates and compiles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sympy as sp

from ..declare.functions import relu as _relu
from ..declare.functions import sigmoid as _sigmoid
from ..declare.functions import softplus as _softplus
from ..declare.tensors import Input, Param, Softmax, apply, is_matrix
from ..errors import DeclarationError

__all__ = ["sigmoid", "tanh", "relu", "softplus", "identity", "softmax", "Dense", "MLP", "mlp", "ACTIVATIONS"]


def sigmoid(z):
    """σ of a scalar, or of each element of a matrix expression."""
    return apply(_sigmoid, z)


def tanh(z):
    """tanh of a scalar, or of each element."""
    return apply(sp.tanh, z)


def relu(z):
    """max(z, 0) of a scalar, or of each element (derivative 0 at 0)."""
    return apply(_relu, z)


def softplus(z):
    """log(1 + eᶻ) of a scalar, or of each element (computed stably)."""
    return apply(_softplus, z)


def identity(z):
    """``z`` itself (a linear output layer)."""
    return z


def softmax(z):
    """The softmax of a column vector; for training prefer ``cross_entropy`` on the logits."""
    return Softmax(z)


ACTIVATIONS: dict[str, Callable] = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "softplus": softplus,
                                    "identity": identity, "softmax": softmax}


def _activation(value) -> Callable:
    if isinstance(value, str):
        if value not in ACTIVATIONS:
            raise DeclarationError(f"unknown activation {value!r}; choose one of {', '.join(ACTIVATIONS)}")
        return ACTIVATIONS[value]
    if value in (_sigmoid, sp.tanh, _relu, _softplus) or isinstance(value, sp.Lambda):
        return lambda z, f=value: apply(f, z)
    if callable(value):
        return value
    raise DeclarationError(f"an activation must be a name, an sg.nn function, a SymPy function or a Lambda, "
                           f"got {value!r}")


class Dense:
    """A layer ``activation.(W x + b)`` with ``W`` of shape ``(n_out, n_in)`` and bias ``b`` (n_out).

    >>> import symgrad as sg
    >>> layer = sg.nn.Dense(3, 2, activation="tanh", name="1")
    >>> layer(sg.Input("x", 3))
    tanh.(W1*x + b1)
    """

    def __init__(self, n_in: int, n_out: int, activation="identity", name: str = "", bias: bool = True):
        self.W = Param(f"W{name}", (n_out, n_in))
        self.b = Param(f"b{name}", n_out) if bias else None
        self.activation = _activation(activation)

    @property
    def params(self) -> list:
        return [self.W] if self.b is None else [self.W, self.b]

    def __call__(self, x):
        if not is_matrix(x) or x.shape != (self.W.shape[1], 1):
            shape = getattr(x, "shape", "a scalar")
            raise DeclarationError(f"{self.W} expects a column vector of {self.W.shape[1]} features, "
                                   f"got {shape}")
        z = self.W * x if self.b is None else self.W * x + self.b
        return self.activation(z)


@dataclass
class MLP:
    """A multi-layer perceptron: ``output`` is the expression of the input ``x``."""

    x: sp.MatrixSymbol
    layers: list[Dense]
    output: sp.Basic
    params: list = field(default_factory=list)


def mlp(sizes: Sequence[int], activation="tanh", output="identity", x=None, bias: bool = True) -> MLP:
    """Dense layers ``sizes[0] → sizes[1] → … → sizes[-1]``: hidden layers use ``activation``,
    the last one ``output``. Weights are ``W1, W2, …``, biases ``b1, b2, …``; ``x`` defaults to
    ``Input("x", sizes[0])``.

    >>> import symgrad as sg
    >>> net = sg.nn.mlp([4, 3, 2], activation="sigmoid")
    >>> net.output
    W2*sigmoid.(W1*x + b1) + b2
    >>> [str(p) for p in net.params]
    ['W1', 'b1', 'W2', 'b2']
    """
    sizes = list(sizes)
    if len(sizes) < 2 or not all(isinstance(n, int) and n > 0 for n in sizes):
        raise DeclarationError(f"sizes must list at least two positive layer widths, got {sizes}")
    x = Input("x", sizes[0]) if x is None else x
    layers = [Dense(n_in, n_out, activation if k < len(sizes) - 2 else output, name=str(k + 1), bias=bias)
              for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False))]
    value = x
    for layer in layers:
        value = layer(value)
    return MLP(x=x, layers=layers, output=value, params=[p for layer in layers for p in layer.params])
