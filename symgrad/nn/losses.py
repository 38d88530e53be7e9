"""Per-sample losses and penalties for layered models, numerically stable by construction.

Each loss is a SymPy object that prints as itself (``cross_entropy(z, y)``)
and is lowered as its stable :meth:`definition`; it remembers the prediction
it scores, which becomes the model's default output for ``predict``.
"""

from __future__ import annotations

import sympy as sp

from ..declare.functions import sigmoid as _sigmoid
from ..declare.functions import softplus as _softplus
from ..declare.tensors import Defined, Elementwise, LogSumExp, MatrixSum, Softmax, apply, is_matrix
from ..errors import ShapeError

__all__ = ["cross_entropy", "binary_cross_entropy", "mse", "squared_error", "l2", "l1",
           "CrossEntropy", "BinaryCrossEntropy", "MeanSquaredError", "SquaredError"]


def _check_pair(prediction, target, what):
    shape_p = tuple(prediction.shape) if is_matrix(prediction) else ()
    shape_t = tuple(target.shape) if is_matrix(target) else ()
    if shape_p != shape_t:
        raise ShapeError(f"{what}: the prediction has shape {shape_p or '()'} but the target "
                         f"{shape_t or '()'}")


def _sum(expr):
    return MatrixSum(expr) if is_matrix(expr) else expr


class CrossEntropy(Defined):
    """``−Σ yᵢ log softmax(z)ᵢ`` for logits ``z`` and a one-hot (or probability) target ``y``,
    as ``logsumexp(z) − yᵀz`` (valid when Σ y = 1; stable at any logit size)."""

    name = "cross_entropy"

    @property
    def prediction(self):
        return self.args[0]

    def definition(self):
        z, y = self.args
        return LogSumExp(z) - MatrixSum(sp.HadamardProduct(y, z))


def cross_entropy(logits, target):
    """Softmax cross-entropy of ``logits`` (column vector) against a one-hot ``target``.

    Passing ``softmax(z)`` instead of the logits works too: the softmax is fused.
    """
    if isinstance(logits, Softmax):
        logits = logits.args[0]
    if not is_matrix(logits) or logits.shape[1] != 1:
        raise ShapeError(f"cross_entropy needs column-vector logits, got {getattr(logits, 'shape', '()')}")
    _check_pair(logits, target, "cross_entropy")
    return CrossEntropy(logits, target)


class BinaryCrossEntropy(Defined):
    """``Σ −(y log σ(z) + (1 − y) log(1 − σ(z)))`` written as ``Σ softplus(z) − y z`` over logits ``z``."""

    name = "binary_cross_entropy"

    @property
    def prediction(self):
        z = self.args[0]
        return apply(_sigmoid, z)

    def definition(self):
        z, y = self.args
        if is_matrix(z):
            u0, u1 = sp.symbols("u u1", real=True)
            return MatrixSum(Elementwise(sp.Lambda((u0, u1), _softplus(u0) - u1 * u0), z, y))
        return _softplus(z) - y * z


def binary_cross_entropy(p, target, logits: bool = False):
    """Binary cross-entropy of probabilities ``p`` (or ``logits=True``) against 0/1 targets.

    When ``p`` is ``sigmoid`` of something, that something is used as the logits:
    the loss is then evaluated without ever forming ``log σ``.
    """
    _check_pair(p, target, "binary_cross_entropy")
    if logits:
        return BinaryCrossEntropy(p, target)
    function = p.function if isinstance(p, Elementwise) else None
    if function is not None and len(p.operands) == 1 and function.expr == _sigmoid(function.variables[0]):
        return BinaryCrossEntropy(p.operands[0], target)
    if isinstance(p, _sigmoid):
        return BinaryCrossEntropy(p.args[0], target)
    if is_matrix(p):
        u0, u1 = sp.symbols("u u1", real=True)
        per_element = sp.Lambda((u0, u1), -(u1 * sp.log(u0) + (1 - u1) * sp.log(1 - u0)))
        return MatrixSum(Elementwise(per_element, p, target))
    return -(target * sp.log(p) + (1 - target) * sp.log(1 - p))


class MeanSquaredError(Defined):
    """``(1/k) Σ (pᵢ − yᵢ)²`` over the k elements."""

    name = "mse"

    @property
    def prediction(self):
        return self.args[0]

    def definition(self):
        p, y = self.args
        size = p.shape[0] * p.shape[1] if is_matrix(p) else 1
        return _sum(sp.HadamardPower(p - y, 2) if is_matrix(p) else (p - y) ** 2) / size


def mse(prediction, target):
    """Mean squared error over the elements of one sample (a scalar for a scalar prediction)."""
    _check_pair(prediction, target, "mse")
    return MeanSquaredError(prediction, target)


class SquaredError(Defined):
    """``½ Σ (pᵢ − yᵢ)²``, the lecture notes' error E."""

    name = "squared_error"

    @property
    def prediction(self):
        return self.args[0]

    def definition(self):
        p, y = self.args
        return _sum(sp.HadamardPower(p - y, 2) if is_matrix(p) else (p - y) ** 2) / 2


def squared_error(prediction, target):
    """½ Σ (p − y)² over the elements of one sample (seed 003's E)."""
    _check_pair(prediction, target, "squared_error")
    return SquaredError(prediction, target)


def l2(params, lam):
    """``(λ/2) Σ_W Σ W²`` over the given parameters (seed 001's weight decay term).

    Use it as ``Model(..., regularizer=sg.nn.l2(weights, lam / m))`` to get the notes'
    ``λ/(2m) Σ W²`` with m training samples.
    """
    return sp.Rational(1, 2) * lam * sp.Add(*(_sum(sp.HadamardPower(p, 2) if is_matrix(p) else p ** 2)
                                              for p in params))


def l1(params, lam):
    """``λ Σ_W Σ |W|`` over the given parameters (subgradient 0 at 0)."""
    return lam * sp.Add(*(_sum(apply(sp.Abs, p)) for p in params))
