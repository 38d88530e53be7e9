"""symgrad's activation functions as SymPy functions.

They are real :class:`sympy.Function` subclasses rather than their expanded
formulas so that expressions stay compact, print stably and carry their own
derivative (``fdiff``), which the reverse sweep asks for through ``sympy.diff``.
``expand_activations`` rewrites them into elementary SymPy functions, which
is how tests obtain an independent reference from ``sympy.diff``.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["sigmoid", "relu", "softplus", "expand_activations"]


class _Activation(sp.Function):
    """Shared behaviour: real for real arguments, numeric evaluation and LaTeX
    through the elementary form, one argument."""

    nargs = 1
    latex_name = ""

    def elementary(self) -> sp.Expr:
        """The activation written with elementary SymPy functions."""
        raise NotImplementedError

    def _eval_evalf(self, prec):
        return self.elementary()._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _latex(self, printer, exp=None):
        body = rf"{self.latex_name}\left({printer._print(self.args[0])}\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"


class sigmoid(_Activation):  # noqa: N801 - lower case like sympy.exp
    r"""The logistic function :math:`\sigma(x) = 1 / (1 + e^{-x})`.

    Its derivative is written in terms of itself, :math:`\sigma(x)(1 - \sigma(x))`,
    as in the backprop lecture notes.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> sp.diff(sigmoid(x), x)
    (1 - sigmoid(x))*sigmoid(x)
    """

    latex_name = r"\sigma"

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.S.Half
        if isinstance(arg, sp.Float):
            return 1 / (1 + sp.exp(-arg))
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def elementary(self):
        return 1 / (1 + sp.exp(-self.args[0]))

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return self.elementary()


class relu(_Activation):  # noqa: N801
    r"""The rectifier :math:`\max(x, 0)`.

    Subgradient convention: the derivative at 0 is 0 (as in PyTorch), i.e.
    ``Heaviside(x, 0)``.
    """

    latex_name = r"\operatorname{relu}"

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_real:
            return sp.Max(arg, 0)
        if arg.is_nonnegative:
            return arg
        if arg.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)

    def elementary(self):
        return sp.Max(self.args[0], 0)


class softplus(_Activation):  # noqa: N801
    r"""The smooth rectifier :math:`\log(1 + e^{x})`; its derivative is :math:`\sigma(x)`."""

    latex_name = r"\operatorname{softplus}"

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:
            return sp.log(2)
        if isinstance(arg, sp.Float):
            return sp.log(1 + sp.exp(arg))
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def elementary(self):
        return sp.log(1 + sp.exp(self.args[0]))

    def _eval_rewrite_as_log(self, arg, **kwargs):
        return self.elementary()


def expand_activations(expr: sp.Basic) -> sp.Basic:
    """Rewrite symgrad's activations into elementary SymPy functions.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> expand_activations(sigmoid(x) + relu(x))
    Max(0, x) + 1/(1 + exp(-x))
    """
    return expr.replace(lambda e: isinstance(e, _Activation), lambda e: e.elementary())
