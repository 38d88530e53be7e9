"""Per-sample losses and regularisers of the lecture notes, as SymPy expressions.

They only build expressions: what you get back is what is differentiated.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from .functions import softplus

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "squared_error",
    "half_squared_error",
    "l2_penalty",
    "l1_penalty",
]


def binary_cross_entropy(p: sp.Expr, t: sp.Expr) -> sp.Expr:
    r"""Cross-entropy of a predicted probability ``p`` for a 0/1 target ``t``.

    :math:`\mathcal{L}(p, t) = -(t \log p + (1 - t) \log(1 - p))`, the
    logistic-regression loss of the lecture notes.

    >>> import sympy as sp
    >>> p, t = sp.symbols("p t")
    >>> binary_cross_entropy(p, t)
    -t*log(p) - (1 - t)*log(1 - p)
    """
    return -(t * sp.log(p) + (1 - t) * sp.log(1 - p))


def binary_cross_entropy_with_logits(z: sp.Expr, t: sp.Expr) -> sp.Expr:
    r"""The same loss written on the logit ``z`` (``p = sigmoid(z)``).

    :math:`\operatorname{softplus}(z) - t z` equals
    ``binary_cross_entropy(sigmoid(z), t)`` but never takes the log of a
    rounded-to-zero probability.
    """
    return softplus(z) - t * z


def squared_error(y: sp.Expr, t: sp.Expr) -> sp.Expr:
    """``(y - t)**2``; its mean over samples is the MSE."""
    return (y - t) ** 2


def half_squared_error(y: sp.Expr, t: sp.Expr) -> sp.Expr:
    """``(y - t)**2 / 2``, the backprop lectures' ``E = ½(y - t)²``."""
    return (y - t) ** 2 / 2


def l2_penalty(params: Sequence[sp.Symbol], strength) -> sp.Expr:
    r"""``strength / 2 * Σ θ²``.

    The notes' :math:`\frac{\lambda}{2m}\sum\theta^2` is ``l2_penalty(params, lam / m)``
    with ``m`` the number of training samples.
    """
    return sp.sympify(strength) / 2 * sp.Add(*(p**2 for p in params))


def l1_penalty(params: Sequence[sp.Symbol], strength) -> sp.Expr:
    """``strength * Σ |θ|`` (subgradient 0 at θ = 0)."""
    return sp.sympify(strength) * sp.Add(*(sp.Abs(p) for p in params))
