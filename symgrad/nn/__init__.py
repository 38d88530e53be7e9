"""Declarative helpers for layered models: they build SymPy expressions, nothing else.

>>> import symgrad as sg
>>> net = sg.nn.mlp([64, 32, 10], activation="tanh")
>>> y = sg.Target("y", 10)
>>> loss = sg.nn.cross_entropy(net.output, y)
>>> model = sg.Model(loss=loss, params=net.params, inputs=[net.x], targets=[y])
>>> model.n_params
2410
"""

from ..declare.tensors import Element, Elementwise, LogSumExp, MatrixSum, Softmax, apply, element, explicit
from .init import INITIALISERS, initial_theta
from .layers import ACTIVATIONS, MLP, Dense, identity, mlp, relu, sigmoid, softmax, softplus, tanh
from .losses import binary_cross_entropy, cross_entropy, l1, l2, mse, squared_error
from .network import Network


def sum(matrix):  # noqa: A001 - reads like numpy's
    """The sum of all elements of a matrix expression."""
    return MatrixSum(matrix)


def mean(matrix):
    """The mean of all elements of a matrix expression."""
    rows, cols = matrix.shape
    return MatrixSum(matrix) / (rows * cols)


def logsumexp(vector):
    """``log Σ exp`` of a column vector, stable."""
    return LogSumExp(vector)


__all__ = ["ACTIVATIONS", "INITIALISERS", "MLP", "Dense", "Network", "Element", "Elementwise", "LogSumExp",
           "MatrixSum", "Softmax", "apply", "binary_cross_entropy", "cross_entropy", "element", "explicit",
           "identity",
           "initial_theta", "l1", "l2", "logsumexp", "mean", "mlp", "mse", "relu", "sigmoid", "softmax",
           "softplus", "squared_error", "sum", "tanh"]
